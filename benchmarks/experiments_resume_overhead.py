"""What resumability costs: seconds per epoch of a plain `model.fit` (early stopping only) against `fit_phase`
(the same, plus `ResumableBackup`'s per-epoch backup of weights, optimiser, history and early-stopping state, and
TensorBoard logs), on the quick preset's GRU (603K parameters) fed from memory, so that the callbacks' share is not
hidden behind video decoding. The two are alternated in one process (the machine is shared and noisy) and the ratio
of their medians is printed.

Run: python benchmarks/experiments_resume_overhead.py [--repeats 3] [--epochs 4]
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import warnings
import numpy as np, keras, tensorflow as tf
warnings.filterwarnings("ignore", module="keras")
from vidnb.experiments import build_model, settings_for
from vidnb.runs import fit_phase

def main(repeats:int, epochs:int):
    s = settings_for("gru", "quick")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (256, s["length"], 3 * s["frame_size"] ** 2)).astype("float32")
    y = rng.integers(0, 8, 256).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(s["batch_size"]).cache()
    val = tf.data.Dataset.from_tensor_slices((x[:64], y[:64])).batch(s["batch_size"]).cache()
    model = build_model("gru", "gru", s, 8)
    print(f"GRU of the quick preset: {model.count_params():,} parameters, {len(x)} sequences of {s['length']} frames "
          f"({x.shape[-1]} values each), batches of {s['batch_size']}, {epochs} epochs per fit")
    model.fit(data, epochs=1, verbose=0)                                   # warm-up: tracing
    times = {"plain fit": [], "fit_phase": []}
    with tempfile.TemporaryDirectory() as folder:
        for r in range(repeats):
            for name in times:
                model = build_model("gru", "gru", s, 8)
                start = time.perf_counter()
                if name == "plain fit":
                    model.fit(data, validation_data=val, epochs=epochs, verbose=0,
                              callbacks=[keras.callbacks.EarlyStopping(patience=epochs, restore_best_weights=True)])
                else:
                    fit_phase(model, data, val, epochs, Path(folder)/f"backup{r}", patience=epochs,
                              tensorboard_dir=Path(folder)/f"tb{r}", log=None)
                times[name].append((time.perf_counter() - start) / epochs)
    for name, t in times.items():
        print(f"{name:10}: {statistics.median(t):.3f} s per epoch (median of {repeats}; all: {', '.join(f'{v:.3f}' for v in t)})")
    ratio = statistics.median(times["fit_phase"]) / statistics.median(times["plain fit"])
    print(f"fit_phase / plain fit: {ratio:.2f}x per epoch")

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3); p.add_argument("--epochs", type=int, default=4)
    main(**vars(p.parse_args()))
