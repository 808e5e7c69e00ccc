"Tests of vidnb.temporal that do not fit the notebook: real UCF-101 clips, saved models, failures, the benchmark script"
import subprocess, sys
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from vidnb.datasets import make_synthetic, synthetic_splits, ucf101_splits, read_video, video_info, ClipAugment, VideoError
from vidnb.temporal import (PAD_VALUE, frames_to_features, rnn_classifier, rnn_dataset, video_dataset, classify_video,
                            per_frame_model, check_batch, fit_rnn, predict_videos, reverse_videos, rnn_parameter_count,
                            source_size)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/"shared"
HAVE_MINI = (SHARED/"ucf101_mini").is_dir() and (SHARED/"ucfTrainTestlist"/"classInd.txt").exists()
needs_mini = pytest.mark.skipif(not HAVE_MINI, reason="../shared/ucf101_mini (real UCF-101 clips) is not beside the project")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return synthetic_splits(make_synthetic(tmp_path_factory.mktemp("synthetic"), size="tiny"))


@pytest.fixture(scope="module")
def mini():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the listed clips that are not in the mini folder
        return ucf101_splits(SHARED/"ucfTrainTestlist", root=SHARED/"ucf101_mini")


@needs_mini
def test_real_clip_any_length(mini):
    "A real 320x240 UCF-101 clip, whole and cut, goes through a model trained on nothing but its shape"
    video = mini.train[0]
    path = mini.root/video.path
    info = video_info(path)
    assert (info["height"], info["width"]) == (240, 320)
    frames = read_video(path)
    features = frames_to_features(frames).numpy()
    assert features.shape == (len(frames), 7500) and 0 <= features.min() and features.max() <= 1
    model = rnn_classifier(len(mini.classes), "gru", units=16)
    whole = classify_video(model, path)
    assert whole.shape == (6,) and abs(whole.sum() - 1) < 1e-4
    np.testing.assert_allclose(whole, classify_video(model, frames), atol=1e-5)   # file and decoded frames agree
    assert classify_video(model, frames[:7]).shape == (6,)


@needs_mini
def test_real_training_batches(mini):
    "Windows of 100 frames from real clips (repeated or cut per Fig. 5.2), augmented at 100x100, then 50x50 vectors"
    assert source_size(mini.train, mini.root) == (240, 320)
    ds = rnn_dataset(mini.train[:8], mini.root, length=100, decode_size=(100, 100), batch_size=4, augment=ClipAugment(seed=0))
    x, y = next(iter(ds))
    assert x.shape == (4, 100, 7500) and y.shape == (4,)
    assert float(np.min(x)) >= 0
    x, y = next(iter(video_dataset(mini.train[:2], mini.root, decode_size=(100, 100), max_frames=60, batch_size=2)))
    assert x.shape[0] == 2 and x.shape[1] <= 60


def test_trained_per_frame_model_round_trip(tiny, tmp_path):
    "A trained per-frame LSTM saves to .keras, loads with safe_mode=True and predicts identically; only built-in layers"
    model = rnn_classifier(8, "lstm", units=8, per_frame=True)
    train = rnn_dataset(tiny.train[:16], tiny.root, length=10, batch_size=8, per_frame=True)
    fit_rnn(model, train, epochs=1, verbose=0)
    assert all(type(layer).__module__.startswith("keras.") for layer in model.layers)
    model.save(tmp_path/"lstm.keras")
    loaded = keras.models.load_model(tmp_path/"lstm.keras", safe_mode=True)
    x = next(iter(video_dataset(tiny.test[:3], tiny.root, batch_size=3)))[0]
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


def test_per_frame_twin_matches_per_video_model(tiny):
    "The per-frame twin of a per-video LSTM gives, at each video's last real frame, the per-video answer"
    model = rnn_classifier(8, "lstm", units=8)
    ds = video_dataset(tiny.test[:4], tiny.root, batch_size=4)
    y_video, p_video = predict_videos(model, ds)
    y_frames, p_frames = predict_videos(per_frame_model(model), ds)
    lengths = [video_info(tiny.root/v.path)["frames"] for v in tiny.test[:4]]
    assert len(y_frames) == sum(lengths)                            # padded steps are left out
    last = np.cumsum(lengths) - 1
    np.testing.assert_allclose(p_frames[last], p_video, atol=1e-5)
    np.testing.assert_array_equal(y_frames[last], y_video)


def test_reverse_videos_keeps_padding_at_the_end(tiny):
    x, _ = next(iter(video_dataset(tiny.test[:3], tiny.root, batch_size=3)))
    back, _ = next(iter(reverse_videos(video_dataset(tiny.test[:3], tiny.root, batch_size=3))))
    x, back = x.numpy(), back.numpy()
    for i in range(3):
        n = int((x[i].max(-1) > PAD_VALUE).sum())
        np.testing.assert_array_equal(back[i, :n], x[i, :n][::-1])
        assert (back[i, n:] == PAD_VALUE).all()


def test_bad_inputs(tiny, tmp_path):
    model = rnn_classifier(8, "gru", units=8, frame_size=32)
    with pytest.raises(ValueError, match=r"reads 3072 values per frame \(32x32x3 for frame_size=32\), got 7500 \(frames of 50x50x3\?\)"):
        classify_video(model, np.zeros((5, 7500), np.float32), frame_size=32)
    assert classify_video(model, np.zeros((5, 80, 60, 3), np.uint8), frame_size=32).shape == (8,)
    broken = tmp_path/"broken.avi"
    broken.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError, match="broken.avi"):
        classify_video(model, broken)
    per_video = rnn_classifier(8, "gru", units=8)
    per_frame_data = rnn_dataset(tiny.train[:8], tiny.root, length=6, batch_size=4, per_frame=True)
    with pytest.raises(ValueError, match="one label per video"):
        fit_rnn(per_video, per_frame_data, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="empty sequence"):
        check_batch(per_video, np.zeros((2, 0, 7500), np.float32), np.array([0, 1]))
    with pytest.raises(ValueError, match="labels must lie in 0..7"):
        check_batch(per_video, np.zeros((2, 3, 7500), np.float32), np.array([-1, 1]))
    with pytest.raises(ValueError, match="cell must be one of"):
        rnn_classifier(8, "GRU-ish")


def test_parameter_counts_against_keras_for_other_sizes():
    for cell in ("gru", "lstm"):
        for d, units, classes in ((75, 6, 3), (300, 17, 5)):
            model = rnn_classifier(classes, cell, units, frame_size=int(np.sqrt(d / 3)))
            assert model.count_params() == rnn_parameter_count(d, units, classes, cell)


def test_benchmark_script_runs():
    "Smoke run of benchmarks/temporal_benchmark.py at toy sizes (it is a measurement, not a timed test)"
    out = subprocess.run([sys.executable, str(ROOT/"benchmarks"/"temporal_benchmark.py"), "--rounds", "1", "--frames", "40",
                          "--units", "8", "--batch", "4", "--length", "10", "--size", "tiny"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    for text in ("sequences/s", "ms/frame", "GRU/LSTM throughput ratio", "LSTM/GRU time ratio"):
        assert text in out.stdout
