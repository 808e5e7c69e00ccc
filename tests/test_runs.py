"""Runs that survive `kill -9` (resumed from the last finished epoch, ending like an uninterrupted run) and the
`tf.distribute` strategies without a GPU (two logical CPU devices; two worker processes on loopback)."""
import json, os, queue, re, signal, socket, subprocess, sys, textwrap, threading, time
import numpy as np
from conftest import console
from test_cli import ENV, TINY_GRU

# ---------------------------------------------------------------- nothing lost
def _reader(stream, lines:queue.Queue):
    for line in stream: lines.put(line)
    lines.put(None)

def test_kill_9_resumes_from_the_last_finished_epoch(synthetic_tiny, tmp_path):
    out = tmp_path/"run"
    args = ["--model", "gru", "--data", synthetic_tiny, "--out", out, "--quick", "--epochs", "5", "--units", "16", "--length", "24",
            "--frame-size", "16", "--batch-size", "8", "--patience", "9", "--overrides", "decode_size=32", "--strategy", "default"]
    p = subprocess.Popen([console("vidnb_train"), *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    lines, seen = queue.Queue(), []
    threading.Thread(target=_reader, args=(p.stderr, lines), daemon=True).start()
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            line = lines.get(timeout=deadline - time.time())
            if line is None: break
            seen.append(line)
            if "epoch 3/5 started" in line:
                os.kill(p.pid, signal.SIGKILL); break      # at once: an epoch of this tiny run can take under 0.3 s
    finally:
        if p.poll() is None and time.time() >= deadline: p.kill()
    assert p.wait(timeout=60) == -signal.SIGKILL, "".join(seen)[-2000:]
    finished = [int(m[1]) for m in re.finditer(r"gru epoch (\d+)/5 finished", "".join(seen))]
    assert finished == [1, 2]
    assert json.loads((out/"status.json").read_text())["state"] == "running" and not (out/"metrics.json").exists()
    assert json.loads((out/".backup"/"gru"/"state.json").read_text())["epoch"] == 2   # killed inside epoch 3
    first_losses = [float(m[1]) for m in re.finditer(r"finished: .*?loss ([0-9.]+)", "".join(seen))]

    r = subprocess.run([console("vidnb_train"), *map(str, args)], capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "resuming after epoch 2 of 5" in r.stderr
    started = [int(m[1]) for m in re.finditer(r"gru epoch (\d+)/5 started", r.stderr)]
    assert started == [3, 4, 5]                                       # continued, did not start over
    history = json.loads((out/"history.json").read_text())["gru"]
    assert len(history["loss"]) == 5
    assert np.allclose(history["loss"][:2], first_losses, atol=1e-4)  # the epochs before the kill are kept
    assert json.loads((out/"status.json").read_text())["state"] == "finished" and (out/"model.keras").exists()

def _toy(seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m

def test_a_kill_during_a_backup_resumes_from_the_epoch_before(tmp_path):
    "A half-written backup (its temporary weights file) is ignored: the state names only complete files"
    import tensorflow as tf
    from vidnb.runs import ResumableBackup, fit_phase
    x, y = np.random.default_rng(0).normal(size=(32, 4)).astype("float32"), np.arange(32) % 3
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    fit_phase(_toy(), data, None, 2, tmp_path/"b", log=None)
    (tmp_path/"b"/".tmp-0badc0de-epoch-3.weights.h5").write_bytes(b"half a file")     # killed while saving epoch 3
    assert ResumableBackup(tmp_path/"b").saved_epoch() == 2
    resumed = _toy(); history = fit_phase(resumed, data, None, 4, tmp_path/"b", log=None)
    whole = _toy(); plain = whole.fit(data, epochs=4, verbose=0).history
    assert len(history["loss"]) == 4 and np.allclose(history["loss"], plain["loss"], atol=1e-5)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(resumed.get_weights(), whole.get_weights()))
    assert sorted(p.name for p in (tmp_path/"b").glob("epoch-*")) == ["epoch-4.weights.h5"]

def test_a_damaged_backup_starts_the_phase_again_with_a_note(tmp_path):
    "A backup whose weights do not read back (renamed after a write the full disk cut short) never blocks the rerun"
    import tensorflow as tf
    from vidnb.runs import fit_phase
    x, y = np.random.default_rng(0).normal(size=(32, 4)).astype("float32"), np.arange(32) % 3
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    fit_phase(_toy(), data, None, 2, tmp_path/"b", log=None)
    (tmp_path/"b"/"epoch-2.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    lines, again = [], _toy()
    history = fit_phase(again, data, None, 3, tmp_path/"b", log=lines.append)
    assert [l for l in lines if "does not read back" in l] and "epoch 1/3 started" in lines[1]
    whole = _toy(); plain = whole.fit(data, epochs=3, verbose=0).history
    assert len(history["loss"]) == 3 and np.allclose(history["loss"], plain["loss"], atol=1e-5)

def test_a_finished_phase_is_not_trained_again(tmp_path):
    import tensorflow as tf
    from vidnb.runs import fit_phase
    x, y = np.random.default_rng(0).normal(size=(16, 4)).astype("float32"), np.arange(16) % 3
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    first = _toy(); history = fit_phase(first, data, data, 2, tmp_path/"b", log=None)
    lines, again = [], _toy(1)
    assert fit_phase(again, data, data, 2, tmp_path/"b", log=lines.append) == history and lines == []
    assert all(np.allclose(a, b) for a, b in zip(again.get_weights(), first.get_weights()))

# ---------------------------------------------------------------- many devices, many machines (CPU only, loopback)
MIRRORED = textwrap.dedent("""
    import json, numpy as np
    from vidnb.runs import make_strategy, distribute
    from vidnb.experiments import build_model, settings_for
    strategy = make_strategy("mirrored", cpu_replicas=2)             # before TensorFlow starts
    import keras, tensorflow as tf
    s = settings_for("gru", "quick", units=8, frame_size=8, batch_size=4, optimizer="sgd", learning_rate=0.5)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (8, 6, 8 * 8 * 3)).astype("float32"), np.arange(8, dtype="int32")
    make = lambda items, batch: tf.data.Dataset.from_tensor_slices((x[items], y[items])).batch(batch)
    keras.utils.set_random_seed(0); one = build_model("gru", "gru", s, 8)
    with strategy.scope(): two = build_model("gru", "gru", s, 8)
    two.set_weights(one.get_weights())
    single, mirrored = make(list(range(8)), 8), distribute(strategy, make, list(range(8)), 4)   # one global batch of 8
    losses = [one.evaluate(single, verbose=0), two.evaluate(mirrored, verbose=0)]
    one.fit(single, epochs=1, verbose=0); two.fit(mirrored, epochs=1, verbose=0)
    step = max(float(np.abs(a - b).max()) for a, b in zip(one.get_weights(), two.get_weights()))
    print(json.dumps(dict(replicas=strategy.num_replicas_in_sync, losses=[l[0] for l in losses], step=step)))
""")

def test_mirrored_two_cpu_devices_same_loss_and_step():
    r = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert abs(result["losses"][0] - result["losses"][1]) < 1e-5, result
    assert result["step"] < 1e-5, result                             # the same weights after one training step

def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets: s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets: s.close()
    return ports

def test_two_workers_on_loopback_train_one_epoch(synthetic_tiny, tmp_path):
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    args = ["--model", "gru", "--data", synthetic_tiny, "--out", tmp_path/"run", "--quick", "--overrides", TINY_GRU, "--strategy", "multiworker"]
    procs = [subprocess.Popen([console("vidnb_train"), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**ENV, "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})})
             for i in range(2)]
    try: results = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None: p.kill()
    for p, (out, err) in zip(procs, results): assert p.returncode == 0, err[-3000:]
    metrics = json.loads((tmp_path/"run"/"metrics.json").read_text())
    assert metrics["workers"] == 2 and metrics["replicas"] == 2 and metrics["epochs"] == {"gru": 1}
    assert "gru epoch 1/1 finished" in results[1][1]                  # the second worker trained too


def test_a_damaged_model_file_is_one_line_naming_it(tmp_path):
    "A .keras with a bad CRC or a cut config: one line naming the file, exit 2 (issue 13, item 6)"
    import zipfile, keras
    from conftest import run_cli
    from vidnb.runs import save_model
    small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    good = save_model(small, tmp_path/"good.keras", dict(model="x", kind="frames", class_names=["a", "b"], settings={}))
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(tmp_path/"cut.keras", "w") as out:
        for i in z.infolist(): out.writestr(i, z.read(i.filename)[:40] if i.filename == "config.json" else z.read(i.filename))
    data = bytearray(good.read_bytes()); data[len(data) // 3] ^= 0xFF; (tmp_path/"crc.keras").write_bytes(data)
    import numpy as np
    from vidnb.video import write_video
    video = write_video(tmp_path/"v.avi", [np.zeros((32, 32, 3), np.uint8)] * 5)
    for name in ("cut.keras", "crc.keras"):
        r = run_cli("vidnb_classify", tmp_path/name, video)
        errors = [l for l in r.stderr.splitlines() if l.strip()]
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
        assert errors[-1].startswith(f"vidnb_classify: error: {tmp_path/name}: damaged model file"), errors[-1]
