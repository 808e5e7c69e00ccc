"""Cost per new frame: streaming ConvGRU vs re-running a fixed window of the last n frames for every new frame.

Thesis section 6.1: to label every frame, a model with a fixed input of n frames must process each frame about n times,
the recurrent model once. Both sides here are the same ConvGRU (random weights: only time is measured), both run as
compiled TensorFlow graphs on the same frames. The streaming side goes through `StreamingClassifier.update`, the real
API, one frame at a time, and (second row) 16 frames at a time, as when reading a file: the outputs are the same.
Rounds alternate between the methods so that a noisy, shared machine affects them alike; medians are reported.

    python benchmarks/convgru_streaming.py                                   # MobileNet alpha 0.25 at 128x128
    python benchmarks/convgru_streaming.py --backbone inceptionv3 --size 299 --frames 6 --rounds 1
"""
import argparse, os, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf
from vidnb.convgru import convgru_model, StreamingClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="mobilenet")
    parser.add_argument("--alpha", type=float, default=0.25)
    parser.add_argument("--size", type=int, default=128, help="frame size (square)")
    parser.add_argument("--frames", type=int, default=48, help="new frames timed per method and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--windows", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--classes", type=int, default=101)
    args = parser.parse_args()
    alpha = args.alpha if args.backbone.startswith("mobilenet") else 1.0
    model = convgru_model(args.classes, args.backbone, variant="scratch", alpha=alpha, input_size=args.size, compile=False)
    streamer = StreamingClassifier(model)
    window_model = tf.function(lambda x: model(x, training=False)[:, -1], reduce_retracing=True, autograph=False)
    frames = np.random.default_rng(0).integers(0, 256, (max(args.windows) + args.frames, args.size, args.size, 3), dtype=np.uint8)
    n_max = max(args.windows)

    def streaming():
        streamer.reset()
        for f in frames[:n_max]: streamer.update(f[None])                     # the state already holds a history
        start = time.perf_counter()
        for f in frames[n_max:]: streamer.update(f[None])
        return (time.perf_counter() - start) / args.frames

    def streaming_chunks(k=16):                                             # same outputs, frames handed over k at a time
        streamer.reset()
        for f in frames[:n_max]: streamer.update(f[None])
        start = time.perf_counter()
        for i in range(n_max, n_max + args.frames, k): streamer.update(frames[i:min(i + k, n_max + args.frames)])
        return (time.perf_counter() - start) / args.frames

    def window(n):
        start = time.perf_counter()
        for i in range(n_max, n_max + args.frames):                           # the label of frame i needs frames i-n+1..i
            window_model(tf.convert_to_tensor(frames[None, i - n + 1:i + 1], tf.float32)).numpy()
        return (time.perf_counter() - start) / args.frames

    streaming(); streaming_chunks(); [window(n) for n in args.windows]        # warm-up: tracing, caches
    times = {"streaming": [], "streaming, chunks of 16": []} | {f"window {n}": [] for n in args.windows}
    for _ in range(args.rounds):
        times["streaming"].append(streaming())
        times["streaming, chunks of 16"].append(streaming_chunks())
        for n in args.windows: times[f"window {n}"].append(window(n))
    print(f"ConvGRU with {args.backbone}{f' alpha {alpha}' if alpha != 1.0 else ''} at {args.size}x{args.size}, "
          f"{model.count_params():,} parameters; {args.frames} new frames x {args.rounds} round(s), CPU threads: "
          f"{tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()}")
    base = np.median(times["streaming"])
    print(f"{'method':<25}{'backbone runs/frame':>20}{'ms per new frame':>18}{'ratio to streaming':>20}")
    for name, values in times.items():
        runs = 1 if name.startswith("streaming") else int(name.split()[1])
        print(f"{name:<25}{runs:>20}{1000 * np.median(values):>18.2f}{np.median(values) / base:>19.2f}x")


if __name__ == "__main__":
    main()
