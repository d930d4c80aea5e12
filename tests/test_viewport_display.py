# SPDX-License-Identifier: GPL-3.0-or-later
"""The viewport's drawing, for real: a RenderEngine with `bl_use_gpu_context = True` gets a GPU
context even in background mode (Mesa llvmpipe through EGL, FACTS.md), so `Display.draw` runs
into a `GPUOffScreen` and the drawn pixels are read back — orientation, border placement,
blending and pixel-size upscaling. Also the viewport's rough edges: drawing
errors, stopped sessions, a non-blocking stop, Blender's viewport pixel size, Material Preview.
"""

import logging
import threading
import time

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import pytest
from conftest import empty_scene, optica_module

W, H = 32, 16
BACKGROUND = (0.25, 0.25, 0.25, 1.0)


def _shown(linear):
    """What a drawn linear value reads back as from the offscreen: itself. (The display-space
    shader bound by the engine leaves values unchanged in an offscreen of a final render —
    measured: an exposure of +1 changes nothing there — so Blender's view transform is not
    observable in this test; in the 3D view the same shader applies it.)"""
    return np.asarray(linear, np.float64)


def _frame(vp, pixels, rect, pixel_size=1, serial=1):
    return vp.DrawFrame(np.asarray(pixels, np.float32), index=serial, pixel_size=pixel_size, rect=rect)


def _run_in_gpu_engine(job):
    """Runs job(engine, scene) inside a final render of an engine with a GPU context; returns
    what it returned."""
    out = {}

    class OPTICA_TEST_gpu_engine(bpy.types.RenderEngine):
        bl_idname = "OPTICA_TEST_GPU"
        bl_label = "Optica GPU test"
        bl_use_gpu_context = True

        def render(self, depsgraph):
            try:
                out["value"] = job(self, depsgraph.scene)
            except BaseException as e:  # noqa: BLE001 - re-raised in the test
                out["error"] = e
            result = self.begin_result(0, 0, self.resolution_x, self.resolution_y)
            self.end_result(result)

    bpy.utils.register_class(OPTICA_TEST_gpu_engine)
    scene = bpy.context.scene
    try:
        scene.render.engine = OPTICA_TEST_gpu_engine.bl_idname
        scene.render.resolution_x, scene.render.resolution_y = 4, 4
        bpy.ops.render.render()
    finally:
        scene.render.engine = "OPTICA"
        bpy.utils.unregister_class(OPTICA_TEST_gpu_engine)
    if "error" in out:
        raise out["error"]
    return out["value"]


def _draw_offscreen(engine, scene, display, frame):
    """`frame` drawn by `display` over a grey background; (H, W, 4) float, bottom row first."""
    import gpu
    from mathutils import Matrix

    offscreen = gpu.types.GPUOffScreen(W, H)
    try:
        with offscreen.bind():
            fb = gpu.state.active_framebuffer_get()
            fb.clear(color=BACKGROUND)
            with gpu.matrix.push_pop(), gpu.matrix.push_pop_projection():
                gpu.matrix.load_matrix(Matrix.Identity(4))
                # region pixels → normalized device coordinates, as view_draw's own projection
                gpu.matrix.load_projection_matrix(
                    Matrix(((2 / W, 0, 0, -1), (0, 2 / H, 0, -1), (0, 0, 1, 0), (0, 0, 0, 1)))
                )
                display.draw(engine, scene, frame)
            pixels = np.array(fb.read_color(0, 0, W, H, 4, 0, "FLOAT").to_list(), np.float32)
    finally:
        offscreen.free()
    return pixels.reshape(H, W, 4)


@pytest.fixture
def scene(optica_installed):
    s = empty_scene()
    vs = s.view_settings
    vs.view_transform, vs.look, vs.exposure, vs.gamma = "Standard", "None", 0.0, 1.0
    s.display_settings.display_device = "sRGB"
    camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    s.collection.objects.link(camera)
    s.camera = camera  # Blender renders nothing without one
    return s


@pytest.fixture
def vp():
    return optica_module("addon.viewport")


def test_drawing_orientation_border_blending_and_pixel_size(scene, vp):
    red, blue = (0.8, 0.05, 0.05, 1.0), (0.05, 0.1, 0.9, 1.0)
    tall = np.zeros((4, 8, 4), np.float32)
    tall[:2], tall[2:] = red, blue  # top rows red, bottom rows blue (film rows run top first)
    half = np.zeros((2, 2, 4), np.float32)
    half[..., :] = (0.18, 0.18, 0.18, 1.0)
    half[0, 0] = (0.0, 0.0, 0.0, 0.0)  # transparent: the background shows
    half[0, 1] = (0.4, 0.4, 0.4, 0.5)  # premultiplied: half covered

    def job(engine, scene):
        display = vp.Display()
        drawn = {"orient": _draw_offscreen(engine, scene, display, _frame(vp, tall, (8, 4, 16, 8)))}
        # pixel size 4: a 2×2 film over 8×8 region pixels at (4, 4)
        drawn["blocks"] = _draw_offscreen(engine, scene, display, _frame(vp, half, (4, 4, 8, 8), 4, serial=2))
        return drawn

    drawn = _run_in_gpu_engine(job)
    got = drawn["orient"]  # bottom row first
    bg = np.array(BACKGROUND[:3])  # cleared, not drawn: no colour management
    assert np.allclose(got[0, 0, :3], bg, atol=2 / 255)  # outside the rectangle: untouched
    assert np.allclose(got[3, 10, :3], bg, atol=2 / 255) and np.allclose(got[12, 10, :3], bg, atol=2 / 255)
    # (the film is stretched 2× over the rectangle: rows next to the seam are filtered)
    assert np.allclose(got[4:7, 8:24, :3], _shown(blue[:3]), atol=2 / 255)  # the bottom of the rect: blue
    assert np.allclose(got[9:12, 8:24, :3], _shown(red[:3]), atol=2 / 255)  # the top: red
    assert np.allclose(got[4:12, 7, :3], bg, atol=2 / 255) and np.allclose(got[4:12, 24, :3], bg, atol=2 / 255)

    blocks = drawn["blocks"]
    grey = _shown([0.18] * 3)
    assert np.allclose(blocks[5, 5, :3], grey, atol=2 / 255)  # film pixel (row 1, col 0): bottom-left block
    assert np.allclose(blocks[5, 10, :3], grey, atol=2 / 255)
    assert np.allclose(blocks[10, 5, :3], bg, atol=2 / 255)  # the transparent film pixel (top-left)
    half_covered = blocks[10, 10, :3]  # premultiplied 0.4 at alpha 0.5 over the background
    assert np.all(half_covered > bg + 0.05) and np.all(half_covered < _shown([0.8] * 3))
    assert np.allclose(blocks[2, 2, :3], bg, atol=2 / 255) and np.allclose(blocks[13, 13, :3], bg, atol=2 / 255)


def test_drawing_error_is_reported_once_and_never_raised(scene, vp, caplog):
    """A frame the display cannot draw: view_draw's drawing says so in the status line and the
    log, once, instead of raising into Blender's draw loop on every redraw."""
    entry = vp.entry
    session = vp.ViewportSession()
    try:
        display = vp.Display()
        display.write(_frame(vp, np.ones((2, 2, 3)), (0, 0, 2, 2)))  # RGB: not a viewport image

        class Engine:  # what entry.draw reads of an engine: its display
            _optica_display = display

        entry._said.clear()
        with caplog.at_level(logging.ERROR):
            entry.draw(Engine(), scene, session)
            entry.draw(Engine(), scene, session)
        assert "must be (h, w, 4)" in session.message
        assert sum("drawing failed" in r.getMessage() for r in caplog.records) == 1
    finally:
        session.stop()


def test_stopped_session_is_replaced(scene, vp):
    def job(engine, scene):
        first = vp.session_for(engine)
        first.stop()
        second = vp.session_for(engine)
        alive = second.running and second is not first and engine._optica_display in second.sinks
        second.stop()
        return alive

    assert _run_in_gpu_engine(job)


def test_stop_without_waiting_returns_during_a_scene_build(scene, vp, monkeypatch):
    """Leaving Rendered shading frees the engine: the session stops without waiting for a scene
    build in progress (the UI never blocks); the thread ends once the build is done."""
    import optica_core

    building = threading.Event()
    real = optica_core.Renderer.set_scene

    def slow_set_scene(self, d):
        building.set()
        time.sleep(1.5)  # a large scene's BVH build, which cannot be interrupted
        return real(self, d)

    monkeypatch.setattr(optica_core.Renderer, "set_scene", slow_set_scene)
    session = vp.ViewportSession()
    session.update(bpy.context.evaluated_depsgraph_get(), vp.ViewState(width=8, height=8))
    assert building.wait(10)
    t0 = time.perf_counter()
    session.stop(wait=False)
    assert time.perf_counter() - t0 < 0.2
    assert session.stopping and session.running
    deadline = time.perf_counter() + 10
    while session.running and time.perf_counter() < deadline:
        time.sleep(0.02)
    assert not session.running


def test_viewport_pixel_size(scene, vp):
    """Blender's viewport pixel size (Render > Performance, HiDPI for Automatic) reaches the
    engine through get_preview_pixel_size; at 2 the full-resolution film is half the region."""
    scene.render.preview_pixel_size = "2"
    assert _run_in_gpu_engine(lambda engine, s: engine.get_preview_pixel_size(s)) == 2
    scene.optica.viewport_samples = 2
    session = vp.ViewportSession()
    try:
        m = np.eye(4)
        m[2, 3] = -5.0
        session.update(
            bpy.context.evaluated_depsgraph_get(),
            vp.ViewState(width=40, height=20, view_matrix=tuple(m.ravel()), pixel_size=2),
        )
        st = session.wait(done=True)
        assert st.pixel_sizes[:3] == [8, 4, 2]
        frame = session.draw_data()
        assert frame.size == (20, 10) and frame.rect == (0, 0, 40, 20) and frame.pixel_size == 2
        assert "resolution" not in session.status()
    finally:
        session.stop()


def test_sinks_attach_and_detach_while_the_session_runs(scene, vp):
    """The viewport session is a source of frames: a sink attached later gets the frames
    published from then on, and detaching closes it."""

    class Recorder:
        def __init__(self):
            self.frames, self.closed = [], False

        def write(self, frame):
            self.frames.append(frame)

        def close(self):
            self.closed = True

        def abort(self):
            pass

    scene.optica.viewport_samples = 3
    session = vp.ViewportSession()
    try:
        rec = Recorder()
        session.attach(rec)
        session.update(bpy.context.evaluated_depsgraph_get(), vp.ViewState(width=16, height=8))
        session.wait(done=True)
        assert [f.pixel_size for f in rec.frames[:3]] == [4, 2, 1]
        assert rec.frames[-1] is session.draw_data()
        session.detach(rec)
        assert rec.closed and rec not in session.sinks
    finally:
        session.stop()


def test_material_preview_shading_is_eevee_as_with_cycles(optica_installed):
    engine = optica_module("addon.engine").OpticaRenderEngine
    assert engine.bl_use_eevee_viewport is True
