"The repository keeps its promises: README in sync, notebooks clean and exported, both Quarto configs agree"
import json, re, shutil, subprocess, sys, filecmp
from pathlib import Path
import pytest
from conftest import REPO

def test_readme_in_sync_with_index():
    r = subprocess.run([sys.executable, str(REPO/"tools"/"make_readme.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

def test_readme_gives_exactly_two_commands():
    text = (REPO/"README.md").read_text()
    assert text.count("```") == 4, "the README's only code blocks are the two commands (others would hide them)"
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    assert len(blocks) == 2, blocks
    install_run, install_test = (b.strip() for b in blocks)
    assert "pip install -e ." in install_run and "vidnb_" in install_run
    assert 'pip install -e ".[dev]"' in install_test and "nbdev_test" in install_test and "pytest tests" in install_test
    assert install_test in (REPO/".ci"/"run").read_text(), ".ci/run must run the README's test command"

def test_readme_main_command_is_a_declared_console_script():
    main = re.findall(r"```sh\n(.*?)```", (REPO/"README.md").read_text(), re.S)[0]
    command = re.search(r"(vidnb_\w+)", main).group(1)
    assert re.search(rf"console_scripts\s*=.*(?<!\S){command}=vidnb\.", (REPO/"settings.ini").read_text()), command

def test_readme_links_and_images_exist():
    targets = re.findall(r"\]\((?!https?:|#)([^)\s]+)\)", (REPO/"README.md").read_text())
    assert any(t.endswith(".png") for t in targets), "the README shows no figure"
    assert [t for t in targets if not (REPO/t).exists()] == []

def _sidebar(path, prefix=""):
    text = path.read_text()
    entries = re.findall(r"^\s*-\s+(\S+\.ipynb)\s*$", text, re.M)
    return [e[len(prefix):] if e.startswith(prefix) else e for e in entries]

def test_quarto_configs_agree_and_list_every_chapter():
    nbdev_side, top_side = _sidebar(REPO/"nbs"/"_quarto.yml"), _sidebar(REPO/"_quarto.yml", "nbs/")
    assert nbdev_side == top_side
    chapters = sorted(p.name for p in (REPO/"nbs").glob("*.ipynb") if p.name != "index.ipynb")
    assert nbdev_side == ["index.ipynb"] + chapters

def test_notebooks_are_clean_and_exported(tmp_path):
    "What nbdev's own CI checks: nbdev_clean and nbdev_export change nothing"
    work = tmp_path/"repo"
    shutil.copytree(REPO, work, ignore=shutil.ignore_patterns(".git", ".venv", "_proc", "_docs", "*.egg-info", "__pycache__"))
    bin_ = Path(sys.executable).parent
    for cmd in ("nbdev_clean", "nbdev_export"):
        exe = str(bin_/cmd) if (bin_/cmd).exists() else cmd
        r = subprocess.run([exe], cwd=work, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    changed = [p.relative_to(work) for p in list((work/"nbs").glob("*.ipynb")) + list((work/"vidnb").glob("*.py"))
               if not filecmp.cmp(p, REPO/p.relative_to(work), shallow=False)]
    assert not changed, f"nbdev_clean/nbdev_export changed {changed}: run them and commit"

def test_notebooks_stay_small():
    sizes = {p.name: p.stat().st_size for p in (REPO/"nbs").glob("*.ipynb")}
    assert {n: s for n, s in sizes.items() if s > 600_000} == {}, "a notebook is over 600 KB: photo grids as JPEG, big matrices at low dpi"

def _exported_cells():
    for nb in sorted((REPO/"nbs").glob("*.ipynb")):
        for c in json.loads(nb.read_text())["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] == "code" and src.startswith("#| export"): yield nb.name, src.rstrip("\n").count("\n") + 1

def test_layout_one_concern_per_module():
    "Issue 12's layout: small modules, one frame source, one atomic writer, one family registry, public Keras API only"
    modules = {p.name: p.read_text() for p in (REPO/"vidnb").glob("*.py") if p.name != "_modidx.py"}
    assert modules["experiments.py"].count("\n") <= 500
    assert {n: t.count("\n") for n, t in modules.items() if t.count("\n") > 700} == {}
    assert [n for n, t in modules.items() if "cv2.VideoCapture(" in t] == ["video.py"]
    assert [n for n, t in modules.items() if re.search(r"os\.replace\(|\.rename\(", t)] == ["runs.py"]
    private_keras = r"\._(save_model|weights_path|training_metadata_path|current_epoch|initial_epoch)\b"
    assert {n for n, t in modules.items() if re.search(private_keras, t)} == set()
    dispatch = r"kind\s*[!=]=|\[(spec\.)?kind\]"
    assert {n: [l.strip() for l in t.splitlines() if re.search(dispatch, l)] for n, t in modules.items() if re.search(dispatch, t)} == \
           {"experiments.py": ["return FAMILIES[kind]"]}

def test_exported_cells_are_short():
    lengths = sorted(n for _, n in _exported_cells())
    assert lengths[len(lengths) // 2] <= 15, "median exported cell over 15 lines: one definition per cell, its example below"
