"""`train` itself (not through a command): what it builds and caches."""
import json
from test_cli import WEIGHTS, needs_weights

@needs_weights
def test_frozen_convgru_builds_its_backbone_once(synthetic_tiny, tmp_path, monkeypatch):
    "The frozen-backbone row caches features with the backbone inside the network it trains, not a second copy"
    from vidnb import spatial
    from vidnb.experiments import train, settings_for, experiment_data
    from vidnb.runs import load_model
    from vidnb.convgru import frame_backbone, weights_fingerprint
    built, real = [], spatial.backbone
    monkeypatch.setattr(spatial, "backbone", lambda *a, **kw: built.append(a) or real(*a, **kw))
    s = settings_for("convgru-fixed", "quick", epochs=1, units=8, length=8, input_size=32, batch_size=16, weights=str(WEIGHTS))
    data = experiment_data(synthetic_tiny, classes="RingBouncing,CrossBouncing")
    metrics = train("convgru-fixed", tmp_path/"run", data, settings=s, cache_dir=tmp_path/"cache", log=None)
    assert len(built) == 1
    assert metrics["skipped"] == 0 and metrics["videos"] > 0
    caches = [json.loads(p.read_text()) for p in (tmp_path/"cache").glob("*/identity.json")]
    saved, _ = load_model(tmp_path/"run"/"model.keras")
    assert [c["weights_sha256"] for c in caches] == [weights_fingerprint(frame_backbone(saved))]

# ---------------------------------------------------------------- cross-validation folds of an experiment
def _plain(tmp_path, synthetic_tiny, n=3):
    "The first `n` classes of the tiny data as a plain class-folder dataset (no lists)"
    import shutil
    from vidnb.datasets import SYNTHETIC_CLASSES
    for c in SYNTHETIC_CLASSES[:n]: shutil.copytree(synthetic_tiny/c, tmp_path/"plain"/c)
    return tmp_path/"plain"

def test_experiment_folds_share_no_group(tmp_path, synthetic_tiny):
    "Training, early stopping and scored videos of every fold are group-disjoint; the scored folds cover every video once"
    from vidnb.experiments import experiment_data
    from vidnb.datasets import group_leaks
    root, scored = _plain(tmp_path, synthetic_tiny), []
    for k in range(4):
        d = experiment_data(root, folds=4, fold=k, seed=2)
        assert group_leaks(train=d.train, stop=d.stop, score=d.score) == {}
        assert len(d.train + d.stop + d.score) == 75 and d.stop and d.subset == f"fold {k + 1}/4"
        assert experiment_data(**d.source).score == d.score           # its source loads the same fold again
        scored += d.score
    assert sorted(v.path for v in scored) == sorted(f"{c}/{f.name}" for c in d.classes for f in (root/c).glob("*.avi"))

def test_official_lists_keep_their_three_splits(synthetic_tiny):
    from vidnb.experiments import experiment_data
    from vidnb.datasets import synthetic_splits
    import pytest
    for k in range(3):
        d = experiment_data(synthetic_tiny, folds=3, fold=k)
        assert d.score == synthetic_splits(synthetic_tiny, split=k + 1).test and d.source["split"] == k + 1
    for folds in (2, 6):
        with pytest.raises(ValueError) as e: experiment_data(synthetic_tiny, folds=folds)
        assert str(e.value) == "UCF-101 with official lists keeps its three official splits: use --folds 3"
    with pytest.raises(ValueError, match="does not go with --folds"): experiment_data(synthetic_tiny, folds=3, subset="val")
