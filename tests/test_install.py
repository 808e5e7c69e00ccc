"""What a user sees once vidnb is installed: no TensorFlow start-up notices (CUDA, cuInit, XLA, absl, oneDNN) from
`import vidnb` or any command while the warnings that matter stay, and a wheel that carries the bundled MobileNet-0.25
weights and works from a fresh venv. tools/check_wheel.sh runs the full check (the quick main job from the wheel)."""
import hashlib, os, re, subprocess, sys, sysconfig, zipfile
from pathlib import Path
import pytest
from conftest import REPO, console

NOISE = re.compile(r"cuInit|oneDNN|absl|XLA|cuda")
COMMANDS = re.search(r"^console_scripts\s*=\s*(.*)$", (REPO/"settings.ini").read_text(), re.M).group(1).split()
OFFLINE = {k: "http://127.0.0.1:9" for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}   # a closed port

def user_env(tmp_path) -> dict:
    "A user's environment: TF_CPP_MIN_LOG_LEVEL not set (conftest sets it for the other tests), no network, empty KERAS_HOME"
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "no_proxy", "NO_PROXY")}
    return env | OFFLINE | {"KERAS_HOME": str(tmp_path/"keras_home"), "PYTHONUNBUFFERED": "1"}

def run_all(commands, env, cwd, at_once:int=4):
    "Run the commands, `at_once` side by side; (returncode, stdout, stderr) of each, in order"
    results = []
    for i in range(0, len(commands), at_once):
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd) for c in commands[i:i + at_once]]
        results += [(p.returncode, out, err) for p in procs for out, err in [p.communicate(timeout=600)]]
    return results

SNIPPET = """import numpy as np, vidnb, vidnb.spatial as s
net = s.backbone("mobilenet", alpha=0.25, input_size=32)   # weights="imagenet": the bundled file, offline
print(net.predict(np.zeros((1, 32, 32, 3), np.uint8), verbose=0).shape)
s.backbone("resnet50", input_size=32)                      # not bundled, offline: the error must still show"""

def test_import_and_every_command_are_quiet(tmp_path, synthetic_tiny):
    "No start-up notices on stderr; the missing-weights error and an unreadable video are still reported"
    bad = tmp_path/"data"; bad.mkdir()
    subprocess.run(["cp", "-r", str(synthetic_tiny), str(bad)], check=True)
    root = bad/Path(synthetic_tiny).name
    broken = sorted(root.glob("*/*.avi"))[0]; broken.write_bytes(b"not a video")
    commands = [[console(c.split("=")[0]), "--help"] for c in COMMANDS] + [[sys.executable, "-c", SNIPPET], [console("vidnb_info"), str(root)]]
    results = run_all(commands, user_env(tmp_path), tmp_path)
    for command, (code, out, err) in zip(commands, results):
        name = Path(command[0]).name
        noise = [l for l in err.splitlines() if NOISE.search(l) and "could not be obtained" not in l]
        assert noise == [], f"{name} {command[1:]}: {noise}"
        if command[-1] == "--help": assert code == 0 and "usage:" in out, (name, err[-2000:])
    code, out, err = results[-2]
    assert "(1, 256)" in out and code == 1 and "WeightsUnavailableError: ImageNet weights for backbone 'resnet50' could not be obtained" in err, err[-2000:]
    code, out, err = results[-1]
    assert code == 0 and f"unreadable: 1 video(s), e.g. {broken.relative_to(root)}" in out, out + err
    assert not (tmp_path/"keras_home"/"models").exists() or not any((tmp_path/"keras_home"/"models").iterdir())

def test_users_own_log_level_wins(tmp_path):
    "TF_CPP_MIN_LOG_LEVEL set by the user is kept (vidnb only sets a default before TensorFlow is imported)"
    env = user_env(tmp_path) | {"TF_CPP_MIN_LOG_LEVEL": "1"}
    r = subprocess.run([sys.executable, "-c", "import os, vidnb; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"], capture_output=True, text=True, env=env)
    assert r.stdout.strip() == "1", r.stderr
    r = subprocess.run([sys.executable, "-c", "import os, vidnb; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"], capture_output=True, text=True, env=user_env(tmp_path))
    assert r.stdout.strip() == "3", r.stderr

def test_wheel_carries_the_weights_and_works_without_the_repository(tmp_path):
    "python -m build (sdist, then the wheel from it) holds the weights and NOTICE; installed alone, vidnb finds and checks them"
    pytest.importorskip("build", reason="`build` is a dev requirement: pip install -e '.[dev]'")
    src = tmp_path/"src"; src.mkdir()
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split("\n")
    for f in filter(None, files):
        if (REPO/f).is_file(): (src/f).parent.mkdir(parents=True, exist_ok=True); (src/f).write_bytes((REPO/f).read_bytes())
    r = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path/"dist"), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheel, = (tmp_path/"dist").glob("*.whl")
    z = zipfile.ZipFile(wheel)
    h5 = z.read("vidnb/weights/mobilenet_2_5_224_tf_no_top.h5")
    assert hashlib.sha256(h5).hexdigest() == "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf"
    assert "Apache" in z.read("vidnb/weights/NOTICE").decode()
    venv = tmp_path/"venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True)
    py = venv/"bin"/"python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, env=user_env(tmp_path))
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True).stdout.strip()
    Path(site, "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")   # TensorFlow & co., not the editable vidnb
    run = tmp_path/"elsewhere"; run.mkdir()
    r = subprocess.run([str(py), "-c", "import sys, vidnb, vidnb.spatial as s; print(vidnb.__file__); print(s.bundled_weights()); "
                        "print(s.backbone('mobilenet', alpha=0.25, input_size=32).count_params())"],
                       capture_output=True, text=True, cwd=run, env=user_env(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    module, weights, params = r.stdout.split()
    assert module.startswith(str(venv)) and weights.startswith(str(venv)) and int(params) == 218_544, r.stdout
    assert not NOISE.search(r.stderr), r.stderr
