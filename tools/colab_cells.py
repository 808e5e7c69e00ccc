"""Give every chapter notebook an "Open in Colab" badge (from settings.ini's repository) and a first cell that installs
vidnb when it is missing and reports the GPU. Idempotent: rerun after adding a chapter.

Usage: python tools/colab_cells.py
"""
import json, re
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKS = ("colab-badge.svg", "install vidnb when it is missing")   # text that identifies the cells this tool owns

def settings():
    c = ConfigParser(delimiters=["="]); c.read(ROOT/"settings.ini"); return c["DEFAULT"]

def cells_for(nb_name):
    s = settings()
    user_repo = s["git_url"].rstrip("/").split("github.com/")[-1]
    url = f"https://colab.research.google.com/github/{user_repo}/blob/{s['branch']}/{s['nbs_path']}/{nb_name}"
    badge = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"
    setup = ("#| hide\n#| eval: false\n"
             "# In Colab or a fresh Jupyter: install vidnb when it is missing. TensorFlow uses a GPU by itself when the\n"
             "# runtime has one (Colab: Runtime > Change runtime type > GPU); this prints what it found.\n"
             "try: import vidnb\n"
             "except ImportError:\n"
             f"    %pip install -q \"vidnb[dev] @ git+{s['git_url']}\"\n"
             "import tensorflow as tf\n"
             "print(\"GPU:\", [d.name for d in tf.config.list_physical_devices(\"GPU\")] or \"none, running on the CPU\")")
    return [{"cell_type": "markdown", "metadata": {}, "source": badge},
            {"cell_type": "code", "metadata": {}, "source": setup, "outputs": [], "execution_count": None}]

def add_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    wanted = [c["source"] for c in cells_for(path.name)]
    if ["".join(c["source"]) for c in nb["cells"][1:3]] == wanted: return False   # already there: keep ids and outputs
    cells = [c for c in nb["cells"] if not any(m in "".join(c["source"]) for m in MARKS)]
    nb["cells"] = cells[:1] + cells_for(path.name) + cells[1:]     # right after the title cell
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True

if __name__ == "__main__":
    for p in sorted((ROOT/"nbs").glob("[0-9]*.ipynb")): print("colab cells:", p.name, "added" if add_cells(p) else "already there")
