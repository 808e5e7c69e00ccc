"""Per-frame backbone speed on this machine (vidnb.spatial, thesis chapter 4).

1. InceptionV3 at 299x299, batch 32: frames/s in float32 and in mixed precision (mixed_bfloat16 on a CPU,
   mixed_float16 on a GPU), measured batch by batch in alternation, and the cosine similarity of the 2,048-d features.
   InceptionV3's ImageNet weights cannot be downloaded offline, so it runs with random weights (weights=None) unless
   --weights names a local file; speed does not depend on the weights' values.
2. Frames/s end to end from the video files of ../shared/ucf101_mini (decode, resize, backbone) against the backbone
   alone on in-memory frames, also alternating.
3. With ../shared/weights: the same precision comparison for MobileNet-0.25 with its genuine ImageNet weights.

Usage (from the repository root): python benchmarks/spatial_benchmark.py [--rounds 4] [--batches 6] [--weights FILE]
"""
import argparse, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from pathlib import Path
import numpy as np, cv2

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/"shared"

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4, help="timed batches per precision")
    ap.add_argument("--batches", type=int, default=6, help="timed batches end to end")
    ap.add_argument("--batch_size", type=int, default=32)
    ap.add_argument("--weights", default=None, help="local InceptionV3 weights file (default: random weights)")
    ap.add_argument("--skip_end_to_end", action="store_true")
    args = ap.parse_args()
    from vidnb.spatial import compare_precision, end_to_end_throughput, backbone
    from vidnb.datasets import folder_splits, ucf_group, read_video
    mini = SHARED/"ucf101_mini"
    splits, frames = None, None
    if mini.is_dir():
        splits = folder_splits(mini, group_rule=ucf_group, seed=0)
        frames = np.concatenate([read_video(mini/v.path, (299, 299), [0, 10, 20, 30]) for v in splits.test[:8]])
    else: print(f"note: {mini} not found: random pixels for the precision test, no end-to-end test")
    r = compare_precision("inceptionv3", weights=args.weights, batch_size=args.batch_size, rounds=args.rounds, frames=frames)
    print(f"InceptionV3 ({'weights ' + args.weights if args.weights else 'random weights'}), 299x299, batch {args.batch_size}, "
          f"{r['policy']} vs float32 ({'real frames' if frames is not None else 'random pixels'}):")
    print(f"  float32 {r['float32_fps']:.2f} frames/s, mixed {r['mixed_fps']:.2f} frames/s, speed-up x{r['speedup']:.2f}")
    print(f"  feature cosine similarity: mean {r['cosine_mean']:.5f}, min {r['cosine_min']:.5f}, "
          f"centred on the batch mean {r['centred_cosine_mean']:.4f}")
    weights = SHARED/"weights"/"mobilenet_2_5_224_tf_no_top.h5"
    if weights.exists():
        small = None if frames is None else np.stack([cv2.resize(f, (224, 224)) for f in frames])
        m = compare_precision("mobilenet", weights=weights, alpha=0.25, batch_size=args.batch_size, rounds=args.rounds, frames=small)
        print(f"MobileNet-0.25 (ImageNet weights), 224x224: float32 {m['float32_fps']:.0f} frames/s, mixed {m['mixed_fps']:.0f} "
              f"frames/s, speed-up x{m['speedup']:.2f}, cosine mean {m['cosine_mean']:.4f} (centred {m['centred_cosine_mean']:.4f})")
    if splits is not None and not args.skip_end_to_end:
        for policy in (False, True):
            net = backbone("inceptionv3", weights=args.weights, mixed_precision=policy)
            e = end_to_end_throughput(net, splits.test[:12], mini, batch_size=args.batch_size, batches=args.batches)
            print(f"end to end, {'mixed' if policy else 'float32'}: from video files {e['end_to_end_fps']:.2f} frames/s, "
                  f"backbone alone {e['backbone_fps']:.2f} frames/s: {e['ratio']:.0%} ({e['frames']} frames)")

if __name__ == "__main__": sys.exit(main())
