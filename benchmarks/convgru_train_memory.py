"""Peak memory and seconds per epoch of ConvGRU-Fixed in the thesis setting (augmentation on) on ../shared/ucf101_mini.

Issue 13 item 7: fitting the full network pushed each batch (32 windows of 100 frames at 224x224) through the frozen
backbone at once and held about 12 GB; the frozen phase now fits the head on features computed in the input pipeline,
one augmented clip at a time (`vidnb.convgru.frozen_features`). This runs the command a user runs, under
`/usr/bin/time -v`, for one epoch (or --epochs), and prints its peak resident memory, wall and CPU time and the seconds
of each epoch as Keras reports them. --code runs another checkout of vidnb (e.g. a `git worktree` of an older commit).

    python benchmarks/convgru_train_memory.py [--epochs 1] [--code /tmp/mem_before]
Done (issue 13): peak RSS under 3 GB.
"""
import argparse, os, re, subprocess, sys, tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2]/"shared"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--code", help="a vidnb checkout to run instead of the installed one (put first on PYTHONPATH)")
    args = parser.parse_args()
    if not (SHARED/"ucf101_mini").is_dir(): sys.exit(f"skipped: {SHARED}/ucf101_mini is not beside the repository")
    env = dict(os.environ, **({"PYTHONPATH": args.code} if args.code else {}))
    with tempfile.TemporaryDirectory() as out:
        command = [str(Path(sys.executable).parent/"vidnb_train"), "--model", "convgru-fixed", "--data", str(SHARED/"ucf101_mini"),
                   "--lists", str(SHARED/"ucfTrainTestlist"), "--backbone", "mobilenet", "--alpha", "0.25",
                   "--weights", str(SHARED/"weights"/"mobilenet_2_5_224_tf_no_top.h5"), "--out", f"{out}/run",
                   "--cache", f"{out}/features", "--epochs", str(args.epochs)]
        run = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, env=env, cwd=out)
    log = run.stdout + run.stderr
    if run.returncode: sys.exit(f"vidnb_train failed:\n{log[-3000:]}")
    field = lambda name: re.search(rf"{name}: ([\d.:]+)", log).group(1)
    epochs = [int(s) for s in re.findall(r"\d+/\d+ - (\d+)s - ", log)]
    print(f"code: {args.code or 'installed vidnb'}; ConvGRU-Fixed, MobileNet 0.25 at 224x224, batch 32 x 100 frames, augmentation on")
    print(f"peak RSS {int(field('Maximum resident set size [(]kbytes[)]')) / 2**20:.2f} GiB; wall {field('Elapsed [(]wall clock[)] time [(]h:mm:ss or m:ss[)]')}; "
          f"CPU {float(field('User time [(]seconds[)]')) + float(field('System time [(]seconds[)]')):.0f} s; seconds per epoch (Keras): {epochs}")


if __name__ == "__main__":
    main()
