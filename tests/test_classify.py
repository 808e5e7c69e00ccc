"vidnb_classify end to end: --annotate (frame count, fps), --camera on a fake camera (a file read as a stream, an object), Ctrl-C, bad options"
import json, os, signal, subprocess, sys
import numpy as np, pytest
from conftest import run_cli, console
from vidnb.video import video_info, write_video

TINY_GRU = "epochs=1,units=8,length=8,frame_size=16,decode_size=32,batch_size=16"

def strict(text):
    "Every line of `text` parsed by a JSON parser that refuses NaN and Infinity"
    def refuse(c): raise ValueError(f"not JSON: {c}")
    return [json.loads(line, parse_constant=refuse) for line in text.splitlines()]

@pytest.fixture(scope="module")
def gru(tmp_path_factory, synthetic_tiny):
    out = tmp_path_factory.mktemp("classify")/"gru"
    r = run_cli("vidnb_train", "--model", "gru", "--data", synthetic_tiny, "--out", out, "--quick", "--overrides", TINY_GRU, "--strategy", "default")
    assert r.returncode == 0, r.stderr[-3000:]
    return out/"model.keras"

@pytest.fixture(scope="module")
def clip(synthetic_tiny): return next((synthetic_tiny/"RingBouncing").glob("*.avi"))

@pytest.mark.parametrize("suffix,per_frame", [(".mp4", False), (".avi", True)])
def test_annotate_keeps_frames_and_fps(gru, clip, tmp_path, suffix, per_frame):
    out = tmp_path/f"drawn{suffix}"
    r = run_cli("vidnb_classify", gru, clip, "--annotate", out, *(["--per_frame"] if per_frame else []))
    assert r.returncode == 0, r.stderr[-2000:]
    lines, info = strict(r.stdout), video_info(clip)
    assert len(lines) == (info["frames"] if per_frame else 1)
    drawn = video_info(out)
    assert (drawn["frames"], drawn["fps"]) == (info["frames"], info["fps"])
    assert [p.name for p in tmp_path.iterdir()] == [out.name]                 # no temporary file left

def test_camera_prints_a_line_per_frame(gru, clip, tmp_path):
    r = run_cli("vidnb_classify", gru, "--camera", clip, "--annotate", tmp_path/"live.avi", "--top", "2")
    assert r.returncode == 0, r.stderr[-2000:]
    lines = strict(r.stdout)
    assert [l["frame"] for l in lines] == list(range(video_info(clip)["frames"]))
    assert all(len(l["top"]) == 2 for l in lines)
    assert video_info(tmp_path/"live.avi")["frames"] == len(lines)

def test_camera_stops_cleanly_on_sigint(gru, tmp_path):
    long = write_video(tmp_path/"long.avi", (np.full((32, 32, 3), i % 250, np.uint8) for i in range(5000)))
    p = subprocess.Popen([console("vidnb_classify"), str(gru), "--camera", str(long), "--annotate", str(tmp_path/"live.mp4")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()                                               # streaming has begun
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-2000:]
    lines = strict(first + rest)
    assert 1 <= len(lines) < 5000 and [l["frame"] for l in lines] == list(range(len(lines)))
    assert video_info(tmp_path/"live.mp4")["frames"] == len(lines)           # a complete file, every printed frame in it

def test_camera_object_in_process(gru, clip, monkeypatch, capsys):
    "A generator-backed camera through the same path (`open_camera` replaced): a line per frame, exit by end of stream"
    import vidnb.cli as cli
    from vidnb.video import read_video
    frames = list(read_video(clip)[..., ::-1])                               # OpenCV's BGR, as a camera gives
    class FakeCamera:
        def read(self): return (True, frames.pop(0)) if frames else (False, None)
        def get(self, prop): return 0.0
        def release(self): self.released = True
    n, camera = len(frames), FakeCamera()
    monkeypatch.setattr(cli, "open_camera", lambda source: camera)
    monkeypatch.setattr(sys, "argv", ["vidnb_classify", str(gru), "--camera", "0"])
    cli.vidnb_classify()
    assert len(strict(capsys.readouterr().out)) == n and camera.released

@pytest.mark.parametrize("args,message", [
    (["--top", "-1"], "--top must be at least 1, got -1"), (["--top", "0"], "--top must be at least 1, got 0"),
    (["--annotate", "x.gif"], "a video file ends in"), (["--show"], "--show needs --camera"),
])
def test_bad_options_one_line(gru, clip, args, message):
    r = run_cli("vidnb_classify", gru, clip, *args)
    assert (r.returncode, r.stdout) == (2, ""), r.stderr[-2000:]
    assert r.stderr.strip().splitlines() == [f"vidnb_classify: error: {r.stderr.split('error: ', 1)[1].strip()}"]
    assert message in r.stderr

def test_camera_and_video_together_refused(gru, clip):
    r = run_cli("vidnb_classify", gru, clip, "--camera", "0")
    assert r.returncode == 2 and "one of them" in r.stderr and "Traceback" not in r.stderr

def test_unwritable_plot_after_the_json(gru, clip, tmp_path):
    (tmp_path/"taken.png").mkdir()                                             # a folder where the PNG should go
    r = run_cli("vidnb_classify", gru, clip, "--plot", tmp_path/"taken.png")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert len(strict(r.stdout)) == 1                                          # the result came first
    assert r.stderr.strip().splitlines()[-1] == f"vidnb_classify: error: --plot {tmp_path/'taken.png'}: cannot write it: Is a directory"

@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(gru, clip, tmp_path):
    ro = tmp_path/"ro"; ro.mkdir(); ro.chmod(0o500)
    for opt in ("--plot", "--annotate"):
        r = run_cli("vidnb_classify", gru, clip, opt, ro/"out.mp4" if opt == "--annotate" else ro/"p.png")
        assert r.returncode == 2 and "Traceback" not in r.stderr and "error: " in r.stderr.strip().splitlines()[-1], r.stderr
