#!/usr/bin/env bash
# Issue 15, "done when": the wheel installs in a fresh venv (no editable install, no repository or ../shared beside it),
# holds the bundled MobileNet-0.25 weights, and runs `vidnb_reproduce --quick --out r` offline with an empty KERAS_HOME:
# all eight rows with numbers, and no TensorFlow start-up notices on stderr.
#
# The wheel is built from the sdist (`python -m build`), so MANIFEST.in and package_data are both checked. TensorFlow
# and the other dependencies are not downloaded again: the fresh venv (made from the base interpreter, not from the
# project venv) gets `pip install --no-deps` of the wheel, and sees the project venv's site-packages through one plain
# path line in a .pth file. A plain path line puts those packages on sys.path without running that directory's own
# .pth files, so the project's editable vidnb is never activated; the script checks that vidnb and its weights are
# imported from the fresh venv. Network is cut for the run with proxy variables pointing at a closed port.
# Usage: tools/check_wheel.sh [WORKDIR]   (PYTHON=... to use another interpreter with build, setuptools and the deps)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
WORK="${1:-$(mktemp -d /tmp/vidnb_wheel.XXXXXX)}"; mkdir -p "$WORK"; WORK="$(cd "$WORK" && pwd)"
echo "== work folder: $WORK"

echo "== 1. sdist and wheel (python -m build, from a copy of the tracked and new files)"
mkdir -p "$WORK/src"
(cd "$REPO" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - 2>/dev/null) | tar xf - -C "$WORK/src"
"$PY" -m build --no-isolation --outdir "$WORK/dist" "$WORK/src" > "$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
WHEEL="$(ls "$WORK"/dist/*.whl)"; ls -l "$WORK"/dist
"$PY" - "$WHEEL" <<'PYEOF'
import hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1]); names = z.namelist()
h5 = "vidnb/weights/mobilenet_2_5_224_tf_no_top.h5"
assert h5 in names and "vidnb/weights/NOTICE" in names, [n for n in names if "weights" in n]
print(f"wheel holds {h5} ({z.getinfo(h5).file_size:,} bytes, sha256 {hashlib.sha256(z.read(h5)).hexdigest()}) and vidnb/weights/NOTICE")
PYEOF

echo "== 2. fresh venv from the base interpreter, wheel installed with --no-deps"
BASE="$("$PY" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')"
"$BASE" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q --no-deps --no-index "$WHEEL"
SITE="$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$SITE/zz_vidnb_dependencies.pth"
echo "dependencies from: $(cat "$SITE/zz_vidnb_dependencies.pth")"

echo "== 3. vidnb_reproduce --quick --out r, offline, empty KERAS_HOME, no ../shared"
mkdir -p "$WORK/run" "$WORK/keras_home"; cd "$WORK/run"
test ! -e ../shared
unset TF_CPP_MIN_LOG_LEVEL PYTHONPATH
export KERAS_HOME="$WORK/keras_home" PATH="$WORK/venv/bin:$PATH" PIP_NO_INDEX=1
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 no_proxy= NO_PROXY=
python -c 'import vidnb, vidnb.spatial as s; print("vidnb imported from", vidnb.__file__); print("weights:", s.bundled_weights())' 2> import.err
python -c 'import vidnb, sys; assert vidnb.__file__.startswith(sys.prefix), "vidnb is not the installed wheel"'
echo "stderr of import vidnb: $(wc -c < import.err) bytes"
echo "which vidnb_reproduce: $(command -v vidnb_reproduce)"
start=$(date +%s)
vidnb_reproduce --quick --out r > stdout.txt 2> stderr.txt || { echo "vidnb_reproduce failed:"; tail -20 stderr.txt; exit 1; }
echo "finished in $(( $(date +%s) - start )) s"
cat r/results.md
echo "== 4. checks"
echo "rows with 'needs ImageNet weights': $(grep -c 'needs ImageNet weights' r/results.md || true)"
echo "files under KERAS_HOME after the run (Keras writes its keras.json there; a download would add models/): $(cd "$KERAS_HOME" && find . -type f | tr "\n" " ")"
echo '$ grep -E "cuInit|oneDNN|absl|XLA|cuda" stderr.txt import.err'
grep -E 'cuInit|oneDNN|absl|XLA|cuda' stderr.txt import.err || echo "(no line matches)"
echo "stderr of vidnb_reproduce ($(wc -l < stderr.txt) lines), first 15:"; head -15 stderr.txt
python - <<'PYEOF'
import json
rows = json.load(open("r/results.json"))["rows"]
bad = [r["model"] for r in rows if r["status"] != "done"]
print(f"{len(rows)} rows, {len(rows) - len(bad)} done" + (f"; NOT done: {bad}" if bad else ""))
assert len(rows) == 8 and not bad
PYEOF
