"""Throughput of the chapter-5 recurrent models (vidnb.temporal) on this machine.

Prints, for the thesis-sized LSTM and GRU (512 units, 50x50x3 = 7,500 values per frame):
  - training throughput in sequences/s: `train_on_batch` on batches of 32 windows of 100 frames (thesis 5.2.1,
    Table 5.1), features already in memory, so only the model's forward and backward pass and Adam are timed;
  - the data pipeline's throughput in sequences/s (`rnn_dataset` on the synthetic `quick` data: decoding, clip
    augmentation, downsampling), to show whether it or the model limits training;
  - inference time per frame for one long video given as a single sequence (`classify_video`), model only, and for
    a video file end to end (decoding included).
The two cells are measured alternately in one process, so that the load of a shared machine falls on both alike;
the LSTM/GRU ratios are the figures to compare across machines. Nothing is cached between rounds.

    python benchmarks/temporal_benchmark.py [--rounds 3] [--frames 3000] [--units 512] [--size quick]
"""
import argparse, os, tempfile, time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import cv2
import numpy as np
import keras
import tensorflow as tf

from vidnb.datasets import make_synthetic, synthetic_splits, ClipAugment
from vidnb.temporal import rnn_classifier, rnn_dataset, classify_video, feature_size

tf.get_logger().setLevel("ERROR")


def write_long_video(path, frames, size=64, seed=0):
    "A video file of `frames` frames of a moving disc over noise (content does not affect the timing)"
    rng = np.random.default_rng(seed)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"XVID"), 25, (size, size))
    background = rng.integers(0, 120, (size, size, 3), dtype=np.uint8)
    for t in range(frames):
        frame = background.copy()
        cv2.circle(frame, (int(t * 2 % size), size // 2), size // 8, (255, 200, 50), -1)
        out.write(frame)
    out.release()
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed training batches per cell")
    parser.add_argument("--frames", type=int, default=3000, help="length of the long video")
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--size", default="quick", help="size of the synthetic data for the pipeline figure")
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU core(s) visible, "
          f"GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    cells = ("gru", "lstm")
    rng = np.random.default_rng(0)
    d = feature_size()
    models = {c: rnn_classifier(101, c, args.units) for c in cells}
    x = rng.random((args.batch, args.length, d), dtype=np.float32)
    y = rng.integers(0, 101, args.batch)

    # training throughput, model only
    for c in cells: models[c].train_on_batch(x, y)            # warm-up: tracing and first allocation
    times = {c: [] for c in cells}
    for _ in range(args.rounds):
        for c in cells:
            start = time.perf_counter(); models[c].train_on_batch(x, y); times[c].append(time.perf_counter() - start)
    print(f"\ntraining, batches of {args.batch} x {args.length} frames, {args.units} units, median of {args.rounds}:")
    rate = {c: args.batch / np.median(times[c]) for c in cells}
    for c in cells:
        print(f"  {c.upper():5}{models[c].count_params():>12,} parameters  {np.median(times[c]):6.2f} s/batch  "
              f"{rate[c]:6.2f} sequences/s")
    print(f"  GRU/LSTM throughput ratio: {rate['gru'] / rate['lstm']:.2f}")

    # input pipeline throughput (decode at 100x100, augment per clip, downsample to 50x50)
    with tempfile.TemporaryDirectory() as tmp:
        splits = synthetic_splits(make_synthetic(Path(tmp)/"synthetic", size=args.size))
        ds = rnn_dataset(splits.train, splits.root, length=args.length, batch_size=args.batch, augment=ClipAugment(seed=0))
        next(iter(ds))
        start, n = time.perf_counter(), 0
        for features, labels in ds.take(4): n += len(labels)
        print(f"\ninput pipeline (rnn_dataset, synthetic '{args.size}', with ClipAugment): "
              f"{n / (time.perf_counter() - start):.1f} sequences/s")

        # inference on one long video
        frames = rng.integers(0, 256, (args.frames, 50, 50, 3), dtype=np.uint8)
        video = write_long_video(Path(tmp)/"long.avi", args.frames)
        print(f"\ninference on one video of {args.frames} frames, as one sequence (per-video output):")
        per_frame = {}
        for c in cells: classify_video(models[c], frames[:50])   # warm-up
        for c in cells:
            start = time.perf_counter(); classify_video(models[c], frames); model_s = time.perf_counter() - start
            start = time.perf_counter(); classify_video(models[c], video); file_s = time.perf_counter() - start
            per_frame[c] = 1000 * model_s / args.frames
            print(f"  {c.upper():5} model {per_frame[c]:6.3f} ms/frame ({model_s:.1f} s)   "
                  f"file end to end {1000 * file_s / args.frames:6.3f} ms/frame ({file_s:.1f} s)")
        print(f"  LSTM/GRU time ratio (model): {per_frame['lstm'] / per_frame['gru']:.2f}")


if __name__ == "__main__":
    main()
