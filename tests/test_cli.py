"""The console commands end to end on the tiny synthetic data (train, eval, classify, extract, reproduce), their help
texts, and bad input: one clear line and exit status 2. Set VIDNB_SLOW=1 for the longer tests (every pretrained row with
the shared MobileNet weights, the real clips)."""
import json, os, queue, re, signal, socket, subprocess, sys, textwrap, threading, time, zipfile
from pathlib import Path
import numpy as np, pytest
from types import SimpleNamespace
from conftest import SHARED, needs_shared, run_cli, console

slow = pytest.mark.skipif(not os.environ.get("VIDNB_SLOW"), reason="slow: set VIDNB_SLOW=1 to run")
WEIGHTS = SHARED/"weights"/"mobilenet_2_5_224_tf_no_top.h5"
needs_weights = pytest.mark.skipif(not WEIGHTS.exists(), reason="../shared/weights (MobileNet ImageNet weights) is not beside the repository")
# very small settings: every row trains in seconds on the tiny data (the numbers mean nothing)
TINY = "epochs=1,pretrain_epochs=1,units=8,length=8,stride=8,input_size=32,frame_size=16,decode_size=32,batch_size=16"
TINY_GRU = "epochs=1,units=8,length=8,frame_size=16,decode_size=32,batch_size=16"   # vidnb_train accepts only the row's settings
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}

def error_line(stderr:str) -> str:
    "The single `vidnb_X: error:` line of a failed command (and no traceback)"
    assert "Traceback" not in stderr, stderr
    errors = [l for l in stderr.splitlines() if ": error: " in l]
    assert len(errors) == 1, stderr
    return errors[0]

# ---------------------------------------------------------------- every command, end to end
@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, synthetic_tiny):
    "vidnb_reproduce on the tiny data with one row of each kind, and a pretrained row without weights"
    out = tmp_path_factory.mktemp("reproduce")/"out"
    r = run_cli("vidnb_reproduce", "--quick", "--data", synthetic_tiny, "--out", out, "--strategy", "default",
                "--models", "cnn-scratch,cnn-pretrained,gru,convgru-scratch", "--overrides", TINY)
    return out, r

def test_reproduce_writes_the_table(reproduced):
    out, r = reproduced
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads((out/"results.json").read_text())
    rows = {row["model"]: row for row in results["rows"]}
    assert list(rows) == ["cnn-scratch", "cnn-pretrained", "gru", "convgru-scratch"]
    for m in ("cnn-scratch", "gru", "convgru-scratch"):
        assert rows[m]["status"] == "done" and 0 <= rows[m]["ours"]["top1"] <= 1
        assert rows[m]["ours"]["parameters"] > 0 and (out/m/"model.keras").exists()
    # offline, the pretrained row must say why it did not run (with network access Keras downloads the weights and it runs)
    assert rows["cnn-pretrained"]["status"] in ("done", "needs ImageNet weights (pass --weights or run where Keras can download them)")
    md = (out/"results.md").read_text()
    assert md == r.stdout.rstrip("\n") + "\n" or md.strip() in r.stdout
    for text in ("Temporal Segment Networks", "InceptionV3-Scratch", "| 23.4% |", "ConvGRU-Scratch", "Top-1 (ours)"):
        assert text in md
    assert json.loads((out/"status.json").read_text())["state"] == "finished"

def test_run_folder_contents(reproduced):
    out, _ = reproduced
    run = out/"cnn-scratch"
    for name in ("model.keras", "metrics.json", "history.json", "history.png", "per_class.png", "confusion.png", "status.json"):
        assert (run/name).stat().st_size > 0, name
    assert list((run/"tensorboard").rglob("events.out.tfevents.*"))
    assert not (run/".backup").exists() and not list(run.glob(".*.tmp"))
    m = json.loads((run/"metrics.json").read_text())
    assert {"top1", "top5", "per_class_top1", "per_class_top5", "confusion"} <= set(m["video"]) and "top1" in m["frame"]
    assert m["subset"] == "test" and m["videos"] == 56
    with zipfile.ZipFile(run/"model.keras") as z: meta = json.loads(z.read("vidnb.json"))
    assert meta["class_names"][0] == "DiscMovingLeft" and meta["settings"]["input_size"] == 32 and meta["settings"]["stride"] == 8

def test_rerun_refuses_a_finished_table(reproduced, synthetic_tiny):
    out, _ = reproduced
    code, _, err = _in_process("vidnb_reproduce", "--quick", "--data", synthetic_tiny, "--out", out, "--models", "gru", "--overrides", TINY)
    assert code == 2 and "pass --overwrite" in error_line(err)

@pytest.mark.parametrize("row", ["cnn-scratch", "gru", "convgru-scratch"])
def test_eval_needs_only_the_model_file(reproduced, row, tmp_path):
    out, _ = reproduced
    r = run_cli("vidnb_eval", out/row/"model.keras", "--plots", tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads(r.stdout)
    trained = json.loads((out/row/"metrics.json").read_text())
    assert m["subset"] == "test" and m["videos"] == trained["videos"]
    assert abs(m["video"]["top1"] - trained["video"]["top1"]) < 1e-6       # the same numbers from the file alone
    assert (tmp_path/"confusion.png").exists() and (tmp_path/"per_class.png").exists()

@pytest.mark.parametrize("row", ["cnn-scratch", "gru", "convgru-scratch"])
def test_classify_a_video_frame_by_frame(reproduced, synthetic_tiny, row, tmp_path):
    out, _ = reproduced
    video = next((synthetic_tiny/"RingBouncing").glob("*.avi"))
    r = run_cli("vidnb_classify", out/row/"model.keras", video, "--per-frame", "--plot", tmp_path/"t.png")
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    classes = json.loads((out/row/"metrics.json").read_text())["classes"]
    from vidnb.datasets import video_info
    assert [l["frame"] for l in lines] == list(range(video_info(video)["frames"]))
    assert all(l["label"] in classes and len(l["top"]) == 3 for l in lines)
    assert (tmp_path/"t.png").stat().st_size > 0

def test_classify_a_whole_video(reproduced, synthetic_tiny):
    out, _ = reproduced
    video = next((synthetic_tiny/"DiscMovingLeft").glob("*.avi"))
    r = run_cli("vidnb_classify", out/"convgru-scratch"/"model.keras", video, "--top", "2")
    assert r.returncode == 0, r.stderr[-2000:]
    whole = json.loads(r.stdout)
    assert whole["video"] == str(video) and len(whole["top"]) == 2 and whole["label"] == whole["top"][0]["label"]

def test_extract_fills_and_reuses_the_cache(synthetic_tiny, tmp_path):
    args = ["--data", synthetic_tiny, "--classes", "RingBouncing,CrossBouncing", "--backbone", "mobilenet", "--alpha", "0.25",
            "--input-size", "32", "--weights", WEIGHTS if WEIGHTS.exists() else "none", "--cache", tmp_path]
    first = run_cli("vidnb_extract", *args)
    assert first.returncode == 0, first.stderr[-2000:]
    a = json.loads(first.stdout)
    assert a["stored"] == a["videos"] == 50 and a["entries"] == 50
    code, out, err = _in_process("vidnb_extract", *args)                # a second run reuses every entry
    assert code in (0, None), err
    b = json.loads(out.strip().splitlines()[-1])
    if WEIGHTS.exists(): assert b["stored"] == 0 and b["reused"] == 50
    else: assert b["stored"] == 50 and b["reused"] == 0    # random weights differ from run to run: never taken for the same

# ---------------------------------------------------------------- bad input: one line, non-zero exit
def _in_process(command, *args):
    "Run a command's entry point in this process: (exit code, stdout, stderr)"
    import io, contextlib
    import vidnb.cli as cli
    out, err = io.StringIO(), io.StringIO()
    argv, sys.argv = sys.argv, [command, *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): getattr(cli, command)()
    except SystemExit as e: code = e.code
    finally: sys.argv = argv
    return code, out.getvalue(), err.getvalue()

def test_bad_input_is_one_clear_line(synthetic_tiny, tmp_path):
    lists = tmp_path/"other_lists"; lists.mkdir()
    (lists/"classInd.txt").write_text("1 Bowling\n")
    (lists/"trainlist01.txt").write_text("Bowling/v_Bowling_g08_c01.avi 1\n"); (lists/"testlist01.txt").write_text("Bowling/v_Bowling_g01_c01.avi\n")
    not_a_model = tmp_path/"notes.keras"; not_a_model.write_text("hello")
    data = ["--data", synthetic_tiny]
    cases = [
        (("vidnb_train", "--model", "resnet", "--out", tmp_path/"a", *data), "unknown model 'resnet'"),
        (("vidnb_train", "--model", "gru", "--out", tmp_path/"b", "--data", tmp_path/"nowhere"), "nowhere: data folder not found"),
        (("vidnb_train", "--model", "gru", "--out", tmp_path/"c", *data, "--lists", lists), "none of the 1 listed classes has a video here"),
        (("vidnb_train", "--model", "gru", "--out", tmp_path/"d", *data, "--classes", "DiscMovingLeft,Bowling"), "unknown class(es) ['Bowling']"),
        (("vidnb_train", "--model", "gru", "--out", "/dev/null/run", *data), "/dev/null/run: not writable"),
        (("vidnb_train", "--model", "gru", "--out", tmp_path/"e", *data, "--units", "0"), "units must be a positive"),
        (("vidnb_train", "--model", "cnn-scratch", "--out", tmp_path/"f", *data, "--weights", "w.h5"), "starts from random weights"),
        (("vidnb_train", "--model", "gru", "--out", tmp_path/"g", *data, "--strategy", "horovod"), "unknown strategy"),
        (("vidnb_train", "--model", "gru", "--out", tmp_path/"h", *data, "--overrides", "colour=red"), "colour do not apply"),
        (("vidnb_reproduce", "--out", tmp_path/"i", *data, "--models", "gru,bert"), "unknown model 'bert'"),
        (("vidnb_reproduce", "--out", tmp_path/"j", *data, "--overrides", "colour=red"), "apply to none of the models"),
        (("vidnb_reproduce", "--out", tmp_path/"k", *data, "--weights", tmp_path/"nothing.h5"), "nothing.h5: weights file not found"),
        (("vidnb_eval", not_a_model, *data), "not a Keras .keras model file"),
        (("vidnb_eval", tmp_path/"missing.keras"), "missing.keras: model file not found"),
        (("vidnb_classify", not_a_model, tmp_path/"missing.avi"), "not a Keras .keras model file"),
        (("vidnb_extract", *data, "--classes", "Nope"), "unknown class(es) ['Nope']"),
    ]
    for args, message in cases:
        code, _, err = _in_process(*args)
        assert code == 2, (args, err)
        assert message in error_line(err), (args, err)
    assert not (tmp_path/"a").exists()          # nothing written for a run that could not start

def test_a_command_fails_cleanly_from_the_shell(tmp_path):
    r = run_cli("vidnb_train", "--model", "gru", "--out", tmp_path/"x", "--data", tmp_path/"nowhere")
    assert r.returncode == 2 and error_line(r.stderr) == f"vidnb_train: error: {tmp_path/'nowhere'}: data folder not found"

def test_help_texts():
    for command, words in [("vidnb_train", "--model"), ("vidnb_eval", "a model.keras written by vidnb_train"), ("vidnb_classify", "--per_frame"),
                           ("vidnb_extract", "--cache"), ("vidnb_reproduce", "--quick")]:
        code, out, _ = _in_process(command, "--help")
        assert code == 0 and words in out and "usage: " + command in out

def test_refuses_finished_and_changed_runs(synthetic_tiny, tmp_path):
    args = ["--model", "gru", "--data", synthetic_tiny, "--out", tmp_path/"run", "--quick", "--overrides", TINY_GRU, "--strategy", "default"]
    assert _in_process("vidnb_train", *args)[0] in (0, None)
    code, _, err = _in_process("vidnb_train", *args)
    assert code == 2 and "finished run (gru" in error_line(err)
    (tmp_path/"run"/"status.json").write_text((tmp_path/"run"/"status.json").read_text().replace('"finished"', '"running"', 1))
    code, _, err = _in_process("vidnb_train", *args[:-4], "--overrides", TINY_GRU.replace("units=8", "units=9"), "--strategy", "default")
    assert code == 2 and "unfinished run with other settings: settings.units (8 then, 9 now)" in error_line(err)
    code, _, _ = _in_process("vidnb_train", *args, "--overwrite")
    assert code in (0, None)

# ---------------------------------------------------------------- longer: pretrained rows, real clips
@slow
@needs_weights
def test_every_row_with_the_shared_weights(synthetic_tiny, tmp_path):
    r = run_cli("vidnb_reproduce", "--quick", "--data", synthetic_tiny, "--out", tmp_path/"out", "--weights", WEIGHTS,
                "--overrides", TINY, "--cache", tmp_path/"features", "--strategy", "default")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads((tmp_path/"out"/"results.json").read_text())["rows"]
    assert [row["status"] for row in rows] == ["done"] * 8
    assert {row["ours"]["epochs"].__len__() for row in rows if row["model"].endswith("finetuned")} == {2}

@slow
@needs_shared
@needs_weights
def test_real_clips_score_the_validation_split(tmp_path):
    r = run_cli("vidnb_train", "--model", "convgru-fixed", "--data", SHARED/"ucf101_mini", "--lists", SHARED/"ucfTrainTestlist",
                "--classes", "Archery,Surfing", "--quick", "--weights", WEIGHTS, "--epochs", "3", "--out", tmp_path/"run",
                "--cache", tmp_path/"features", "--strategy", "default")
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path/"run"/"metrics.json").read_text())
    assert m["subset"] == "val" and m["classes"] == ["Archery", "Surfing"] and "no test videos" in " ".join(m["notes"])

# ---------------------------------------------------------------- results people can trust (issue 13): class order, leakage, checks
UCF_NAMES = {"DiscMovingLeft": "Hammering", "DiscMovingRight": "HammerThrow", "SquareGrowing": "JumpingJack", "SquareShrinking": "JumpRope"}

def _strict(text):
    "JSON parsed by a strict parser: NaN and Infinity are refused"
    def reject(constant): raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=reject)

def _lists(folder, classes, train_lines, test_lines):
    "A UCF-style lists folder: classInd.txt in the order of `classes`, trainlist01 (with labels) and testlist01"
    folder.mkdir(parents=True, exist_ok=True)
    (folder/"classInd.txt").write_text("".join(f"{i} {c}\n" for i, c in enumerate(classes, 1)))
    (folder/"trainlist01.txt").write_text("".join(f"{c}/v_{c}_g{g:02d}_c01.avi {classes.index(c) + 1}\n" for c, g in train_lines))
    (folder/"testlist01.txt").write_text("".join(f"{c}/v_{c}_g{g:02d}_c01.avi\n" for c, g in test_lines))
    return folder

def _zero_frames(path):
    "Keep a video's header and zero its frames: it opens, no frame decodes"
    data = path.read_bytes(); i = data.find(b"movi") + 4
    path.unlink(); path.write_bytes(data[:i] + bytes(len(data) - i))

@pytest.fixture(scope="module")
def ucf_named(tmp_path_factory, synthetic_tiny):
    "Four tiny classes renamed to UCF-101 classes whose official order is not the sorted one, one model trained on the plain folder"
    from vidnb.datasets import folder_splits
    base = tmp_path_factory.mktemp("ucf_named"); root = base/"UCF"
    for old, new in UCF_NAMES.items():
        (root/new).mkdir(parents=True)
        for f in sorted((synthetic_tiny/old).glob("*.avi")):
            (root/new/f.name.replace(old, new)).write_bytes(f.read_bytes())
    bad = root/folder_splits(root).test[0].path; _zero_frames(bad)           # a scored video that cannot be decoded
    code, out, err = _in_process("vidnb_train", "--model", "gru", "--data", root, "--out", base/"run", "--quick",
                                 "--overrides", TINY_GRU, "--strategy", "default")
    assert code in (0, None), err[-3000:]
    classes = sorted(UCF_NAMES.values())                                    # the folder's (and the model's) order
    train = [(c, g) for c in classes for g in range(8, 26)]; test = [(c, g) for c in classes for g in range(1, 8)]
    return SimpleNamespace(root=root, model=base/"run"/"model.keras", run=base/"run", out=out, err=err, bad=bad, classes=classes,
                           same=_lists(base/"same", classes, train, test), reordered=_lists(base/"reordered", classes[::-1], train, test),
                           leaky=_lists(base/"leaky", classes, train + [test[0]], test))

def _eval(model, *args):
    code, out, err = _in_process("vidnb_eval", model, *args)
    assert code in (0, None), err[-2000:]
    return _strict(out)

def _same_scores(a, b):
    for level in ("video", "frame"):
        assert a[level]["top1"] == b[level]["top1"] and a[level]["confusion"] == b[level]["confusion"], level
        assert a[level]["per_class_top1"] == b[level]["per_class_top1"] and a[level]["class_names"] == b[level]["class_names"]
    assert (a["videos"], a["skipped"]) == (b["videos"], b["skipped"])

def test_train_counts_what_it_scored(ucf_named):
    m = json.loads((ucf_named.run/"metrics.json").read_text())
    assert m["classes"] == ucf_named.classes and m["skipped"] == 1
    assert f"on {m['videos']} test videos (1 more could not be decoded)" in ucf_named.err
    printed = _strict(ucf_named.out.strip().splitlines()[-1])
    assert (printed["videos"], printed["skipped"]) == (m["videos"], 1)

def test_eval_matches_classes_by_name(ucf_named):
    "Lists whose classInd.txt orders the model's classes differently give the same scores"
    same = _eval(ucf_named.model, "--data", ucf_named.root, "--lists", ucf_named.same)
    reordered = _eval(ucf_named.model, "--data", ucf_named.root, "--lists", ucf_named.reordered)
    assert same["videos"] + same["skipped"] == 28 and same["video"]["class_names"] == ucf_named.classes
    _same_scores(same, reordered)

@needs_shared
def test_eval_with_the_official_class_index(ucf_named):
    "The official UCF-101 lists (Hammering before HammerThrow, JumpingJack before JumpRope) against a folder-trained model"
    official = SHARED/"ucfTrainTestlist"
    names = (official/"classInd.txt").read_text().split()
    assert names.index("Hammering") < names.index("HammerThrow") and names.index("JumpingJack") < names.index("JumpRope")
    scores = _eval(ucf_named.model, "--data", ucf_named.root, "--lists", official)
    _same_scores(scores, _eval(ucf_named.model, "--data", ucf_named.root, "--lists", ucf_named.same))

def test_leakage_is_refused_by_every_command(ucf_named, tmp_path):
    data = ["--data", ucf_named.root, "--lists", ucf_named.leaky]
    for args in [("vidnb_eval", ucf_named.model, *data),
                 ("vidnb_train", "--model", "gru", "--out", tmp_path/"t", *data, "--quick", "--overrides", TINY_GRU),
                 ("vidnb_reproduce", "--models", "gru", "--out", tmp_path/"r", *data, "--quick", "--overrides", TINY_GRU)]:
        code, _, err = _in_process(*args)
        line = error_line(err)
        assert code == 2 and "group leakage: the " in line and "share 1 group(s), e.g. HammerThrow_g01" in line and "--allow_leakage" in line, (args, err)
    assert not (tmp_path/"t").exists() and not (tmp_path/"r").exists()
    allowed = _eval(ucf_named.model, *data, "--allow_leakage")
    assert any("allowed by --allow_leakage" in n for n in allowed["notes"])

def test_eval_prints_its_scores_before_a_plot_failure(ucf_named, tmp_path):
    (tmp_path/"file").write_text("not a folder")
    code, out, err = _in_process("vidnb_eval", ucf_named.model, "--data", ucf_named.root, "--lists", ucf_named.same, "--plots", tmp_path/"file"/"plots")
    assert code == 2 and "plots not written" in error_line(err) and "the scores above are complete" in err
    assert _strict(out)["videos"] + _strict(out)["skipped"] == 28

def test_bad_numbers_are_one_line(ucf_named, synthetic_tiny, tmp_path):
    cases = [(("vidnb_eval", ucf_named.model, "--batch_size", "0"), "--batch_size must be a positive whole number, got 0"),
             (("vidnb_extract", "--data", synthetic_tiny, "--batch_size", "-3", "--weights", "none"), "--batch_size must be a positive whole number, got -3"),
             (("vidnb_train", "--model", "gru", "--out", tmp_path/"a", "--data", synthetic_tiny, "--learning_rate", "-1"), "learning_rate must be a positive number, got -1"),
             (("vidnb_train", "--model", "gru", "--out", tmp_path/"b", "--data", synthetic_tiny, "--learning_rate", "nan"), "learning_rate must be a positive number, got nan"),
             (("vidnb_train", "--model", "gru", "--out", tmp_path/"c", "--data", synthetic_tiny, "--cpu_replicas", "0"), "--cpu_replicas must be a positive whole number"),
             (("vidnb_train", "--model", "gru", "--out", tmp_path/"d", "--data", ucf_named.root, "--split", "4"), "split must be 1, 2 or 3, got 4")]
    for args, message in cases:
        code, _, err = _in_process(*args)
        assert code == 2 and message in error_line(err), (args, err)
