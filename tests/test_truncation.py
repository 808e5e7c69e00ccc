"""The same truncated file gets the same clear error from every model kind's classify, eval and train (issue 12).
One tiny model per kind is trained once, on a copy of the tiny synthetic data in which two clips are cut short."""
import json, shutil
import numpy as np, pytest
from conftest import run_cli
from vidnb.video import VideoError, iter_frames, video_info, write_video

HEADER = 60
ROWS = {  # row -> vidnb_train options: tiny settings (the numbers mean nothing), seconds per row
    "cnn-scratch": ["--epochs", "1", "--batch-size", "16", "--input-size", "32", "--stride", "8"],
    "gru": ["--epochs", "1", "--batch-size", "16", "--units", "8", "--length", "8", "--frame-size", "16"],
    "convgru-scratch": ["--epochs", "1", "--batch-size", "16", "--units", "8", "--length", "8", "--input-size", "32"],
}
TRAIN_CLIP = "DiscMovingRight/v_DiscMovingRight_g12_c01.avi"   # group 12: training or early stopping in split 1
TEST_CLIP = "DiscMovingLeft/v_DiscMovingLeft_g03_c01.avi"      # group 3: scored (split 1 tests groups 1-7)

def truncate(path) -> int:
    "Replace `path` by a noisy clip of HEADER frames cut to its first 40% of bytes; return how many frames still decode"
    write_video(path, [np.random.default_rng(i).integers(0, 256, (48, 48, 3), dtype=np.uint8) for i in range(HEADER)])
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.4)])
    assert video_info(path)["frames"] == HEADER                     # OpenCV opens it, and the header promises every frame
    n = 0
    with pytest.raises(VideoError):
        for _ in iter_frames(path): n += 1
    assert 0 < n < 8, n   # fewer than a training window or a CNN stride: every reader reaches the end of what decodes
    return n

@pytest.fixture(scope="module")
def data(tmp_path_factory, synthetic_tiny):
    "(root, {clip: its truncation message})"
    root = tmp_path_factory.mktemp("truncation")/"data"
    shutil.copytree(synthetic_tiny, root)
    return root, {rel: f"{root/rel}: truncated: the header says {HEADER} frames, only {truncate(root/rel)} decode"
                  for rel in (TRAIN_CLIP, TEST_CLIP)}

@pytest.fixture(scope="module")
def trained(tmp_path_factory, data):
    "One tiny model per kind, trained on the data with the truncated clips: {row: (model file, vidnb_train's result)}"
    root, _ = data
    out = tmp_path_factory.mktemp("models")
    return {row: (out/row/"model.keras", run_cli("vidnb_train", "--model", row, "--data", root, "--out", out/row,
                                                 "--quick", "--strategy", "default", *opts))
            for row, opts in ROWS.items()}

def warned(stderr:str, msg:str) -> bool:
    "Whether a warning line of `stderr` carries `msg`"
    return any(msg in line and "Traceback" not in stderr for line in stderr.splitlines())

@pytest.mark.parametrize("row", ROWS)
def test_train_skips_the_truncated_clips_with_the_message(trained, data, row):
    _, messages = data
    model, r = trained[row]
    assert r.returncode == 0 and model.exists(), r.stderr[-3000:]
    for clip, msg in messages.items(): assert warned(r.stderr, msg), (clip, r.stderr[-3000:])
    metrics = json.loads((model.parent/"metrics.json").read_text())     # what was skipped is counted, by role
    assert (sum(metrics["skipped_in_training"].values()), metrics["skipped"]) == (1, 1), metrics["skipped_in_training"]

@pytest.mark.parametrize("row", ROWS)
def test_eval_skips_the_truncated_clip_with_the_message(trained, data, row):
    _, messages = data
    r = run_cli("vidnb_eval", trained[row][0])
    assert r.returncode == 0, r.stderr[-3000:]
    assert warned(r.stderr, messages[TEST_CLIP]), r.stderr[-3000:]

@pytest.mark.parametrize("row", ROWS)
def test_classify_refuses_the_truncated_clip_with_the_message(trained, data, row):
    root, messages = data
    r = run_cli("vidnb_classify", trained[row][0], root/TEST_CLIP)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
    errors = [l for l in r.stderr.splitlines() if ": error: " in l]
    assert len(errors) == 1 and errors[0].startswith(f"vidnb_classify: error: {messages[TEST_CLIP]}"), r.stderr[-3000:]
