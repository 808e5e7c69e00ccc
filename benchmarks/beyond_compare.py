"""GRU, LSTM, attention, temporal convolutions and pooling side by side on the same cached frame features (thesis 7.2).

Every head is the ConvGRU family's head (`feature_norm`, a `temporal` layer, `step_norm`, softmax) with another temporal
layer: `settings_for("convgru-fixed", "recipe", temporal=NAME)`, trained by the family's own `trainer` on the same
cached MobileNet-0.25 features, scored by the same code. Measured in one run, for each head:

1. **order**: the built-in synthetic data's motion-only pairs (a disc moving left or right, a square growing or
   shrinking, a bar turning either way): trained on windows of 32 frames of 64x64 features (no mirrored views: a mirror
   image turns left into right), each test video scored forward and played backwards (labelled with its partner class);
   a video's label is its last frame's, so pooling (the mean of all its frames) is exactly order-blind: at most 50%.
2. **real video**: top-1 per video and per frame on `../shared/ucf101_mini` by group cross-validation (6 folds x seeds,
   the recipe's settings, or those `--overrides` changes, a video the mean of its frames), mean +- sample std over seeds of the K-fold mean; held-out
   clips of three classes joined (as `benchmarks/joined_real.py`, seed 0's models): per-frame accuracy and the median
   number of frames after a change before the label switches;
3. **cost and deployment**: parameters of the head; peak memory (RSS) streaming a 30-minute video (45,000 frames at
   25 fps, 128x128, backbone + head, in a child process, after 1,000 frames and after all); the `.keras` file loaded in
   safe mode and the TensorFlow Lite streaming step, each against Keras (largest difference of a probability).
Milliseconds per streamed frame: `benchmarks/convgru_streaming.py`.

    python benchmarks/beyond_compare.py --data ../shared/ucf101_mini --seeds 0 1 2 --out beyond.json --figure nbs/images/beyond_joined.jpg
    python benchmarks/beyond_compare.py --parts cv --heads gru attention tcn --overrides sampling=window,length=64 --out beyond_window.json
"""
import argparse, json, os, subprocess, sys, tempfile, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from pathlib import Path
import numpy as np, keras
from vidnb.beyond import HEADS
from vidnb.cli import parse_overrides
from vidnb.convgru import (CONVGRU, StreamingClassifier, TFLiteStreamer, convgru_model, export_tflite, load_convgru, predict_cached,
                           frame_backbone, head_layers)
from vidnb.datasets import make_synthetic, read_video
from vidnb.experiments import experiment_data, settings_for
from vidnb.features import FeatureCache
from vidnb.metrics import score_videos, switch_delays
from vidnb.temporal import partner_class
sys.path.insert(0, str(Path(__file__).parent))
from joined_real import triples

std = lambda x: float(np.std(x, ddof=1)) if len(x) > 1 else 0.0   # sample standard deviation, as vidnb.crossval


def train_head(name, data, s, cache_dir):
    "The family's head with temporal layer `name`, trained on the cached features of `data.train`; (head, its feature cache)"
    keras.utils.set_random_seed(s["seed"])
    net = CONVGRU.build(s, "fixed", len(data.classes))
    head, make_train, _ = CONVGRU.trainer(net, s, "fixed", data.root, cache_dir, data.train)
    head.fit(make_train(data.train, s["batch_size"]), epochs=s["epochs"], verbose=0)
    cache = FeatureCache(cache_dir, s["backbone"], s["weights"], s["alpha"], s["input_size"], model=frame_backbone(net))
    return head, cache


def order_test(name, seed, args):
    "'both' accuracy on the motion-only pairs: each test video forward and reversed (partner class), a video its last frame's label"
    root = make_synthetic(Path(args.synthetic_home)/"synthetic", size="quick")
    data = experiment_data(root, val_frac=0.0)
    s = settings_for("convgru-fixed", "recipe", temporal=name, input_size=64, sampling="window", length=32, mirror=False,
                     epochs=args.order_epochs, seed=seed)
    head, cache = train_head(name, data, s, args.cache)
    partners = partner_class(data.classes)
    motion = [v for v in data.score if partners[v.label] != v.label]
    cache.extract(motion, data.root)
    hits = []
    for v in motion:
        f = np.asarray(cache.load(str(data.root/v.path), verify=False), np.float32)
        for frames, label in ((f, v.label), (f[::-1].copy(), partners[v.label])):
            hits.append(int(np.asarray(head(frames[None], training=False))[0, -1].argmax() == label))
    return float(np.mean(hits)), len(motion)


def deployment(head, cache, clip):
    "Largest probability difference of the safe-mode `.keras` round trip and of the TFLite step, against Keras, on `clip`'s frames"
    full = convgru_model(head.output_shape[-1], cache.model, variant="fixed", head=head, compile=False)
    frames = read_video(clip, size=full.input_shape[2:4])[:40]
    keras_probs = StreamingClassifier(full).classify(frames)
    with tempfile.TemporaryDirectory() as tmp:
        full.save(Path(tmp)/"m.keras")
        loaded = np.asarray(load_convgru(Path(tmp)/"m.keras")(frames[None].astype(np.float32), training=False))[0]
        lite = TFLiteStreamer(export_tflite(full, Path(tmp)/"m.tflite"))
        lite_probs = np.stack([lite.update(f) for f in frames])
    return float(np.abs(loaded - keras_probs).max()), float(np.abs(lite_probs - keras_probs).max())


def memory_child(name, frames_total):
    "Peak RSS (MB) after 1,000 frames and after `frames_total`, streaming random-content frames through backbone + head"
    import vidnb.beyond  # noqa: F401  (registers the heads)
    model = convgru_model(6, "mobilenet", variant="scratch", alpha=0.25, input_size=128, units=128, temporal=name, compile=False)
    streamer, rng = StreamingClassifier(model, chunk=32), np.random.default_rng(0)
    pool = rng.integers(0, 256, (64, 128, 128, 3), dtype=np.uint8)
    peak = lambda: int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024   # MB; ru_maxrss would carry the parent's across exec
    peaks, done = {}, 0
    while done < frames_total:
        streamer.update(pool[np.arange(done, done + 32) % 64]); done += 32
        if done >= 1000 and "1k" not in peaks: peaks["1k"] = peak()
    peaks["all"] = peak()
    print(json.dumps(dict(frames=done, **peaks)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/ucf101_mini")
    parser.add_argument("--heads", nargs="+", default=list(HEADS))
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--order_epochs", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the streamed video of the memory measurement")
    parser.add_argument("--cache", default="vidnb_data/features")
    parser.add_argument("--synthetic_home", default="vidnb_data")
    parser.add_argument("--figure", default=None, help="image of every head's per-frame probabilities on the first joined video")
    parser.add_argument("--out", default="beyond_compare.json")
    parser.add_argument("--parts", nargs="+", default=["order", "cv", "memory"], help="what to measure")
    parser.add_argument("--overrides", default=None, help="recipe settings changed in the real-video part, as vidnb_train's (e.g. sampling=window,length=64)")
    parser.add_argument("--memory_child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    changed = parse_overrides(args.overrides)
    if args.memory_child: return memory_child(args.memory_child, int(args.minutes * 60 * 25))
    results = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    save = lambda: Path(args.out).write_text(json.dumps(results, indent=1))
    for part, name in [(part, name) for part in ("order", "cv", "memory") if part in args.parts for name in args.heads]:   # each part for every head
        r, started = results.setdefault(name, {}), time.time()
        if part == "order" and "order_both" not in r:
            scores = [order_test(name, seed, args)[0] for seed in args.seeds]
            r.update(order_both=[round(np.mean(scores), 4), round(std(scores), 4)], order_per_seed=scores); save()
            print(f"{name}: motion-only pairs, forward and reversed: {np.mean(scores):.3f} +- {std(scores):.3f}", flush=True)
        if part == "cv" and "video_top1" not in r:
            per_seed, joined, timeline = [], dict(hits=[], delays=[]), None
            for seed in args.seeds:
                probs, labels, rng = [], [], np.random.default_rng(0)
                for fold in range(args.folds):
                    data = experiment_data(args.data, folds=args.folds, fold=fold, val_frac=0.0)
                    s = settings_for("convgru-fixed", "recipe", temporal=name, seed=seed, **changed)
                    head, cache = train_head(name, data, s, args.cache)
                    probs += predict_cached(head, cache, data.score, data.root); labels += [v.label for v in data.score]
                    if seed != args.seeds[0]: continue
                    if fold == 0:
                        r["parameters_head"] = int(sum(np.prod(w.shape) for layer in head_layers(head) for w in layer.weights))
                        r["keras_safe_mode_diff"], r["tflite_step_diff"] = deployment(head, cache, data.root/data.score[0].path)
                    for clips in triples(data.score, rng):   # the same triples for every head: same seed, same order
                        parts = [np.asarray(cache.load(str(data.root/v.path), verify=False), np.float32) for v in clips]
                        truth = np.concatenate([np.full(len(p), v.label) for p, v in zip(parts, clips)])
                        p = np.asarray(head(np.concatenate(parts)[None], training=False))[0]
                        joined["hits"].append(p.argmax(1) == truth); joined["delays"] += switch_delays(p.argmax(1), truth)
                        if timeline is None: timeline = dict(probs=p.round(4).tolist(), truth=truth.tolist(), classes=data.classes,
                                                             clips=[v.path for v in clips])
                scores = score_videos(probs, labels, rule=s["video_rule"])
                per_seed.append((scores.metrics["video"]["top1"], scores.metrics["frame"]["top1"]))
                print(f"{name} seed {seed}: video top-1 {per_seed[-1][0]:.3f} ({time.time() - started:.0f} s)", flush=True)
            video, frame = np.array(per_seed).T
            delays = [d for d in joined["delays"] if d is not None]
            r.update(video_top1=[round(video.mean(), 4), round(std(video), 4)], frame_top1=[round(frame.mean(), 4), round(std(frame), 4)],
                     per_seed=video.round(4).tolist(), joined_videos=len(joined["hits"]),
                     joined_frame_top1=round(float(np.concatenate(joined["hits"]).mean()), 4),
                     median_switch_delay=float(np.median(delays)) if delays else None,
                     never_switched=sum(d is None for d in joined["delays"]), changes=len(joined["delays"]), timeline=timeline,
                     cv_seconds=round(time.time() - started)); save()
            print(f"{name}: video top-1 {video.mean():.3f} +- {std(video):.3f}, frame {frame.mean():.3f}; joined: per frame "
                  f"{r['joined_frame_top1']:.3f}, median switch delay {r['median_switch_delay']}", flush=True)
        if part == "memory" and "peak_rss_mb" not in r:
            out = subprocess.run([sys.executable, __file__, "--memory_child", name, "--minutes", str(args.minutes)], capture_output=True, text=True)
            if out.returncode: raise SystemExit(f"memory child for {name} failed: {out.stderr[-2000:]}")
            m = json.loads(out.stdout.strip().splitlines()[-1])
            r.update(peak_rss_mb=round(m["all"]), peak_rss_mb_1k=round(m["1k"]), streamed_frames=m["frames"]); save()
            print(f"{name}: peak RSS {m['1k']:.0f} MB after 1,000 frames, {m['all']:.0f} MB after {m['frames']:,}", flush=True)
    print(table(results, args.heads))
    if args.figure: figure(results, args.heads, args.figure)


def table(results, heads):
    "The comparison as a markdown table"
    pm = lambda v: f"{100 * v[0]:.1f} ± {100 * v[1]:.1f}" if v else "-"
    lines = ["| head | motion pairs, fwd + reversed (%) | ucf101_mini top-1 per video (%) | per frame (%) | joined: per frame (%) | "
             "median switch delay (frames) | head parameters | peak RSS, 1k / 45k frames (MB) | safe-mode `.keras` / TFLite diff |",
             "|:---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for h in heads:
        r = results.get(h, {})
        lines.append(f"| {h} | {pm(r.get('order_both'))} | {pm(r.get('video_top1'))} | {pm(r.get('frame_top1'))} | "
                     f"{100 * r['joined_frame_top1']:.1f} | {r['median_switch_delay']} | {r['parameters_head']:,} | "
                     f"{r.get('peak_rss_mb_1k', '-')} / {r.get('peak_rss_mb', '-')} | {r['keras_safe_mode_diff']:.0e} / {r['tflite_step_diff']:.0e} |"
                     if "video_top1" in r else f"| {h} | {pm(r.get('order_both'))} | - | - | - | - | - | {r.get('peak_rss_mb_1k', '-')} / {r.get('peak_rss_mb', '-')} | - |")
    return "\n".join(lines)


def figure(results, heads, path):
    "Each head's probabilities of the three classes at every frame of the first joined video of fold 1"
    import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    shown = [h for h in heads if results.get(h, {}).get("timeline")]
    if not shown: return
    t = results[shown[0]]["timeline"]; truth, classes = np.array(t["truth"]), t["classes"]
    fig, axes = plt.subplots(len(shown), 1, figsize=(9, 1.5 * len(shown)), sharex=True)
    for ax, h in zip(np.atleast_1d(axes), shown):
        p = np.array(results[h]["timeline"]["probs"])
        for c in sorted(set(truth.tolist())): ax.plot(p[:, c], label=classes[c])
        for edge in np.flatnonzero(np.diff(truth)) + 1: ax.axvline(edge, color="k", ls="--", lw=0.8)
        ax.set_ylim(-0.05, 1.05); ax.set_yticks([0, 0.5, 1]); ax.set_ylabel(h, rotation=0, ha="right")
    np.atleast_1d(axes)[0].legend(loc="upper center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, 1.6))
    np.atleast_1d(axes)[-1].set_xlabel("frame (dashed: the clip changes)")
    fig.savefig(path, dpi=80, bbox_inches="tight", pil_kwargs=dict(quality=85)); plt.close(fig)
    print("figure:", path)


if __name__ == "__main__":
    main()
