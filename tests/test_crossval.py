"""Cross-validation by group (`vidnb.crossval`, `--folds`): a tiny run writes the table of mean ± std, a second call
trains nothing, and the commands refuse bad fold options in one line."""
import json, shutil
import pytest
from conftest import SHARED
from test_cli import _in_process, error_line, TINY_GRU

TINY = dict(epochs=1, units=8, length=8, frame_size=16, decode_size=32, batch_size=16)

@pytest.fixture(scope="module")
def plain(tmp_path_factory, synthetic_tiny):
    "Two classes of the tiny data as a plain class-folder dataset: folds of any number"
    from vidnb.datasets import SYNTHETIC_CLASSES
    root = tmp_path_factory.mktemp("crossval")/"plain"
    for c in SYNTHETIC_CLASSES[:2]: shutil.copytree(synthetic_tiny/c, root/c)
    return root

def _finished(out):
    "{run folder: (finished time, metrics.json mtime)} of every run under `out`"
    return {p.parent: (json.loads(p.read_text())["finished"], (p.parent/"metrics.json").stat().st_mtime_ns)
            for p in sorted(out.glob("*/seed-*/fold-*/status.json"))}

def test_tiny_cross_validation_and_its_rerun(plain, tmp_path):
    from vidnb.crossval import cross_validate
    said = []
    result = cross_validate(["gru"], tmp_path/"cv", dict(data=plain), 2, 2, "quick", TINY, log=said.append)
    runs = _finished(tmp_path/"cv")
    assert len(runs) == 4 and len(result["runs"]) == 4 and any("vidnb: gru into" in s for s in said)
    assert [(r["seed"], r["fold"]) for r in result["runs"]] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert sum(r["videos"] for r in result["runs"]) == 2 * 50            # every video scored once per repeat
    table = (tmp_path/"cv"/"crossval.md").read_text()
    line = next(l for l in table.splitlines() if l.startswith("| GRU |"))
    assert line.count("±") == 3 and "| 4 |" in line and "repeats of the K-fold mean" in table
    saved = json.loads((tmp_path/"cv"/"crossval.json").read_text())
    assert saved["rows"][0]["runs"] == 4 and set(saved["rows"][0]["top1"]) == {"mean", "std", "fold_std"}
    assert all("confusion" in r["metrics"]["video"] for r in saved["runs"])
    said.clear()
    again = cross_validate(["gru"], tmp_path/"cv", dict(data=plain), 2, 2, "quick", TINY, log=said.append)
    assert said == [] and _finished(tmp_path/"cv") == runs and again["rows"] == result["rows"]   # nothing trained again
    more = cross_validate(["gru"], tmp_path/"cv", dict(data=plain), 2, 3, "quick", TINY, log=said.append)
    assert more["rows"][0]["runs"] == 6 and {k: v for k, v in _finished(tmp_path/"cv").items() if k in runs} == runs

def test_commands_cross_validate(plain, tmp_path):
    code, out, err = _in_process("vidnb_train", "--model", "gru", "--data", plain, "--out", tmp_path/"t", "--folds", "2",
                                 "--quick", "--overrides", TINY_GRU, "--strategy", "default")
    assert code in (0, None), err[-3000:]
    assert "# Cross-validation by group" in out and "| GRU | 2 |" in out and "over the 2 folds" in out
    assert len(list((tmp_path/"t").glob("gru/seed-0/fold-*/model.keras"))) == 2
    code, out, err = _in_process("vidnb_eval", tmp_path/"t"/"gru"/"seed-0"/"fold-1"/"model.keras")   # its own fold again
    assert code in (0, None) and (json.loads(out)["subset"], json.loads(out)["videos"]) == ("fold 2/2", 25), err[-2000:]
    code, out, err = _in_process("vidnb_eval", tmp_path/"t"/"gru"/"seed-0"/"fold-1"/"model.keras", "--subset", "val")
    assert code == 2 and out == "" and "its held-out videos are that fold: drop --subset" in err   # any other subset overlaps its training folds
    code, out, err = _in_process("vidnb_reproduce", "--models", "gru", "--data", plain, "--out", tmp_path/"t", "--folds", "2",
                                 "--quick", "--overrides", TINY_GRU, "--strategy", "default")
    assert code in (0, None) and "| GRU | 2 |" in out, err[-3000:]     # the same runs, read back

def test_bad_fold_options_are_one_line(plain, synthetic_tiny, tmp_path):
    data = ["--data", plain, "--quick", "--overrides", TINY_GRU]
    cases = [(("--folds", "1"), "--folds must be a whole number of at least 2, got 1"),
             (("--folds", "0"), "--folds must be a whole number of at least 2, got 0"),
             (("--folds", "2", "--repeats", "0"), "--repeats must be a positive whole number, got 0"),
             (("--repeats", "2"), "--repeats goes with --folds"),
             (("--folds", "26"), "class DiscMovingLeft has 25 group(s), fewer than the 26 folds"),
             (("--preset", "thesis"), "--quick is --preset quick: it does not go with --preset thesis")]
    for command in ("vidnb_train", "vidnb_reproduce"):
        rows = ("--model", "gru") if command == "vidnb_train" else ("--models", "gru")
        for args, message in cases:
            code, _, err = _in_process(command, *rows, "--out", tmp_path/"x", *data, *args)
            assert code == 2 and error_line(err).startswith(f"{command}: error: {message}"), (command, args, err)
    code, _, err = _in_process("vidnb_reproduce", "--models", "gru", "--out", tmp_path/"y", "--data", synthetic_tiny, "--folds", "6")
    assert code == 2 and error_line(err) == "vidnb_reproduce: error: UCF-101 with official lists keeps its three official splits: use --folds 3"
    assert not (tmp_path/"x").exists() and not (tmp_path/"y").exists()
