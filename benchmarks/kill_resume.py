"""Kill -9 `vidnb_train` at random moments of training and of scoring, for every row kind, then rerun the same command.

For each row (one per model family: frames, rnn, convgru) on the tiny synthetic data, an uninterrupted run gives the
reference model and the timing of its training and scoring. Then, `--moments` times each, a run is killed at a random
moment of training (after its first epoch started) or of scoring (after "scoring" was printed), and the same command
is run again. Outcomes:
  same      the rerun's model.keras (or, killed just after it finished, the folder's) has the uninterrupted run's weights (max |difference| <= 1e-5)
  resumed   a training kill: the rerun went on from the backed-up epoch E (its history's first E losses are the
            uninterrupted run's), so the later epochs see the data in another order and the weights differ
  WRONG     anything else: an error, an unfinished folder, or a model that is not the trained one (never expected)
Usage: python benchmarks/kill_resume.py [--rows gru,convgru-scratch,cnn-scratch] [--moments 5] [--seed 0]
"""
import argparse, json, os, queue, random, re, shutil, signal, subprocess, sys, tempfile, threading, time
from pathlib import Path
import numpy as np

TINY = "epochs=2,patience=9,units=8,length=8,stride=8,input_size=32,frame_size=16,decode_size=32,batch_size=16"
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}

def command(row, data, out):
    from vidnb.experiments import applicable
    from vidnb.cli import parse_overrides
    overrides = ",".join(f"{k}={v}" for k, v in applicable(row, parse_overrides(TINY)).items())
    return [shutil.which("vidnb_train") or "vidnb_train", "--model", row, "--data", str(data), "--out", str(out), "--quick",
            "--overrides", overrides, "--strategy", "default"]

def run(cmd, kill_after=None, delay=0.0):
    "Run `cmd`; with `kill_after` (a text of a progress line), kill -9 it `delay` s after that line. (rc, lines with times, killed)"
    t0, lines, q = time.time(), [], queue.Queue()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    def read():
        for line in p.stderr: q.put(line)
        q.put(None)
    threading.Thread(target=read, daemon=True).start()
    deadline, killed = None, False
    while True:
        try: line = q.get(timeout=0.01)
        except queue.Empty: line = ""
        if line is None: break
        if line:
            lines.append((time.time() - t0, line.rstrip()))
            if kill_after and deadline is None and kill_after in line: deadline = time.time() + delay
        if deadline is not None and time.time() >= deadline and p.poll() is None:
            os.kill(p.pid, signal.SIGKILL); killed = True; break
    return p.wait(), lines, killed

def first(lines, text):
    return next((t for t, l in lines if text in l), None)

def weights(out):
    from vidnb.runs import load_model
    return load_model(Path(out)/"model.keras")[0].get_weights()

def diff(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b)) if len(a) == len(b) else float("inf")

def losses(out, row):
    return [l for h in json.loads((Path(out)/"history.json").read_text()).values() for l in h["loss"]]

def backed_up_epoch(out):
    states = sorted(Path(out, ".backup").glob("*/state.json"))
    return json.loads(states[-1].read_text())["epoch"] if states else 0

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="gru,convgru-scratch,cnn-scratch"); ap.add_argument("--moments", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0); a = ap.parse_args()
    rng, work = random.Random(a.seed), Path(tempfile.mkdtemp(prefix="kill_resume-"))
    from vidnb.datasets import make_synthetic
    data = make_synthetic(work/"tiny", size="tiny")
    print(f"| row | kill during | moment (s after it began) | state at the kill | rerun | outcome |\n|---|---|---|---|---|---|", flush=True)
    bad = 0
    for row in a.rows.split(","):
        ref = work/f"{row}-reference"
        rc, lines, _ = run(command(row, data, ref))
        assert rc == 0, "\n".join(l for _, l in lines[-5:])
        t_train, t_score = first(lines, f"vidnb: {row} epoch 1/"), first(lines, f"vidnb: {row} scoring ")
        t_end = first(lines, f"{row} finished:")
        ref_w, ref_loss = weights(ref), losses(ref, row)
        print(f"| {row} | (uninterrupted) | training {t_score - t_train:.1f} s, scoring {t_end - t_score:.1f} s | | | reference |", flush=True)
        for during in ("training", "scoring"):
            for i in range(a.moments):
                out = work/f"{row}-{during}-{i}"
                span = (t_score - t_train) if during == "training" else (t_end - t_score)
                delay = rng.uniform(0, span)
                rc, lines, killed = run(command(row, data, out), f"vidnb: {row} epoch 1/" if during == "training" else f"vidnb: {row} scoring ", delay)
                status = json.loads((out/"status.json").read_text()) if (out/"status.json").exists() else {}
                epoch = backed_up_epoch(out)
                at = ("finished before the kill" if not killed else
                      f"{status.get('state')}, phases done {status.get('phases_done', [])}, backup epoch {epoch}, "
                      f"model.keras {'written' if (out/'model.keras').exists() else 'absent'}")
                rc2, lines2, _ = run(command(row, data, out))
                status2 = json.loads((out/"status.json").read_text()) if (out/"status.json").exists() else {}
                resumed = next((l for _, l in lines2 if "resuming after" in l), "")
                done_before = status.get("state") == "finished"   # killed after the run was complete: a rerun refuses (exit 2)
                if rc2 != (2 if done_before else 0) or status2.get("state") != "finished" or (out/".backup").exists():
                    outcome = f"WRONG (exit {rc2}, state {status2.get('state')})"
                else:
                    d = diff(weights(out), ref_w)
                    if d <= 1e-5: outcome = f"same (max diff {d:.1e})" + ("; was finished before the kill" if done_before else "")
                    elif epoch and np.allclose(losses(out, row)[:epoch], ref_loss[:epoch], atol=1e-4):
                        outcome = f"resumed after epoch {epoch} (first {epoch} losses as uninterrupted; max diff {d:.1e})"
                    else: outcome = f"WRONG (not the trained model: max diff {d:.1e})"
                bad += outcome.startswith("WRONG")
                rerun = f"exit {rc2}" + (f"; {resumed.split(': ', 1)[-1].split(' (')[0]}" if resumed else "")
                print(f"| {row} | {during} | {delay:.2f} | {at} | {rerun} | {outcome} |", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(f"\n{bad} wrong outcome(s)")
    return 1 if bad else 0

if __name__ == "__main__": sys.exit(main())
