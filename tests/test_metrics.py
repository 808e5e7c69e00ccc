"Metrics outside the notebook: agreement with Keras and TensorFlow, order invariance, figures for 101 classes, bad input"
import numpy as np, pytest
from vidnb.metrics import *

@pytest.fixture
def predictions():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 12, 400)
    p = rng.dirichlet(np.ones(12), 400).astype("float32")
    p[np.arange(200), y[:200]] += 0.5                     # half of them confident and right
    return y, p / p.sum(1, keepdims=True)

def test_topk_agrees_with_keras_without_ties(predictions):
    import keras
    y, p = predictions
    for k in (1, 2, 5, 12):
        m = keras.metrics.SparseTopKCategoricalAccuracy(k=k); m.update_state(y, p)
        assert topk_accuracy(y, p, k) == pytest.approx(float(m.result()), abs=1e-6)
    assert topk_accuracy(y, p, 12) == 1.0

def test_confusion_matrix_agrees_with_tensorflow(predictions):
    import tensorflow as tf
    y, p = predictions
    np.testing.assert_array_equal(confusion_matrix(y, p, 12), tf.math.confusion_matrix(y, p.argmax(1), 12).numpy())
    cm = confusion_matrix(y, p)
    assert cm.sum() == len(y) and (cm.sum(1) == np.bincount(y, minlength=12)).all()

def test_per_class_is_the_mean_over_classes(predictions):
    y, p = predictions
    pc = per_class_accuracy(y, p, k=3)
    counts = np.bincount(y, minlength=12)
    assert (pc * counts).sum() / counts.sum() == pytest.approx(topk_accuracy(y, p, 3))
    assert np.isnan(per_class_accuracy(y[y != 4], p[y != 4])[4])

def test_video_probs_ignores_frame_order(predictions):
    y, p = predictions
    videos = np.repeat(np.arange(40), 10)
    ids, vp = video_probs(p, videos)
    order = np.random.default_rng(0).permutation(len(p))
    ids2, vp2 = video_probs(p[order], videos[order])
    np.testing.assert_array_equal(ids, ids2); np.testing.assert_allclose(vp, vp2, rtol=1e-12)
    np.testing.assert_allclose(vp.sum(1), 1, rtol=1e-6)
    ids3, vp3 = video_probs(p, videos, frames=3)                   # a subset: 3 evenly spaced frames of each video
    np.testing.assert_allclose(vp3[0], p[[0, 4, 7]].mean(0), rtol=1e-6)

def test_evaluate_keys_and_k_capped():
    y, p = np.array([0, 1, 2]), np.eye(3)
    r = evaluate(y, p, ["a", "b", "c"], k=5)
    assert r["k"] == 3 and r["top1"] == 1.0 and r["top3"] == 1.0 and r["confusion"].trace() == 3

def test_plots_for_101_classes_write_pngs(tmp_path, predictions):
    import matplotlib; matplotlib.use("Agg")
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(101), 5); p = rng.dirichlet(np.ones(101), len(y))
    names = [f"Class{i:03d}" for i in range(101)]
    plot_per_class(y, p, names, save=tmp_path/"a.png")
    plot_confusion(y, p, names, save=tmp_path/"b.png")
    plot_history({"loss": [1, 0.5], "val_loss": [1.1, 0.9], "accuracy": [0.5, 0.7], "val_accuracy": [0.4, 0.6]}, save=tmp_path/"c.png")
    for f in "abc": assert (tmp_path/f"{f}.png").stat().st_size > 10_000

def test_plot_history_takes_a_keras_history():
    import keras, matplotlib; matplotlib.use("Agg")
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(np.zeros((8, 3)), np.zeros(8), validation_data=(np.zeros((4, 3)), np.zeros(4)), epochs=2, verbose=0)
    fig = plot_history(h)
    assert len(fig.axes) == 2

def test_results_table_markdown():
    t = results_table([("GRU", 25e6, 0.458, 0.742), ("TSN", 70e6, None, 0.942)])
    assert t.splitlines()[0] == "| Architecture | Parameters | Top-1 | Top-5 |"
    assert "| GRU | 25.0M | 45.8% | 74.2% |" in t and "| TSN | 70.0M | - | 94.2% |" in t
    with pytest.raises(ValueError, match="no rows"): results_table([])

@pytest.mark.parametrize("fn", [lambda: topk_accuracy([], []), lambda: per_class_accuracy(np.zeros(0, int), np.zeros((0, 3))),
                                lambda: confusion_matrix([], [], 3), lambda: evaluate([], np.zeros((0, 2))),
                                lambda: video_probs([], []), lambda: video_probs(np.ones((2, 2)), [0, 1], frames=np.zeros(2, bool))])
def test_empty_prediction_sets_are_clear_errors(fn):
    with pytest.raises(ValueError, match="empty prediction set"): fn()

def test_mismatched_inputs():
    with pytest.raises(ValueError, match="1-D array"): topk_accuracy([[0]], [[1.0]])
    with pytest.raises(ValueError, match="integer class indices"): topk_accuracy([0.5], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="k must be at least 1"): topk_accuracy([0], [[1.0, 0.0]], k=0)
    with pytest.raises(ValueError, match="frames but video_index"): video_probs(np.ones((3, 2)), [0, 1])

def test_non_finite_probabilities_are_refused_by_every_scorer():
    "A diverged model's NaN would rank as a hit (every comparison with NaN is false): every scorer refuses it, saying how many"
    y = np.array([0, 1, 1])
    p = np.array([[np.nan, np.nan], [.2, .8], [.6, .4]])
    assert np.isnan(p).sum() == 2
    for score in (lambda: topk_accuracy(y, p), lambda: per_class_accuracy(y, p), lambda: confusion_matrix(y, p),
                  lambda: evaluate(y, p), lambda: video_probs(p, [0, 0, 1]),
                  lambda: score_videos([p[:1], p[1:]], [0, 1]), lambda: score_videos([p[1:], p[:1]], [1, 0], rule="last"),
                  lambda: compare_rules([p], [0]), lambda: plot_per_class(y, p, ["a", "b"])):
        with pytest.raises(ValueError, match="2 of 6 probabilities are not finite"): score()
    inf = np.array([[np.inf, 0.], [.2, .8]])
    with pytest.raises(ValueError, match="1 of 4 probabilities are not finite"): topk_accuracy([1, 1], inf)
    assert topk_accuracy([0, 1], [[.9, .1], [.3, .7]]) == 1.0          # finite input scores as before
