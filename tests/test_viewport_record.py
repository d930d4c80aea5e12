# SPDX-License-Identifier: GPL-3.0-or-later
"""Recording the viewport to video (addon/viewport/recording.py, operators/record.py) with the
installed extension in real Blender, real PyAV/x264 and Blender's OCIO configuration.

The session is driven headlessly as the viewport tests do (the session under the drawing
layer: `update()` with real depsgraphs); recordings run in real time, so timings are checked
with tolerances and counts against the recording's own report. A killed recording runs in a
child process (Blender as a module, the extension already installed in this session's user
folders) that the test SIGKILLs.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import pytest
from conftest import ADDON_MODULE, optica_module
from test_viewport import scene as viewport_scene  # noqa: F401 - a fixture

W, H = 64, 36


@pytest.fixture
def scene(viewport_scene):
    """test_viewport's scene (a plane, a red box, a ball, a sun, a camera), with the Standard
    view transform."""
    s = viewport_scene
    s.optica.viewport_samples = 2
    for prop in s.optica_record.bl_rna.properties:  # the recording settings' defaults
        if prop.identifier != "rna_type":
            s.optica_record.property_unset(prop.identifier)
    vs = s.view_settings
    vs.view_transform, vs.look, vs.exposure, vs.gamma = "Standard", "None", 0.0, 1.0
    s.display_settings.display_device = "sRGB"
    return s


@pytest.fixture
def vp(optica_installed):
    return optica_module("addon.viewport")


@pytest.fixture
def rec_mod(optica_installed):
    return optica_module("addon.viewport.recording")


@pytest.fixture
def record_op(optica_installed):
    return optica_module("operators.record")


def _view(vp, scene, width=W, height=H):
    m = scene.camera.matrix_world.inverted()
    return vp.ViewState(width=width, height=height, view_matrix=tuple(v for row in m for v in row))


@pytest.fixture
def session(vp, scene):
    s = vp.ViewportSession()
    view = _view(vp, scene)
    s.update(bpy.context.evaluated_depsgraph_get(), view)
    s.wait(done=True)
    yield s
    s.stop()


def _options(rec_mod, path, **kw):
    video = optica_module("operators.record").video
    enc = dict(encoder="CPU", preset="FASTEST", crf=18)
    enc.update(kw.pop("encoder", {}))
    return rec_mod.RecordOptions(path=str(path), encoder=video.EncoderSettings(**enc), **kw)


def _config():
    return optica_module("operators.export.colour").blender_config_path()


def _move(session, scene, vp, dx=0.3):
    """Moves the box: the session restarts and publishes new images."""
    scene.objects["Box"].location.x += dx
    dg = bpy.context.evaluated_depsgraph_get()
    session.update(dg, session.view, vp.Changes(moved=("Box",)))
    session.wait(done=True)


def decode(path):
    """[(time in seconds, (h, w, 3) uint8 RGB)], and the stream's (width, height)."""
    out = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        size = (s.width, s.height)
        for f in c.decode(s):
            out.append((float(f.time), f.to_ndarray(format="rgb24")))
    return out, size


class Arrivals:
    """A sink noting when each published frame arrived (beside the recording)."""

    def __init__(self):
        self.times = []

    def write(self, frame):
        self.times.append(time.monotonic())

    def close(self):
        pass

    def abort(self):
        pass


# ---------------------------------------------------------------------------------------------
# constant and variable frame rate


def test_cfr_recording_frame_count_timestamps_and_colour(scene, vp, rec_mod, session, tmp_path):
    scene.view_settings.exposure = 1.0  # the viewport's colour management, not a default one
    session.update(bpy.context.evaluated_depsgraph_get(), session.view)
    rec = rec_mod.start(session, _options(rec_mod, tmp_path / "cfr.mp4", rate="CFR", fps=20), _config())
    assert rec_mod.recording_of(session) is rec and rec in session.sinks
    time.sleep(0.5)
    shown = session.draw_data()
    _move(session, scene, vp)
    time.sleep(0.6)
    after = session.draw_data()
    assert rec_mod.stop(session) is rec
    assert rec_mod.recording_of(session) is None and rec not in session.sinks and rec.error is None

    frames, size = decode(rec.path)
    st = rec.stats
    assert size == (W, H)
    assert len(frames) == st.frames == st.images + st.repeated
    assert st.images >= 2 and st.repeated > 0  # the still image repeated, the moved box new
    ticks = [round(t * 20) for t, _ in frames]
    assert all(abs(t * 20 - k) < 0.02 for (t, _), k in zip(frames, ticks, strict=True))  # on the 1/20 s grid
    assert ticks == sorted(set(ticks)) and ticks[0] == 0
    assert ticks[-1] + 1 == len(frames) + st.late  # every tick written, or counted as late
    assert abs((ticks[-1] + 1) / 20 - st.seconds) <= 0.06  # wall-clock time, not encode speed
    assert 1.0 <= st.seconds <= 10.0

    processor = optica_module("operators.export.colour").DisplayProcessor(shown.view, _config())
    assert shown.view.exposure == 1.0
    for (_t, got), want in ((frames[0], shown), (frames[-1], after)):
        ref = processor.to_uint8(want.pixels)
        assert np.abs(got.astype(int) - ref.astype(int)).mean() < 3.0
    assert np.abs(frames[0][1].astype(int) - frames[-1][1].astype(int)).mean() > 1.0  # the box moved
    assert "20 fps constant" in rec.summary() and f"{st.frames} frames" in rec.summary()


def test_vfr_recording_has_the_true_timestamps(scene, vp, rec_mod, session, tmp_path):
    rec = rec_mod.start(session, _options(rec_mod, tmp_path / "vfr.mkv", rate="VFR"), _config())
    arrivals = Arrivals()
    session.attach(arrivals)  # like the recording, it gets the image on screen at once
    assert len(arrivals.times) == 1  # on this thread, not after the worker's next batch
    for _ in range(3):
        time.sleep(0.25)
        _move(session, scene, vp)
    time.sleep(0.3)
    rec_mod.stop(session)
    session.detach(arrivals)

    frames, _size = decode(rec.path)
    st = rec.stats
    assert len(frames) == st.frames == st.images + st.repeated and st.repeated == 1  # the hold at the stop
    # the image on screen, then every image the session published reached the recording:
    # encoded or dropped, never waited for
    assert st.images + st.dropped == len(arrivals.times)
    published, t0 = arrivals.times[1:], rec.started
    times = [t for t, _ in frames]
    assert times[0] == 0.0 and times == sorted(times)
    for t in times[1:-1]:  # each at the time its image was published (1 ms resolution; the two
        # sinks get each image one after the other, a busy machine may preempt in between)
        assert min(abs((a - t0) - t) for a in published) <= 0.01, t
    assert abs(times[-1] - st.seconds) <= 0.002  # the last image held until the stop
    assert st.images >= 4


def test_attach_and_detach_twice_in_one_session(scene, vp, rec_mod, session, tmp_path):
    display = vp.Display()
    session.attach(display)
    paths = []
    for _ in range(2):
        rec = rec_mod.start(session, _options(rec_mod, tmp_path / "take.mp4", rate="CFR", fps=10), _config())
        time.sleep(0.35)
        _move(session, scene, vp, dx=0.2)
        rec_mod.stop(session)
        frames, size = decode(rec.path)
        assert len(frames) == rec.stats.frames >= 3 and size == (W, H)
        paths.append(rec.path.name)
    assert paths == ["take.mp4", "take_001.mp4"]  # never over an earlier recording
    assert session.running and display in session.sinks and len(session.sinks) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == paths


def test_resize_keeps_the_size_letterboxed(scene, vp, rec_mod, session, tmp_path):
    rec = rec_mod.start(session, _options(rec_mod, tmp_path / "resize.mp4", fps=10), _config())
    time.sleep(0.3)
    narrow = _view(vp, scene, width=32, height=36)  # half as wide: bars left and right
    session.update_view(narrow)
    session.wait(done=True)
    time.sleep(0.3)
    rec_mod.stop(session)
    frames, size = decode(rec.path)
    assert size == (W, H) and all(f.shape == (H, W, 3) for _, f in frames)
    first, last = frames[0][1].astype(int), frames[-1][1].astype(int)
    assert first[:, :6].mean() > 20  # the whole width was the render
    bars = np.concatenate([last[:, :14], last[:, -14:]], axis=1)
    assert bars.max() <= 20 and last[:, 20:44].mean() > 20  # 32×36 scaled 1× in the middle of 64
    assert rec_mod.placement((32, 36), (0, 0, 32, 36), (W, H)) == (16, 0, 32, 36)
    assert rec_mod.placement((128, 36), (0, 0, 128, 36), (W, H)) == (0, 9, 64, 18)


def test_colour_settings_changed_while_recording(scene, vp, rec_mod, session, tmp_path):
    """A still viewport whose exposure changes: the session publishes its image again with the
    new view, and the recording follows what the view draws."""
    rec = rec_mod.start(session, _options(rec_mod, tmp_path / "exposure.mp4", fps=10), _config())
    time.sleep(0.3)
    scene.view_settings.exposure = 2.0
    gen = session.generation
    session.update(bpy.context.evaluated_depsgraph_get(), session.view, vp.Changes())
    assert session.generation == gen  # nothing restarted
    time.sleep(0.4)
    rec_mod.stop(session)
    frames, _ = decode(rec.path)
    assert frames[-1][1].mean() > frames[0][1].mean() + 20
    assert rec.stats.images >= 2


# ---------------------------------------------------------------------------------------------
# the source never waits


def test_a_slow_encoder_drops_images_and_never_blocks_the_source(vp, rec_mod, tmp_path):
    """While the encoder is busy with one image (held here until the source is done), write()
    returns at once and every newer image but the last is counted as dropped; the held image and
    the last one are encoded. Deterministic: no race against the machine's load."""
    video = optica_module("operators.record").video
    settings = video.EncoderSettings(encoder="CPU", preset="FASTEST")

    class HeldWriter(video.VideoWriter):
        release = threading.Event()
        entered = threading.Event()

        def write(self, rgb, pts=None):
            self.entered.set()
            assert self.release.wait(30), "the test never released the encoder"
            return super().write(rgb, pts)

    writer = HeldWriter(tmp_path / "slow.mkv", 320, 180, Fraction(30), settings, live=True)
    processors = optica_module("operators.export.colour").Processors(_config())
    view = optica_module("addon.viewport.colour").ViewSettings(view="Standard")
    rec = rec_mod.Recording(writer, processors, rate="VFR")
    image = np.random.default_rng(1).random((180, 320, 4), dtype=np.float32)

    def frame(k):
        return vp.DrawFrame(image, index=k, view=view, region=(320, 180), rect=(0, 0, 320, 180))

    rec.write(frame(0))
    assert HeldWriter.entered.wait(30), "the recording never started encoding"
    waits = []
    for k in range(1, 40):
        t = time.perf_counter()
        rec.write(frame(k))
        waits.append(time.perf_counter() - t)
    HeldWriter.release.set()
    rec.close()
    # a write only swaps the newest image in: never the encoder's time (blocked here for good)
    assert max(waits) < 1.0
    assert rec.stats.dropped == 38 and rec.stats.images == 2
    frames, _ = decode(rec.path)
    assert len(frames) == rec.stats.frames == 2


def test_a_sink_that_refuses_the_image_on_screen_is_not_attached(session):
    class Refuses(Arrivals):
        aborted = False

        def write(self, frame):
            raise ValueError("no thanks")

        def abort(self):
            self.aborted = True

    sink = Refuses()
    with pytest.raises(ValueError, match="no thanks"):
        session.attach(sink)
    assert sink not in session.sinks and sink.aborted and session.running


def test_an_error_while_recording_stops_it_and_keeps_the_file(vp, rec_mod, session, tmp_path):
    rec = rec_mod.start(session, _options(rec_mod, tmp_path / "err.mkv", rate="VFR"), _config())
    time.sleep(0.3)
    good = session.draw_data()
    bad = vp.DrawFrame(np.zeros((H, W), np.float32), index=good.index + 1, view=good.view)  # no channels
    session.sinks.publish(bad)
    deadline = time.monotonic() + 10
    while rec.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    session.sinks.publish(good)  # the failed recording raises: the session detaches it
    assert rec.closed and rec not in session.sinks and session.running
    assert "expected an (h, w, 3|4) image" in str(rec.error)
    assert session.message.startswith("Recording stopped: ValueError") and "err.mkv" in session.message
    assert rec_mod.recording_of(session) is None and "stopped by an error" in rec.summary()
    frames, _ = decode(rec.path)
    assert len(frames) == rec.stats.frames >= 1


# ---------------------------------------------------------------------------------------------
# a crash leaves a playable file

_CHILD = textwrap.dedent(
    """
    import importlib, sys, time
    import bpy
    import addon_utils
    addon_utils.enable({addon!r}, default_set=True)  # installed in this test session's user folders
    vp = importlib.import_module({addon!r} + ".addon.viewport")
    rec_mod = importlib.import_module({addon!r} + ".addon.viewport.recording")
    colour = importlib.import_module({addon!r} + ".operators.export.colour")
    video = importlib.import_module("optica_core.sinks.video")
    s = bpy.context.scene  # Blender's startup scene: a cube, a light, a camera
    s.render.engine = "OPTICA"
    s.optica.viewport_samples = 100000
    session = vp.ViewportSession()
    m = s.camera.matrix_world.inverted()
    session.update(bpy.context.evaluated_depsgraph_get(),
                   vp.ViewState(width=96, height=54, view_matrix=tuple(v for r in m for v in r)))
    session.wait()
    opts = rec_mod.RecordOptions(path={path!r}, rate="CFR", fps=25,
                                 encoder=video.EncoderSettings(encoder="CPU", preset="FASTEST"))
    rec = rec_mod.start(session, opts, colour.blender_config_path())
    deadline = time.monotonic() + 60
    while rec.writer.frames < 40:
        if time.monotonic() > deadline or rec.error:
            sys.exit(f"the recording did not progress: {{rec.error}}")
        time.sleep(0.02)
    print("RECORDING", rec.writer.frames, flush=True)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_a_killed_recording_leaves_a_playable_file(optica_installed, tmp_path, ext):
    path = tmp_path / f"killed{ext}"
    script = _CHILD.format(addon=ADDON_MODULE, path=str(path))
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "RECORDING" not in line and time.monotonic() < deadline and child.poll() is None:
            line = child.stdout.readline()
        assert "RECORDING" in line, child.stderr.read() if child.poll() is not None else "no start"
        written = int(line.split()[1])
        time.sleep(0.5)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    frames, size = decode(path)
    assert size == (96, 54)
    # the frames of all fragments flushed before the kill: at most a fragment and the encoder's
    # few frames of delay are lost
    assert len(frames) >= written - 15
    times = [t for t, _ in frames]
    assert times == sorted(times) and all(abs(t * 25 - round(t * 25)) < 0.02 for t in times)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# ---------------------------------------------------------------------------------------------
# errors before anything starts


def test_unwritable_path_is_a_clear_error_before_anything_starts(rec_mod, session, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    sinks = len(session.sinks)
    with pytest.raises(rec_mod.RecordError, match=r"cannot write the recording to .*a-file/rec\.mp4: .*"):
        rec_mod.start(session, _options(rec_mod, blocker / "rec.mp4"), _config())
    with pytest.raises(rec_mod.RecordError, match=r"'rec\.avi' is not a video file Optica records"):
        rec_mod.start(session, _options(rec_mod, tmp_path / "rec.avi"), _config())
    with pytest.raises(rec_mod.RecordError, match=r"frame rate 0 is out of range"):
        rec_mod.start(session, _options(rec_mod, tmp_path / "rec.mp4", fps=0), _config())
    with pytest.raises(rec_mod.RecordError, match=r"AV1 cannot be stored in a \.mov file"):
        rec_mod.start(session, _options(rec_mod, tmp_path / "rec.mov", encoder=dict(codec="AV1")), _config())
    assert len(session.sinks) == sinks and rec_mod.recording_of(session) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_nvenc_asked_for_where_there_is_none(rec_mod, session, tmp_path):
    with pytest.raises(rec_mod.RecordError, match=r"NVENC is not available.*\bCPU\b.*libx264"):
        rec_mod.start(session, _options(rec_mod, tmp_path / "nv.mp4", encoder=dict(encoder="NVENC")), _config())
    assert list(tmp_path.iterdir()) == []
    rec = rec_mod.start(session, _options(rec_mod, tmp_path / "auto.mp4", encoder=dict(encoder="AUTO")), _config())
    time.sleep(0.2)
    rec_mod.stop(session)
    assert rec.writer.choice.kind == "CPU" and "no usable NVIDIA GPU" in rec.writer.choice.note
    assert "libx264, CPU" in rec.summary()


def test_second_start_and_a_session_that_is_not_rendering(vp, rec_mod, session, tmp_path):
    rec_mod.start(session, _options(rec_mod, tmp_path / "one.mp4"), _config())
    time.sleep(0.2)  # the first image (a recording stopped before any is removed)
    with pytest.raises(rec_mod.RecordError, match="already recording to .*one.mp4"):
        rec_mod.start(session, _options(rec_mod, tmp_path / "two.mp4"), _config())
    rec_mod.stop(session)
    assert rec_mod.stop(session) is None
    idle = vp.ViewportSession()
    try:
        with pytest.raises(rec_mod.RecordError, match="not rendering"):
            rec_mod.start(idle, _options(rec_mod, tmp_path / "three.mp4"), _config())
    finally:
        idle.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.mp4"]


def test_session_stop_finalizes_the_recording(vp, rec_mod, scene, tmp_path):
    """Leaving Rendered shading (or Blender's exit) stops the session: the file is complete."""
    s = vp.ViewportSession()
    s.update(bpy.context.evaluated_depsgraph_get(), _view(vp, scene))
    s.wait(done=True)
    rec = rec_mod.start(s, _options(rec_mod, tmp_path / "end.mp4", fps=10), _config())
    time.sleep(0.3)
    s.stop()
    assert rec.closed and rec_mod.recording_of(s) is None
    frames, _ = decode(rec.path)
    assert len(frames) == rec.stats.frames >= 2


# ---------------------------------------------------------------------------------------------
# Blender's side: settings, operator, header


def test_settings_operator_and_header(scene, rec_mod, record_op, tmp_path):
    rs = scene.optica_record
    props, export_props = rs.bl_rna.properties, scene.optica_export.bl_rna.properties
    assert props["preset"].default == "FASTEST" and export_props["preset"].default == "MEDIUM"
    assert props["crf"].description == export_props["crf"].description  # one definition: the export's
    assert {i.identifier for i in props["codec"].enum_items} == {"H264", "HEVC", "AV1"}
    rs.filepath, rs.rate_mode, rs.fps, rs.codec, rs.crf, rs.preset = "//clip.mkv", "VFR", 24, "HEVC", 26, "FAST"
    opts = record_op.record_options(scene)
    assert opts.rate == "VFR" and opts.fps == 24
    assert (opts.encoder.codec, opts.encoder.crf, opts.encoder.preset) == ("HEVC", 26, "FAST")
    assert not bpy.data.filepath and Path(opts.path).parent == Path(record_op.tempfile.gettempdir())
    rs.filepath = str(tmp_path / "abs.mp4")
    assert record_op.record_options(scene).path == str(tmp_path / "abs.mp4")
    # headless there is no 3D view: the operator refuses with its reason
    assert not bpy.ops.optica.viewport_record.poll()
    with pytest.raises(RuntimeError, match=r"viewport_record\.poll\(\)"):
        bpy.ops.optica.viewport_record()
    ui = optica_module("ui.recording")
    assert ui.draw_record_toggle in bpy.types.VIEW3D_HT_header._dyn_ui_initialize()
    assert ui._recording_status is record_op.is_recording


@pytest.fixture
def view3d():
    """The 3D view of the startup file's Layout screen (a real screen: bpy as a module has a
    window), in Rendered shading; (screen, area, WINDOW region)."""
    screen, area = next((sc, a) for sc in bpy.data.screens for a in sc.areas if a.type == 'VIEW_3D')
    region = next(r for r in area.regions if r.type == 'WINDOW')
    shading = area.spaces.active.shading
    old, shading.type = shading.type, 'RENDERED'
    yield screen, area, region
    shading.type = old


def test_the_operator_toggles_a_recording_in_a_3d_view(scene, record_op, session, view3d, tmp_path, capfd):
    """The operator in a real 3D view's context (the view's render session is the driven one:
    view_draw, which would note it, needs a window that draws)."""
    screen, area, region = view3d
    scene.optica_record.filepath = str(tmp_path / "op.mkv")
    scene.optica_record.fps = 10
    entry = optica_module("addon.viewport.entry")
    with bpy.context.temp_override(screen=screen, area=area, region=region):
        assert bpy.ops.optica.viewport_record.poll()
        with pytest.raises(RuntimeError, match="this 3D view has not started rendering yet"):
            bpy.ops.optica.viewport_record()
        entry._note_region(bpy.context, session)  # what view_update / view_draw do
        assert entry.session_in_area(area) is session and not record_op.is_recording(bpy.context)
        assert bpy.ops.optica.viewport_record() == {'FINISHED'}
        assert record_op.is_recording(bpy.context)
        time.sleep(0.4)
        assert bpy.ops.optica.viewport_record() == {'FINISHED'}  # the toggle stops it
        assert not record_op.is_recording(bpy.context)
        assert bpy.ops.optica.viewport_record(action='STOP') == {'CANCELLED'}
        scene.optica_record.encoder = 'NVENC'
        with pytest.raises(RuntimeError, match="NVENC is not available"):
            bpy.ops.optica.viewport_record(action='START')
    out = capfd.readouterr().out
    assert f"recording to {tmp_path / 'op.mkv'} with H.264 (libx264, CPU)" in out
    assert "recorded" in out and "10 fps constant" in out and "this 3D view is not recording" in out
    frames, _ = decode(tmp_path / "op.mkv")
    assert len(frames) >= 3 and sorted(p.name for p in tmp_path.iterdir()) == ["op.mkv"]


def test_live_writer_never_replaces_a_file(optica_installed, tmp_path):
    video = optica_module("operators.record").video
    old = tmp_path / "old.mp4"
    old.write_bytes(b"keep me")
    with pytest.raises(video.EncoderError, match="exists: a recording never replaces a file"):
        video.VideoWriter(old, 32, 32, Fraction(25), video.EncoderSettings(encoder="CPU"), live=True)
    assert old.read_bytes() == b"keep me"
    w = video.VideoWriter(tmp_path / "new.mp4", 32, 32, Fraction(25), video.EncoderSettings(encoder="CPU"), live=True)
    with pytest.raises(ValueError, match="repeat"):
        w.repeat(3)
    w.abort()  # nothing written: nothing left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.mp4"]
