"""The Dask farm on a real LocalCluster (2 worker processes on 127.0.0.1, shut down after the
module): frames equal the same frames rendered in one process, a killed worker's frames are
rendered elsewhere, a re-run renders only what is missing or changed, failures are clear."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import optica_core
from optica_core import cli
from optica_core.farm import FarmError, FarmJob, chunk_frames, render_chunk, run_farm
from optica_core.render import RenderSettings, render_frame
from optica_core.sampling import Limits
from optica_core.sequence import Sequence, SequenceWriter, frame_name
from optica_core.sinks import Frame, ReorderingSink
from optica_core.sinks.images import DONE_LOG, EXR_CHANNELS, read_exr

from animation_scenes import Animation

distributed = pytest.importorskip("distributed")

FRAMES = list(range(1, 11))
SAMPLES = 6
PASS_NAMES = ("combined", "depth", "object_id")


@pytest.fixture(scope="module")
def client():
    """The farm's own local cluster (the layout `optica_core farm` starts), 2 workers."""
    from optica_core.farm_cluster import local_client

    with local_client(2, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("farm") / "shot"
    animation = Animation()
    writer = SequenceWriter(path, FRAMES, fps=(24, 1), render={"samples": SAMPLES})
    for n in FRAMES:
        writer.write_frame(n, animation.scene(n))
    return path


@pytest.fixture(scope="module")
def reference(folder):
    """The frames rendered in this process, one after the other."""
    seq, renderer, settings = Sequence(folder), optica_core.Renderer(threads=2), settings_of(SAMPLES)
    frames = {n: render_frame(renderer, seq.load_frame(n), settings) for n in FRAMES}
    return {n: {"combined": f.pixels, **f.passes} for n, f in frames.items()}


def settings_of(samples: int, passes=PASS_NAMES) -> RenderSettings:
    return RenderSettings(Limits(samples), passes=passes)


def _job(folder, out, **kw) -> FarmJob:
    kw.setdefault("chunk", 2)
    kw.setdefault("max_seconds", 300)  # a hung cluster fails the test instead of hanging it
    kw.setdefault("passes", PASS_NAMES)
    return FarmJob(folder=str(folder), out=str(out), timeout=60, **kw)


def _assert_frames_equal_reference(out, reference, frames=FRAMES):
    for n in frames:
        channels = read_exr(out / f"frame_{n:06d}.exr")
        for name, image in reference[n].items():
            image = image if image.ndim == 3 else image[..., None]
            got = np.stack([channels[c] for c in EXR_CHANNELS[name]], axis=-1)
            assert np.array_equal(got, image.astype(np.float32)), (n, name)


def test_the_farm_renders_the_same_pixels_as_one_process(client, folder, reference, tmp_path):
    arrays_read, arrived = [], []

    def watch(frame, tracker):
        arrays_read.append(frame.info["arrays_read"])
        arrived.append(frame.index)

    result = run_farm(_job(folder, tmp_path / "out"), progress=watch, client=client)
    assert sorted(arrived) == FRAMES and result.skipped == 0
    assert result.rendered == FRAMES  # the sink's order, whatever the order of arrival
    _assert_frames_equal_reference(tmp_path / "out", reference)
    assert len(result.per_worker) == 2 and sum(result.per_worker.values()) == len(FRAMES)
    # each worker read the statue's three arrays once and kept them (and its BVH) for later frames
    assert sum(arrays_read) <= 3 * len(result.per_worker) + 3


def _killer(client):
    """A progress callback that SIGKILLs, once, a worker other than the one whose frame just
    came back (so it dies with work in hand), and the list of the workers it killed."""
    pids = client.run(os.getpid)
    killed = []

    def kill_one(frame, tracker):
        if not killed:
            victim = next(a for a in pids if a != frame.info["worker"])
            os.kill(pids[victim], signal.SIGKILL)
            killed.append(victim)

    return kill_one, killed


def test_a_killed_worker_still_yields_every_frame(client, folder, reference, tmp_path):
    kill_one, killed = _killer(client)
    job = _job(folder, tmp_path / "out", chunk=1, sampling={"samples": SAMPLES})
    result = run_farm(job, progress=kill_one, client=client)
    assert killed and result.rendered == FRAMES
    _assert_frames_equal_reference(tmp_path / "out", reference)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


def test_a_rerun_after_an_interrupt_renders_only_the_missing_frames(client, folder, reference, tmp_path):
    def interrupt_once_two_are_written(frame, tracker):
        if len(list((tmp_path / "out").glob("frame_*.exr"))) >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_farm(_job(folder, tmp_path / "out", chunk=1), progress=interrupt_once_two_are_written, client=client)
    done = sorted(int(p.stem.split("_")[1]) for p in (tmp_path / "out").glob("frame_*.exr"))
    # every frame that came back was kept, also those that arrived ahead of an earlier one
    assert 2 <= len(done) < len(FRAMES)
    assert not list((tmp_path / "out").glob(".*.tmp"))
    (tmp_path / "out" / ".frame_000009.exr.0a1b2c3d.tmp").write_bytes(b"left by a killed client")
    result = run_farm(_job(folder, tmp_path / "out"), client=client)
    assert result.rendered == [n for n in FRAMES if n not in done] and result.skipped == len(done)
    assert not list((tmp_path / "out").glob(".*.tmp"))
    _assert_frames_equal_reference(tmp_path / "out", reference)
    assert run_farm(_job(folder, tmp_path / "out"), client=client).rendered == []


def test_changed_frames_or_settings_are_rendered_again(client, folder, tmp_path):
    run_farm(_job(folder, tmp_path / "out"), client=client)
    more = run_farm(_job(folder, tmp_path / "out", sampling={"samples": SAMPLES + 1}), client=client)
    assert more.rendered == FRAMES
    log = [json.loads(line) for line in (tmp_path / "out" / DONE_LOG).read_text().splitlines()]
    assert len(log) == 2 * len(FRAMES)
    (tmp_path / "out" / "frame_000004.exr").unlink()
    again = run_farm(_job(folder, tmp_path / "out", sampling={"samples": SAMPLES + 1}), client=client)
    assert again.rendered == [4]


def test_a_frame_that_keeps_failing_stops_the_farm_with_the_workers_error(client, folder, tmp_path):
    broken = tmp_path / "broken"
    writer = SequenceWriter(broken, [1, 2, 3, 4], render={"samples": 2})
    animation = Animation()
    for n in writer.frames:
        writer.write_frame(n, animation.scene(n))
    document = json.loads((broken / frame_name(3)).read_text())  # a patch of frame 1
    document["$patch"].append([["render", "width"], 0])
    (broken / frame_name(3)).write_text(json.dumps(document))
    with pytest.raises(FarmError, match=r"rendering failed after 1 retries: SequenceError: .*frame_000003.json: "
                                        r"render.width: expected an int > 0.*run again to resume"):
        run_farm(_job(broken, tmp_path / "out", chunk=1, retries=1), client=client)
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert "frame_000003.exr" not in written and "frame_000001.exr" in written
    assert not [n for n in written if n.endswith(".tmp")]


def test_a_worker_that_cannot_see_the_folder_says_so(client, tmp_path):
    future = client.submit(render_chunk, str(tmp_path / "elsewhere"), [1], settings_of(1, ()), 1, pure=False)
    with pytest.raises(ValueError, match=r"worker tcp://127.0.0.1:\d+: .*not an Optica sequence folder .*same path"):
        future.result(timeout=60)


def test_an_incomplete_folder_or_an_unknown_target_is_refused_before_any_worker_starts(folder, tmp_path):
    partial = tmp_path / "partial"
    SequenceWriter(partial, [1, 2])
    with pytest.raises(FarmError, match=r"frames 1, 2 have not been written yet"):
        run_farm(_job(partial, tmp_path / "out"))
    with pytest.raises(ValueError, match=r"film.gif: give a folder for the frames, or a video file \(.mp4"):
        run_farm(_job(folder, tmp_path / "film.gif"))
    assert not (tmp_path / "out").exists() and not (tmp_path / "film.gif").exists()


def test_the_reordering_sink_delivers_in_order_and_holds_a_bounded_number():
    class Sink:
        def __init__(self):
            self.frames, self.closed, self.aborted = [], False, False

        def write(self, frame):
            self.frames.append(frame.index)

        def close(self):
            self.closed = True

        def abort(self):
            self.aborted = True

    def frame(n):
        return Frame(np.zeros((1, 1, 3), np.float32), index=n)

    sink = Sink()
    ordered = ReorderingSink(sink, [3, 4, 5, 6], capacity=2)
    ordered.write(frame(5))
    ordered.write(frame(4))
    assert sink.frames == [] and ordered.waiting == 2
    with pytest.raises(RuntimeError, match="reorder buffer full"):
        ordered.write(frame(6))
    ordered.write(frame(3))
    assert sink.frames == [3, 4, 5]
    with pytest.raises(ValueError, match="frame 4 was not expected"):
        ordered.write(frame(4))
    with pytest.raises(RuntimeError, match=r"1 frames never arrived \(from frame 6 on\)"):
        ordered.close()
    ordered.write(frame(6))
    ordered.close()
    assert ordered.complete and sink.frames == [3, 4, 5, 6] and sink.closed
    ReorderingSink(sink, [1], capacity=1).abort()
    assert sink.aborted


def test_local_workers_run_in_sessions_of_their_own_and_end_with_their_cluster(client):
    """As PARALLEL's workers: autogroup scheduling shares a busy machine's CPU by session."""
    from optica_core.farm_cluster import local_client

    assert os.getsid(0) not in set(client.run(os.getsid, 0).values())
    with local_client(1, timeout=60) as own:
        ((pid, session),) = own.run(lambda: (os.getpid(), os.getsid(0))).values()
    assert session == pid  # the worker leads its own session
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "a worker outlived its cluster"



def test_the_local_cluster_listens_on_loopback_only_and_not_on_a_fixed_port(client):
    """Every socket the scheduler and its workers listen on is 127.0.0.1; the scheduler's HTTP
    server (it starts without a dashboard too) takes a free port, not 8787, where two farms at
    once collided ("Port 8787 is already in use")."""
    import psutil

    def listening() -> list[tuple[str, int]]:
        import psutil as ps
        return [(c.laddr.ip, c.laddr.port) for c in ps.Process().net_connections(kind="inet") if c.status == "LISTEN"]

    addresses = [a for addrs in client.run(listening).values() for a in addrs]
    addresses += [(c.laddr.ip, c.laddr.port) for c in psutil.Process().net_connections(kind="inet")
                  if c.status == "LISTEN"]
    assert addresses and {ip for ip, _port in addresses} == {"127.0.0.1"}, addresses
    assert 8787 not in {port for _ip, port in addresses}, addresses

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie not yet reaped by the nanny is gone too
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("frames, workers, chunk, sizes", [
    (24, 2, 0, [4, 4, 4, 3, 3, 2, 1, 1, 1, 1]),   # tapering: the last tasks are single frames
    (100, 2, 0, [8] * 9 + [7, 6, 4, 3, 2, 2, 1, 1, 1, 1]),
    (3, 4, 0, [1, 1, 1]),
    (7, 2, 3, [3, 3, 1]),                         # a given chunk is kept
])
def test_frames_are_cut_into_consecutive_chunks(frames, workers, chunk, sizes):
    todo = list(range(10, 10 + frames))
    chunks = chunk_frames(todo, workers, chunk)
    assert [len(c) for c in chunks] == sizes and sum(chunks, []) == todo


def test_sigint_of_the_farm_command_leaves_complete_frames_and_resumes(folder, tmp_path):
    """The command line with its own LocalCluster, interrupted by SIGINT in a child process."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "optica_core", "farm", str(folder), "--out", str(out), "--workers", "2",
               "--chunk", "1", "--samples", "120", "--passes", ",".join(PASS_NAMES), "--max-seconds", "200"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not list(out.glob("frame_*.exr")) and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.1)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=90)
    finally:
        child.kill()  # never leave a farm (its cluster shuts down with it) behind a failed test
        child.wait()
    assert child.returncode == cli.EXIT_INTERRUPTED, err
    assert "interrupted: nothing half-written was left; run the same command again to resume" in err
    done = {p.name for p in out.glob("frame_*.exr")}
    assert 1 <= len(done) < len(FRAMES) and not list(out.glob("*.tmp"))
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert f"rendered {len(FRAMES) - len(done)} frames ({len(done)} already done)" in finished.stderr


def test_a_run_past_its_deadline_stops_with_a_resumable_error(client, folder, tmp_path):
    job = _job(folder, tmp_path / "out", max_seconds=0.2, sampling={"samples": 300})
    with pytest.raises(FarmError, match=r"did not finish within 0.2 s; \d+ frames were written: run again to resume"):
        run_farm(job, client=client)
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_a_worker_sees_a_rewritten_manifest_and_keeps_its_arrays(folder, tmp_path):
    copy = tmp_path / "shot"
    shutil.copytree(folder, copy)
    seq = Sequence(copy)
    first = seq.load_frame(1)
    SequenceWriter(copy, [*FRAMES, 11]).write_frame(11, Animation().scene(11))
    fresh = seq.refresh()
    assert fresh is not seq and 11 in fresh.frames and seq.refresh() is not seq
    assert fresh.load_frame(11)["meshes"]["statue"]["vertices"] is first["meshes"]["statue"]["vertices"]
    assert fresh.refresh() is fresh


def test_a_running_scheduler_is_reached_by_its_address(client, folder, reference, tmp_path):
    rates = []
    job = _job(folder, tmp_path / "out", scheduler=client.scheduler.address, threads=1)
    result = run_farm(job, progress=lambda frame, tracker: rates.append((tracker.frames_per_second, tracker.eta)))
    assert result.rendered == FRAMES and len(result.per_worker) == 2
    assert all(fps > 0 for fps, _ in rates) and rates[-1][1] == 0 and rates[0][1] > 0
    _assert_frames_equal_reference(tmp_path / "out", reference, frames=FRAMES[:2])


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(folder, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert cli.main(["farm", str(folder), "--out", str(tmp_path / "file" / "frames"), "-q"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("optica_core: error: ") and "file/frames" in err


@pytest.mark.parametrize("option, value", [("workers", -1), ("chunk", -2), ("retries", -1), ("threads", 1.5)])
def test_bad_farm_options_are_refused(folder, tmp_path, option, value):
    with pytest.raises(ValueError, match=f"{option}: expected an int >= 0"):
        _job(folder, tmp_path / "out", **{option: value})


# --------------------------------------------------------------------------------------------
# --out VIDEO: frames encoded in order through the shared VideoSink, never a partial video


@pytest.fixture(scope="module")
def video_folder(tmp_path_factory):
    """The same animation, with the colour and encoder settings a Blender export writes."""
    path = tmp_path_factory.mktemp("farm-video") / "shot"
    animation = Animation()
    writer = SequenceWriter(path, FRAMES, fps=(24, 1), render={"samples": SAMPLES}, color={"view": "Standard"},
                            encoder={"codec": "H264", "encoder": "CPU", "crf": 4, "preset": "FASTER"},
                            ocio_config=colour.find_blender_config())
    for n in FRAMES:
        writer.write_frame(n, animation.scene(n))
    return path


@pytest.fixture(scope="module")
def display_reference(reference):
    """The reference frames as the 8-bit images an encoder must be handed."""
    processor = colour.DisplayProcessor(colour.ViewSettings(view="Standard"), colour.find_blender_config())
    return {n: processor.to_uint8(images["combined"]) for n, images in reference.items()}


def _video_frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _assert_video_is_the_reference(target, handed, display_reference):
    assert len(handed) == len(FRAMES) and _video_frames(target) == len(FRAMES)
    for n, frame in zip(FRAMES, handed):
        assert np.array_equal(frame, display_reference[n]), n
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no partial video, no state


av = pytest.importorskip("av")
from optica_core.sinks import colour, video  # noqa: E402


def test_the_farms_video_is_made_of_the_frames_of_one_process(client, video_folder, display_reference, handed,
                                                              tmp_path):
    target = tmp_path / "out" / "shot.mp4"
    result = run_farm(_job(video_folder, target, passes=("combined",)), client=client)
    assert result.rendered == FRAMES and result.path == str(target)
    _assert_video_is_the_reference(target, handed, display_reference)


def test_a_killed_worker_still_yields_a_complete_video(client, video_folder, display_reference, handed, tmp_path):
    kill_one, killed = _killer(client)
    target = tmp_path / "shot.mp4"
    result = run_farm(_job(video_folder, target, chunk=1, passes=()), progress=kill_one, client=client)
    assert killed and result.rendered == FRAMES
    _assert_video_is_the_reference(target, handed, display_reference)
    client.wait_for_workers(2, timeout=60)
    assert os.getsid(0) not in set(client.run(os.getsid, 0).values())  # the restarted one too


def test_a_video_rerun_after_an_interrupt_renders_only_the_missing_frames(client, video_folder, display_reference,
                                                                          handed, tmp_path):
    target = tmp_path / "shot.mp4"
    state = tmp_path / ".shot.mp4.optica-farm"

    def interrupt_after_three(frame, tracker):
        if tracker.count >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_farm(_job(video_folder, target, chunk=1, passes=()), progress=interrupt_after_three, client=client)
    kept = sorted(int(p.stem.split("_")[1]) for p in state.glob("frame_*.png"))
    assert 3 <= len(kept) < len(FRAMES)  # every frame that came back, in order or not
    assert sorted(p.name for p in tmp_path.iterdir()) == [state.name]  # no video, no partial video
    handed.clear()
    result = run_farm(_job(video_folder, target, passes=()), client=client)
    assert result.rendered == [n for n in FRAMES if n not in kept] and result.skipped == len(kept)
    _assert_video_is_the_reference(target, handed, display_reference)


def test_a_full_disk_while_encoding_keeps_the_frames_and_no_video(client, video_folder, monkeypatch, tmp_path):
    write = video.VideoWriter.write

    def disk_full_at_the_third_frame(self, frame):
        if self.frames == 2:
            raise OSError(28, "No space left on device")
        return write(self, frame)

    monkeypatch.setattr(video.VideoWriter, "write", disk_full_at_the_third_frame)
    target = tmp_path / "shot.mp4"
    with pytest.raises(FarmError, match=r"OSError: \[Errno 28\] No space left on device; no video was written; "
                                        r"\d+ rendered frames are kept in .*\.shot\.mp4\.optica-farm: run again"):
        run_farm(_job(video_folder, target, passes=()), client=client)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".shot.mp4.optica-farm"]
    assert not list((tmp_path / ".shot.mp4.optica-farm").glob(".*.tmp"))


def test_a_bad_frame_file_stops_the_video_with_a_resumable_state(client, tmp_path):
    broken = tmp_path / "broken"
    writer = SequenceWriter(broken, [1, 2, 3], render={"samples": 2}, color={"view": "Standard"},
                            encoder={"encoder": "CPU"}, ocio_config=colour.find_blender_config())
    animation = Animation()
    for n in writer.frames:
        writer.write_frame(n, animation.scene(n))
    (broken / frame_name(3)).write_text("{not json")
    target = tmp_path / "out" / "shot.mp4"
    with pytest.raises(FarmError, match=r"frame_000003.json is not valid JSON.*no video was written; [012] rendered "
                                        r"frames are kept in .*\.shot\.mp4\.optica-farm: run again to resume"):
        run_farm(_job(broken, target, chunk=1, retries=0, passes=()), client=client)
    assert sorted(p.name for p in target.parent.iterdir()) == [".shot.mp4.optica-farm"]
    assert {p.name for p in (target.parent / ".shot.mp4.optica-farm").iterdir()} <= {
        "frame_000001.png", "frame_000002.png", DONE_LOG}


def test_video_settings_are_checked_before_any_worker_starts(video_folder, tmp_path):
    with pytest.raises(ValueError, match="a video holds the combined image only"):
        run_farm(_job(video_folder, tmp_path / "a.mp4"))
    bogus = tmp_path / "bogus"
    shutil.copytree(video_folder, bogus)
    manifest = json.loads((bogus / "manifest.json").read_text())
    manifest["encoder"]["speed"] = 11
    (bogus / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"bogus: encoder settings: unknown encoder settings speed"):
        run_farm(_job(bogus, tmp_path / "a.mp4", passes=()))
    shutil.rmtree(bogus)
    with pytest.raises(ValueError, match=r"AV1 cannot be stored in a .mov file"):
        shot = tmp_path / "shot"
        shutil.copytree(video_folder, shot)
        manifest = json.loads((shot / "manifest.json").read_text())
        manifest["encoder"]["codec"] = "AV1"
        (shot / "manifest.json").write_text(json.dumps(manifest))
        run_farm(_job(shot, tmp_path / "a.mov", passes=()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot"]
