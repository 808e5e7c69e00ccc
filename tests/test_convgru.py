"Tests of vidnb.convgru that do not fit the notebook: fresh processes, crashes, offline weights, TFLite, real data"
import json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras

from vidnb import convgru as cg, features as vf   # vf: the feature cache
from vidnb.datasets import write_video, video_info

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/"shared"
MOBILENET = SHARED/"weights"/"mobilenet_2_5_224_tf_no_top.h5"
MINI = SHARED/"ucf101_mini"


def moving_disc(n, size=32, seed=0):
    "RGB frames of a disc moving over noise"
    import cv2
    rng = np.random.default_rng(seed)
    frames = []
    for t in range(n):
        f = rng.integers(0, 40, (size, size, 3), dtype=np.uint8)
        cv2.circle(f, (int(t * size / 10) % size, size // 2), size // 6, (250, 200, 30), -1)
        frames.append(f)
    return np.stack(frames)


@pytest.fixture(scope="module")
def model():
    "A small ConvGRU with random weights and non-trivial normalisation and standardisation statistics"
    keras.utils.set_random_seed(0)
    m = cg.convgru_model(5, "mobilenet", alpha=0.25, input_size=32, variant="scratch", units=64, compile=False)
    norm = m.get_layer("step_norm")
    rng = np.random.default_rng(1)
    norm.moving_mean.assign(rng.normal(0, 0.3, 64).astype("float32"))
    norm.moving_variance.assign(rng.uniform(0.5, 2, 64).astype("float32"))
    standardize = m.get_layer("feature_norm")              # the recipe's standardisation, here with made-up statistics
    standardize.set_weights([rng.uniform(0, 1, 256).astype("float32"), rng.uniform(0.5, 2, 256).astype("float32"), np.array(100)])
    standardize.finalize_state()
    return m


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    paths = [write_video(folder/f"clip{i}.avi", moving_disc(12 + 5 * i, seed=i)) for i in range(4)]
    data = write_video(folder/"long.avi", moving_disc(40, seed=9)).read_bytes()
    (folder/"truncated.avi").write_bytes(data[: len(data) // 2])
    return folder, paths


def test_streaming_equals_full_model(model, videos):
    from vidnb.datasets import read_video
    _, paths = videos
    frames = read_video(paths[3], 32)
    reference = model.predict(frames[None], verbose=0)[0]
    streamer = cg.StreamingClassifier(model)
    for chunk in (1, 3, 64):
        assert np.abs(streamer.classify(paths[3], chunk=chunk) - reference).max() < 1e-4
    assert np.abs(cg.per_video(model).predict(frames[None], verbose=0)[0] - reference[-1]).max() < 1e-6


def test_stream_of_truncated_file_emits_then_raises(model, videos):
    folder, _ = videos
    streamer = cg.StreamingClassifier(model, chunk=4)
    seen = []
    with pytest.raises(cg.StreamError, match="truncated.avi: truncated: the header says") as error:
        for prediction in streamer.stream(folder/"truncated.avi"): seen.append(prediction.index)
    assert seen == list(range(error.value.frames_classified)) and len(seen) > 0


def test_keras_file_loads_in_a_fresh_process_in_safe_mode(model, videos, tmp_path):
    from vidnb.datasets import read_video
    _, paths = videos
    model.save(tmp_path/"m.keras")
    frames = read_video(paths[0], 32)
    np.save(tmp_path/"frames.npy", frames)
    np.save(tmp_path/"expected.npy", model.predict(frames[None], verbose=0))
    code = textwrap.dedent(f"""
        import numpy as np, vidnb.convgru as cg
        m = cg.load_convgru({str(tmp_path/'m.keras')!r})
        out = m.predict(np.load({str(tmp_path/'frames.npy')!r})[None], verbose=0)
        print(float(np.abs(out - np.load({str(tmp_path/'expected.npy')!r})).max()))""")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert float(run.stdout.strip().splitlines()[-1]) < 1e-6


def test_tflite_step_matches_keras(model, videos, tmp_path):
    from vidnb.datasets import read_video
    _, paths = videos
    frames = read_video(paths[1], 32)
    keras_probs = model.predict(frames[None], verbose=0)[0]
    device = cg.TFLiteStreamer(cg.export_tflite(model, tmp_path/"step.tflite"))
    tflite_probs = np.stack([device.update(f) for f in frames])
    assert np.abs(tflite_probs - keras_probs).max() < 1e-4
    device.reset()
    assert np.abs(device.update(frames[0]) - keras_probs[0]).max() < 1e-4
    assert device.state.shape == (1, 64)                          # the state keeps its declared shape [1, U]
    step = cg.streaming_step(model)
    assert step({"frame": frames[:1].astype("float32"), "state": np.zeros((1, 64), "float32")})["state"].shape == (1, 64)


def test_fixed_variant_offline_says_weights_unavailable(monkeypatch):
    from keras.src.utils import file_utils
    def offline(*args, **kwargs): raise Exception("URL fetch failure: no network (simulated)")
    monkeypatch.setattr(file_utils, "get_file", offline)
    from vidnb.spatial import WeightsUnavailableError
    with pytest.raises(WeightsUnavailableError, match="could not be obtained"):
        cg.convgru_model(5, "mobilenet", weights="imagenet", alpha=0.5, input_size=32, variant="fixed")   # 0.25 is bundled


def test_cache_unwritable_folder(model, tmp_path):
    (tmp_path/"file").write_text("x")
    with pytest.raises(cg.CacheError, match="not writable"):
        cg.FeatureCache(tmp_path/"file"/"cache", "mobilenet", weights=None, alpha=0.25, input_size=32,
                        model=model.get_layer("frame_features").layer)
    if os.geteuid() != 0:                                   # root ignores permission bits
        locked = tmp_path/"locked"; locked.mkdir(); locked.chmod(0o500)
        with pytest.raises(cg.CacheError, match="not writable"):
            cg.FeatureCache(locked/"cache", "mobilenet", weights=None, alpha=0.25, input_size=32,
                            model=model.get_layer("frame_features").layer)


def test_cache_survives_a_killed_extraction(videos, tmp_path):
    "SIGKILL an extraction part-way: every entry left behind is either sound or rejected, and a rerun completes"
    folder, _ = videos
    many = [write_video(tmp_path/f"v{i:02d}.avi", moving_disc(30, seed=100 + i)) for i in range(24)]
    code = textwrap.dedent(f"""
        import sys, numpy as np, keras, vidnb.convgru as cg
        from vidnb import spatial
        keras.utils.set_random_seed(0)
        cache = cg.FeatureCache({str(tmp_path/'cache')!r}, "mobilenet", weights=None, alpha=0.25, input_size=32)
        print("ready", flush=True)
        cache.extract({[str(p) for p in many]!r}, batch_size=8, progress=lambda d, t, p: print("stored", d, flush=True))""")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    stored = 0
    for line in child.stdout:
        if line.startswith("stored"): stored = int(line.split()[1])
        if stored >= 3: break
    child.send_signal(signal.SIGKILL); child.wait(); child.stdout.close()
    keras.utils.set_random_seed(0)                           # same random weights -> same cache key
    cache = cg.FeatureCache(tmp_path/"cache", "mobilenet", weights=None, alpha=0.25, input_size=32)
    problems = {p: cache.problem(p) for p in many}
    sound = [p for p, why in problems.items() if why is None]
    assert len(sound) >= 3 and len(sound) < len(many)
    for p in sound: assert len(cache.load(p, verify=False)) == video_info(p)["frames"]
    report = cache.extract(many)
    assert report["reused"] == len(sound) and report["stored"] == len(many) - len(sound) and not report["failed"]
    assert all(cache.problem(p) is None for p in many)


@pytest.mark.skipif(not (MOBILENET.exists() and MINI.is_dir()), reason="../shared (ImageNet MobileNet weights, ucf101_mini) not present")
def test_real_clips_cache_and_stream(tmp_path):
    clips = sorted((MINI/"Archery").glob("*.avi"))[:2]
    cache = cg.FeatureCache(tmp_path/"cache", "mobilenet", weights=MOBILENET, alpha=0.25, input_size=128)
    assert cache.extract(clips)["stored"] == 2
    features = cache.load(clips[0])
    assert features.dtype == np.float16 and features.shape[1] == 256
    assert abs(len(features) - video_info(clips[0])["frames"]) <= 3
    model = cg.convgru_model(6, backbone=cache.model, variant="fixed", compile=False)
    head_on_cache = cg.predict_cached(model, cache, clips[:1])[0]
    streamed = cg.StreamingClassifier(model, chunk=32).classify(clips[0])
    assert streamed.shape == head_on_cache.shape
    assert np.abs(streamed - head_on_cache).max() < 2e-2     # float16 cache vs float32 frames


def test_cache_hashes_an_entry_once_until_it_changes(model, videos, tmp_path, monkeypatch):
    "problem() trusts a checksum it verified while the file is untouched, and checks again after any write"
    folder, paths = videos
    cache = cg.FeatureCache(tmp_path, "mobilenet", weights=None, alpha=0.25, input_size=32, model=model.get_layer("frame_features").layer)
    cache.extract(paths[:1])
    hashed = []
    real = vf.hashlib.sha256
    def counting(data=b"", **kw):
        if len(data) > 1000: hashed.append(len(data))   # feature payloads, not path names
        return real(data, **kw)
    monkeypatch.setattr(vf.hashlib, "sha256", counting)
    assert cache.problem(paths[0]) is None and cache.problem(paths[0]) is None
    assert len(hashed) <= 1                              # at most the first check hashes
    npy = cache.entry(paths[0]); data = bytearray(npy.read_bytes()); data[-3] ^= 0xFF
    stat = npy.stat(); npy.write_bytes(bytes(data)); os.utime(npy, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime
    assert cache.problem(paths[0]) == "checksum mismatch (damaged file)"


def test_cache_sees_new_content_when_size_and_mtime_are_restored(tmp_path):
    "A video rewritten in place with other frames of the same byte count, its mtime set back: recomputed, not reused"
    a, b = (write_video(tmp_path/f"{n}.avi", moving_disc(14, seed=s)).read_bytes() for n, s in (("a", 1), ("b", 2)))
    a, b = a + bytes(max(0, len(b) - len(a))), b + bytes(max(0, len(a) - len(b)))   # same size (AVI readers ignore the tail)
    video = tmp_path/"clip.avi"; video.write_bytes(a)
    pixels = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.AveragePooling2D(8), keras.layers.Flatten()])  # features that differ
    cache = cg.FeatureCache(tmp_path/"cache", "mobilenet", weights=None, alpha=0.25, input_size=32, model=pixels)
    first = np.array(cache.load(video))
    stat = video.stat()
    with open(video, "r+b") as f: f.write(b)                     # same inode, same size
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns))     # the old modification time
    assert cache.problem(video) == "the video changed since (same size and mtime)"
    with pytest.warns(UserWarning, match="recomputing"): second = np.array(cache.load(video))
    assert np.abs(second - first).max() > 1e-2 and cache.problem(video) is None
    reference = cg.FeatureCache(tmp_path/"fresh", "mobilenet", weights=None, alpha=0.25, input_size=32, model=cache.model)
    assert np.array_equal(second, reference.load(tmp_path/"b.avi")[: len(second)])
    video.chmod(0o644); hashed = cache.entry(video).with_suffix(".json").read_text()   # a new change time, the same bytes:
    assert cache.problem(video) is None and cache.entry(video).with_suffix(".json").read_text() != hashed   # reused, stamp kept
