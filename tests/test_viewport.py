# SPDX-License-Identifier: GPL-3.0-or-later
"""The viewport session with the installed extension in real Blender (bpy 5.0, headless).

Drawing needs a window (Blender's gpu module refuses to work in background mode), so these
tests drive `addon.viewport.ViewportSession` the way view_update / view_draw do, with real
depsgraphs: the depsgraph's update list is captured in a depsgraph_update_post handler (it is
empty again once the handlers ran) and handed to `update()`.

The scene: a grey plane, a box (pass_index 1), a sphere, a sun and a camera at (0, -6, 2)
looking along +Y (tilted down 15°). Images are tiny (96×54) and short (a few samples).
"""

import math
import threading
import time

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import pytest
from mathutils import Matrix

from conftest import empty_scene as _empty_scene, add_object as _add, optica_module

W, H = 96, 54


def _mesh(name, verts, faces):
    me = bpy.data.meshes.new(name)
    me.from_pydata([tuple(map(float, v)) for v in verts], [], faces)
    me.update()
    return me


def _box(name, size=1.0):
    h = size / 2
    verts = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return _mesh(name, verts, faces)


def _material(name, color):
    mat = bpy.data.materials.new(name)
    mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*color, 1.0)
    return mat






@pytest.fixture
def scene(optica_installed):
    s = _empty_scene()
    s.render.resolution_x, s.render.resolution_y = 160, 90
    s.optica.viewport_samples = 4
    s.optica.max_bounces = 3
    plane = _mesh("Plane", [(-5, -5, 0), (5, -5, 0), (5, 5, 0), (-5, 5, 0)], [(0, 1, 2, 3)])
    plane.materials.append(_material("Floor", (0.5, 0.5, 0.5)))
    _add(s, "Plane", plane)
    box_mesh = _box("Box")
    box_mesh.materials.append(_material("Red", (0.8, 0.1, 0.1)))
    box = _add(s, "Box", box_mesh, (-1.0, 0.0, 0.5))
    box.pass_index = 1
    _add(s, "Ball", _box("Ball", 0.8), (1.2, 0.5, 0.4))
    sun = bpy.data.lights.new("Sun", "SUN")
    sun.energy = 3.0
    _add(s, "Sun", sun, (0, 0, 5), (math.radians(30), 0, math.radians(20)))
    world = bpy.data.worlds.new("World")
    world.color = (0.1, 0.1, 0.1)
    s.world = world
    cam = _add(s, "Camera", bpy.data.cameras.new("Camera"), (0, -6, 2), (math.radians(75), 0, 0))
    s.camera = cam
    bpy.context.evaluated_depsgraph_get()
    return s


@pytest.fixture
def vp():
    return optica_module("addon.viewport")


class Capture:
    """depsgraph.updates as Changes, captured while Blender runs its update handlers."""

    def __init__(self, vp):
        self.vp = vp
        self.changes = []

    def __call__(self, scene, depsgraph):
        self.changes.append(self.vp.Changes.from_depsgraph(depsgraph))

    def evaluate(self):
        """Evaluates the depsgraph; returns (depsgraph, the Changes of this evaluation)."""
        self.changes.clear()
        dg = bpy.context.evaluated_depsgraph_get()
        changes = self.changes[-1] if self.changes else self.vp.Changes()
        return dg, changes


@pytest.fixture
def capture(vp):
    cap = Capture(vp)
    bpy.app.handlers.depsgraph_update_post.append(cap)
    yield cap
    bpy.app.handlers.depsgraph_update_post.remove(cap)


@pytest.fixture
def session(vp):
    sessions = []

    def make(**kw):
        s = vp.ViewportSession(**kw)
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.stop()
    assert not any(t.name == "optica-viewport" for t in threading.enumerate())


def _camera_view(vp, scene, width=W, height=H):
    """A user perspective view looking exactly from the scene camera."""
    m = scene.camera.matrix_world.inverted()
    return vp.ViewState(width=width, height=height, view_matrix=tuple(v for row in m for v in row))


def _started(session, scene, vp, view=None):
    s = session()
    view = view or _camera_view(vp, scene)
    rep = s.update(bpy.context.evaluated_depsgraph_get(), view)
    assert rep.kind == "initial" and rep.restarted
    s.wait(done=True)
    return s, view


# ---------------------------------------------------------------------------------------------
# sampling: reduced resolution first, then progressive, then rest


def test_pixel_sizes_4_2_1_then_progressive(scene, vp, session):
    s, _view = _started(session, scene, vp)
    st = s.stats()
    assert st.pixel_sizes[:3] == [4, 2, 1]
    assert all(p == 1 for p in st.pixel_sizes[2:])
    assert st.done and st.samples == 4
    frame = s.draw_data()
    assert frame.size == (W, H) and frame.pixel_size == 1 and frame.rect == (0, 0, W, H)
    assert frame.samples == 4 and not frame.denoised
    assert np.isfinite(frame.pixels).all() and frame.pixels[..., :3].mean() > 0.02
    assert not s.busy  # it rests
    assert "Sample 4/4" in s.status()


def test_reduced_resolution_film_and_rect(vp):
    """At pixel size 4 a 98×54 region is a 25×14 film drawn over 100×56 region pixels from the
    top-left corner, with the view plane extended to match (no stretching)."""
    view = vp.ViewState(width=98, height=54, view_matrix=tuple(np.eye(4).ravel()))
    frame = vp.view_frame(view, vp.SceneView())
    cam4, size4, rect4 = frame.at(4)
    cam1, size1, rect1 = frame.at(1)
    assert size4 == (25, 14) and rect4 == (0, 54 - 56, 100, 56)
    assert size1 == (98, 54) and rect1 == (0, 0, 98, 54)
    # the same top-left corner and pixel pitch in view-plane units
    pitch1 = 36.0 / cam1["lens"] / 98
    pitch4 = 36.0 / cam4["lens"] / 25
    assert pitch4 == pytest.approx(4 * pitch1)
    left1 = (cam1["shift_x"] - 0.5) * 36.0 / cam1["lens"]
    left4 = (cam4["shift_x"] - 0.5) * 36.0 / cam4["lens"]
    assert left4 == pytest.approx(left1)
    top1 = cam1["shift_y"] * 36.0 / cam1["lens"] + 27 * pitch1
    top4 = cam4["shift_y"] * 36.0 / cam4["lens"] + 7 * pitch4
    assert top4 == pytest.approx(top1)


def test_settings_change_continues_without_restart(scene, vp, session, capture):
    s, view = _started(session, scene, vp)
    gen = s.generation
    scene.optica.viewport_samples = 7
    dg, changes = capture.evaluate()
    rep = s.update(dg, view, changes)
    assert not rep.restarted and rep.kind == "settings"
    deadline = time.perf_counter() + 10
    while s.draw_data().samples < 7 and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert s.draw_data().samples == 7 and s.generation == gen


# ---------------------------------------------------------------------------------------------
# incremental updates: what is re-exported, what the core rebuilds


def test_moved_object_changes_one_transform(scene, vp, session, capture):
    s, view = _started(session, scene, vp)
    before = s.draw_data().pixels.copy()
    exporter_stats = s.sync.exporter.last_stats
    scene.objects["Box"].location.x += 0.4
    dg, changes = capture.evaluate()
    assert changes.moved == ("Box",) and not changes.other
    rep = s.update(dg, view, changes)
    assert rep.kind == "transform" and rep.restarted
    assert rep.exported is None and s.sync.exporter.last_stats is exporter_stats  # no export
    assert rep.moved_rows == 1 and rep.changed == {"instances": ("Box",)}
    st = s.wait(done=True)
    assert st.pixel_sizes[:3] == [4, 2, 1]
    assert st.geometry_reused == st.geometries == 3  # every BVH kept: a top-level rebuild only
    assert np.abs(s.draw_data().pixels - before).max() > 0.05  # the box moved in the image
    # the patched scene is what a full export gives
    fresh = optica_module("addon.exporter").scene_exporter().export(bpy.context.evaluated_depsgraph_get())
    assert vp.scene_diff(s.sync.scene, fresh) == {}


def test_moved_light_changes_one_light(scene, vp, session, capture):
    s, view = _started(session, scene, vp)
    scene.objects["Sun"].rotation_euler.x += 0.3
    dg, changes = capture.evaluate()
    rep = s.update(dg, view, changes)
    assert rep.kind == "transform" and rep.exported is None and rep.changed == {"instances": ("Sun",)}
    fresh = optica_module("addon.exporter").scene_exporter().export(bpy.context.evaluated_depsgraph_get())
    assert vp.scene_diff(s.sync.scene, fresh) == {}


def test_edited_material_changes_one_material(scene, vp, session, capture):
    s, view = _started(session, scene, vp)
    bsdf = bpy.data.materials["Red"].node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (0.1, 0.8, 0.1, 1.0)
    dg, changes = capture.evaluate()
    rep = s.update(dg, view, changes)
    assert rep.kind == "export" and rep.restarted
    assert rep.changed == {"materials": ("Red",)}
    assert rep.exported["meshes_converted"] == 0 and rep.exported["meshes_reused"] == 3
    st = s.wait(done=True)
    assert st.geometry_reused == 3
    box_pixel = s.draw_data().pixels[..., 1].max()
    assert box_pixel > 0.1  # green now


def test_edited_mesh_reexports_that_mesh_only(scene, vp, session, capture):
    s, view = _started(session, scene, vp)
    me = bpy.data.meshes["Box"]
    me.vertices[0].co.z -= 0.2
    me.update()
    dg, changes = capture.evaluate()
    rep = s.update(dg, view, changes)
    assert rep.kind == "export"
    # the new mesh comes under a new name ("Box.1": the old one is released after the export),
    # so the instances naming it changed too; nothing else did
    assert set(rep.changed) == {"meshes", "instances"}
    assert {n.split(".")[0] for n in rep.changed["meshes"] + rep.changed["instances"]} == {"Box"}
    assert rep.exported["meshes_converted"] == 1 and rep.exported["meshes_reused"] == 2
    st = s.wait(done=True)
    assert (st.geometry_reused, st.geometries) == (2, 3)


def test_a_heavy_scene_starts_coarser_as_cycles_does(optica_installed):
    """The first pixel size after a change: 4 (× Blender's pixel size) unless one sample there is
    predicted to take more than FIRST_SAMPLE_SECONDS; then coarser, but never below 64 film
    pixels on the long side (Cycles' default Start Resolution); then halved down to 1."""
    w = optica_module("addon.viewport.worker")
    assert w.FIRST_SAMPLE_SECONDS == pytest.approx(0.006) and w.MIN_LONG_SIDE == 64
    assert w.start_pixel_size(None, (640, 360)) == 4  # nothing measured yet
    assert w.start_pixel_size(1e-8, (1920, 1080)) == 4  # cheap: 4 is fast enough
    # 1.3 µs per film pixel: 18.7 ms at 4, 6.1 ms at 7, 4.7 ms at 8
    assert w.start_pixel_size(1.3e-6, (640, 360)) == 8
    assert w.start_pixel_size(1.0e-7, (1920, 1080)) == 6  # 2.07 Mpx: 7.2 ms at 5, 5.8 ms at 6
    assert w.start_pixel_size(1.3e-6, (1920, 1080)) == 22  # 6.1 ms at 21, 5.6 ms at 22
    assert w.start_pixel_size(1.3e-6, (1920, 1080), base=2) == 11
    assert w.start_pixel_size(1e-3, (640, 360)) == 10  # as coarse as the long side allows: 64 pixels
    assert w.start_pixel_size(1.3e-6, (160, 90)) == 4  # a small view is never finer at first than before
    assert w.pixel_sizes(1) == (4, 2, 1) and w.pixel_sizes(2) == (8, 4, 2)
    assert w.pixel_sizes(1, 5) == (5, 2, 1) and w.pixel_sizes(1, 15) == (15, 7, 3, 1)


def test_view_change_touches_the_camera_only(scene, vp, session):
    s, view = _started(session, scene, vp)
    exporter_stats = s.sync.exporter.last_stats
    m = np.array(view.view_matrix).reshape(4, 4)
    m[0, 3] += 0.3  # pan
    rep = s.update_view(vp.ViewState(width=W, height=H, view_matrix=tuple(m.ravel())))
    assert rep.kind == "view" and rep.restarted and rep.changed == {"view": ("camera",)}
    assert s.sync.exporter.last_stats is exporter_stats
    st = s.wait(done=True)
    assert st.geometry_reused == 3 and st.pixel_sizes[:3] == [4, 2, 1]
    # the same view again: nothing to do
    rep = s.update_view(s.view)
    assert not rep.restarted


def test_camera_object_move_in_camera_view(scene, vp, session, capture):
    view = vp.ViewState(width=W, height=H, perspective="CAMERA", camera_zoom=50 * (2 - math.sqrt(2)))
    s, _ = _started(session, scene, vp, view)
    scene.camera.location.x += 0.2
    dg, changes = capture.evaluate()
    assert changes.camera and not changes.other and not changes.moved
    rep = s.update(dg, view, changes)
    assert rep.kind == "camera" and rep.restarted and rep.exported is None
    assert rep.changed == {"camera": ("camera",)}


def test_selection_does_not_restart(scene, vp, session, capture):
    s, view = _started(session, scene, vp)
    scene.objects["Box"].select_set(True)
    dg, changes = capture.evaluate()
    rep = s.update(dg, view, changes)
    assert rep.exported is not None  # the Scene update is looked at ...
    assert rep.kind == "none" and not rep.restarted and rep.changed == {}  # ... and found unchanged


def test_hidden_object_disappears(scene, vp, session, capture):
    s, view = _started(session, scene, vp)
    scene.objects["Box"].hide_viewport = True
    dg, changes = capture.evaluate()
    rep = s.update(dg, view, changes)
    assert rep.restarted and "instances" in rep.changed and "Box" in rep.changed["instances"]
    assert "Box" not in {g["geometry"] for g in s.sync.scene["instances"]}


def test_instanced_object_move_falls_back_to_export(scene, vp, session, capture):
    """Moving an object of an instanced collection moves its instances too: no patch."""
    coll = bpy.data.collections.new("Kit")
    scene.collection.children.link(coll)
    piece = bpy.data.objects.new("Piece", _box("Piece", 0.3))
    coll.objects.link(piece)
    inst = bpy.data.objects.new("KitInstance", None)
    inst.instance_type = "COLLECTION"
    inst.instance_collection = coll
    inst.location = (0, 1, 0)
    scene.collection.objects.link(inst)
    s, view = _started(session, scene, vp)
    piece.location.z += 0.5
    dg, changes = capture.evaluate()
    rep = s.update(dg, view, changes)
    assert rep.kind == "export"
    fresh = optica_module("addon.exporter").scene_exporter().export(bpy.context.evaluated_depsgraph_get())
    assert vp.scene_diff(s.sync.scene, fresh) == {}


def test_patch_refuses_vertex_instanced_children(scene, vp, session, capture):
    pts = _mesh("Points", [(0, 2, 0), (1, 2, 0)], [])
    parent = _add(scene, "Spawner", pts)
    parent.instance_type = "VERTS"
    child = _add(scene, "Child", _box("Child", 0.2), (0.3, 0.0, 0.2))
    child.parent = parent
    s, view = _started(session, scene, vp)
    child.location.x += 0.1
    dg, changes = capture.evaluate()
    assert changes.moved == ("Child",)
    rep = s.update(dg, view, changes)
    assert rep.kind == "export"
    fresh = optica_module("addon.exporter").scene_exporter().export(bpy.context.evaluated_depsgraph_get())
    assert vp.scene_diff(s.sync.scene, fresh) == {}


def test_bad_scene_is_reported_and_recovers(scene, vp, session, capture, monkeypatch):
    s, view = _started(session, scene, vp)
    real = vp.ViewFrame.at

    def broken(self, pixel_size):
        cam, size, rect = real(self, pixel_size)
        cam["lens"] = -1.0
        return cam, size, rect

    monkeypatch.setattr(vp.ViewFrame, "at", broken)
    s.update_view(vp.ViewState(width=W, height=H, view_matrix=s.view.view_matrix, lens=40.0))
    deadline = time.perf_counter() + 10
    while "Error" not in s.status() and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert "lens" in s.status()
    monkeypatch.setattr(vp.ViewFrame, "at", real)
    s.update_view(view)
    s.wait(done=True)
    assert "Error" not in s.status()


# ---------------------------------------------------------------------------------------------
# framing: camera view, user views, borders — against the final render's camera


def _depth(d: dict, camera: dict, size, samples=1) -> np.ndarray:
    import optica_core

    d = dict(d)
    d["camera"] = camera
    d["render"] = {k: v for k, v in d["render"].items() if k != "region"}
    d["render"].update(width=size[0], height=size[1], seed=3, filter="box", filter_width=1e-3)  # pixel centres
    r = optica_core.Renderer(0)
    r.set_scene(d)
    r.accumulate(samples)
    return np.array(r.depth)


def _export(vp):
    dg = bpy.context.evaluated_depsgraph_get()
    d = vp.ViewportSync().export(dg)[0]
    return d, dg


def test_camera_view_at_unit_zoom_is_the_render_camera(scene, vp):
    """view_camera_zoom ≈ 29.29 draws the camera frame at 1:1; with the region the size of the
    render, the viewport renders exactly the final render's frame (AUTO fit, shift too)."""
    cam = scene.camera.data
    cam.shift_x, cam.shift_y = 0.1, -0.05
    scene.render.resolution_x, scene.render.resolution_y = 48, 64  # portrait: vertical fit
    d, dg = _export(vp)
    view = vp.ViewState(width=48, height=64, perspective="CAMERA", camera_zoom=50 * (2 - math.sqrt(2)))
    frame = vp.view_frame(view, vp.scene_view(dg, view))
    camera, size, rect = frame.at(1)
    assert size == (48, 64) and rect == (0, 0, 48, 64)
    want = _depth(d, d["camera"], (48, 64))
    got = _depth(d, camera, size)
    hit = want < 1e9
    assert hit.mean() > 0.5
    assert np.array_equal(hit, got < 1e9)
    assert np.abs(want[hit] - got[hit]).max() < 1e-3


def test_camera_view_zoom_offset_and_border(scene, vp):
    """view_camera_zoom 0 (Blender's default) draws the camera frame at half the region's width
    (zoom factor (√2 + 0/50)² / 4 = 0.5), centred; the render border is that part of the frame,
    and the view offset moves the frame by 2 · offset · factor region widths."""
    scene.render.use_border = True
    scene.render.border_min_x, scene.render.border_min_y = 0.25, 0.25
    scene.render.border_max_x, scene.render.border_max_y = 0.75, 0.75
    _d, dg = _export(vp)
    view = vp.ViewState(width=320, height=180, perspective="CAMERA", camera_zoom=0.0)
    frame = vp.view_frame(view, vp.scene_view(dg, view))
    # the 160×90 frame sits at (80, 45); its border's quarter-to-three-quarters part:
    assert frame.rect == (80 + 40, 45 + 22, 80, 45)
    shifted = vp.ViewState(width=320, height=180, perspective="CAMERA", camera_zoom=0.0, camera_offset=(0.05, 0.0))
    frame = vp.view_frame(shifted, vp.scene_view(dg, shifted))
    assert frame.rect == (120 - 16, 67, 80, 45)  # 2 · 0.05 · 0.5 × 320 px to the left


def test_user_perspective_view(scene, vp):
    """A user view of lens L sees like a camera of lens L/2 (Blender's zoom 2 for 3D views)."""
    d, _dg = _export(vp)
    view = _camera_view(vp, scene)
    view = vp.ViewState(width=W, height=H, view_matrix=view.view_matrix, lens=70.0, clip_start=0.05, clip_end=500.0)
    camera, size, _ = vp.view_frame(view, vp.SceneView()).at(1)
    reference = {"type": "perspective", "matrix": np.array(scene.camera.matrix_world, np.float32), "lens": 35.0,
                 "sensor_width": 36.0, "sensor_fit": "AUTO", "clip_start": 0.05, "clip_end": 500.0}
    want, got = _depth(d, reference, size), _depth(d, camera, size)
    hit = want < 1e9
    assert np.array_equal(hit, got < 1e9) and np.abs(want[hit] - got[hit]).max() < 1e-3


def test_user_orthographic_view(scene, vp):
    """ortho_scale = 2 × view distance × 36 / lens; clipping ±clip_end/2 around the view origin
    (a surface behind the view origin is still seen)."""
    d, _dg = _export(vp)
    m = Matrix.Translation((0, 0, 0.3))  # view origin 0.3 m *below* the floor, looking down
    view = vp.ViewState(width=W, height=H, perspective="ORTHO", view_distance=5.0, lens=50.0, clip_end=100.0,
                        view_matrix=tuple(v for row in m.inverted() for v in row))
    camera, size, _ = vp.view_frame(view, vp.SceneView()).at(1)
    assert camera["type"] == "orthographic"
    assert camera["ortho_scale"] == pytest.approx(2 * 5.0 * 36 / 50)
    got = _depth(d, camera, size)
    assert (got < 1e9).all()  # the floor (and box tops) everywhere, though behind the origin


def test_user_view_border_is_a_crop(scene, vp):
    d, _dg = _export(vp)
    view = _camera_view(vp, scene, 96, 64)
    full_cam, full_size, _ = vp.view_frame(view, vp.SceneView()).at(1)
    bordered = vp.ViewState(width=96, height=64, view_matrix=view.view_matrix, use_border=True,
                            border=(0.25, 0.5, 0.75, 1.0))
    frame = vp.view_frame(bordered, vp.SceneView())
    assert frame.rect == (24, 32, 48, 32)
    cam, size, rect = frame.at(1)
    assert size == (48, 32) and rect == (24, 32, 48, 32)
    full = _depth(d, full_cam, full_size)
    part = _depth(d, cam, size)
    crop = full[0:32, 24:72]  # top half (rows from the top), middle columns
    hit = crop < 1e9
    assert np.array_equal(hit, part < 1e9) and np.abs(crop[hit] - part[hit]).max() < 1e-3


def test_framing_matches_blenders_own_window_matrices(optica_installed, vp):
    """The startup file's 3D views keep the projection Blender last drew them with
    (RegionView3D.window_matrix, for the stored region size): the frames computed from the same
    views — user perspective views, a vertical-fit one, and the Animation workspace's camera
    view (zoomed) — have the same projection."""
    import types

    from conftest import enable_optica

    bpy.ops.wm.read_factory_settings()  # with the default camera; disables the add-on
    try:
        dg = bpy.context.evaluated_depsgraph_get()
        seen = set()
        for screen in bpy.data.screens:
            for area in (a for a in screen.areas if a.type == "VIEW_3D"):
                space = area.spaces[0]
                region = next(r for r in area.regions if r.type == "WINDOW")
                view = vp.ViewState.from_context(types.SimpleNamespace(region=region, region_data=space.region_3d,
                                                                       space_data=space))
                frame = vp.view_frame(view, vp.scene_view(dg, view))
                xmin, xmax, ymin, ymax = frame.plane
                wm = np.array(space.region_3d.window_matrix)
                w, h = xmax - xmin, ymax - ymin
                mine = (2 / w, 2 / h, (xmax + xmin) / w, (ymax + ymin) / h)
                assert mine == pytest.approx((wm[0, 0], wm[1, 1], wm[0, 2], wm[1, 2]), abs=1e-5), screen.name
                assert np.allclose(np.linalg.inv(frame.matrix), space.region_3d.view_matrix, atol=1e-4)
                seen.add((view.perspective, view.width >= view.height))
        assert {("PERSP", True), ("PERSP", False), ("CAMERA", False)} <= seen
    finally:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        enable_optica()


# ---------------------------------------------------------------------------------------------
# denoising in the viewport


def test_viewport_denoises_after_start(scene, vp, session):
    scene.optica.use_denoiser = True
    scene.optica.denoiser_start = 2
    scene.optica.viewport_samples = 4
    s, _ = _started(session, scene, vp)
    st = s.stats()
    assert st.denoised >= 1
    frame = s.draw_data()
    assert frame.denoised and frame.samples == 4 and "Denoised" in s.status()


def test_viewport_without_denoiser_shows_the_noisy_image(scene, vp, session, monkeypatch):
    denoise = optica_module("addon.denoise")

    def missing():
        raise denoise.DenoiserError("Intel Open Image Denoise is not available: test")

    monkeypatch.setattr(denoise, "load_oidn", missing)
    scene.optica.use_denoiser = True
    s, _ = _started(session, scene, vp)
    frame = s.draw_data()
    assert frame.samples == 4 and not frame.denoised
    assert "not available" in s.status()


# ---------------------------------------------------------------------------------------------
# stopping: explicit, by the engine's free, by an invalidated engine


def test_stop_leaves_no_thread(scene, vp, session):
    scene.optica.viewport_samples = 100000
    s = session()
    s.update(bpy.context.evaluated_depsgraph_get(), _camera_view(vp, scene, 320, 180))
    s.wait(pixel_size=1)
    assert s.running and s.busy
    t0 = time.perf_counter()
    s.stop()
    assert time.perf_counter() - t0 < 1.0
    assert not s.running
    assert "optica-viewport" not in {t.name for t in threading.enumerate()}


class _EngineProbe:
    """A RenderEngine registered by a test whose render() starts a viewport session through
    viewport.session_for (as view_update does), so Blender creates and frees a real engine."""

    sessions = []
    keep = []

    @classmethod
    def make(cls, vp, keep_engine):
        class OPTICA_TEST_viewport_engine(bpy.types.RenderEngine):
            bl_idname = "OPTICA_TEST_VIEWPORT"
            bl_label = "Optica viewport test"

            def render(self, depsgraph):
                s = vp.session_for(self)
                cls.sessions.append(s)
                if keep_engine:
                    cls.keep.append(self)  # a Python reference outlives the engine
                view = vp.ViewState(width=32, height=18, view_matrix=tuple(np.eye(4).ravel()))
                s.update(depsgraph, view)
                s.wait(pixel_size=1)
                result = self.begin_result(0, 0, self.resolution_x, self.resolution_y)
                self.end_result(result)

        return OPTICA_TEST_viewport_engine


@pytest.mark.parametrize("keep_engine", [False, True], ids=["freed", "reference-kept"])
def test_engine_free_stops_the_session(scene, vp, keep_engine):
    """Blender frees the engine after a render: the weakref finalizer (or, when a Python
    reference keeps the instance, the worker noticing the invalidated RNA) stops the thread."""
    scene.optica.viewport_samples = 100000
    cls = _EngineProbe.make(vp, keep_engine)
    bpy.utils.register_class(cls)
    try:
        scene.render.engine = cls.bl_idname
        scene.render.resolution_x, scene.render.resolution_y = 8, 8
        _EngineProbe.sessions.clear()
        bpy.ops.render.render()
        (s,) = _EngineProbe.sessions
        if not keep_engine:
            assert s.stopping  # asked to stop by the finalizer while Blender freed the engine (no wait)
        deadline = time.perf_counter() + 5
        while s.running and time.perf_counter() < deadline:
            time.sleep(0.02)
        assert not s.running
        assert "optica-viewport" not in {t.name for t in threading.enumerate()}
    finally:
        _EngineProbe.keep.clear()
        _EngineProbe.sessions.clear()
        scene.render.engine = "OPTICA"
        bpy.utils.unregister_class(cls)


def test_stop_all_on_file_load(scene, vp, session):
    scene.optica.viewport_samples = 100000
    s = session()
    vp.entry._sessions.add(s)
    s.update(bpy.context.evaluated_depsgraph_get(), _camera_view(vp, scene))
    s.wait(pixel_size=1)
    bpy.ops.wm.read_factory_settings(use_empty=True)  # load_pre → stop_all
    assert not s.running
    from conftest import enable_optica

    enable_optica()


def test_engine_dispatches_viewport_calls(optica_installed):
    engine = optica_module("addon.engine").OpticaRenderEngine
    assert engine.bl_use_preview is True
    for name in ("view_update", "view_draw"):
        assert name in engine.__dict__
