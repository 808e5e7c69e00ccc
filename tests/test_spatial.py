"""The spatial CNN outside the notebook: saving and loading, weights files and their errors, training regimes on the
synthetic data, video-level evaluation, Grad-CAM on InceptionV3, and (VIDNB_SLOW=1) transfer learning on real UCF-101 clips"""
import os
from pathlib import Path
from unittest import mock
import numpy as np, pytest, keras
from conftest import SHARED
from vidnb.spatial import *

WEIGHTS = bundled_weights()   # Keras' MobileNet-0.25 ImageNet file, shipped inside vidnb: no skip without ../shared
MINI = SHARED/"ucf101_mini"
needs_mini = pytest.mark.skipif(not MINI.is_dir(), reason="../shared/ucf101_mini is not here")
slow = pytest.mark.skipif(not os.environ.get("VIDNB_SLOW"), reason="slow: set VIDNB_SLOW=1 (the notebook's slow cells run the full version)")
frames64 = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)

def test_saved_models_load_in_safe_mode(tmp_path):
    "Preprocessing is made of layers (a registered one for caffe), so .keras files load with safe_mode=True"
    net = backbone("mobilenet", weights=None, alpha=0.25, input_size=64)
    net.save(tmp_path/"mobilenet.keras")
    again = keras.models.load_model(tmp_path/"mobilenet.keras", safe_mode=True)
    np.testing.assert_allclose(again.predict(frames64, verbose=0), net.predict(frames64, verbose=0), rtol=1e-5, atol=1e-5)
    caffe = keras.Sequential([keras.Input((8, 8, 3)), CaffePreprocess(), keras.layers.GlobalAveragePooling2D()])   # ResNet50's scaling
    caffe.save(tmp_path/"caffe.keras")
    again = keras.models.load_model(tmp_path/"caffe.keras", safe_mode=True)
    x = frames64[:, :8, :8].astype("float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), keras.applications.resnet50.preprocess_input(x.copy()).mean((1, 2)), rtol=1e-4, atol=1e-3)
    clf = frame_classifier(3, "mobilenet", weights=None, alpha=0.25, input_size=64, regime="pretrained", hidden=8)
    clf.save(tmp_path/"clf.keras")
    again = keras.models.load_model(tmp_path/"clf.keras", safe_mode=True)
    np.testing.assert_allclose(again.predict(frames64, verbose=0), clf.predict(frames64, verbose=0), rtol=1e-5, atol=1e-6)

def test_local_weights_are_keras_own_weights():
    "A weights path gives exactly what keras.applications gives with the same file"
    ours = backbone("mobilenet", weights=WEIGHTS, alpha=0.25)
    theirs = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=str(WEIGHTS), input_shape=(224, 224, 3), pooling="avg")
    x = np.random.default_rng(1).integers(0, 256, (2, 224, 224, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0),
                               theirs.predict(keras.applications.mobilenet.preprocess_input(x.copy()), verbose=0), rtol=1e-4, atol=1e-5)

def test_weights_of_the_wrong_architecture_name_the_file():
    for name, kwargs in [("mobilenetv2", dict(alpha=0.35)), ("resnet50", {}), ("mobilenet", dict(alpha=1.0))]:
        with pytest.raises(ValueError, match="mobilenet_2_5_224_tf_no_top.h5: these weights do not fit"):
            backbone(name, weights=WEIGHTS, input_size=96, **kwargs)

def test_weights_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.h5: weights file not found"): backbone("mobilenet", weights=tmp_path/"missing.h5")
    (tmp_path/"notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="notes.txt: expected a Keras weights file"):
        backbone("mobilenet", weights=tmp_path/"notes.txt", alpha=0.25, input_size=64)
    (tmp_path/"broken.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match="broken.h5: these weights do not fit"):
        backbone("mobilenet", weights=tmp_path/"broken.h5", alpha=0.25, input_size=64)
    with pytest.raises(ValueError, match="weights must be 'imagenet', a file path or None"): backbone("mobilenet", weights=3)

def test_imagenet_offline_is_an_error_never_random_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))         # no cached file
    offline = Exception("URL fetch failure on https://storage.googleapis.com/x.h5: [Errno -2] Name or service not known")
    with mock.patch("keras.src.utils.file_utils.get_file", side_effect=offline):
        for call in [lambda: backbone("inceptionv3"), lambda: frame_classifier(5, "mobilenet", alpha=0.5, input_size=64, regime="pretrained"),
                     lambda: frame_classifier(5, "mobilenet", alpha=0.25, input_size=128, regime="finetuned")]:   # Keras' 128 file: not bundled
            with pytest.raises(WeightsUnavailableError, match="pass its local path"): call()
    assert keras.config.dtype_policy().name == "float32"
    assert not any((tmp_path/"models").glob("*"))

def test_bundled_weights_offline_are_keras_imagenet_weights(tmp_path, monkeypatch):
    "MobileNet-0.25 with weights='imagenet' needs no network and no $KERAS_HOME: the bundled file, as Keras would load it"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with mock.patch("keras.src.utils.file_utils.get_file", side_effect=Exception("URL fetch failure: no network")) as download:
        for size in (32, 96, (112, 80), 224):
            net = backbone("mobilenet", weights="imagenet", alpha=0.25, input_size=size)
            theirs = backbone("mobilenet", weights=WEIGHTS, alpha=0.25, input_size=size)
            x = np.random.default_rng(2).integers(0, 256, (2, *net.input_shape[1:]), dtype=np.uint8)
            np.testing.assert_allclose(net.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
            assert base_network(net).name == "mobilenet_0.25_224"
        assert frame_classifier(5, "mobilenet", alpha=0.25, input_size=64, regime="pretrained").count_params() > 0
    assert not download.called and not any(tmp_path.glob("**/*.h5"))
    assert mobilenet_weights_file(0.25, 224) == WEIGHTS and bundled_imagenet("mobilenet", 0.25, 160) is None

def test_tampered_bundled_weights_are_refused_in_one_line(tmp_path):
    "One changed byte in the installed file: a ValueError naming the file, on one line; never random or damaged weights"
    data = bytearray(WEIGHTS.read_bytes()); data[len(data) // 2] ^= 0x01
    bad = tmp_path/"mobilenet_2_5_224_tf_no_top.h5"; bad.write_bytes(bytes(data))
    with mock.patch("vidnb.spatial.BUNDLED_WEIGHTS", bad):
        for call in [lambda: backbone("mobilenet", alpha=0.25, input_size=64), lambda: mobilenet_weights_file(0.25, 224),
                     lambda: frame_classifier(3, "mobilenet", alpha=0.25, input_size=64, regime="finetuned")]:
            with pytest.raises(ValueError) as e: call()
            assert str(e.value).startswith(f"{bad}: sha256 ") and "\n" not in str(e.value), str(e.value)
    bad.unlink()
    with mock.patch("vidnb.spatial.BUNDLED_WEIGHTS", bad), pytest.raises(FileNotFoundError, match="bundled MobileNet weights are missing"):
        backbone("mobilenet", alpha=0.25, input_size=64)

def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown backbone 'vgg19'"): backbone("vgg19")
    with pytest.raises(ValueError, match="at least 2 classes"): frame_classifier(1, weights=None)
    with pytest.raises(ValueError, match="mixed_precision must be"): backbone("mobilenet", weights=None, mixed_precision="fp8")
    clf = frame_classifier(3, "mobilenet", weights=None, alpha=0.25, input_size=64, regime="pretrained", hidden=8)
    with pytest.raises(ValueError, match=r"do not fit model .* \[batch, 64, 64, 3\]"): classify_frames(clf, np.zeros((2, 64, 48, 3)))
    with pytest.raises(ValueError, match="no layer named 'block99'"): gradcam_heatmap(clf, frames64[0], 0, layer="block99")
    with pytest.raises(ValueError, match="out of range"): gradcam_heatmap(clf, frames64[0], 7)
    with pytest.raises(ValueError, match="empty prediction set"): predict_frames(clf, [])

def test_gradcam_on_inceptionv3_mixed10_nested():
    "The issue's API on the default backbone: mixed10 inside the backbone inside the classifier"
    clf = frame_classifier(5, "inceptionv3", weights=None, regime="pretrained", input_size=139, hidden=0)
    frame = np.random.default_rng(2).integers(0, 256, (139, 139, 3), dtype=np.uint8)
    maps = [gradcam_heatmap(clf, frame, c, layer="mixed10") for c in range(3)]
    assert maps[0].shape == (3, 3) and all(0 <= m.min() and m.max() <= 1 for m in maps)
    assert not np.allclose(maps[0], maps[1]) or not np.allclose(maps[0], maps[2])
    np.testing.assert_allclose(gradcam_heatmap(clf, frame, 0), maps[0])      # default layer: mixed10

def test_gradcam_with_mixed_precision_backbone():
    clf = frame_classifier(3, "mobilenet", weights=None, alpha=0.25, input_size=96, regime="pretrained", hidden=8, mixed_precision=True)
    heat = gradcam_heatmap(clf, np.random.default_rng(3).integers(0, 256, (96, 96, 3), dtype=np.uint8), 1)
    assert heat.shape == (3, 3) and heat.dtype == np.float32 and 0 <= heat.min() <= heat.max() <= 1

def test_regimes_train_and_evaluate_on_synthetic(synthetic_tiny):
    "finetuned runs both phases with early stopping; per-frame and per-video evaluation count what they should"
    from vidnb.datasets import synthetic_splits, frame_dataset, video_info
    syn = synthetic_splits(synthetic_tiny)
    train = frame_dataset(syn.train[::8], syn.root, size=(48, 48), stride=10, batch_size=32, shuffle=True)
    val = frame_dataset(syn.val[::2], syn.root, size=(48, 48), stride=10, batch_size=32)
    w = WEIGHTS if WEIGHTS.exists() else None
    model, hist = train_regime("finetuned", len(syn.classes), train, val, epochs=2, pretrain_epochs=1, patience=1,
                               backbone="mobilenet", alpha=0.25, input_size=48, hidden=16, weights=w)
    assert list(hist) == ["pretrained", "finetuned"] and len(hist["pretrained"].history["val_loss"]) == 1
    assert type(model.optimizer).__name__ == "SGD"
    videos = syn.test[:5]
    r = evaluate_videos(model, videos, syn.root, syn.classes, stride=10, k=5)
    expected_frames = sum(len(range(0, video_info(syn.root/v.path)["frames"], 10)) for v in videos)
    assert r["frame"]["n"] == expected_frames and r["video"]["n"] == 5
    assert list(r["video_ids"]) == [0, 1, 2, 3, 4]

def test_early_stopping_keeps_the_best_epoch():
    "fit_frames stops once validation loss stops improving and restores the best weights"
    x = np.random.default_rng(4).integers(0, 256, (32, 32, 32, 3), dtype=np.uint8); y = np.arange(32) % 2
    import tensorflow as tf
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    val = tf.data.Dataset.from_tensor_slices((x[::-1], 1 - y)).batch(16)      # opposite labels: val loss rises as it fits
    clf = frame_classifier(2, "mobilenet", weights=None, alpha=0.25, input_size=32, regime="pretrained", hidden=32, learning_rate=1e-2)
    h = fit_frames(clf, train, val, epochs=30, patience=1)
    assert len(h.history["val_loss"]) < 30
    best = int(np.argmin(h.history["val_loss"]))
    assert clf.evaluate(val, verbose=0)[0] == pytest.approx(h.history["val_loss"][best], rel=1e-3)

@slow
@needs_mini
def test_transfer_learning_on_real_clips():
    "ImageNet features beat random ones by far on real UCF-101 clips of unseen groups (per-video top-1)"
    from vidnb.datasets import folder_splits, ucf_group, frame_dataset
    mini = folder_splits(MINI, group_rule=ucf_group, val_frac=0.15, test_frac=0.25, seed=0)
    train = frame_dataset(mini.train, MINI, size=(160, 160), stride=20, batch_size=256).unbatch().cache().shuffle(5000, seed=0).batch(32)
    val = frame_dataset(mini.val, MINI, size=(160, 160), stride=20, batch_size=64).cache()
    top1 = {}
    for label, w in [("imagenet", WEIGHTS), ("random", None)]:
        keras.utils.set_random_seed(0)
        m, _ = train_regime("pretrained", 6, train, val, epochs=6, patience=2, backbone="mobilenet", alpha=0.25,
                            input_size=160, hidden=64, weights=w)
        top1[label] = evaluate_videos(m, mini.test, MINI, mini.classes, stride=10)["video"]["top1"]
    print(top1)
    assert top1["imagenet"] > 0.6 and top1["imagenet"] > top1["random"] + 0.2

def test_scratch_batchnorm_momentum_is_saved(tmp_path):
    "scratch uses BatchNorm momentum 0.9 (Keras' 0.99 lags behind weights trained from random), and it survives saving"
    clf = frame_classifier(2, "mobilenet", weights=None, alpha=0.25, input_size=32, hidden=0, regime="scratch")
    clf.save(tmp_path/"s.keras")
    again = keras.models.load_model(tmp_path/"s.keras", safe_mode=True)
    assert {l.momentum for l in base_network(again).layers if isinstance(l, keras.layers.BatchNormalization)} == {0.9}
    frozen = frame_classifier(2, "mobilenet", weights=None, alpha=0.25, input_size=32, hidden=0, regime="pretrained")
    assert {l.momentum for l in base_network(frozen).layers if isinstance(l, keras.layers.BatchNormalization)} == {0.99}
