"""Peak memory of `vidnb_classify MODEL VIDEO --per_frame` on short and long videos: it must not grow with the length.

Issue 13 item 7: the GRU row held a whole video (1.3 GB peak RSS at 5k frames, 6.1 GB at 40k); the recurrent rows now
stream with their state (`vidnb.temporal.stream_step`). This script builds small models of the chosen rows in-process
(quick preset, random weights: only memory is measured; each saved with `vidnb.runs.save_model` as `vidnb_train`
saves its models), writes 32x32 videos of each length frame by frame (`vidnb.video.write_video` from a generator:
constant memory here too), then runs the command itself under `/usr/bin/time -v` and reports its peak resident memory.

    python benchmarks/classify_memory.py                              # GRU row, 1k/5k/20k/40k frames
    python benchmarks/classify_memory.py --rows gru cnn-scratch convgru-scratch --frames 1000 40000
Done (issue 13): the GRU row's peak RSS grows by at most 200 MB from the shortest to the longest video.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def disc_frames(n, size=32):
    "A disc moving over a fixed background, one frame at a time (nothing is stored)"
    import cv2, numpy as np
    background = np.random.default_rng(0).integers(0, 120, (size, size, 3), dtype=np.uint8)
    for t in range(n):
        frame = background.copy()
        cv2.circle(frame, (int(t * size / 20) % size, size // 2), size // 6, (240, 200, 40), -1)
        yield frame


def save_row(row, folder, n_classes=5):
    "A model file of `row` (quick preset, random weights) as vidnb_train writes it"
    import keras
    from vidnb.experiments import model_spec, settings_for, build_model
    from vidnb.runs import save_model
    keras.utils.set_random_seed(0)
    spec, s = model_spec(row), settings_for(row, "quick")
    if spec.pretrained: sys.exit(f"{row}: use a row that starts from random weights (e.g. cnn-scratch, convgru-scratch)")
    net = build_model(row, spec.phases[-1], s, n_classes)
    meta = dict(model=row, architecture=spec.architecture, kind=spec.kind, class_names=[f"class{i}" for i in range(n_classes)],
                settings=spec.family.input_settings(s))
    return save_model(net, Path(folder)/f"{row}.keras", meta)


def peak_rss(model, video):
    "(peak RSS in MB, seconds, frames printed) of `vidnb_classify model video --per_frame`"
    command = [shutil.which("vidnb_classify") or sys.exit("vidnb_classify not on PATH (activate the venv)"),
               str(model), str(video), "--per_frame"]
    start = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode: sys.exit(f"{' '.join(command)} failed:\n{run.stderr[-3000:]}")
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
    return kb / 1024, seconds, run.stdout.count("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=["gru"], help="Table 6.2 rows, e.g. gru lstm cnn-scratch convgru-scratch")
    parser.add_argument("--frames", type=int, nargs="+", default=[1000, 5000, 20000, 40000])
    parser.add_argument("--size", type=int, default=32, help="frame size (square) of the videos")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists(): sys.exit("needs GNU time (/usr/bin/time -v)")
    from vidnb.video import write_video
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        models = {row: save_row(row, folder) for row in args.rows}
        for n in args.frames:
            video = write_video(Path(folder)/f"v{n}.avi", disc_frames(n, args.size))
            for row, model in models.items():
                results[row, n] = peak_rss(model, video)
                print(f"{row:>16} {n:>7,} frames: peak RSS {results[row, n][0]:7.0f} MB, {results[row, n][1]:6.1f} s", flush=True)
            video.unlink()
    print(f"\nvidnb_classify --per_frame, {args.size}x{args.size} videos: peak RSS (MB)")
    print(f"{'row':>16}" + "".join(f"{n:>10,}" for n in args.frames) + f"{'growth':>10}")
    for row in args.rows:
        peaks = [results[row, n][0] for n in args.frames]
        print(f"{row:>16}" + "".join(f"{p:>10.0f}" for p in peaks) + f"{peaks[-1] - peaks[0]:>+10.0f}")
    bad = [row for row in args.rows if results[row, args.frames[-1]][2] != args.frames[-1]]
    if bad: sys.exit(f"rows {bad} printed a number of lines other than the number of frames")


if __name__ == "__main__":
    main()
