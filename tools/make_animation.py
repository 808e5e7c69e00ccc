"""The ConvGRU chapter's animation: held-out synthetic clips of six classes joined into one video, labelled frame by
frame by a saved ConvGRU-Fixed model exactly as `vidnb_classify MODEL VIDEO --per_frame --annotate OUT.mp4` draws them,
saved as a small GIF (every fourth frame, under 1 MB).

Usage: python tools/make_animation.py MODEL.keras SYNTHETIC_ROOT nbs/images/convgru_annotated.gif
(MODEL: e.g. the convgru-fixed row of `vidnb_reproduce --quick`; SYNTHETIC_ROOT: the data it was trained on).
"""
import sys, tempfile
from pathlib import Path
import numpy as np
from PIL import Image
from vidnb.datasets import synthetic_splits
from vidnb.convgru import join_videos
from vidnb.cli import frame_probabilities
from vidnb.runs import load_model, atomic_path
from vidnb.video import iter_frames, annotate_frame

def main(model_path, root, dest, classes=6, every=4, width=256):
    net, meta = load_model(model_path)
    test = synthetic_splits(root).test
    clips = [next(v for v in test if v.label == c) for c in range(classes)]       # one held-out clip per class
    with tempfile.TemporaryDirectory() as tmp:
        joined = Path(tmp)/"joined.avi"
        origin = join_videos([Path(root)/v.path for v in clips], joined)
        truth = np.array([clips[k].label for k in origin])
        names, frames = meta["class_names"], []
        for (i, probs), frame in zip(frame_probabilities(net, meta, joined), iter_frames(joined)):
            if i % every: continue
            shown = annotate_frame(frame, names, probs, top=3, width=width,
                                   headline=f"{names[int(np.argmax(probs))]} {probs.max():.2f} (true: {names[truth[i]]})")
            frames.append(Image.fromarray(shown).convert("P", palette=Image.ADAPTIVE, colors=32))
    with atomic_path(dest) as tmp_path:
        frames[0].save(tmp_path, format="GIF", save_all=True, append_images=frames[1:], duration=1000 * every // 25, loop=0, optimize=True)
    print(f"{dest}: {len(frames)} frames, {Path(dest).stat().st_size / 1024:.0f} KB")

if __name__ == "__main__": main(*sys.argv[1:4])
