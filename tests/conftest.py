"Shared fixtures: the real data beside the repository (skipped when absent) and the built-in synthetic dataset"
import os, sys, shutil, subprocess
from pathlib import Path
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent/"shared"
needs_shared = pytest.mark.skipif(not (SHARED/"ucfTrainTestlist"/"classInd.txt").exists(),
                                  reason="../shared (real UCF-101 clips, lists, weights) is not beside the repository")

def console(name):
    "Path of an installed console script: beside this Python, else on PATH"
    here = Path(sys.executable).parent/name
    return str(here) if here.exists() else shutil.which(name) or name

def run_cli(name, *args, cwd=None, timeout=600):
    "Run console command `name` with `args`; return the CompletedProcess (text mode)"
    return subprocess.run([console(name), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)

@pytest.fixture(scope="session")
def synthetic_tiny(tmp_path_factory):
    "The built-in synthetic dataset, tiny size, written once per test session"
    from vidnb.datasets import make_synthetic
    return make_synthetic(tmp_path_factory.mktemp("synthetic")/"tiny", size="tiny")
