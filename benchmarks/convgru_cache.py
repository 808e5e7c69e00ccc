"""Feature cache: bytes per frame against raw frames, extraction speed, and GRU-head training speed from the cache.

1. Caches the built-in synthetic dataset with MobileNet alpha 0.25 (the genuine ImageNet file in ../shared/weights when
   present, random weights otherwise; it says which) and reports the bytes on disk per frame against the raw frame
   (uint8 at the backbone's input size and at the video's own size) and against the compressed video file.
2. The same for InceptionV3 (2,048-d, the thesis' backbone; random weights, as ImageNet files cannot be had offline:
   the size does not depend on the weights) on a few videos at 299x299, and, where ../shared/ucf101_mini exists, for
   real UCF-101 clips (320x240, compressed as UCF-101 distributes them) with both backbones.
3. Trains the thesis' head (GRU 512, batch normalisation, softmax) from the cache on sequences of --length frames,
   batches of 32 (Table 6.1), and reports sequences per second after a warm-up epoch; for 2,048-d features it uses a
   cache of the same format filled with random float16 vectors (training time does not depend on their values).

    python benchmarks/convgru_cache.py
    python benchmarks/convgru_cache.py --dataset quick --length 100 --epochs 3
"""
import argparse, os, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", message=".*(shuffle=True. was passed|Your input ran out of data).*")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import keras
from vidnb.convgru import FeatureCache, cached_sequences, gru_head, compile_variant
from vidnb.datasets import make_synthetic, synthetic_splits, video_info

SHARED = Path(__file__).resolve().parents[2]/"shared"
SHARED_WEIGHTS = SHARED/"weights"/"mobilenet_2_5_224_tf_no_top.h5"


def cache_sizes(cache, paths, label):
    "Print bytes per frame: cache entry on disk vs raw uint8 frames vs the compressed video"
    frames = sum(len(cache.load(p, verify=False, mmap=True)) for p in paths)
    on_disk = sum(cache.entry(p).stat().st_size + cache.entry(p).with_suffix(".json").stat().st_size for p in paths)
    info = video_info(paths[0])
    raw_input = cache.input_size[0] * cache.input_size[1] * 3
    raw_video = info["height"] * info["width"] * 3
    video = sum(Path(p).stat().st_size for p in paths)
    print(f"{label}: {len(paths)} videos, {frames:,} frames, {cache.feature_dim}-d float16")
    print(f"  cache on disk     {on_disk / frames:>10,.0f} bytes/frame  (features {2 * cache.feature_dim:,} + .npy header and .json)")
    print(f"  raw frame {cache.input_size[0]}x{cache.input_size[1]}  {raw_input:>10,} bytes/frame  -> cache is {raw_input / (on_disk / frames):.0f}x smaller")
    print(f"  raw frame {info['height']}x{info['width']} (video) {raw_video:>6,} bytes/frame  -> cache is {raw_video / (on_disk / frames):.1f}x smaller")
    print(f"  compressed video  {video / frames:>10,.0f} bytes/frame  -> cache / video = {on_disk / video:.2f}")


def head_speed(cache, videos, root, length, epochs, label):
    "Sequences per second training the thesis' head from the cache (first epoch excluded: tracing)"
    keras.utils.set_random_seed(0)
    head = compile_variant(gru_head(8, cache.feature_dim), "scratch")
    data = cached_sequences(cache, videos, root, length=length, batch_size=32, join=0.5)
    head.fit(data, epochs=1, verbose=0)
    start = time.perf_counter(); head.fit(data, epochs=epochs, verbose=0); elapsed = time.perf_counter() - start
    n = len(videos) * epochs
    print(f"{label}: {n / elapsed:,.0f} sequences/s ({n / elapsed * length:,.0f} frames/s), "
          f"sequences of {length} frames, batch 32, {epochs} epoch(s) of {len(videos)} sequences, {head.count_params():,} parameters")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="tiny", choices=["tiny", "quick", "full"], help="synthetic dataset size")
    parser.add_argument("--input-size", type=int, default=64, help="MobileNet input size")
    parser.add_argument("--length", type=int, default=100, help="frames per training sequence (thesis 5.2.1)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--inception-videos", type=int, default=3, help="videos to cache with InceptionV3 (slow on a CPU)")
    parser.add_argument("--real-videos", type=int, default=6, help="real clips from ../shared/ucf101_mini to measure (0: none)")
    parser.add_argument("--work", default=None, help="folder for the dataset and the caches (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="convgru_cache_"))
    splits = synthetic_splits(make_synthetic(work/f"synthetic_{args.dataset}", size=args.dataset))
    videos = splits.train + splits.val + splits.test
    paths = [str(splits.root/v.path) for v in videos]
    weights = SHARED_WEIGHTS if SHARED_WEIGHTS.exists() else None
    print(f"MobileNet alpha 0.25 weights: {weights or 'random (../shared/weights not found)'}")
    cache = FeatureCache(work/"cache", "mobilenet", weights=weights, alpha=0.25, input_size=args.input_size)
    start = time.perf_counter(); report = cache.extract(videos, splits.root); elapsed = time.perf_counter() - start
    frames = sum(len(cache.load(p, verify=False, mmap=True)) for p in paths)
    if report["stored"]: print(f"extraction: {report['stored']} videos, {frames:,} frames in {elapsed:.1f} s = {frames / elapsed:,.0f} frames/s (decode + backbone)")
    cache_sizes(cache, paths, f"MobileNet 0.25 at {args.input_size}x{args.input_size}")
    inception = FeatureCache(work/"cache", "inceptionv3", weights=None)
    some = paths[:args.inception_videos]
    start = time.perf_counter(); inception.extract(some); elapsed = time.perf_counter() - start
    cache_sizes(inception, some, "InceptionV3 at 299x299 (random weights; sizes do not depend on them)")
    real = sorted((SHARED/"ucf101_mini").glob("*/*.avi"))[::36][:args.real_videos]   # one clip per class
    if real:
        mobile224 = FeatureCache(work/"cache", "mobilenet", weights=weights, alpha=0.25, input_size=224)
        mobile224.extract(real)
        cache_sizes(mobile224, [str(p) for p in real], "real UCF-101 clips, MobileNet 0.25 at 224x224")
        inception.extract(real[:1])
        cache_sizes(inception, [str(real[0])], "a real UCF-101 clip, InceptionV3 at 299x299")
    else: print("../shared/ucf101_mini not found: no real clips measured")
    head_speed(cache, splits.train, splits.root, args.length, args.epochs, f"head on {cache.feature_dim}-d MobileNet features")
    wide = FeatureCache(work/"cache_random2048", "inceptionv3", weights=None, model=inception.model)
    rng = np.random.default_rng(0)
    for p in [str(splits.root/v.path) for v in splits.train]:                # same format, random float16 vectors
        if wide.problem(p) is not None: wide._store(p, rng.random((len(cache.load(p, verify=False, mmap=True)), 2048), np.float32))
    head_speed(wide, splits.train, splits.root, args.length, args.epochs, "head on 2,048-d features (InceptionV3 width)")


if __name__ == "__main__":
    main()
