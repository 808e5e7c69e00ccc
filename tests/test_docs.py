"The documentation site builds offline, every page has its title and figures, every public function is documented"
import ast, json, re, sys
from pathlib import Path
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO/"tools"))
import build_docs

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    pages = build_docs.build(out)
    return {p.name: p.read_text(encoding="utf-8") for p in pages}

def _notebook(name): return json.loads((REPO/"nbs"/name).read_text())

def test_every_chapter_builds_with_title_and_sidebar(site):
    names = build_docs.sidebar()
    assert sorted(site) == sorted(n[:-6] + ".html" for n in names)
    for page, text in site.items():
        title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
        first = next(c for c in _notebook(page[:-5] + ".ipynb")["cells"] if c["cell_type"] == "markdown")
        nb_title = re.match(r"#\s+(.*)", "".join(first["source"])).group(1).strip()
        assert nb_title in title and f"<h1>{nb_title}" in text.replace("&#x27;", "'"), page
        assert all(f'href="{n[:-6]}.html"' in text for n in names), f"{page}: sidebar incomplete"
        assert "Traceback" not in text and "Error in notebook" not in text, page

def test_every_saved_figure_is_on_its_page(site):
    for page, text in site.items():
        nb = _notebook(page[:-5] + ".ipynb")
        figures = sum(any(k in o.get("data", {}) for k in ("image/png", "image/jpeg")) for c in nb["cells"] if c["cell_type"] == "code"
                      and not re.search(r"^#\s*\|\s*hide", "".join(c["source"]), re.M) for o in c.get("outputs", []))
        figures += sum(len(re.findall(r"!\[[^\]]*\]\((?!https?:)[^)]+\.png\)", "".join(c["source"])))
                       for c in nb["cells"] if c["cell_type"] == "markdown")      # images of nbs/images, embedded
        shown = len(re.findall(r'<img[^>]*\ssrc="data:image/(?:png|jpeg)', text))
        assert shown >= figures, f"{page}: {figures} figures saved, {shown} shown"

def _public_functions(module_file):
    tree = ast.parse(Path(module_file).read_text())
    names = ast.literal_eval(next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "__all__"))
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return {k: defs[k] for k in names if k in defs}

def test_every_exported_function_has_a_docstring_and_docs(site):
    for nb_name in build_docs.sidebar():
        cells = _notebook(nb_name)["cells"]
        exp = next((re.search(r"default_exp\s+(\S+)", "".join(c["source"])) for c in cells if "default_exp" in "".join(c["source"])), None)
        if not exp: continue
        page = site[nb_name[:-6] + ".html"]
        for name, node in _public_functions(REPO/"vidnb"/f"{exp.group(1)}.py").items():
            assert ast.get_docstring(node), f"vidnb.{exp.group(1)}.{name} has no docstring"
            assert re.search(rf"<h[234][^>]*>{re.escape(name)}<", page), f"{name} is not documented on {nb_name}"

def test_colab_badge_and_setup_cell_in_every_chapter():
    from configparser import ConfigParser
    cfg = ConfigParser(delimiters=["="]); cfg.read(REPO/"settings.ini"); s = cfg["DEFAULT"]
    user_repo = s["git_url"].split("github.com/")[-1]
    for nb_name in build_docs.sidebar():
        if nb_name == "index.ipynb": continue
        text = json.dumps(_notebook(nb_name))
        assert f"colab.research.google.com/github/{user_repo}/blob/{s['branch']}/nbs/{nb_name}" in text, nb_name
        assert "pip install" in text and "GPU" in text, f"{nb_name}: no first cell that installs vidnb and reports the GPU"
