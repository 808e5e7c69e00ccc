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
    s = settings_for("convgru-fixed", quick=True, epochs=1, units=8, length=8, input_size=32, batch_size=16, weights=str(WEIGHTS))
    data = experiment_data(synthetic_tiny, classes="RingBouncing,CrossBouncing")
    metrics = train("convgru-fixed", tmp_path/"run", data, settings=s, cache_dir=tmp_path/"cache", log=None)
    assert len(built) == 1
    assert metrics["skipped"] == 0 and metrics["videos"] > 0
    caches = [json.loads(p.read_text()) for p in (tmp_path/"cache").glob("*/identity.json")]
    saved, _ = load_model(tmp_path/"run"/"model.keras")
    assert [c["weights_sha256"] for c in caches] == [weights_fingerprint(frame_backbone(saved))]
