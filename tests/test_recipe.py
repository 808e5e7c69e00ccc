"The ConvGRU recipe for own videos: mirrored cache views, segment sampling, standardisation from training videos only"
import json, os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras

from vidnb import convgru as cg
from vidnb.datasets import Video, write_video, read_video
from vidnb.experiments import settings_for

POOL = lambda: keras.Sequential([keras.Input((32, 32, 3)), keras.layers.AveragePooling2D(8), keras.layers.Flatten()])  # 48-d, exact


def clip(path, n, seed):
    "A clip whose left and right halves differ, so that its mirror image has other features"
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 60, (n, 32, 32, 3), dtype=np.uint8)
    frames[:, :, :12] += np.uint8(150 + seed)
    return write_video(path, frames)


@pytest.fixture()
def videos(tmp_path):
    return [Video(str(clip(tmp_path/f"c{i}.avi", 10 + 3 * i, i)), i % 2, f"g{i}") for i in range(4)]


def test_mirrored_view_is_a_cache_entry_like_any_other(videos, tmp_path):
    "Its own key; features of the mirrored frames; reused when sound, recomputed when damaged or when the video changes"
    model = POOL()
    plain = cg.FeatureCache(tmp_path/"cache", "mobilenet", None, 0.25, 32, model=model)
    mirrored = cg.FeatureCache(tmp_path/"cache", "mobilenet", None, 0.25, 32, model=model, mirror=True)
    assert mirrored.key != plain.key and mirrored.directory != plain.directory
    assert cg.FeatureCache(tmp_path/"cache", "mobilenet", None, 0.25, 32, model=model).key == plain.key   # old keys unchanged
    assert mirrored.extract(videos)["stored"] == 4
    frames = read_video(videos[1].path, 32)
    expected = np.asarray(model(frames[:, :, ::-1].astype("float32")))
    np.testing.assert_allclose(np.asarray(mirrored.load(videos[1].path), np.float32), expected, rtol=2e-3, atol=1e-2)   # float16
    assert np.abs(expected - np.asarray(model(frames.astype("float32")))).max() > 1    # the mirror image differs
    again = cg.FeatureCache(tmp_path/"cache", "mobilenet", None, 0.25, 32, model=model, mirror=True)
    assert again.extract(videos) | {"failed": {}} == dict(stored=0, reused=4, recomputed=0, failed={})
    npy = again.entry(videos[0].path); data = bytearray(npy.read_bytes()); data[-2] ^= 0xFF; npy.write_bytes(bytes(data))
    clip(Path(videos[2].path), 16, 7)                              # a video rewritten with other frames
    with pytest.warns(UserWarning, match="recomputing"): report = again.extract(videos)
    assert (report["stored"], report["recomputed"]) == (2, 2)
    assert np.asarray(again.load(videos[2].path)).shape == (16, 48)


def test_segments_cover_the_whole_video_in_order(videos, tmp_path):
    "Training sequences of `sampling='segments'`: one frame from each of `length` parts, any view"
    cache = cg.FeatureCache(tmp_path/"c", "mobilenet", None, 0.25, 32, model=POOL())
    long = Video(str(clip(tmp_path/"long.avi", 60, 3)), 0, "g9")
    ds = cg.cached_sequences(cache, [long], length=6, batch_size=1, shuffle=False, sampling="segments")
    x, y = next(iter(ds))
    features = np.asarray(cache.load(long.path), np.float32)
    np.testing.assert_allclose(x[0].numpy(), features[[5, 15, 25, 35, 45, 55]], rtol=0)   # the middle of each sixth
    with pytest.raises(ValueError, match="sampling must be one of"): cg.cached_sequences(cache, [long], sampling="random")


def test_standardisation_comes_from_the_training_videos_only(videos, tmp_path):
    "The head's feature_norm holds the mean and variance of the training videos' cached features (both views), nothing else"
    keras.utils.set_random_seed(0)
    backbone = POOL()
    net = cg.convgru_model(2, backbone, variant="fixed", units=8, compile=False)
    s = dict(units=8, optimizer="adam", learning_rate=1e-3, augment=False, mirror=True, standardize=True, backbone="mobilenet",
             weights=None, alpha=0.25, input_size=32, length=4, seed=0, sampling="segments", join=0.0)
    train, others = videos[:2], videos[2:]
    head, make_train, make_stop = cg.CONVGRU.trainer(net, s, "fixed", None, tmp_path/"cache", train)
    views = [cg.FeatureCache(tmp_path/"cache", "mobilenet", None, 0.25, 32, model=backbone, mirror=m) for m in (False, True)]
    seen = np.concatenate([np.asarray(v.load(p.path), np.float64) for v in views for p in train])
    layer = net.get_layer("feature_norm")                           # the saved model shares the head's layer
    np.testing.assert_allclose(np.asarray(layer.mean).ravel(), seen.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(layer.variance).ravel(), np.maximum(seen.var(0), 1e-4), rtol=1e-3, atol=1e-4)
    everything = np.concatenate([np.asarray(v.load(p.path), np.float64) for v in views for p in videos])
    assert np.abs(everything.mean(0) - seen.mean(0)).max() > 1     # other videos would have given other statistics
    x, _ = next(iter(make_train(train, 2)))
    assert x.shape == (2, 4, 48)
    standardized = (x.numpy() - seen.mean(0)) / np.sqrt(np.maximum(seen.var(0), 1e-4))
    probe = cg.gru_head(2, 48, 8, layers=(keras.layers.Identity(), *cg.head_layers(head)[1:]))   # the same layers, no standardisation
    np.testing.assert_allclose(head(x), probe(standardized.astype("float32")), atol=1e-5)   # the trained head standardises
    net.save(tmp_path/"m.keras"); loaded = keras.saving.load_model(tmp_path/"m.keras", safe_mode=True)
    frames = read_video(others[0].path, 32)[None].astype("float32")
    np.testing.assert_allclose(loaded(frames), net(frames), atol=1e-5)                     # and so does the saved model
    with pytest.raises(ValueError, match="needs the training videos"): cg.CONVGRU.trainer(net, s, "fixed", None, tmp_path/"cache")


def test_recipe_settings_are_checked():
    "The recipe's options apply to cached features: with the thesis' per-clip augmentation they are refused in one line"
    r = settings_for("convgru-fixed", "recipe")
    assert (r["backbone"], r["alpha"], r["input_size"], r["mirror"], r["standardize"], r["sampling"]) == ("mobilenet", 0.25, 224, True, True, "segments")
    assert settings_for("convgru-finetuned", "recipe")["pretrain_epochs"] == r["epochs"]
    with pytest.raises(ValueError, match="set augment=false"): settings_for("convgru-fixed", mirror=True)
    with pytest.raises(ValueError, match="dropout must be"): settings_for("convgru-fixed", "recipe", dropout=1.5)
    with pytest.raises(ValueError, match="sampling must be one of"): settings_for("convgru-fixed", "recipe", sampling="every")


def test_recipe_trains_on_every_training_group(tmp_path):
    "The recipe preset holds no group out for early stopping (on a few hundred videos that costs more than it saves)"
    from vidnb.cli import run_options, setup_run
    from vidnb.datasets import make_synthetic
    from vidnb.experiments import experiment_data, train
    root = make_synthetic(tmp_path/"syn", size="tiny")
    run = setup_run(["convgru-fixed"], run_options(data=str(root)), preset="recipe")
    assert run.data.stop == [] and run.data_args["val_frac"] == 0
    assert len(setup_run(["convgru-fixed"], run_options(data=str(root), preset="thesis"), preset="recipe").data.stop) > 0
    assert len(setup_run(["convgru-fixed"], run_options(data=str(root), val_frac=0.2), preset="recipe").data.stop) > 0
    assert len(setup_run(["gru"], run_options(data=str(root)), preset="recipe").data.stop) > 0   # no recipe of its own: early stopping kept
    data = experiment_data(root, val_frac=0)
    m = train("gru", tmp_path/"run", data, settings_for("gru", "quick", epochs=2, units=8, frame_size=8, length=8, batch_size=16), log=None)
    history = json.loads((tmp_path/"run"/"history.json").read_text())["gru"]
    assert m["epochs"] == {"gru": 2} and "val_loss" not in history
