"""Decoding speed on the real clips of ../shared/ucf101_mini, every frame out at 299x299 RGB.

(a) bare OpenCV loop, (b) vidnb.video.read_video on one thread, (c) the tf.data pipeline (padded_dataset) on all cores,
and, for reference, (t) read_video in a pool of one Python thread per core: what these cores give at best, and (o) read_video
with OpenCV's default FFmpeg decoding threads (one per core): what a lone call gets.
(a), (b) and (t) decode each video on one FFmpeg thread, and OpenCV's own thread pool (used by cv2.resize) is set to
--opencv-threads (default 1), so that (a) and (b) are really single-threaded.
Same clips, one run, repeated; prints frames/s, the ratios (b)/(a), (c)/(b) and (t)/(b) of each run and their medians. The datasets chapter runs the same code.
Usage: python benchmarks/decode_benchmark.py [--every 3] [--repeats 2] [--opencv-threads 1]
"""
import argparse, os, statistics, time, warnings
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
import cv2
from vidnb.video import open_video, read_video
from vidnb.datasets import ucf101_splits, padded_dataset

def bare_opencv(path, size=(299, 299)):
    "Decode, resize and convert every frame, keeping nothing: the floor for one core (opened as vidnb opens files)"
    cap, n = open_video(path, threads=1), 0
    while True:
        ok, f = cap.read()
        if not ok: break
        cv2.cvtColor(cv2.resize(f, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB); n += 1
    return n

def frames_per_second(fn):
    start = time.perf_counter(); n = fn(); return n / (time.perf_counter() - start)

def decode_rates(clips, root):
    "frames/s of readers (a), (b), (c) over `clips`"
    paths = [Path(root)/v.path for v in clips]
    readers = {"a": lambda: sum(bare_opencv(p) for p in paths),
               "b": lambda: sum(len(read_video(p, 299, threads=1)) for p in paths),
               "c": lambda: sum(int(b["mask"].numpy().sum()) for b, _ in padded_dataset(clips, root, size=299, batch_size=1)),
               "t": lambda: sum(len(f) for f in ThreadPoolExecutor(os.cpu_count()).map(lambda p: read_video(p, 299, threads=1), paths)),
               "o": lambda: sum(len(read_video(p, 299)) for p in paths)}
    return {k: frames_per_second(f) for k, f in readers.items()}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(); ap.add_argument("--every", type=int, default=3); ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--opencv-threads", type=int, default=1)
    args = ap.parse_args()
    cv2.setNumThreads(args.opencv_threads)
    shared = Path(__file__).resolve().parents[2]/"shared"
    if not (shared/"ucf101_mini").exists(): raise SystemExit(f"{shared/'ucf101_mini'} not found: nothing to measure")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mini = ucf101_splits(shared/"ucfTrainTestlist", root=shared/"ucf101_mini")
    clips = (mini.train + mini.val)[::args.every]
    decode_rates(clips[:2], mini.root)   # warm-up
    print(f"{len(clips)} clips, {sum(bare_opencv(mini.root/v.path, (8, 8)) for v in clips)} frames, {os.cpu_count()} cores, OpenCV threads {cv2.getNumThreads()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    ratios = []
    for r in range(args.repeats):
        rates = decode_rates(clips, mini.root); ratios.append((rates['b']/rates['a'], rates['c']/rates['b']))
        print(f"run {r+1}: (a) {rates['a']:5.0f}  (b) {rates['b']:5.0f}  (c) {rates['c']:5.0f}  (t) {rates['t']:5.0f}  (o) {rates['o']:5.0f} frames/s   "
              f"(b)/(a) = {rates['b']/rates['a']:.0%}   (c)/(b) = {rates['c']/rates['b']:.2f}x   (t)/(b) = {rates['t']/rates['b']:.2f}x")
    b_a, c_b = (statistics.median(r) for r in zip(*ratios))
    print(f"median over {len(ratios)} runs: (b)/(a) = {b_a:.0%} (target >= 70%),  (c)/(b) = {c_b:.2f}x (target >= 1.6x)")
