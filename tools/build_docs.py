"""Build the documentation site offline: nbdev_proc_nbs (nbdev's processors; they run the show_doc cells) + nbconvert to HTML.

Quarto (what `nbdev_docs` uses) cannot be installed on our machines, so this renders the same processed notebooks
(`_proc/`, made by nbdev's own processors, the ones `nbdev_proc_nbs` applies) with nbconvert: one HTML page per chapter, in the sidebar order of
nbs/_quarto.yml, with the API docs that show_doc writes, the saved outputs (plots as inline images) and a Colab badge.

Usage: python tools/build_docs.py [--out _site_offline]
"""
import argparse, html, json, re, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIRECTIVE = re.compile(r"^\s*#\s*\|\s*(.*)$")

def sidebar(quarto=ROOT/"nbs"/"_quarto.yml"):
    "Chapter notebooks in the order of the site's sidebar"
    return re.findall(r"^\s*-\s+(\S+\.ipynb)\s*$", quarto.read_text(), re.M)

def _directives(src):
    return {m.group(1).split(":")[0].strip(): m.group(1) for l in src.splitlines() if (m := DIRECTIVE.match(l))}

def to_html(nb, name, pages, title, description):
    "One page: nbconvert's HTML of the cells, with directives applied (hide, echo: false), a sidebar and a badge"
    import nbformat
    from nbconvert import HTMLExporter
    cells = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "raw": continue                      # Quarto front matter
        d = _directives(src)
        if "hide" in d or "include" in d and "false" in d["include"]: continue
        if cell["cell_type"] == "code":
            cell["source"] = "\n".join(l for l in src.splitlines() if not DIRECTIVE.match(l)).strip()
            cell.setdefault("metadata", {})
            if "echo" in d and "false" in d["echo"]: cell["metadata"]["transient"] = {"remove_source": True}
        cells.append(cell)
    nb = nbformat.reads(json.dumps({**nb, "cells": cells}), as_version=4)   # joins multi-line strings
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    exporter.embed_images = True                                   # markdown images (nbs/images/...) inline, as data URIs
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(ROOT/"nbs")}})
    body = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)} – vidnb</title>", body, flags=re.S)
    current = ' class="current"'
    nav = "".join(f'<li><a href="{p[:-6]}.html"{current if p == name else ""}>{html.escape(t)}</a></li>' for p, t in pages)
    header = (f'<nav class="vidnb-sidebar"><ul>{nav}</ul></nav><header class="vidnb-title"><h1>{html.escape(title)}</h1>'
              f'<p class="description">{html.escape(description)}</p></header>')
    style = ("<style>.vidnb-sidebar{position:fixed;left:0;top:0;width:200px;height:100%;overflow:auto;padding:1em;"
             "background:#f7f7f9;font-family:sans-serif;font-size:14px}.vidnb-sidebar ul{list-style:none;padding:0}"
             ".vidnb-sidebar li{margin:.4em 0}.vidnb-sidebar .current{font-weight:bold}"
             "body{margin-left:230px!important}.vidnb-title{padding:1em 0 0 1em}.description{color:#555}</style>")
    return body.replace("<body", style + "<body", 1).replace("<main>", "<main>" + header, 1) if "<main>" in body \
        else re.sub(r"(<body[^>]*>)", r"\1" + header, body.replace("</head>", style + "</head>", 1), count=1)

def title_of(nb):
    "Title and description from the front matter nbdev_proc_nbs writes"
    import yaml
    raw = next((c for c in nb["cells"] if c["cell_type"] == "raw"), None)
    text = "".join(raw["source"]).strip() if raw else ""
    meta = yaml.safe_load(text.strip("-").strip()) if text.startswith("---") else {}
    return str(meta.get("title", "")), str(meta.get("description", ""))

QUARTO_ATTRIBUTES = re.compile(r"\]\(([^)]*)\)\{[^}]*\}")   # [text](url){target="_blank" ...}: Quarto-only syntax

def _plain_markdown(nb):
    "Drop Quarto's link attributes from markdown cells and outputs (nbconvert would print them)"
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown": cell["source"] = QUARTO_ATTRIBUTES.sub(r"](\1)", "".join(cell["source"]))
        for o in cell.get("outputs", []):
            if "text/markdown" in o.get("data", {}):
                o["data"]["text/markdown"] = QUARTO_ATTRIBUTES.sub(r"](\1)", "".join(o["data"]["text/markdown"]))
    return nb

def build(out=ROOT/"_site_offline", only=None):
    "Process the sidebar's notebooks with nbdev (show_doc cells run there) and write one HTML page each into `out`"
    from nbdev.serve_drv import exec_nb
    from nbdev.processors import FilterDefaults
    import os
    names = [n for n in sidebar() if only is None or n in only]
    proc = ROOT/"_proc"; proc.mkdir(exist_ok=True)
    os.environ["IN_TEST"] = "1"          # as nbdev_proc_nbs: processing runs the show_doc cells, not the chapters
    for n in names: exec_nb(ROOT/"nbs"/n, proc/n, FilterDefaults)
    del os.environ["IN_TEST"]
    out = Path(out); shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
    nbs = {n: json.loads((ROOT/"_proc"/n).read_text()) for n in names}
    pages = [(n, title_of(nbs[n])[0] or n) for n in names]
    written = []
    for n in names:
        title, description = title_of(nbs[n])
        page = out/(n[:-6] + ".html")
        page.write_text(to_html(_plain_markdown(nbs[n]), n, pages, title or n, description), encoding="utf-8")
        written.append(page)
    return written

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT/"_site_offline")); ap.add_argument("--only", nargs="*", help="notebook names to build")
    args = ap.parse_args()
    for p in build(args.out, args.only): print("wrote", p)
