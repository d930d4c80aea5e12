# SPDX-License-Identifier: GPL-3.0-or-later
"""Motion steps and curves from Blender into the scene dict (addon/export/motion.py, curves.py),
in real Blender: every exported step equals what the depsgraph gives at that sub-frame, read
back here independently (`scene.frame_set` with a sub-frame, then bpy); Curves objects and
particle hair equal Blender's points, radii and offsets; the core accepts the result.
"""

import math
import warnings

import bpy
import numpy as np
import pytest
from conftest import export_package

from optica_core import Renderer, validate_scene
from optica_core.scene import SceneWarning, shutter_interval

pkg = export_package()
SceneExporter = pkg.SceneExporter
EVALUABLE = frozenset(n for n in dir(bpy.types) if n.startswith("ShaderNode"))
FRAME = 5


@pytest.fixture
def scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    s = bpy.context.scene
    s.frame_start, s.frame_end = 1, 10
    s.render.resolution_x, s.render.resolution_y = 32, 24
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.location = (0, -8, 1)
    cam.rotation_euler = (math.pi / 2, 0, 0)
    s.collection.objects.link(cam)
    s.camera = cam
    return s


def export(messages=None):
    log = (lambda level, text: messages.append(text)) if messages is not None else (lambda *a: None)
    ex = SceneExporter(log=log, evaluable=EVALUABLE)
    d = ex.export(bpy.context.evaluated_depsgraph_get())
    return d, ex.last_stats


def add(s, name, data, location=(0, 0, 0)):
    ob = bpy.data.objects.new(name, data)
    ob.location = location
    s.collection.objects.link(ob)
    return ob


def box_mesh(name="Box", n=4):
    """A subdivided strip along X (n + 1 vertex columns), so deformations bend it visibly."""
    xs = np.linspace(-1, 1, n + 1)
    verts = [(x, y, z) for x in xs for y in (-0.2, 0.2) for z in (0.0, 0.4)]
    faces = []
    for i in range(n):
        a, b = 4 * i, 4 * (i + 1)
        faces += [(a, b, b + 1, a + 1), (a + 2, a + 3, b + 3, b + 2), (a, a + 2, b + 2, b), (a + 1, b + 1, b + 3, a + 3)]
    me = bpy.data.meshes.new(name)
    me.from_pydata(verts, [], faces)
    return me


def sample_times(s, steps):
    """Frame times of `steps` steps over the shutter, as the doc defines them."""
    open_, close = shutter_interval({"shutter": s.render.motion_blur_shutter, "position": s.render.motion_blur_position})
    return FRAME + open_ + (close - open_) * np.arange(steps) / (steps - 1)


def at(s, t, read):
    """`read()` with the scene at frame time `t`, then back to FRAME."""
    whole = math.floor(t)
    s.frame_set(whole, subframe=t - whole)
    try:
        return read()
    finally:
        s.frame_set(FRAME)


def evaluated(name):
    return bpy.data.objects[name].evaluated_get(bpy.context.evaluated_depsgraph_get())


def vertex_positions(name):
    me = evaluated(name).data
    out = np.empty(len(me.vertices) * 3, np.float32)
    me.vertices.foreach_get("co", out)
    return out.reshape(-1, 3)


def moving_cube(s):
    cube = add(s, "Cube", box_mesh("Cube", n=3))
    for f, x in ((1, 0.0), (10, 9.0)):
        cube.location.x = x
        cube.rotation_euler.z = 0.1 * f * f
        cube.keyframe_insert("location", frame=f)
        cube.keyframe_insert("rotation_euler", frame=f)
    s.frame_set(FRAME)
    return cube


# ---------------------------------------------------------------------------------------------
# motion


@pytest.mark.parametrize("position", ["START", "CENTER", "END"])
def test_moving_cube_steps_are_the_depsgraph_at_the_sub_frames(scene, position):
    moving_cube(scene)
    scene.render.use_motion_blur = True
    scene.render.motion_blur_position = position
    scene.render.motion_blur_shutter = 0.8
    d, stats = export()
    assert d["motion"]["position"] == position and d["motion"]["shutter"] == pytest.approx(0.8)
    (group,) = [g for g in d["instances"] if g["geometry"] == "Cube"]
    steps = group["motion"]
    assert steps.shape == (3, 1, 4, 4)  # Cycles' default: Steps 1 → 3
    for step, t in enumerate(sample_times(scene, 3)):
        expected = at(scene, t, lambda: np.array(evaluated("Cube").matrix_world, np.float32))
        np.testing.assert_allclose(steps[step, 0], expected, atol=1e-5, err_msg=f"step {step} at {t}")
    assert scene.frame_current == FRAME and scene.frame_subframe == 0.0  # left where it was
    assert stats["motion_steps"] == 2  # the frame itself (one of the three steps) is not evaluated again
    validate_scene(d)


def test_more_steps_per_object_and_toggles(scene):
    cube = moving_cube(scene)
    still = add(scene, "Still", box_mesh("Still", n=5), (0, 3, 0))  # meshes of their own (equal ones are stored once)
    off = add(scene, "Off", box_mesh("Off", n=6), (0, -3, 0))
    off.animation_data_create()
    off.location.z = 0
    off.keyframe_insert("location", frame=1)
    off.location.z = 9
    off.keyframe_insert("location", frame=10)
    off.cycles.use_motion_blur = False
    cube.cycles.motion_steps = 3  # 2^3 + 1 = 9 steps
    scene.render.use_motion_blur = True
    d, _stats = export()
    by_name = {g["geometry"]: g for g in d["instances"]}
    assert by_name["Cube"]["motion"].shape == (9, 1, 4, 4)
    times = sample_times(scene, 9)
    for step in (0, 3, 8):
        expected = at(scene, times[step], lambda: np.array(evaluated("Cube").matrix_world, np.float32))
        np.testing.assert_allclose(by_name["Cube"]["motion"][step, 0], expected, atol=1e-5)
    assert "motion" not in by_name["Still"]  # does not move: stored once, no steps
    assert "motion" not in by_name["Off"]  # its toggle is off


def test_rotating_camera(scene):
    cam = scene.camera
    for f, angle in ((1, 0.0), (10, 1.8)):
        cam.rotation_euler.z = angle
        cam.keyframe_insert("rotation_euler", frame=f)
    scene.frame_set(FRAME)
    add(scene, "Cube", box_mesh("Cube"))
    scene.render.use_motion_blur = True
    d, stats = export()
    steps = d["camera"]["motion"]
    assert steps.shape == (3, 4, 4) and stats["motion_camera"] == 1
    for step, t in enumerate(sample_times(scene, 3)):
        expected = at(scene, t, lambda: np.array(evaluated("Camera").matrix_world, np.float32))
        np.testing.assert_allclose(steps[step], expected, atol=1e-5)
    np.testing.assert_allclose(steps[1], d["camera"]["matrix"], atol=1e-6)  # centred: the frame
    assert not any("motion" in g for g in d["instances"])


def test_armature_deformed_mesh(scene):
    me = box_mesh("Arm", n=8)
    ob = add(scene, "Arm", me)
    arm_data = bpy.data.armatures.new("Rig")
    rig = add(scene, "Rig", arm_data)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    bone = arm_data.edit_bones.new("Bone")
    bone.head, bone.tail = (0, 0, 0), (1, 0, 0)
    bpy.ops.object.mode_set(mode="OBJECT")
    group = ob.vertex_groups.new(name="Bone")
    right = [i for i, v in enumerate(me.vertices) if v.co.x > 0]
    group.add(right, 1.0, "REPLACE")
    mod = ob.modifiers.new("Armature", "ARMATURE")
    mod.object = rig
    pose = rig.pose.bones["Bone"]
    pose.rotation_mode = "XYZ"
    for f, angle in ((1, 0.0), (10, 1.5)):
        pose.rotation_euler.y = angle
        pose.keyframe_insert("rotation_euler", frame=f)
    scene.frame_set(FRAME)
    scene.render.use_motion_blur = True
    d, stats = export()
    motion = d["meshes"]["Arm"]["motion"]
    assert motion["vertices"].shape == (3, len(me.vertices), 3) and stats["motion_meshes"] == 1
    for step, t in enumerate(sample_times(scene, 3)):
        np.testing.assert_allclose(motion["vertices"][step], at(scene, t, lambda: vertex_positions("Arm")), atol=1e-5)
    assert not np.allclose(motion["vertices"][0], motion["vertices"][2])  # it does bend
    assert "Cube" not in d["meshes"]
    validate_scene(d)


def test_shape_key_mesh(scene):
    me = box_mesh("Keys")
    ob = add(scene, "Keys", me)
    ob.shape_key_add(name="Basis")
    key = ob.shape_key_add(name="Up")
    for i, point in enumerate(key.data):
        point.co.z += 0.1 * i
    for f, value in ((1, 0.0), (10, 1.0)):
        key.value = value
        key.keyframe_insert("value", frame=f)
    scene.frame_set(FRAME)
    scene.render.use_motion_blur = True
    scene.render.motion_blur_position = "START"
    d, _stats = export()
    motion = d["meshes"]["Keys"]["motion"]["vertices"]
    for step, t in enumerate(sample_times(scene, 3)):
        np.testing.assert_allclose(motion[step], at(scene, t, lambda: vertex_positions("Keys")), atol=1e-5)
    np.testing.assert_array_equal(motion[0], d["meshes"]["Keys"]["vertices"])  # Start: the frame opens the shutter


def test_changing_topology_uses_the_velocity_attribute(scene):
    me = box_mesh("Fluid", n=8)
    velocity = me.attributes.new("velocity", "FLOAT_VECTOR", "POINT")
    v = np.tile(np.array([2.0, 0.0, 0.0], np.float32), len(me.vertices))
    velocity.data.foreach_set("vector", v)
    ob = add(scene, "Fluid", me)
    build = ob.modifiers.new("Build", "BUILD")  # removes faces over time: the vertex count changes
    build.frame_start, build.frame_duration = 4, 2
    scene.frame_set(FRAME)
    scene.render.use_motion_blur = True
    messages = []
    d, stats = export(messages)
    motion = d["meshes"]["Fluid"]["motion"]
    fps = scene.render.fps / scene.render.fps_base
    assert motion == {"velocities": pytest.approx(np.tile([2.0 / fps, 0, 0], (len(d["meshes"]["Fluid"]["vertices"]), 1)))}
    assert stats["motion_velocities"] == 1
    ob.data.attributes.remove(ob.data.attributes["velocity"])
    d, stats = export(messages)
    assert "motion" not in d["meshes"]["Fluid"]
    assert any("topology changes" in m for m in messages), messages


def test_a_step_the_scene_dict_refuses_holds_the_frame(scene):
    """An object shrinking to nothing at the shutter's close: that step would not be invertible,
    so it holds the frame's matrix and the scene stays valid."""
    cube = add(scene, "Cube", box_mesh("Cube"))
    for f, s in ((FRAME - 1, 1.0), (FRAME, 1.0), (FRAME + 1, 0.0)):
        cube.scale = (s, s, s)
        cube.keyframe_insert("scale", frame=f)
    scene.frame_set(FRAME)
    scene.render.use_motion_blur = True
    scene.render.motion_blur_position = "START"
    scene.render.motion_blur_shutter = 1.0
    d, _stats = export()
    steps = d["instances"][0]["motion"]
    np.testing.assert_allclose(steps[2, 0], d["instances"][0]["transforms"][0])  # scale 0 at the close
    assert abs(np.linalg.det(steps[1, 0][:3, :3])) > 1e-6
    validate_scene(d)


def test_motion_blur_off_exports_no_steps(scene):
    moving_cube(scene)
    assert not scene.render.use_motion_blur  # Blender's default
    d, stats = export()
    assert "motion" not in d and "motion" not in d["camera"]
    assert not any("motion" in g for g in d["instances"])
    assert "motion_steps" not in stats and "seconds_motion" not in stats
    assert validate_scene(d)["motion"] is None


def test_viewport_tracker_shows_the_frame_alone_and_sees_curve_edits(scene):
    moving_cube(scene)
    ob, _sizes = hair_ball(scene)
    scene.render.use_motion_blur = True
    tracker = SceneExporter(log=lambda *a: None, evaluable=EVALUABLE, track_changes=True)
    d = tracker.export(bpy.context.evaluated_depsgraph_get())
    assert "motion" not in d
    tracker.export(bpy.context.evaluated_depsgraph_get())
    assert tracker.last_changes == {}
    radius = ob.data.attributes["radius"]
    values = np.empty(len(radius.data), np.float32)
    radius.data.foreach_get("value", values)
    radius.data.foreach_set("value", values * 2)
    ob.data.update_tag()
    tracker.export(bpy.context.evaluated_depsgraph_get())
    changed = tracker.last_changes  # the new content under a new name while the old one is still held
    assert set(changed) == {"curves", "instances"} and "Ball" in changed["curves"], changed


def test_shutter_curve_and_rolling_shutter(scene):
    moving_cube(scene)
    r = scene.render
    r.use_motion_blur = True
    curve = r.motion_blur_shutter_curve
    points = curve.curves[0].points
    points[0].location = (0.0, 0.0)
    points[-1].location = (1.0, 1.0)
    curve.update()
    scene.cycles.rolling_shutter_type = "TOP"
    scene.cycles.rolling_shutter_duration = 0.3
    d, _stats = export()
    m = d["motion"]
    assert m["shutter_curve"].shape == (256,)
    assert m["shutter_curve"][0] == pytest.approx(0.0, abs=1e-3) and m["shutter_curve"][-1] == pytest.approx(1.0, abs=1e-3)
    assert m["rolling_shutter"] == "TOP" and m["rolling_shutter_duration"] == pytest.approx(0.3)


# ---------------------------------------------------------------------------------------------
# curves


def hair_ball(s, n_curves=200, seed=1):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 9, n_curves)
    curves = bpy.data.hair_curves.new("Ball")
    curves.add_curves(sizes.tolist())
    n = int(sizes.sum())
    directions = rng.normal(size=(n_curves, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    along = np.concatenate([np.arange(k) for k in sizes]) * 0.05 + 1.0
    points = np.repeat(directions, sizes, axis=0) * along[:, None]
    curves.position_data.foreach_set("vector", points.astype(np.float32).ravel())
    radius = curves.attributes.new("radius", "FLOAT", "POINT")
    radius.data.foreach_set("value", rng.uniform(0.001, 0.02, n).astype(np.float32))
    ob = add(s, "Ball", curves, (0.5, 0, 0))
    return ob, sizes


def test_hair_ball_curves_object(scene):
    ob, sizes = hair_ball(scene)
    scene.cycles_curves.shape = "THICK"
    mat = bpy.data.materials.new("Fur")
    ob.data.materials.append(mat)
    d, stats = export()
    c = d["curves"]["Ball"]
    b = evaluated("Ball").data
    assert len(c["points"]) == len(b.points) == sizes.sum() and len(c["offsets"]) == len(sizes) + 1
    np.testing.assert_array_equal(c["offsets"], np.concatenate([[0], np.cumsum(sizes)]))
    np.testing.assert_allclose(c["points"], [tuple(p.position) for p in b.points], atol=1e-7)
    np.testing.assert_allclose(c["radii"], [p.radius for p in b.points], atol=1e-8)
    assert (c["shape"], c["segments"]) == ("round", "catmull_rom")  # Cycles' default 3D Curve
    assert c["materials"] == ["Fur"]
    (group,) = [g for g in d["instances"] if g["geometry"] == "Ball"]
    np.testing.assert_allclose(group["transforms"][0], np.array(ob.matrix_world), atol=1e-7)
    assert stats["curves"] == 1
    scene.cycles_curves.shape = "RIBBONS"
    d, stats = export()
    assert (d["curves"]["Ball"]["shape"], d["curves"]["Ball"]["segments"]) == ("ribbon", "catmull_rom")
    scene.cycles_curves.shape = "THICK_LINEAR"
    assert export()[0]["curves"]["Ball"]["segments"] == "linear"


def test_curves_without_radius_get_cycles_default(scene):
    curves = bpy.data.hair_curves.new("Bare")
    curves.add_curves([3, 4])
    add(scene, "Bare", curves)
    c = export()[0]["curves"]["Bare"]
    np.testing.assert_array_equal(c["radii"], np.full(7, 0.005, np.float32))


def test_unchanged_curves_are_the_same_arrays(scene):
    hair_ball(scene)
    ex = SceneExporter(log=lambda *a: None, evaluable=EVALUABLE)
    a = ex.export(bpy.context.evaluated_depsgraph_get())
    b = ex.export(bpy.context.evaluated_depsgraph_get())
    assert a["curves"]["Ball"]["points"] is b["curves"]["Ball"]["points"]
    assert ex.last_stats["curves_reused"] == 1


def test_particle_hair(scene):
    bpy.ops.mesh.primitive_plane_add(size=2, location=(1, 2, 0))
    ob = bpy.context.object
    bpy.ops.object.particle_system_add()
    settings = ob.particle_systems[0].settings
    settings.type = "HAIR"
    settings.count = 40
    settings.hair_length = 0.5
    settings.root_radius, settings.tip_radius, settings.radius_scale = 1.0, 0.2, 0.02
    for name in ("Skin", "Hair"):
        ob.data.materials.append(bpy.data.materials.new(name))
    settings.material = 2  # the slot by index: the evaluated object's `material_slot` names none
    d, _stats = export()
    (name,) = [n for n in d["curves"]]
    c = d["curves"][name]
    psys = evaluated(ob.name).particle_systems[0]
    steps = 2 ** settings.display_step + 1  # the viewport depsgraph: Display steps
    assert len(c["offsets"]) == 41 and len(c["points"]) == 40 * steps
    np.testing.assert_array_equal(np.diff(c["offsets"]), steps)
    # Roots where Blender puts the hairs (object space); tips half a metre above the plane.
    roots = np.array([tuple(p.hair_keys[0].co) for p in psys.particles], np.float32)
    np.testing.assert_allclose(c["points"][c["offsets"][:-1]], roots, atol=1e-5)
    np.testing.assert_allclose(c["points"][c["offsets"][1:] - 1, 2], 0.5, atol=1e-5)
    # Cycles' radii: root/tip width × radius scale / 2, linear along the hair (Shape 0), closed tip.
    np.testing.assert_allclose(c["radii"][0], 1.0 * 0.02 * 0.5, rtol=1e-5)
    np.testing.assert_allclose(c["radii"][steps - 1], 0.0)
    np.testing.assert_allclose(c["radii"][steps // 2], 0.5 * (0.01 + 0.002), rtol=1e-4)
    (group,) = [g for g in d["instances"] if g["geometry"] == name]
    np.testing.assert_allclose(group["transforms"][0], np.array(ob.matrix_world), atol=1e-7)
    assert c["materials"] == group["materials"] == ["Hair"]


def test_core_renders_exported_motion_and_curves_without_a_warning(scene):
    moving_cube(scene)
    hair_ball(scene)
    scene.render.use_motion_blur = True
    d, _stats = export()
    renderer = Renderer(threads=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        renderer.set_scene(d)
        renderer.set_scene(d)
    assert not [w for w in caught if issubclass(w.category, SceneWarning)]
    assert renderer.not_rendered == []
    renderer.accumulate(1)
    assert np.isfinite(np.asarray(renderer.color)).all()


# ---------------------------------------------------------------------------------------------
# a final render through the engine (its own frame_set for the sub-frames)


def test_final_render_renders_motion_and_curves(optica_installed, tmp_path, capfd):
    from conftest import enable_optica, optica_module, read_image_file

    bpy.ops.wm.read_factory_settings(use_empty=True)
    enable_optica()
    s = bpy.context.scene
    s.render.engine = "OPTICA"
    s.render.resolution_x = s.render.resolution_y = 24
    s.optica.samples = 2
    cam = add(s, "Camera", bpy.data.cameras.new("Camera"), (0, -8, 1))
    cam.rotation_euler = (math.pi / 2, 0, 0)
    s.camera = cam
    sun = bpy.data.lights.new("Sun", "SUN")
    add(s, "Sun", sun, (0, 0, 5))
    moving_cube(s)
    hair_ball(s)
    s.render.use_motion_blur = True
    job_module = optica_module("addon.render_job")
    seen = {}

    def after(scene, *_args):
        for job in job_module._jobs.values():
            seen.update(job.exporter.last_stats)

    bpy.app.handlers.render_post.append(after)
    try:
        s.render.image_settings.file_format = "OPEN_EXR"
        s.render.filepath = str(tmp_path / "blur.exr")
        assert bpy.ops.render.render(write_still=True) == {"FINISHED"}
    finally:
        bpy.app.handlers.render_post.remove(after)
    assert np.isfinite(next(iter(read_image_file(tmp_path / "blur.exr").values()))).all()
    printed = capfd.readouterr()
    assert "not rendered yet" not in printed.out + printed.err
    assert "motion blur" not in printed.out + printed.err
    assert seen["motion_groups"] == 1 and seen["motion_steps"] == 2 and seen["curves"] == 1
    assert s.frame_current == FRAME and s.frame_subframe == 0.0


def test_instances_and_particle_hair_move_with_their_instancer(scene):
    """Collection instances on a moving Empty: each instance's steps are its matrix at the
    sub-frames (matched by persistent id); particle hair moves with its emitter."""
    collection = bpy.data.collections.new("Pieces")
    for i in range(3):
        piece = bpy.data.objects.new(f"Piece{i}", box_mesh(f"Piece{i}", n=2 + i))  # not one shared mesh
        piece.location = (i, 0, 0)
        collection.objects.link(piece)
    empty = bpy.data.objects.new("Carrier", None)
    empty.instance_type = "COLLECTION"
    empty.instance_collection = collection
    scene.collection.objects.link(empty)
    for f, z in ((1, 0.0), (10, 4.5)):
        empty.location.z = z
        empty.rotation_euler.x = 0.2 * f
        empty.keyframe_insert("location", frame=f)
        empty.keyframe_insert("rotation_euler", frame=f)
    bpy.ops.mesh.primitive_plane_add(size=1, location=(0, 3, 0))
    emitter = bpy.context.object
    bpy.ops.object.particle_system_add()
    emitter.particle_systems[0].settings.type = "HAIR"
    emitter.particle_systems[0].settings.count = 10
    for f, x in ((1, 0.0), (10, 9.0)):
        emitter.location.x = x
        emitter.keyframe_insert("location", frame=f)
    scene.frame_set(FRAME)
    scene.render.use_motion_blur = True
    d, _stats = export()

    def instance_matrices():
        dg = bpy.context.evaluated_depsgraph_get()
        return {inst.object.name: np.array(inst.matrix_world, np.float32) for inst in dg.object_instances if inst.is_instance}

    expected = [at(scene, t, instance_matrices) for t in sample_times(scene, 3)]
    for i in range(3):
        (group,) = [g for g in d["instances"] if g["geometry"] == f"Piece{i}"]
        for step in range(3):
            np.testing.assert_allclose(group["motion"][step, 0], expected[step][f"Piece{i}"], atol=1e-5)
    (hair,) = [g for g in d["instances"] if g["geometry"] in d["curves"]]
    emitter_steps = [at(scene, t, lambda: np.array(evaluated(emitter.name).matrix_world, np.float32))
                     for t in sample_times(scene, 3)]
    np.testing.assert_allclose(hair["motion"][:, 0], emitter_steps, atol=1e-5)
    validate_scene(d)
