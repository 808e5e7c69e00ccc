"The video module outside the notebook: decoding cost, the one truncation rule across every reader, and every kind of frame source"
import warnings
import numpy as np, cv2, pytest
import vidnb.video as video
from vidnb.video import *
from vidnb.datasets import Video, DecodeLog, sequence_dataset, frame_dataset, padded_dataset

class CountingCapture:
    "cv2.VideoCapture that counts the frames it decodes"
    decoded, original = 0, cv2.VideoCapture
    def __init__(self, *a): self.cap = CountingCapture.original(*a)
    def grab(self): CountingCapture.decoded += 1; return self.cap.grab()
    def read(self): CountingCapture.decoded += 1; return self.cap.read()
    def __getattr__(self, k): return getattr(self.cap, k)

def test_a_window_decodes_only_what_it_needs(tmp_path, monkeypatch):
    path = tmp_path/"long.avi"
    write_video(path, [np.full((16, 16, 3), i % 200, np.uint8) for i in range(500)])
    full = read_video(path)
    monkeypatch.setattr(cv2, "VideoCapture", CountingCapture)
    for start in (50, 400):
        CountingCapture.decoded = 0
        window = read_video(path, frames=range(start, start + 100))
        np.testing.assert_array_equal(window, full[start:start + 100])
        assert CountingCapture.decoded <= min(start, SEEK_AFTER) + 100, (start, CountingCapture.decoded)

# ---------------------------------------------------------------- one truncation rule, one message
HEADER = 60

@pytest.fixture(scope="module")
def truncated(tmp_path_factory):
    "A synthetic .avi cut to its first 40% of bytes: OpenCV still opens it and its header still promises every frame"
    folder = tmp_path_factory.mktemp("truncated")
    whole = write_video(folder/"whole.avi", [np.random.default_rng(i).integers(0, 256, (48, 48, 3), dtype=np.uint8) for i in range(HEADER)])
    path = folder/"cut.avi"
    path.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.4)])
    assert video_info(path)["frames"] == HEADER
    n = 0
    with pytest.raises(VideoError):
        for _ in iter_frames(path): n += 1                  # the frames that do decode come before the error
    assert 0 < n < HEADER - 3
    return path, n

def message(path, n): return f"{path}: truncated: the header says {HEADER} frames, only {n} decode"

def test_truncation_rule():
    assert truncation_error("a.avi", 100, 95) is None and truncation_error("a.avi", 10, 7) is None   # the slack: max(3, 5%)
    err = truncation_error("a.avi", 100, 94)
    assert isinstance(err, VideoError) and err.decoded == 94 and str(err) == "a.avi: truncated: the header says 100 frames, only 94 decode"

def test_every_reader_reports_a_truncated_file_the_same_way(truncated):
    path, n = truncated
    seen = []
    with pytest.raises(VideoError) as from_iter:
        for frame in iter_frames(path, 24): seen.append(frame)
    assert str(from_iter.value) == message(path, n) and len(seen) == n   # every frame that decodes comes first
    for read in (lambda: read_video(path), lambda: read_video(path, 16, threads=1), lambda: read_video(path, frames=[HEADER - 1]),
                 lambda: read_video(path, frames=range(n - 2, n + 5)), lambda: list(iter_frames(path, start=n + 3))):
        with pytest.raises(VideoError) as e: read()
        assert str(e.value) == message(path, n)

@pytest.mark.parametrize("pipeline", ["sequence", "frame", "padded"])
def test_pipelines_skip_a_truncated_file_with_the_same_message(truncated, pipeline, tmp_path):
    path, n = truncated
    good = write_video(tmp_path/"good.avi", [np.full((32, 32, 3), 10 * i, np.uint8) for i in range(12)])
    videos = [Video(str(good), 0, "a"), Video(str(path), 1, "b")]
    make = dict(sequence=lambda log: sequence_dataset(videos, length=HEADER // 2, size=16, batch_size=2, shuffle=False, log=log),
                frame=lambda log: frame_dataset(videos, size=16, stride=7, batch_size=100, log=log),
                padded=lambda log: padded_dataset(videos, size=16, batch_size=2, log=log))[pipeline]
    log = DecodeLog()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = np.concatenate([y.numpy() for _, y in make(log)])
    assert set(labels.tolist()) == {0}
    assert [str(w.message) for w in caught] == [f"skipping a video that cannot be decoded: {message(path, n)}"]
    assert log.skipped == {str(path): message(path, n)}

def test_a_header_a_little_too_long_is_not_truncation(tmp_path, monkeypatch):
    "Within the slack, the pipelines sample from what decodes and read_video returns every frame"
    path = write_video(tmp_path/"v.avi", [np.full((16, 16, 3), 10 * i, np.uint8) for i in range(20)])
    opened = video.open_video
    class Overstating:
        def __init__(self, cap): self.cap = cap
        def get(self, prop): return self.cap.get(prop) + (3 if prop == cv2.CAP_PROP_FRAME_COUNT else 0)
        def __getattr__(self, name): return getattr(self.cap, name)
    import vidnb.datasets as datasets
    for module in (video, datasets): monkeypatch.setattr(module, "open_video", lambda p, threads=None: Overstating(opened(p, threads)))
    assert len(read_video(path)) == 20 and len(list(iter_frames(path))) == 20
    log = DecodeLog()
    (x, y), = sequence_dataset([Video(str(path), 0, "g")], length=20, size=16, batch_size=1, shuffle=False, log=log)
    assert x.shape == (1, 20, 16, 16, 3) and len(log) == 0

# ---------------------------------------------------------------- every kind of frame source
class FakeCamera:
    "A camera-like object: read() -> (ok, frame) in OpenCV's BGR (or BGRA, or grey), `n` frames"
    def __init__(self, n, shape=(8, 8, 3)): self.n, self.shape, self.released = n, shape, False
    def read(self):
        self.n -= 1
        frame = np.zeros(self.shape, np.uint8)
        if len(self.shape) == 3: frame[..., 0] = 255          # blue in BGR(A)
        else: frame[:] = 77
        return self.n >= 0, frame
    def release(self): self.released = True

@pytest.mark.parametrize("source", [0, "rtsp://camera.local/stream", "/dev/video0"])
def test_a_camera_index_or_url_goes_through_open_camera(monkeypatch, source):
    opened = []
    def fake_open(s): opened.append(s); opened.append(FakeCamera(3)); return opened[-1]
    monkeypatch.setattr(video, "open_camera", fake_open)
    frames = list(iter_frames(source, size=4))
    assert opened[0] == source and opened[1].released
    assert len(frames) == 3 and frames[0].shape == (4, 4, 3) and frames[0][0, 0].tolist() == [0, 0, 255]

@pytest.mark.parametrize("shape", [(8, 8, 3), (8, 8, 4), (8, 8)])
def test_a_camera_like_object_gives_rgb_frames(shape):
    camera = FakeCamera(4, shape)
    frames = list(iter_frames(camera))
    assert len(frames) == 4 and all(f.shape == (8, 8, 3) for f in frames)
    assert frames[0][0, 0].tolist() == ([0, 0, 255] if len(shape) == 3 else [77] * 3)
    assert not camera.released                                  # the caller's camera stays the caller's

def test_a_generator_of_frames(tmp_path):
    gen = (np.full((10, 12, 3), i, np.uint8) for i in range(6))
    frames = list(iter_frames(gen, size=(5, 6), start=2))
    assert [int(f[0, 0, 0]) for f in frames] == [2, 3, 4, 5] and frames[0].shape == (5, 6, 3)

def test_a_file_path_as_str_or_path(tmp_path):
    path = write_video(tmp_path/"v.avi", [np.full((16, 16, 3), 10 * i, np.uint8) for i in range(5)])
    assert len(list(iter_frames(str(path)))) == len(list(iter_frames(path))) == 5

def test_open_camera_failure_is_a_video_error():
    with pytest.raises(VideoError, match="/dev/no_such_camera: no camera or stream"): open_camera("/dev/no_such_camera")

def test_write_video_is_atomic(tmp_path):
    "A failure part-way leaves neither the video nor a temporary file"
    def frames():
        yield np.zeros((16, 16, 3), np.uint8); raise RuntimeError("the source broke")
    with pytest.raises(RuntimeError, match="the source broke"): write_video(tmp_path/"v.avi", frames())
    assert list(tmp_path.iterdir()) == []

def test_as_size():
    assert as_size(7) == (7, 7) and as_size([3, 4]) == (3, 4) and as_size(None) is None
    with pytest.raises(ValueError, match="height, width"): as_size(0)
