"""Does the label follow the content on real video? Held-out UCF-101 clips of different classes, joined (thesis 6.1).

For each group fold (`experiment_data(folds=K, fold=k)`, as `vidnb_train --folds K`), the ConvGRU recipe's head is
trained on the other folds' cached features through the family's own `trainer`; then the fold's held-out clips are
joined three at a time (three different classes, each clip used once where the fold has enough) and classified frame
by frame: the GRU state runs on across the joins, as when streaming the joined file. Reported over all folds: per-frame
accuracy (all frames, and the first clip against the clips after a change), and the number of frames after each change
before the predicted label first names the new class (`metrics.switch_delays`; its median, and how often it never does).
The figure: the first joined triple of fold 1 written as a real video file (`join_videos`, XVID) and streamed through
the full model (backbone and head on its decoded frames, `StreamingClassifier`), its per-frame probabilities plotted.

    python benchmarks/joined_real.py --data ../shared/ucf101_mini --folds 6 --figure nbs/images/joined_real.jpg
    python benchmarks/joined_real.py --overrides join=0.3     # the recipe trained on joined sequences too
"""
import argparse, json, os, tempfile, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from pathlib import Path
import numpy as np, keras
from vidnb.convgru import CONVGRU, StreamingClassifier, convgru_model, join_videos
from vidnb.features import FeatureCache
from vidnb.experiments import experiment_data, settings_for
from vidnb.cli import parse_overrides
from vidnb.metrics import switch_delays, plot_timeline


def triples(videos, rng):
    "Lists of three videos of different classes, each video in at most one list"
    by_class = {c: [v for v in videos if v.label == c] for c in sorted({v.label for v in videos})}
    pool = {c: [vs[i] for i in rng.permutation(len(vs))] for c, vs in by_class.items()}
    out = []
    while sum(len(p) > 0 for p in pool.values()) >= 3:
        ready = [c for c, p in pool.items() if p]
        classes = rng.choice(ready, 3, replace=False, p=np.array([len(pool[c]) for c in ready]) / sum(len(pool[c]) for c in ready))
        out.append([pool[c].pop() for c in classes])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/ucf101_mini")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val_frac", type=float, default=0.0, help="groups held out of training for early stopping (the recipe: none)")
    parser.add_argument("--overrides", default="", help="recipe settings to change, as key=value,key=value")
    parser.add_argument("--cache", default="vidnb_data/features")
    parser.add_argument("--figure", default=None, help="image file of the streamed joined video's timeline")
    parser.add_argument("--out", default=None, help="JSON file of the figures")
    args = parser.parse_args()
    s = settings_for("convgru-fixed", "recipe", **{"seed": args.seed, **parse_overrides(args.overrides)})
    rng, started = np.random.default_rng(args.seed), time.time()
    correct, first, later, delays, figure_done = [], [], [], [], args.figure is None
    for fold in range(args.folds):
        data = experiment_data(args.data, folds=args.folds, fold=fold, val_frac=args.val_frac)
        keras.utils.set_random_seed(args.seed)
        net = CONVGRU.build(s, "fixed", len(data.classes))
        head, make_train, make_stop = CONVGRU.trainer(net, s, "fixed", data.root, args.cache, data.train)
        stop = make_stop(data.stop, s["batch_size"]) if data.stop else None
        stopper = [keras.callbacks.EarlyStopping(patience=s["patience"], restore_best_weights=True)] if data.stop else []
        head.fit(make_train(data.train, s["batch_size"]), validation_data=stop, epochs=s["epochs"], callbacks=stopper, verbose=0)
        cache = FeatureCache(args.cache, s["backbone"], s["weights"], s["alpha"], s["input_size"])
        for clips in triples(data.score, rng):
            parts = [np.asarray(cache.load(str(data.root/v.path), verify=False), np.float32) for v in clips]
            truth = np.concatenate([np.full(len(p), v.label) for p, v in zip(parts, clips)])
            probs = np.asarray(head(np.concatenate(parts)[None], training=False))[0]
            hit = probs.argmax(1) == truth
            correct.append(hit); first.append(hit[:len(parts[0])]); later.append(hit[len(parts[0]):])
            delays += switch_delays(probs.argmax(1), truth)
            if not figure_done:    # the same three clips as a real video file, decoded and streamed through the full model
                with tempfile.TemporaryDirectory() as tmp:
                    origin = join_videos([data.root/v.path for v in clips], Path(tmp)/"joined.avi")
                    full = convgru_model(len(data.classes), cache.model, variant="fixed", head=head, compile=False)
                    streamed = StreamingClassifier(full, data.classes, chunk=32, resize=True).classify(Path(tmp)/"joined.avi")
                file_truth = np.array([clips[k].label for k in origin])
                names = " + ".join(v.class_name for v in clips)
                plot_timeline(streamed, data.classes, file_truth, fps=25, title=f"held-out UCF-101 clips joined: {names}", save=args.figure)
                agree = float((streamed.argmax(1) == probs.argmax(1)[:len(streamed)]).mean()) if len(streamed) == len(probs) else None
                print(f"figure: {args.figure}; streamed file vs cached features: same label on {agree:.1%} of frames" if agree is not None
                      else f"figure: {args.figure}; the file decodes to {len(streamed)} frames, the clips to {len(probs)}")
                figure_done = True
        print(f"fold {fold + 1}/{args.folds}: {len(correct)} joined videos so far ({time.time() - started:.0f} s)", flush=True)
    measured = [d for d in delays if d is not None]
    result = dict(settings={k: s[k] for k in ("sampling", "length", "units", "dropout", "mirror", "standardize", "join")},
                  joined_videos=len(correct), frames=int(sum(map(len, correct))),
                  frame_top1=round(float(np.concatenate(correct).mean()), 4),
                  frame_top1_first_clip=round(float(np.concatenate(first).mean()), 4),
                  frame_top1_after_a_change=round(float(np.concatenate(later).mean()), 4),
                  changes=len(delays), median_switch_delay_frames=float(np.median(measured)) if measured else None,
                  never_switched=sum(d is None for d in delays), seconds=round(time.time() - started))
    print(json.dumps(result, indent=1))
    if args.out: Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
