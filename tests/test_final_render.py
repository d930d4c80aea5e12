# SPDX-License-Identifier: GPL-3.0-or-later
"""Final renders with the installed extension in real Blender (bpy 5.0, headless).

The scene: a 10 m grey plane (pass_index 1) and a unit sphere at (0, 0, 1) (pass_index 2),
lit by a sun, seen by a camera at (0, -5, 1) looking along +Y, so the image centre sees the
sphere's front at a depth of 4 m. Renders are small (64×64) and short (a few samples).
"""

import math
import os
import threading
import time

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import pytest

from conftest import add_object as _add, optica_module, read_image_file

SIZE = 64
SPHERE_INDEX, PLANE_INDEX = 2, 1


# ---------------------------------------------------------------------------------------------
# scene building (plain bpy.data, arrays for the geometry so it is the same every run)


def _uv_sphere(name, radius=1.0, rings=16, segments=32):
    verts = [(0.0, 0.0, -radius)]
    for i in range(1, rings):
        theta = math.pi * i / rings - math.pi / 2
        for j in range(segments):
            phi = 2 * math.pi * j / segments
            verts.append((radius * math.cos(theta) * math.cos(phi), radius * math.cos(theta) * math.sin(phi),
                          radius * math.sin(theta)))
    verts.append((0.0, 0.0, radius))
    top = len(verts) - 1
    ring = lambda i, j: 1 + (i - 1) * segments + j % segments  # noqa: E731
    faces = [(0, ring(1, j + 1), ring(1, j)) for j in range(segments)]
    for i in range(1, rings - 1):
        faces += [(ring(i, j), ring(i, j + 1), ring(i + 1, j + 1), ring(i + 1, j)) for j in range(segments)]
    faces += [(ring(rings - 1, j), ring(rings - 1, j + 1), top) for j in range(segments)]
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts, [], faces)
    mesh.shade_smooth()
    return mesh


def _plane(name, size=10.0):
    h = size / 2
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)], [], [(0, 1, 2, 3)])
    return mesh




def build_scene(scene, samples=8):
    r = scene.render
    r.resolution_x = r.resolution_y = SIZE
    r.resolution_percentage = 100
    scene.optica.samples = samples
    scene.optica.noise_threshold = 0.0
    cam = _add(scene, "Camera", bpy.data.cameras.new("Camera"), (0, -5, 1), (math.pi / 2, 0, 0))
    scene.camera = cam
    sphere = _add(scene, "Sphere", _uv_sphere("Sphere"), (0, 0, 1))
    sphere.pass_index = SPHERE_INDEX
    plane = _add(scene, "Plane", _plane("Plane"))
    plane.pass_index = PLANE_INDEX
    sun = bpy.data.lights.new("Sun", "SUN")
    sun.energy = 3.0
    _add(scene, "Sun", sun, (3, -3, 5), (math.radians(40), 0, math.radians(30)))
    world = bpy.data.worlds.new("World")
    world.color = (0.05, 0.05, 0.05)
    scene.world = world
    return scene


@pytest.fixture
def lit_scene(optica_scene):
    return build_scene(optica_scene)


def _render_still(scene, path, multilayer=True):
    im = scene.render.image_settings
    if multilayer:
        im.media_type = "MULTI_LAYER_IMAGE"
        im.color_depth = "32"
    else:
        im.media_type = "IMAGE"
        im.file_format = "OPEN_EXR"
        im.color_depth = "32"
        im.color_mode = "RGBA"
    scene.render.filepath = str(path)
    result = bpy.ops.render.render(write_still=True)
    assert result == {"FINISHED"}
    assert os.path.isfile(path), f"Blender wrote no {path}"
    return read_image_file(path)


def _combined(images):
    return images["ViewLayer.Combined"] if "ViewLayer.Combined" in images else images[""]


def _centre(img):
    h, w = img.shape[:2]
    return img[h // 2 - 1:h // 2 + 1, w // 2 - 1:w // 2 + 1].reshape(-1, img.shape[-1]).mean(axis=0)


# ---------------------------------------------------------------------------------------------
# still images and passes


def test_render_is_lit(lit_scene, tmp_path):
    rgba = _combined(_render_still(lit_scene, tmp_path / "still.exr"))
    assert rgba.shape == (SIZE, SIZE, 4)
    assert np.isfinite(rgba).all()
    rgb = rgba[..., :3]
    # Sun 3 W/m² on 0.8 grey: a lit Lambertian surface is ~0.8/π·3·cosθ ≈ 0.3-0.7.
    assert 0.05 < rgb.mean() < 1.5, rgb.mean()
    assert _centre(rgb).mean() > 0.1  # the sphere's lit front
    sky = rgba[:4, :, :3].mean()  # top rows: the world, colour 0.05
    assert sky == pytest.approx(0.05, abs=0.02)
    assert rgba[..., 3].min() == pytest.approx(1.0)  # not transparent film: opaque everywhere


def test_passes_in_multilayer_exr(lit_scene, tmp_path):
    view_layer = lit_scene.view_layers[0]
    view_layer.use_pass_z = True
    view_layer.use_pass_normal = True
    view_layer.use_pass_object_index = True
    view_layer.optica.use_denoising_passes = True
    images = _render_still(lit_scene, tmp_path / "passes.exr")
    for group in ("Combined", "Depth", "Normal", "IndexOB", "Denoising Albedo", "Denoising Normal"):
        assert f"ViewLayer.{group}" in images, sorted(images)
    depth = images["ViewLayer.Depth"][..., 0]
    assert _centre(depth[..., None])[0] == pytest.approx(4.0, abs=0.05)  # camera at 5 m, sphere radius 1
    assert depth[0].min() >= 1e9  # top row: nothing hit (Blender's 1e10)
    normal = _centre(images["ViewLayer.Normal"])
    assert np.dot(normal / np.linalg.norm(normal), (0, -1, 0)) > 0.98  # facing the camera
    index = images["ViewLayer.IndexOB"][..., 0]
    assert _centre(index[..., None])[0] == SPHERE_INDEX
    assert np.all(index[-1] == PLANE_INDEX)  # bottom row: the plane
    assert np.all(index[0] == 0)  # top row: no object
    albedo = _centre(images["ViewLayer.Denoising Albedo"])
    assert albedo == pytest.approx([0.8, 0.8, 0.8], abs=0.02)  # the default material
    assert np.allclose(images["ViewLayer.Denoising Normal"], images["ViewLayer.Normal"], atol=1e-6)


def test_only_requested_passes(lit_scene, tmp_path):
    images = _render_still(lit_scene, tmp_path / "combined.exr")
    assert sorted(images) == ["ViewLayer.Combined"]


def test_view_layers_render_separately(lit_scene, tmp_path):
    """Each view layer is its own render (and its own exporter): here the second layer
    excludes the sphere's collection, so its centre sees the sky."""
    spheres = bpy.data.collections.new("Spheres")
    lit_scene.collection.children.link(spheres)
    sphere = lit_scene.objects["Sphere"]
    spheres.objects.link(sphere)
    lit_scene.collection.objects.unlink(sphere)
    second = lit_scene.view_layers.new("Second")
    second.layer_collection.children["Spheres"].exclude = True
    second.use_pass_object_index = True
    images = _render_still(lit_scene, tmp_path / "layers.exr")
    assert {"ViewLayer.Combined", "Second.Combined", "Second.IndexOB"} <= set(images), sorted(images)
    assert "ViewLayer.IndexOB" not in images
    assert _centre(images["ViewLayer.Combined"])[0] > 0.1  # the sphere
    assert _centre(images["Second.Combined"])[0] == pytest.approx(0.05, abs=0.02)  # the sky
    assert np.all(images["Second.IndexOB"][..., 0] != SPHERE_INDEX)


def test_persistent_data_keeps_the_job(lit_scene, tmp_path):
    """With Persistent Data the exporter and renderer outlive the render: the next render of
    the scene reuses the unchanged geometry's BVH."""
    final = optica_module("addon.render_job")
    lit_scene.render.use_persistent_data = True
    _render_still(lit_scene, tmp_path / "first.exr")
    assert len(final._jobs) == 1
    job = next(iter(final._jobs.values()))
    lit_scene.objects["Sphere"].location.x = 0.5
    _render_still(lit_scene, tmp_path / "second.exr")
    assert next(iter(final._jobs.values())) is job
    assert job.renderer.geometry_reused == 2  # plane and sphere: only a transform changed
    lit_scene.render.use_persistent_data = False
    _render_still(lit_scene, tmp_path / "third.exr")
    assert final._jobs == {}


# ---------------------------------------------------------------------------------------------
# render border and resolution percentage


BORDER = (0.25, 0.5, 0.75, 1.0)  # min x, min y, max x, max y: the top half's middle


def _set_border(scene, crop):
    r = scene.render
    r.use_border = True
    r.border_min_x, r.border_min_y, r.border_max_x, r.border_max_y = BORDER
    r.use_crop_to_border = crop


def test_border_without_crop(lit_scene, tmp_path):
    lit_scene.view_layers[0].use_pass_z = True
    full = _render_still(lit_scene, tmp_path / "full.exr")
    _set_border(lit_scene, crop=False)
    part = _render_still(lit_scene, tmp_path / "border.exr")
    rgba = part["ViewLayer.Combined"]
    assert rgba.shape == (SIZE, SIZE, 4)  # the full frame, black outside the border
    x0, x1 = int(BORDER[0] * SIZE), int(BORDER[2] * SIZE)
    rows = slice(0, SIZE - int(BORDER[1] * SIZE))  # top-first rows of the border
    inside = np.zeros((SIZE, SIZE), bool)
    inside[rows, x0:x1] = True
    assert np.all(rgba[~inside] == 0)
    assert np.all(rgba[inside][:, 3] > 0.99)
    # Same pixels, same place: the border's depth matches the full frame's there.
    d_full, d_part = full["ViewLayer.Depth"][..., 0], part["ViewLayer.Depth"][..., 0]
    hit = inside & (d_full < 1e9)
    assert hit.sum() > 100
    assert np.percentile(np.abs(d_full[hit] - d_part[hit]), 90) < 0.02


def test_border_with_crop(lit_scene, tmp_path):
    _set_border(lit_scene, crop=False)
    uncropped = _combined(_render_still(lit_scene, tmp_path / "border.exr"))
    _set_border(lit_scene, crop=True)
    cropped = _combined(_render_still(lit_scene, tmp_path / "crop.exr"))
    w = int(BORDER[2] * SIZE) - int(BORDER[0] * SIZE)
    h = SIZE - int(BORDER[1] * SIZE)
    assert cropped.shape == (h, w, 4)
    # The same render, only not pasted into the frame.
    x0 = int(BORDER[0] * SIZE)
    assert np.allclose(cropped, uncropped[:h, x0:x0 + w], atol=1e-6)


def test_border_odd_sizes(optica_scene, tmp_path):
    """Border × size in float32, truncated, as Blender computes it: a 0.7 border edge on a
    10-pixel-wide frame is pixel 7 (not 6, as 0.7 × 10 in float64 would give)."""
    scene = build_scene(optica_scene, samples=1)
    scene.render.resolution_x, scene.render.resolution_y = 10, 37
    r = scene.render
    r.use_border, r.use_crop_to_border = True, True
    r.border_min_x, r.border_min_y, r.border_max_x, r.border_max_y = 0.1, 0.13, 0.7, 0.61
    rgba = _combined(_render_still(scene, tmp_path / "odd.exr"))
    f32 = np.float32
    w = int(f32(0.7) * f32(10)) - int(f32(0.1) * f32(10))
    h = int(f32(0.61) * f32(37)) - int(f32(0.13) * f32(37))
    assert rgba.shape == (h, w, 4)
    assert rgba[..., 3].min() > 0.99  # every pixel rendered


def test_resolution_percentage(lit_scene, tmp_path):
    full = _combined(_render_still(lit_scene, tmp_path / "full.exr"))
    lit_scene.render.resolution_percentage = 50
    half = _combined(_render_still(lit_scene, tmp_path / "half.exr"))
    assert half.shape == (SIZE // 2, SIZE // 2, 4)
    small = full.reshape(SIZE // 2, 2, SIZE // 2, 2, 4).mean(axis=(1, 3))
    assert np.abs(small - half).mean() < 0.05


# ---------------------------------------------------------------------------------------------
# stopping: samples, time limit, noise threshold, cancel


def _session(scene, test_break=lambda: False):
    final = optica_module("addon.final")
    output = optica_module("addon.render_result").ArrayResult()
    session = final.FinalSession(output, test_break, status=output, progressive=True)
    return session, output


def test_stops_at_sample_count(lit_scene):
    lit_scene.optica.samples = 5
    session, output = _session(lit_scene)
    outcome = session.render(bpy.context.evaluated_depsgraph_get())
    assert (outcome.samples, outcome.reason) == (5, "samples")
    assert output.images["Combined"].shape == (SIZE, SIZE, 4)
    assert "Sample 5/5" in output.progress_info


def test_time_limit(lit_scene):
    lit_scene.render.resolution_x = lit_scene.render.resolution_y = 128
    lit_scene.optica.samples = 1_000_000
    lit_scene.optica.time_limit = 1.0
    session, output = _session(lit_scene)
    t0 = time.perf_counter()
    outcome = session.render(bpy.context.evaluated_depsgraph_get())
    elapsed = time.perf_counter() - t0
    assert outcome.reason == "time"
    assert 1.0 <= outcome.seconds < 2.0  # within one batch (~0.2 s) of the limit, with slack for a busy machine
    assert elapsed < 3.0
    assert 0 < outcome.samples < 1_000_000
    assert output.images["Combined"][..., :3].mean() > 0.05
    assert output.updates >= 2  # the visible result is refreshed while sampling


def test_film_keeps_what_the_render_reads(lit_scene):
    """A final render's film keeps the AOV buffers its passes, the denoiser and adaptive
    sampling read, and no others (issue 11: a 720p film without them is 40 MB smaller)."""
    lit_scene.optica.samples = 2
    session, _output = _session(lit_scene)
    session.render(bpy.context.evaluated_depsgraph_get())
    assert session.job.renderer.film_aovs == []
    lit_scene.optica.noise_threshold = 0.5
    session, output = _session(lit_scene)
    session.passes = [optica_module("addon.passes").COMBINED, optica_module("addon.passes").DEPTH]
    session.render(bpy.context.evaluated_depsgraph_get())
    assert session.job.renderer.film_aovs == ["noise", "depth"]
    assert output.images["Depth"].shape == (SIZE, SIZE, 1)


def test_pass_images_laid_out_bottom_up_reach_blender_without_a_second_copy(lit_scene):
    passes = optica_module("addon.passes")
    session, _output = _session(lit_scene)
    session.render(bpy.context.evaluated_depsgraph_get())
    r = session.job.renderer
    r.set_film_aovs(["object_id"])
    r.set_scene(r.get_scene())
    r.accumulate(1)
    for p in (passes.COMBINED, passes.OBJECT_INDEX):
        top, up = passes.image(p, r), passes.image(p, r, bottom_up=True)
        np.testing.assert_array_equal(top, up)
        assert top.flags.c_contiguous and not up.flags.c_contiguous
        rows = passes.blender_rows(up)
        assert np.shares_memory(rows, up)
        np.testing.assert_array_equal(rows, passes.blender_rows(top))
    assert passes.image(passes.OBJECT_INDEX, r).min() >= 0  # misses (-1) are 0, as in Blender


def test_noise_threshold_stops_early(lit_scene):
    final = optica_module("addon.final")
    lit_scene.optica.samples = 2000  # noise estimate trusted from sqrt(2000) = 44 samples on
    lit_scene.optica.noise_threshold = 0.5
    session, _output = _session(lit_scene)
    outcome = session.render(bpy.context.evaluated_depsgraph_get())
    assert outcome.reason == "noise"
    assert final.Limits.from_scene(lit_scene).noise_min_samples <= outcome.samples < 2000


def test_cancel_session_returns_within_half_a_second(lit_scene):
    """A session whose test_break turns true stops within 0.5 s and keeps its image."""
    lit_scene.render.resolution_x = lit_scene.render.resolution_y = 256
    lit_scene.optica.samples = 1_000_000
    broke_at = []

    def test_break():
        if not broke_at and time.perf_counter() > deadline:
            broke_at.append(time.perf_counter())
        return bool(broke_at)

    session, output = _session(lit_scene, test_break)
    deadline = time.perf_counter() + 1.5
    outcome = session.render(bpy.context.evaluated_depsgraph_get())
    returned = time.perf_counter()
    assert broke_at, "the render finished before test_break became true"
    assert outcome.cancelled
    assert returned - broke_at[0] < 0.5
    assert outcome.samples >= 1
    assert output.images["Combined"][..., :3].mean() > 0.05  # kept what it had


def test_interrupt_during_sampling_stops_the_sampling_thread(lit_scene):
    """Ctrl-C (KeyboardInterrupt) while a session samples propagates, and the sampling thread
    does not outlive the render."""
    lit_scene.render.resolution_x = lit_scene.render.resolution_y = 128
    lit_scene.optica.samples = 1_000_000
    final = optica_module("addon.final")
    start = time.perf_counter()

    def test_break():
        if time.perf_counter() - start > 1.0:
            raise KeyboardInterrupt
        return False

    session, _output = _session(lit_scene, test_break)
    with pytest.raises(KeyboardInterrupt):
        session.render(bpy.context.evaluated_depsgraph_get())
    assert not [t for t in threading.enumerate() if isinstance(t, final.Sampler) and t.is_alive()]


class _BreakingEngine(bpy.types.RenderEngine):
    """Optica's own render path (addon.final.render) in a real RenderEngine whose "stop"
    turns true `break_after` seconds into the render: what pressing Esc does in Blender,
    without a window. (bpy resolves `engine.test_break` to the RNA function even when a
    subclass overrides it, so the stop is handed to final.render explicitly.)"""

    bl_idname = "OPTICA_TEST_BREAK"
    bl_label = "Optica (test break)"
    break_after = 1.0
    broke_at: list = []

    def render(self, depsgraph):
        deadline = time.perf_counter() + self.break_after

        def stop():
            if not self.broke_at and time.perf_counter() > deadline:
                self.broke_at.append(time.perf_counter())
            return bool(self.broke_at) or self.test_break()

        optica_module("addon.final").render(self, depsgraph, test_break=stop)
        type(self).returned_at = time.perf_counter()

    def update_render_passes(self, scene=None, renderlayer=None):
        optica_module("addon.final").update_render_passes(self, scene, renderlayer)


@pytest.fixture
def breaking_engine():
    bpy.utils.register_class(_BreakingEngine)
    _BreakingEngine.broke_at = []
    yield _BreakingEngine
    bpy.utils.unregister_class(_BreakingEngine)


def test_cancel_render_returns_within_half_a_second(lit_scene, breaking_engine, tmp_path):
    lit_scene.render.engine = breaking_engine.bl_idname
    lit_scene.render.resolution_x = lit_scene.render.resolution_y = 256
    lit_scene.optica.samples = 1_000_000
    rgba = _combined(_render_still(lit_scene, tmp_path / "cancelled.exr"))
    assert breaking_engine.broke_at, "the render finished before test_break became true"
    assert breaking_engine.returned_at - breaking_engine.broke_at[0] < 0.5
    assert rgba.shape == (256, 256, 4)
    assert rgba[..., :3].mean() > 0.05  # the samples done before the break are kept


# ---------------------------------------------------------------------------------------------
# animation


def _animate_sphere(scene, frames=3):
    sphere = scene.objects["Sphere"]
    scene.frame_start, scene.frame_end = 1, frames
    for f, x in zip(range(1, frames + 1), (-1.0, 0.0, 1.0)):
        sphere.location.x = x
        sphere.keyframe_insert("location", frame=f)
    scene.frame_set(1)


def test_animation_png_sequence(lit_scene, tmp_path):
    final = optica_module("addon.render_job")
    _animate_sphere(lit_scene)
    lit_scene.render.image_settings.media_type = "IMAGE"
    lit_scene.render.image_settings.file_format = "PNG"
    lit_scene.render.filepath = str(tmp_path / "frame_")
    seen = []

    def after_frame(scene, *_args):
        jobs = dict(final._jobs)
        seen.append([(key, id(job.exporter), job.renderer.geometry_reused) for key, job in jobs.items()])

    bpy.app.handlers.render_post.append(after_frame)
    try:
        assert bpy.ops.render.render(animation=True) == {"FINISHED"}
    finally:
        bpy.app.handlers.render_post.remove(after_frame)
    files = [tmp_path / f"frame_{f:04d}.png" for f in (1, 2, 3)]
    assert all(p.is_file() for p in files), sorted(os.listdir(tmp_path))
    images = [read_image_file(p)[""] for p in files]
    assert images[0].shape[:2] == (SIZE, SIZE)
    assert np.abs(images[0] - images[1]).mean() > 0.005  # the sphere moved
    assert np.abs(images[1] - images[2]).mean() > 0.005
    # One exporter and renderer for the whole job, then freed (render_complete).
    assert len(seen) == 3 and all(len(s) == 1 for s in seen), seen
    assert len({s[0][1] for s in seen}) == 1
    assert seen[1][0][2] >= 1 and seen[2][0][2] >= 1  # the unchanged meshes kept their BVH
    assert final._jobs == {}


def test_animation_ffmpeg(lit_scene, tmp_path):
    _animate_sphere(lit_scene)
    r = lit_scene.render
    r.image_settings.media_type = "VIDEO"  # 5.0: before choosing the container
    r.ffmpeg.format = "MPEG4"
    r.ffmpeg.codec = "H264"
    r.filepath = str(tmp_path / "movie_")
    assert bpy.ops.render.render(animation=True) == {"FINISHED"}
    movies = [p for p in tmp_path.iterdir() if p.suffix == ".mp4"]
    assert len(movies) == 1, sorted(os.listdir(tmp_path))
    av = pytest.importorskip("av")
    with av.open(str(movies[0])) as container:
        frames = [f.to_ndarray(format="rgb24").astype(np.float32) for f in container.decode(video=0)]
    assert len(frames) == 3
    assert frames[0].shape == (SIZE, SIZE, 3)
    assert frames[0].mean() > 10  # not black (8-bit levels)
    assert np.abs(frames[0] - frames[2]).mean() > 1


# ---------------------------------------------------------------------------------------------
# messages


def test_unsupported_node_is_reported(lit_scene, tmp_path, capfd):
    mat = bpy.data.materials.new("Toon")
    tree = mat.node_tree
    out = next(n for n in tree.nodes if n.bl_idname == "ShaderNodeOutputMaterial")
    toon = tree.nodes.new("ShaderNodeBsdfToon")
    tree.links.new(toon.outputs[0], out.inputs["Surface"])
    mat.diffuse_color = (0.8, 0.1, 0.1, 1.0)
    lit_scene.objects["Sphere"].data.materials.append(mat)
    rgba = _combined(_render_still(lit_scene, tmp_path / "toon.exr"))
    centre = _centre(rgba)
    # Treated as muted: nothing reaches the Surface, which renders black (as Cycles renders an
    # output with nothing linked).
    assert centre[:3].max() < 0.02
    printed = capfd.readouterr().out
    assert "Warning" in printed and "Toon" in printed and "ShaderNodeBsdfToon" in printed, printed


def test_render_error_is_reported(lit_scene, tmp_path):
    """A scene the core refuses fails the render with Blender's error report (the render
    operator fails with the message), not with a traceback out of RenderEngine.render."""
    final = optica_module("addon.render_job")
    job = final.job_for(lit_scene, lit_scene.view_layers[0])

    class WrongVersionExporter:  # stands in for a converter bug
        def export(self, depsgraph, frame_set=None):
            return {"version": 99}

    job.exporter = WrongVersionExporter()
    lit_scene.render.filepath = str(tmp_path / "error.exr")
    with pytest.raises(RuntimeError, match="Optica: version: unsupported scene version 99"):
        bpy.ops.render.render(write_still=True)
    assert final._jobs == {}  # render_complete or render_cancel released the job
