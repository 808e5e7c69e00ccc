"""What each ingredient of the ConvGRU recipe for own videos is worth: group cross-validated accuracy, with seeds.

Every row trains a head on the same cached per-frame features (MobileNet-0.25 at 224x224, ImageNet weights) of the
same group folds as `vidnb_train --folds K` (`experiment_data(folds=K, fold=k)`: scored groups never trained on;
the recipe trains all its epochs on every training group, a row holds groups out for early stopping), through the ConvGRU family's own `trainer` (the command's path without its
backup and resume machinery), and scores whole videos of any length from the cache (`predict_cached`, every frame;
a video's label by the row's `video_rule`). A row is the recipe (`vidnb.convgru.RECIPE`) with one setting changed, or a baseline:
the per-frame CNN of chapter 4 on the same frozen features (its 1024-unit head, a video the mean of its frames) and
the running mean of the features with a softmax (the TSN-style floor). Reported: top-1 per video and per frame, mean
+- sample std over the seeds of the K-fold mean (every video scored once per seed).

    python benchmarks/recipe_ablation.py --data ../shared/ucf101_mini --folds 6 --seeds 0 1 2 --out ablation.json
"""
import argparse, json, os, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from pathlib import Path
import numpy as np, keras
from vidnb import spatial
from vidnb.convgru import CONVGRU, RECIPE, predict_cached, standardize_features
from vidnb.features import FeatureCache, cached_sequences
from vidnb.experiments import experiment_data, settings_for
from vidnb.cli import parse_overrides
from vidnb.metrics import score_videos

ROWS = {   # name -> changes to the recipe (None: a baseline head, built below), in the order they are run
    "recipe": {},
    "per-frame CNN (chapter 4 head)": None,
    "mean of features so far": None,
    "label of the last frame (thesis)": dict(video_rule="last"),
    "no mirrored views": dict(mirror=False),
    "no standardisation": dict(standardize=False),
    "windows, not segments": dict(sampling="window"),
    "no dropout": dict(dropout=0.0),
    "early stopping on held-out groups": dict(val_frac=0.1),
    "40 epochs": dict(epochs=40),
    "30% joined sequences": dict(join=0.3),
    "GRU of 512 units": dict(units=512),
    "quick preset": dict(input_size=64, units=64, length=16, sampling="window", dropout=0.0, standardize=False, mirror=False,
                         epochs=15, patience=3, video_rule="last", val_frac=0.1),
    "thesis head, cached features": dict(units=512, length=100, sampling="window", dropout=0.0, standardize=False, mirror=False,
                                         optimizer="sgd", learning_rate=1e-4, epochs=30, batch_size=32, patience=5, video_rule="last", val_frac=0.1),
}


def baseline_head(name, n_classes, feature_dim):
    "The two heads that do not follow time: chapter 4's per-frame classifier, and the running mean of the features"
    features = keras.Input((None, feature_dim))
    x = keras.layers.Normalization(name="feature_norm")(features)
    if name.startswith("per-frame"):
        x = keras.layers.Dropout(0.5)(keras.layers.Dense(1024, activation="relu")(x))
    else:   # running mean: cumulative sum over time divided by the number of frames so far
        steps = keras.ops.cumsum(keras.ops.ones_like(x[..., :1]), axis=1)
        x = keras.layers.Dropout(0.3)(keras.ops.cumsum(x, axis=1) / steps)
    return keras.Model(features, keras.layers.Dense(n_classes, activation="softmax")(x))


def run(name, fold, seed, args, caches):
    "One head trained on the folds but `fold`, scored on `fold`: (per-video probabilities, labels)"
    changes = dict(ROWS[name] or {})
    data = experiment_data(args.data, folds=args.folds, fold=fold, seed=args.fold_seed, val_frac=changes.pop("val_frac", args.val_frac))
    s = settings_for("convgru-fixed", "recipe", **{**changes, "seed": seed})
    keras.utils.set_random_seed(seed)
    key = (s["input_size"],)
    if key not in caches: caches[key] = spatial.backbone(s["backbone"], weights=s["weights"], alpha=s["alpha"], input_size=s["input_size"])
    backbone, n = caches[key], len(data.classes)
    if ROWS[name] is None:
        views = [FeatureCache(args.cache, s["backbone"], s["weights"], s["alpha"], s["input_size"], model=backbone, mirror=m) for m in (False, True)]
        head = baseline_head(name, n, views[0].feature_dim)
        standardize_features(head, views, data.train, data.root)
        spatial.compile_classifier(head, "adam", 1e-3)
        make = lambda v, shuffle: cached_sequences(views, v, data.root, s["length"], s["batch_size"], shuffle, seed=seed, sampling="segments")
        train, stop = make(data.train, True), make(data.stop, False).cache() if data.stop else None
        rule = "mean" if name.startswith("per-frame") else "last"
    else:
        net = CONVGRU.build(s, "fixed", n)
        head, make_train, make_stop = CONVGRU.trainer(net, s, "fixed", data.root, args.cache, data.train)
        train, stop, views, rule = make_train(data.train, s["batch_size"]), make_stop(data.stop, s["batch_size"]) if data.stop else None, None, s["video_rule"]
    stopper = [keras.callbacks.EarlyStopping(patience=s["patience"], restore_best_weights=True)] if stop is not None else []
    history = head.fit(train, validation_data=stop, epochs=s["epochs"], callbacks=stopper, verbose=0)
    cache = views[0] if views else FeatureCache(args.cache, s["backbone"], s["weights"], s["alpha"], s["input_size"], model=backbone)
    if ROWS[name] is None:
        probs = [np.asarray(head(np.asarray(cache.load(p, verify=False), np.float32)[None], training=False))[0]
                 for p in (str(data.root/v.path) for v in data.score)]
    else: probs = predict_cached(head, cache, data.score, data.root)
    return probs, [v.label for v in data.score], rule, len(history.epoch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/ucf101_mini")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--fold_seed", type=int, default=0, help="seed of the fold draw (as --seed of the commands)")
    parser.add_argument("--val_frac", type=float, default=0.0, help="groups of the training folds held out for early stopping (the recipe: none)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rows", nargs="+", default=list(ROWS), help="rows to run; 'name:key=value,...' for a row of your own")
    parser.add_argument("--cache", default="vidnb_data/features")
    parser.add_argument("--out", default="recipe_ablation.json")
    args = parser.parse_args()
    for row in args.rows:   # "name:key=value,key=value" adds a row of your own
        if ":" in row: ROWS[row] = parse_overrides(row.split(":", 1)[1])
    results = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    caches = {}
    for name in args.rows:
        if name in results: print(f"{name}: kept from {args.out}"); continue
        started, per_seed = time.time(), []
        for seed in args.seeds:
            probs, labels, rules = [], [], None
            for fold in range(args.folds):
                p, y, rules, _ = run(name, fold, seed, args, caches)
                probs += p; labels += y
            scores = score_videos(probs, labels, rule=rules)
            per_seed.append((scores.metrics["video"]["top1"], scores.metrics["frame"]["top1"]))
        video, frame = np.array(per_seed).T
        std = lambda x: float(np.std(x, ddof=1)) if len(x) > 1 else 0.0   # sample standard deviation, as vidnb.crossval
        results[name] = dict(video_top1=[round(video.mean(), 4), round(std(video), 4)], frame_top1=[round(frame.mean(), 4), round(std(frame), 4)],
                             per_seed=[round(v, 4) for v in video], frame_per_seed=[round(f, 4) for f in frame], seeds=args.seeds,
                             folds=args.folds, changes=ROWS[name],
                             seconds=round(time.time() - started))
        print(f"{name}: video top-1 {video.mean():.3f} +- {std(video):.3f}, frame top-1 {frame.mean():.3f} +- {std(frame):.3f} "
              f"({time.time() - started:.0f} s)", flush=True)
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
