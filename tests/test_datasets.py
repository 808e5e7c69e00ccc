"Datasets outside the notebook: the vidnb_info command, the real UCF-101 clips and lists, and the padded pipeline's decoding"
import json, warnings
import numpy as np, cv2, pytest
from conftest import SHARED, needs_shared, run_cli
from vidnb.datasets import *
from vidnb.video import read_video, write_video, video_info
from test_video import CountingCapture

def test_vidnb_info_on_synthetic(synthetic_tiny):
    r = run_cli("vidnb_info", synthetic_tiny, "--as_json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["classes"] == SYNTHETIC_CLASSES and s["leaks"] == {} and s["videos"]["test"] == 56

def test_vidnb_info_without_root_writes_the_builtin_data(tmp_path):
    r = run_cli("vidnb_info", "--size", "tiny", "--dest", tmp_path/"syn", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "group leakage: none" in r.stdout and (tmp_path/"syn"/"classInd.txt").exists()

def test_vidnb_info_bad_root_is_one_clear_line(tmp_path):
    r = run_cli("vidnb_info", tmp_path/"nowhere")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "nowhere: data folder not found" in r.stderr

def test_vidnb_info_reports_leakage(tmp_path, synthetic_tiny):
    "A list that puts a test group into training is caught and the command exits 1"
    import shutil
    lists = tmp_path/"lists"; shutil.copytree(synthetic_tiny, lists, ignore=shutil.ignore_patterns("*.avi"))
    test = (lists/"testlist01.txt").read_text().splitlines()
    leaked = test[0].split("/")[1].replace("_c01", "_c02")  # same group, a clip that does not exist: left out as missing
    (lists/"trainlist01.txt").write_text((lists/"trainlist01.txt").read_text() + f"{test[1]} 1\r\n")
    r = run_cli("vidnb_info", synthetic_tiny, "--lists", lists)
    assert r.returncode == 1 and "GROUP LEAKAGE" in r.stdout, r.stdout + r.stderr

def test_folder_of_videos_with_group_rule(tmp_path, synthetic_tiny):
    "A plain class-folder layout: default one group per video; ucf_group keeps UCF groups together"
    import shutil
    root = tmp_path/"mine"
    for c in SYNTHETIC_CLASSES[:2]: shutil.copytree(synthetic_tiny/c, root/c)
    videos, classes = video_folder(root)
    assert classes == sorted(SYNTHETIC_CLASSES[:2]) and len({v.group for v in videos}) == len(videos)
    sp = folder_splits(root, group_rule=ucf_group, seed=3)
    assert sp.leaks() == {} and len(sp.train) + len(sp.val) + len(sp.test) == len(videos)
    with pytest.raises(ValueError, match="no folder for class"): video_folder(root, classes=["Nope"])

@needs_shared
def test_real_lists_every_split_group_disjoint():
    for split, (n_train, n_test) in {1: (9537, 3783), 2: (9586, 3734), 3: (9624, 3696)}.items():
        sp = ucf101_splits(SHARED/"ucfTrainTestlist", split=split)
        assert (len(sp.train) + len(sp.val), len(sp.test)) == (n_train, n_test)
        assert sp.leaks() == {}
        assert 0.08 < len(sp.val) / n_train < 0.12
        tests = {int(v.group[-2:]) for v in sp.test}
        assert tests == set(range(7 * split - 6, 7 * split + 1))
    hs = [v for v in ucf101_splits(SHARED/"ucfTrainTestlist").test if v.class_name == "HandstandPushups"]
    assert hs and hs[0].path.startswith("HandstandPushups/v_HandStandPushups_")

@needs_shared
def test_ucf101_mini_loads_as_subset_with_one_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sp = ucf101_splits(SHARED/"ucfTrainTestlist", root=SHARED/"ucf101_mini")
    assert len(caught) == 1 and "missing" in str(caught[0].message)
    assert sp.classes == ["Archery", "BasketballDunk", "HorseRace", "PlayingPiano", "PlayingViolin", "Surfing"]
    assert len(sp.train) + len(sp.val) == 216 and sp.test == [] and sp.leaks() == {}
    assert {v.label for v in sp.val} == set(range(6))
    explicit = ucf101_splits(SHARED/"ucfTrainTestlist", root=SHARED/"ucf101_mini", classes=["Surfing", "Archery"])
    assert explicit.classes == ["Archery", "Surfing"] and len(explicit.train) + len(explicit.val) == 72

@needs_shared
def test_vidnb_info_on_ucf101_mini():
    r = run_cli("vidnb_info", SHARED/"ucf101_mini", "--lists", SHARED/"ucfTrainTestlist")
    assert r.returncode == 0, r.stderr
    assert "6 classes" in r.stdout and "group leakage: none" in r.stdout and "missing" in r.stderr

class MisreportingCapture:
    "A capture whose header misstates the frame count by `shift` frames"
    shift = 0
    def __init__(self, cap): self.cap = cap
    def get(self, prop): return self.cap.get(prop) + (self.shift if prop == cv2.CAP_PROP_FRAME_COUNT else 0)
    def __getattr__(self, name): return getattr(self.cap, name)

@pytest.mark.parametrize("shift", [-7, 2])
def test_padded_batches_survive_headers_that_misstate_the_length(synthetic_tiny, monkeypatch, shift):
    "Frames beyond a short header grow the batch; a header a few frames long leaves no trailing padding"
    import vidnb.datasets as datasets
    syn = synthetic_splits(synthetic_tiny)
    videos = syn.test[:3]
    truth = [read_video(syn.root/v.path, 24) for v in videos]
    opened = datasets.open_video
    monkeypatch.setattr(datasets, "open_video", lambda path, threads=None: MisreportingCapture(opened(path, threads)))
    MisreportingCapture.shift = shift
    (batch, labels), = padded_dataset(videos, syn.root, size=24, batch_size=3)
    assert batch["frames"].shape[1] == max(map(len, truth))
    assert list(batch["mask"].numpy().sum(1)) == list(map(len, truth))
    for row, frames in zip(batch["frames"].numpy(), truth):
        np.testing.assert_array_equal(row[:len(frames)], frames)
        assert not row[len(frames):].any()
    assert list(labels.numpy()) == [v.label for v in videos]

def test_padded_batches_decode_no_further_than_max_frames(tmp_path, monkeypatch):
    path = tmp_path/"long.avi"
    write_video(path, [np.full((16, 16, 3), i % 200, np.uint8) for i in range(300)])
    monkeypatch.setattr(cv2, "VideoCapture", CountingCapture)
    CountingCapture.decoded = 0
    (batch, _), = padded_dataset([Video(str(path), 0, "g")], size=16, batch_size=1, max_frames=40)
    assert batch["frames"].shape[1] == 40 and CountingCapture.decoded == 40

def test_duplicate_list_lines_are_reported_and_counted_once(tmp_path, synthetic_tiny):
    import shutil
    lists = tmp_path/"lists"; shutil.copytree(synthetic_tiny, lists, ignore=shutil.ignore_patterns("*.avi"))
    lines = (lists/"trainlist01.txt").read_text().splitlines()
    (lists/"trainlist01.txt").write_text("\n".join(lines + [lines[3], lines[3]]) + "\n")
    clean = load_splits(synthetic_tiny)
    with pytest.warns(UserWarning, match=rf"trainlist01.txt: 2 duplicate line\(s\) left out.*line {len(lines) + 1} repeats line 4"):
        twice = load_splits(synthetic_tiny, lists)
    assert len(twice.train) + len(twice.val) == len(clean.train) + len(clean.val)
    r = run_cli("vidnb_info", synthetic_tiny, "--lists", lists, "--as_json")
    assert r.returncode == 0 and "duplicate line(s) left out" in r.stderr
    assert json.loads(r.stdout)["videos"] == {k: len(v) for k, v in zip(("train", "val", "test"), clean)}

def test_vidnb_info_counts_videos_that_do_not_decode(tmp_path, synthetic_tiny):
    "A file whose header opens but whose frames do not decode is unreadable too"
    import shutil
    root = tmp_path/"data"; shutil.copytree(synthetic_tiny, root)
    bad = sorted((root/"RingBouncing").glob("*.avi"))[0]
    data = bad.read_bytes(); i = data.find(b"movi") + 4
    bad.write_bytes(data[:i] + bytes(len(data) - i))                   # header kept, frames zeroed
    assert video_info(bad)["frames"] > 0
    r = run_cli("vidnb_info", root, "--as_json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout, parse_constant=lambda c: 1/0)["unreadable"] == [f"RingBouncing/{bad.name}"]

# ---------------------------------------------------------------- cross-validation folds
def _assert_folds(folds, videos):
    "Every video in exactly one fold, no group in two folds"
    assert sorted(v for f in folds for v in f) == sorted(videos)
    fold_of = {}
    for i, f in enumerate(folds):
        for v in f: assert fold_of.setdefault(v.group, i) == i, v.group

@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_group_folds_cover_every_video_once_and_keep_groups(synthetic_tiny, k):
    sp = synthetic_splits(synthetic_tiny)
    videos = sp.train + sp.val + sp.test
    folds = group_folds(videos, k, seed=3)
    _assert_folds(folds, videos)
    for label in range(8):                                   # stratified: 25 groups of a class dealt as evenly as can be
        assert {len({v.group for v in f if v.label == label}) for f in folds} <= {25 // k, -(-25 // k)}
    assert group_folds(videos, k, seed=3) == folds
    with pytest.raises(ValueError, match="class DiscMovingLeft has 25 group"): group_folds(videos, 26)
    with pytest.raises(ValueError, match="folds must be at least 2"): group_folds(videos, 1)

def test_a_plain_folder_keeps_ucf_groups(tmp_path, synthetic_tiny):
    "Files named the UCF-101 way are grouped by their group in a plain class folder (two clips of a group: one group)"
    import shutil
    for c in SYNTHETIC_CLASSES[:2]:
        for f in sorted((synthetic_tiny/c).glob("*.avi")):
            (tmp_path/c).mkdir(exist_ok=True)
            shutil.copy(f, tmp_path/c/f.name); shutil.copy(f, tmp_path/c/f.name.replace("_c01", "_c02"))
    (tmp_path/"Mine").mkdir(); shutil.copy(f, tmp_path/"Mine"/"holiday.avi"); shutil.copy(f, tmp_path/"Mine"/"party.avi")
    videos, _ = video_folder(tmp_path)
    assert len({v.group for v in videos if v.class_name == "DiscMovingLeft"}) == 25
    assert {v.group for v in videos if v.class_name == "Mine"} == {"Mine/holiday.avi", "Mine/party.avi"}   # others: one per video
    _assert_folds(group_folds([v for v in videos if v.class_name != "Mine"], 5), [v for v in videos if v.class_name != "Mine"])

@needs_shared
def test_ucf101_mini_in_six_group_folds():
    "The 216 real clips, 18 groups of each of 6 classes: 6 folds of 36 clips, 3 groups of each class"
    videos, classes = video_folder(SHARED/"ucf101_mini")
    folds = group_folds(videos, 6)
    _assert_folds(folds, videos)
    assert [len(f) for f in folds] == [36] * 6
    assert all(len({v.group for v in f if v.class_name == c}) == 3 for f in folds for c in classes)
    listed = ucf101_splits(SHARED/"ucfTrainTestlist", root=SHARED/"ucf101_mini")
    assert {v.group for v in videos} == {v.group for v in listed.train + listed.val}   # the same groups as the official lists'
