"""Peak memory while streaming a short and a long video through a ConvGRU: it must not grow with the video's length.

Each duration runs in a fresh child process (peak resident memory is per process). The child builds a small ConvGRU
(MobileNet alpha 0.25, random weights: only memory and time are measured), streams the video through
`StreamingClassifier` in chunks, keeps every frame's probabilities (T x C float32, as a timeline needs) and reports its
resident memory after warm-up, along the way and at its peak. The video is either generated frame by frame (a moving
disc, like the synthetic dataset; nothing is stored) or, with --source file, first written to an .avi in a temporary
folder and then read back with `iter_frames`.

    python benchmarks/convgru_memory.py                         # 30 s and 30 min at 25 fps (45,000 frames), generated
    python benchmarks/convgru_memory.py --source file --seconds 30 1800
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def synthetic_frames(n, size, seed=0):
    "A disc moving over a textured background, drawn one frame at a time (constant memory)"
    import cv2, numpy as np
    rng = np.random.default_rng(seed)
    background = cv2.resize(rng.integers(0, 160, (4, 4, 3), dtype=np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)
    for t in range(n):
        frame = background.copy()
        cv2.circle(frame, (int(t * size / 40) % size, size // 2), size // 8, (230, 200, 40), -1, cv2.LINE_AA)
        yield frame


def child(args):
    import numpy as np, psutil
    from vidnb.convgru import convgru_model, StreamingClassifier
    process = psutil.Process()
    model = convgru_model(8, "mobilenet", variant="scratch", alpha=0.25, input_size=args.size, compile=False)
    streamer = StreamingClassifier(model, chunk=args.chunk)
    for _ in streamer.stream(synthetic_frames(3 * args.chunk + 1, args.size)): pass   # warm-up: traces both chunk sizes
    rss_ready = process.memory_info().rss
    seconds = args.seconds[0]
    n = int(seconds * args.fps)
    source = args.video if args.video else synthetic_frames(n, args.size)
    probs = np.zeros((n + 10, 8), np.float32)                                 # the timeline, T x C
    samples, start, count = {}, time.perf_counter(), 0
    for prediction in streamer.stream(source):
        probs[prediction.index] = prediction.probs; count += 1
        if count % max(1, n // 10) == 0: samples[count] = process.memory_info().rss
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024           # Linux reports KiB
    print(json.dumps(dict(seconds=seconds, frames=count, elapsed=elapsed, rss_ready=rss_ready, peak=peak,
                          rss_end=process.memory_info().rss, samples=samples, timeline_bytes=int(probs.nbytes))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[30, 1800])
    parser.add_argument("--fps", type=float, default=25)
    parser.add_argument("--size", type=int, default=64, help="frame size (square) of the video and the backbone")
    parser.add_argument("--chunk", type=int, default=25, help="frames per backbone call")
    parser.add_argument("--source", choices=["generator", "file"], default="generator")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--video", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child: return child(args)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for seconds in args.seconds:
            command = [sys.executable, __file__, "--child", "--seconds", str(seconds), "--fps", str(args.fps),
                       "--size", str(args.size), "--chunk", str(args.chunk)]
            if args.source == "file":
                from vidnb.datasets import write_video
                video = Path(folder)/f"synthetic_{int(seconds)}s.avi"
                start = time.perf_counter()
                write_video(video, synthetic_frames(int(seconds * args.fps), args.size), fps=args.fps)
                print(f"wrote {video.name}: {video.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - start:.0f} s", flush=True)
                command += ["--video", str(video)]
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode: sys.exit(f"child failed:\n{run.stderr[-3000:]}")
            results.append(json.loads(run.stdout.strip().splitlines()[-1]))
            if args.source == "file": video.unlink()
    mb = lambda b: b / 2**20
    print(f"source: {args.source}, {args.size}x{args.size} frames at {args.fps:g} fps, chunks of {args.chunk}")
    print(f"{'video':>10}{'frames':>9}{'time s':>9}{'frames/s':>10}{'RSS ready MB':>14}{'peak RSS MB':>13}{'peak - ready':>14}")
    for r in results:
        print(f"{r['seconds']:>9g}s{r['frames']:>9,}{r['elapsed']:>9.1f}{r['frames'] / r['elapsed']:>10.0f}"
              f"{mb(r['rss_ready']):>14.1f}{mb(r['peak']):>13.1f}{mb(r['peak'] - r['rss_ready']):>14.1f}")
    if len(results) > 1:
        short, long = results[0], results[-1]
        print(f"peak RSS, longest minus shortest video: {mb(long['peak'] - short['peak']):+.1f} MB "
              f"({long['frames'] / short['frames']:.0f}x the frames; of which the timeline array: "
              f"{mb(long['timeline_bytes'] - short['timeline_bytes']):.1f} MB)")
        samples = {int(k): v for k, v in long["samples"].items()}
        print("RSS of the longest run along the way (MB): " + ", ".join(f"{k:,}: {mb(v):.0f}" for k, v in sorted(samples.items())))


if __name__ == "__main__":
    main()
