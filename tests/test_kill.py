"""What a kill, a full disk or a diverging run leaves behind: never an untrained or broken model marked finished, and
the same command resumes (the full sweep of kill moments over every row kind is `benchmarks/kill_resume.py`)."""
import errno, json, os, queue, shutil, signal, subprocess, threading, time
import numpy as np, pytest
from conftest import console
from test_cli import ENV, TINY_GRU, _in_process, error_line

def _kill_after(args, text, timeout=300):
    "Run vidnb_train with `args` and kill -9 it as soon as a progress line contains `text`; its exit status"
    p = subprocess.Popen([console("vidnb_train"), *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    lines, seen = queue.Queue(), []
    threading.Thread(target=lambda: [lines.put(l) for l in p.stderr] + [lines.put(None)], daemon=True).start()
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = lines.get(timeout=deadline - time.time())
        if line is None: break
        seen.append(line)
        if text in line: os.kill(p.pid, signal.SIGKILL); break
    if p.poll() is None and time.time() >= deadline: p.kill()
    return p.wait(timeout=60), "".join(seen)

def test_a_kill_while_scoring_keeps_the_trained_model(synthetic_tiny, tmp_path, monkeypatch):
    "Killed while scoring, rerun: the model file is the trained weights, even for a family whose `build` ignored `start_from`"
    import keras
    from vidnb import temporal
    from vidnb.runs import load_model
    out = tmp_path/"run"
    args = ["--model", "gru", "--data", synthetic_tiny, "--out", out, "--quick", "--overrides", TINY_GRU.replace("epochs=1", "epochs=2"),
            "--strategy", "default"]
    code, seen = _kill_after(args, "gru scoring")
    assert code == -signal.SIGKILL and json.loads((out/"status.json").read_text())["state"] == "running", seen[-2000:]
    trained = tmp_path/"trained.weights.h5"; shutil.copy(out/".backup"/"gru.weights.h5", trained)
    build = type(temporal.RECURRENT).build                       # the bug of issue 13: a build that drops start_from
    monkeypatch.setattr(type(temporal.RECURRENT), "build", lambda self, s, phase, n, start_from=None: build(self, s, phase, n))
    code, _, err = _in_process("vidnb_train", *args)
    assert code in (0, None), err[-2000:]
    assert json.loads((out/"status.json").read_text())["state"] == "finished" and not (out/".backup").exists()
    model, _ = load_model(out/"model.keras")
    reference = keras.models.clone_model(model); reference.load_weights(trained)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), reference.get_weights()))

def test_diverging_training_is_an_error_and_never_finished(synthetic_tiny, tmp_path):
    out = tmp_path/"run"
    code, _, err = _in_process("vidnb_train", "--model", "gru", "--data", synthetic_tiny, "--out", out, "--quick",
                               "--overrides", TINY_GRU.replace("epochs=1", "epochs=2"), "--learning_rate", "1e12", "--strategy", "default")
    line = error_line(err)
    assert code == 2 and "gru diverged (loss " in line and "--overwrite" in line, err[-2000:]
    assert json.loads((out/"status.json").read_text())["state"] == "running"
    assert not (out/"model.keras").exists() and not (out/"metrics.json").exists()

def test_a_full_disk_is_one_line_and_the_run_resumes(synthetic_tiny, tmp_path, monkeypatch):
    "ENOSPC (simulated: no free space reported) ends in one line, exit 2; with space again the same command finishes"
    import vidnb.runs
    out = tmp_path/"run"
    args = ["--model", "gru", "--data", synthetic_tiny, "--out", out, "--quick", "--overrides", TINY_GRU, "--strategy", "default"]
    real = shutil.disk_usage
    monkeypatch.setattr(vidnb.runs.shutil, "disk_usage", lambda p: real(p)._replace(free=0))
    code, _, err = _in_process("vidnb_train", *args)
    assert code == 2 and "No space left on device (ENOSPC)" in error_line(err) and str(out) in error_line(err)
    monkeypatch.setattr(vidnb.runs.shutil, "disk_usage", real)
    code, _, err = _in_process("vidnb_train", *args)
    assert code in (0, None), err[-2000:]
    assert json.loads((out/"status.json").read_text())["state"] == "finished"

@pytest.fixture
def tiny_tmpfs(tmp_path):
    "A 2 MB tmpfs (root only; skipped where mounting is not allowed)"
    where = tmp_path/"tmpfs"; where.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not allowed here")
    yield where
    subprocess.run(["umount", str(where)], capture_output=True)

def test_a_real_full_disk(synthetic_tiny, tiny_tmpfs):
    "On a 2 MB tmpfs: one line naming the folder and ENOSPC, exit 2, no traceback or crash; after space is freed it resumes"
    args = ["--model", "gru", "--data", synthetic_tiny, "--out", tiny_tmpfs/"run", "--quick", "--overrides", "epochs=1",
            "--strategy", "default"]
    r = subprocess.run([console("vidnb_train"), *map(str, args)], capture_output=True, text=True, env=ENV, timeout=600)
    line = error_line(r.stderr)
    assert r.returncode == 2 and f"{tiny_tmpfs}/run" in line and "No space left on device" in line and "free space" in line
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_tmpfs)], check=True)
    r = subprocess.run([console("vidnb_train"), *map(str, args)], capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0 and "(resumed)" in r.stderr, r.stderr[-2000:]
