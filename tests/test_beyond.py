"Tests of vidnb.beyond (thesis 7.2, tried): every head streams as its full model, at any length, causally and masked; TFLite (the LSTM here; the other heads in their chapter and test_convgru); the order test"
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras

from vidnb import convgru as cg
from vidnb.beyond import HEADS, CausalAttention, CausalTCN, RunningMean

D, C = 16, 5   # feature width, classes of the small heads


def small_head(name, masked=False, per_frame=True, seed=0):
    "A head on random D-d features, units 8, with non-trivial standardisation and BatchNormalization statistics"
    keras.utils.set_random_seed(seed)
    head = cg.gru_head(C, D, units=8, temporal=name, masked=masked, per_frame=per_frame)
    rng = np.random.default_rng(seed)
    norm = head.get_layer("step_norm")
    width = norm.moving_mean.shape[0]                  # the running mean keeps the feature width
    norm.moving_mean.assign(rng.normal(0, 0.3, width).astype("float32"))
    norm.moving_variance.assign(rng.uniform(0.5, 2, width).astype("float32"))
    standardize = head.get_layer("feature_norm")
    standardize.set_weights([rng.normal(0, 1, D).astype("float32"), rng.uniform(0.5, 2, D).astype("float32"), np.array(100)])
    standardize.finalize_state()
    return head


@pytest.fixture(scope="module")
def heads():
    return {name: small_head(name) for name in HEADS}


def features(T, seed=0): return np.random.default_rng(seed).normal(0, 1, (T, D)).astype("float32")


def test_heads_are_registered():
    "Every head of the comparison is a `temporal` setting; the GRU is chapter 6's"
    assert set(HEADS) <= set(cg.TEMPORAL_LAYERS) and HEADS[0] == "gru"


@pytest.mark.parametrize("name", HEADS)
def test_streaming_equals_full_model(heads, name):
    "Frame-by-frame streaming (any chunk) equals the full-sequence head at lengths 1, 7 and 300 (past the attention window)"
    head, x = heads[name], features(300)
    full = np.asarray(head(x[None]))[0]
    for chunk in (1, 7):
        streamer = cg.StreamingClassifier(head, chunk=chunk)
        for T in (1, 7, 300):
            assert np.abs(streamer.classify(x[:T]) - full[:T]).max() < 1e-5, (chunk, T)


@pytest.mark.parametrize("layer", [CausalAttention(8, heads=2, window=5, blocks=2), CausalTCN(8, kernel_size=2, dilations=(1, 3)),
                                   RunningMean()], ids=["attention-window5-blocks2", "tcn", "pooling"])
def test_step_loop_equals_call(layer):
    "The layer's own `step`, looped from zero states, equals its `call` on the whole sequence (windows shorter than the video)"
    keras.utils.set_random_seed(0)
    x = features(23)[None]
    full = np.asarray(layer(x))[0]
    states = [np.zeros((1, n), "float32") for n in np.atleast_1d(layer.state_size)]
    for t in range(len(x[0])):
        out, states = layer.step(x[:, t], states)
        assert np.abs(np.asarray(out)[0] - full[t]).max() < 1e-5, t


@pytest.mark.parametrize("name", HEADS)
def test_any_length(heads, name):
    "One head classifies videos of 1, 50 and 600 frames; its per-video model gives the last frame's probabilities"
    head, video = heads[name], cg.per_video(heads[name])
    for T in (1, 50, 600):
        x = features(T, seed=T)[None]
        probs = np.asarray(head(x))
        assert probs.shape == (1, T, C) and np.isfinite(probs).all()
        if T < 600: assert np.abs(np.asarray(video(x))[0] - probs[0, -1]).max() < 1e-6


@pytest.mark.parametrize("name", HEADS)
def test_masked_batch_equals_each_video_alone(name):
    "In a padded batch (lengths 5 and 12) each video's real frames get its own outputs, whatever the padding holds"
    head = small_head(name, masked=True)
    videos = [features(5, seed=1), features(12, seed=2)]
    alone = [np.asarray(head({"features": v[None], "mask": np.ones((1, len(v)), bool)}))[0] for v in videos]
    mask = np.array([[t < len(v) for t in range(12)] for v in videos])
    for fill in (0.0, 1e6):
        x = np.full((2, 12, D), fill, "float32")
        for k, v in enumerate(videos): x[k, :len(v)] = v
        out = np.asarray(head({"features": x, "mask": mask}))
        for k, v in enumerate(videos): assert np.abs(out[k, :len(v)] - alone[k]).max() < 1e-5, (fill, k)


@pytest.mark.parametrize("name", HEADS)
def test_causal(heads, name):
    "Changing the frames after t leaves every output up to t as it was"
    head, x = heads[name], features(40)
    t, changed = 17, x.copy()
    changed[t + 1:] = features(40 - t - 1, seed=9) * 10
    a, b = np.asarray(head(x[None]))[0], np.asarray(head(changed[None]))[0]
    assert np.abs(a[:t + 1] - b[:t + 1]).max() < 1e-6 and np.abs(a[t + 1:] - b[t + 1:]).max() > 1e-4


def test_receptive_fields():
    "Attention (1 block) does not see a frame `window` frames back, but sees `window - 1`; the TCN ends at its receptive field"
    keras.utils.set_random_seed(0)
    for layer, reach in ((CausalAttention(8, heads=2, window=5), 5), (CausalTCN(8, kernel_size=2, dilations=(1, 2)), 4)):
        assert reach == (layer.window if isinstance(layer, CausalAttention) else layer.receptive_field)
        x = features(20)[None]
        changed = x.copy(); changed[0, 3] += 5      # frame 3: seen at 3 .. 3 + reach - 1, not after
        a, b = np.asarray(layer(x))[0], np.asarray(layer(changed))[0]
        differs = np.abs(a - b).max(axis=1) > 1e-6
        assert differs[3:3 + reach].all() and not differs[:3].any() and not differs[3 + reach:].any(), (layer.name, differs)


def test_tcn_is_depthwise_separable():
    "A wide TCN block is one filter over time per channel and a channel mix: about a GRU's weights, not a full convolution's 3 u^2"
    units, width = 512, 256
    tcn, gru = CausalTCN(units), keras.layers.GRU(units)
    tcn.build((None, None, width)); gru.build((None, None, width))
    per_block = (3 * units + units) + (units * units + units)       # depthwise kernel and bias, then the mix
    assert tcn.count_params() == width * units + units + 4 * per_block == 1_190_400
    assert tcn.count_params() < 1.01 * gru.count_params()           # a full Conv1D block has 3 x 512 x 512 weights: 3x as many


@pytest.mark.parametrize("name", ["lstm"])   # the GRU's: tests/test_convgru.py; attention, tcn, pooling: the chapter's own cell
def test_tflite_and_keras_file(name, tmp_path):
    "A ConvGRU with each head: its TFLite step equals Keras streaming, and a `.keras` file reloads (safe mode) with equal outputs"
    keras.utils.set_random_seed(0)
    model = cg.convgru_model(3, "mobilenet", variant="scratch", alpha=0.25, input_size=32, temporal=name, units=8, compile=False)
    frames = np.random.default_rng(0).integers(0, 256, (10, 32, 32, 3)).astype("float32")
    keras_probs = cg.StreamingClassifier(model).classify(frames)
    assert np.abs(keras_probs - np.asarray(model(frames[None]))[0]).max() < 1e-5
    device = cg.TFLiteStreamer(cg.export_tflite(model, tmp_path/"step.tflite"))
    assert np.abs(np.stack([device.update(f) for f in frames]) - keras_probs).max() < 1e-4
    model.save(tmp_path/"m.keras")
    loaded = cg.load_convgru(tmp_path/"m.keras")
    assert np.abs(np.asarray(loaded(frames[None])) - np.asarray(model(frames[None]))).max() < 1e-6


def test_order_pooling_is_blind_a_gru_is_not(synthetic_tiny, tmp_path):
    "Motion-only pairs, each test video forward and reversed: the running mean scores at most 0.5 (a bound), the GRU clearly more"
    from vidnb import spatial
    from vidnb.datasets import synthetic_splits
    from vidnb.features import FeatureCache, cached_sequences
    from vidnb.temporal import partner_class
    weights = spatial.mobilenet_weights_file(0.25, 224)
    if weights is None: pytest.skip("no ImageNet MobileNet-0.25 weights")
    root, splits = synthetic_tiny, synthetic_splits(synthetic_tiny)
    backbone = spatial.backbone("mobilenet", weights=weights, alpha=0.25, input_size=64)
    cache = FeatureCache(tmp_path/"cache", "mobilenet", "imagenet", 0.25, 64, model=backbone)
    cache.extract(splits.train + splits.test, root)
    partners = partner_class(splits.classes)
    tests = [v for v in splits.test if partners[v.label] != v.label]     # the motion-only pairs' test videos
    feats = [np.asarray(cache.load(str(root/v.path), verify=False), np.float32) for v in tests]
    mask = np.array([[t < len(f) for t in range(max(map(len, feats)))] for f in feats])
    def padded(fs):
        x = np.zeros((*mask.shape, cache.feature_dim), np.float32)
        for k, f in enumerate(fs): x[k, :len(f)] = f
        return {"features": x, "mask": mask}
    y = np.array([v.label for v in tests])
    targets = np.r_[y, [partners[int(label)] for label in y]]
    scores = {}
    for name in ("gru", "pooling"):
        keras.utils.set_random_seed(0)
        head = cg.gru_head(len(splits.classes), cache.feature_dim, 64, temporal=name, dropout=0.3)
        cg.standardize_features(head, [cache], splits.train, root)
        spatial.compile_classifier(head, "adam", 1e-3)
        head.fit(cached_sequences(cache, splits.train, root, 32, 16, True, seed=0, sampling="window"), epochs=40, verbose=0)
        last = cg.gru_head(len(splits.classes), cache.feature_dim, per_frame=False, masked=True, layers=cg.head_layers(head))
        labels = [np.asarray(last(padded(fs))).argmax(-1) for fs in (feats, [f[::-1] for f in feats])]   # a video's: its last frame's
        scores[name] = (np.r_[labels[0], labels[1]] == targets).mean()
    print("order test, motion pairs, both directions:", scores)
    assert scores["pooling"] <= 0.5 + 1e-9
    assert scores["gru"] >= 0.58
