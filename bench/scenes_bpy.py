# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmark scenes built by script in real bpy (no third-party assets): one builder per kind
of scene issue 11 lists, each filling an empty scene with geometry, materials, lights and a camera.

Everything is deterministic (numpy generators with fixed seeds, arrays written with foreach_set);
the small-scene helpers (materials, spheres, lights, camera) are the tests' (tests/bpy_scenes.py).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

import bpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import bpy_scenes as bs  # noqa: E402

cornell_box = bs.cornell_box  # the Cornell box of optica_core.scenes, as Blender objects


def mesh_from_arrays(scene, name, vertices, triangles, material=None, *, smooth=True):
    """A mesh object from (V, 3) vertices and (T, 3) triangles, written with foreach_set (a
    million triangles in well under a second, where from_pydata takes tens of seconds)."""
    v = np.ascontiguousarray(vertices, np.float32)
    t = np.ascontiguousarray(triangles, np.int32)
    me = bpy.data.meshes.new(name)
    me.vertices.add(len(v))
    me.vertices.foreach_set("co", v.ravel())
    me.loops.add(t.size)
    me.loops.foreach_set("vertex_index", t.ravel())
    me.polygons.add(len(t))
    me.polygons.foreach_set("loop_start", np.arange(0, t.size, 3, dtype=np.int32))
    me.update()
    if smooth:
        me.shade_smooth()
    if material is not None:
        me.materials.append(material)
    return bs.link(scene, bpy.data.objects.new(name, me))


def point_mesh(scene, name, points, attributes=None):
    """A vertex-only mesh (the input of the geometry-nodes set-ups below), with optional float
    point attributes {name: (N,) array}."""
    p = np.ascontiguousarray(points, np.float32)
    me = bpy.data.meshes.new(name)
    me.vertices.add(len(p))
    me.vertices.foreach_set("co", p.ravel())
    for key, values in (attributes or {}).items():
        me.attributes.new(key, "FLOAT", "POINT").data.foreach_set("value", np.asarray(values, np.float32))
    me.update()
    return bs.link(scene, bpy.data.objects.new(name, me))


def geometry_nodes(obj, name):
    """A new node group as the object's only modifier; returns (tree, group input, group output)."""
    tree = bpy.data.node_groups.new(name, "GeometryNodeTree")
    tree.interface.new_socket(name="Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    tree.interface.new_socket(name="Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    group_in, group_out = tree.nodes.new("NodeGroupInput"), tree.nodes.new("NodeGroupOutput")
    obj.modifiers.new(name, "NODES").node_group = tree
    return tree, group_in, group_out


def sun_at_elevation(scene, elevation_deg, azimuth_deg, strength, angle_deg=0.526):
    """A sun whose light arrives `elevation_deg` above the horizon (Blender's default 0.526° disk)."""
    return bs.light(scene, "SUN", energy=strength, location=(0, 0, 10),
                    rotation_deg=(90.0 - elevation_deg, 0.0, azimuth_deg), angle=math.radians(angle_deg))


# ---- the scenes -------------------------------------------------------------------------------

def glossy_glass_emitter(scene):
    """Gold and glass spheres, a Suzanne and a small emissive sphere on a floor, under a 15°-wide
    sun (Blender's sun Angle) and a sky colour: glossy, refractive and small-emitter paths.

    With Blender's default 0.526° sun the caustic of the glass sphere (floor → glass → sun, found
    only by BSDF sampling) makes fireflies that a 1024-sample reference does not average out (its
    own RMSE was 0.43 on pixels of ~0.5): the 15° sun keeps the scene hard but measurable."""
    bs.world(scene, (0.30, 0.42, 0.65), 1.0)
    bs.plane(scene, "Floor", 30.0, bs.principled("Floor", (0.55, 0.55, 0.52), roughness=0.6))
    bs.uv_sphere(scene, "Gold", 0.7, (-1.3, 0.4, 0.7),
                 bs.principled("Gold", (0.944, 0.776, 0.373), metallic=1.0, roughness=0.2), 64, 32)
    bs.uv_sphere(scene, "Glass", 0.6, (0.5, -0.6, 0.6),
                 bs.principled("Glass", (1.0, 1.0, 1.0), roughness=0.0, ior=1.45, transmission=1.0), 64, 32)
    bs.uv_sphere(scene, "Lamp", 0.12, (0.0, 0.9, 0.35),
                 bs.principled("Lamp", (0.0, 0.0, 0.0), specular=0.0, emission=(1.0, 0.75, 0.45), strength=40.0))
    bpy.ops.mesh.primitive_monkey_add(size=1.2, location=(1.6, 0.9, 0.75), rotation=(0.0, 0.0, math.radians(-20)))
    monkey = bpy.context.object
    monkey.modifiers.new("Subdivision", "SUBSURF").levels = 2
    monkey.data.shade_smooth()
    monkey.data.materials.append(bs.principled("Suzanne", (0.6, 0.12, 0.1), roughness=0.35))
    sun_at_elevation(scene, 35.0, 35.0, 4.0, angle_deg=15.0)
    bs.camera(scene, (0.6, -6.5, 2.0), (77, 0, 5), lens=40)


def procedural_materials(scene):
    """Spheres and a floor whose colours, roughness and bumps come from Cycles' procedural
    textures (Noise, Voronoi, Wave, Brick, a Color Ramp, a Bump) under a sun and a sky colour: the
    shader program's cost and its agreement with Cycles (issue 8)."""
    bs.world(scene, (0.30, 0.42, 0.65), 1.0)
    bs.plane(scene, "Floor", 30.0, _procedural_material("Floor", "ShaderNodeTexBrick", "Color", bump=True))
    for k, (kind, output) in enumerate((("ShaderNodeTexNoise", "Fac"), ("ShaderNodeTexVoronoi", "Distance"),
                                        ("ShaderNodeTexWave", "Fac"))):
        bs.uv_sphere(scene, f"Sphere {k}", 0.7, (-1.6 + 1.6 * k, 0.0, 0.7),
                     _procedural_material(f"Sphere {k}", kind, output, bump=k != 1), 64, 32)
    sun_at_elevation(scene, 40.0, 30.0, 3.0, angle_deg=5.0)
    bs.camera(scene, (0.0, -6.5, 2.2), (75, 0, 0), lens=40)


def _procedural_material(name: str, texture: str, output: str, *, bump: bool):
    """Texture → Color Ramp → Base Color and Roughness of a Principled BSDF; optionally the
    texture's output bumps the normal."""
    mat = bpy.data.materials.new(name)
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes["Principled BSDF"]
    tex = nodes.new(texture)
    if "Scale" in tex.inputs:
        tex.inputs["Scale"].default_value = 4.0
    ramp = nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].color = (0.08, 0.15, 0.35, 1.0)
    ramp.color_ramp.elements[1].color = (0.85, 0.6, 0.3, 1.0)
    links.new(tex.outputs[output], ramp.inputs["Fac"])
    links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
    rough = nodes.new("ShaderNodeMapRange")
    rough.inputs["To Min"].default_value, rough.inputs["To Max"].default_value = 0.25, 0.7
    links.new(tex.outputs[output], rough.inputs["Value"])
    links.new(rough.outputs["Result"], bsdf.inputs["Roughness"])
    if bump:
        b = nodes.new("ShaderNodeBump")
        b.inputs["Strength"].default_value = 0.3
        links.new(tex.outputs[output], b.inputs["Height"])
        links.new(b.outputs["Normal"], bsdf.inputs["Normal"])
    return mat


def many_instances(scene, count=10_000, segments=18, rings=10):
    """`count` geometry-nodes instances (Instance on Points) of one UV sphere of
    2·segments·(rings−1) triangles (324 by default: 3.24M triangles for 10,000), with random
    sizes, on a floor under a sun and a sky colour."""
    bs.world(scene, (0.25, 0.35, 0.55), 1.0)
    bs.plane(scene, "Floor", 60.0, bs.diffuse("Floor", (0.5, 0.5, 0.5)))
    rng = np.random.default_rng(11)
    side = int(math.ceil(math.sqrt(count)))
    gx, gy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    spacing = 20.0 / side
    xy = (np.stack([gx.ravel(), gy.ravel()], 1)[:count] + 0.5) * spacing - 10.0
    xy = xy + rng.uniform(-0.3, 0.3, xy.shape) * spacing
    scale = rng.uniform(0.15, 0.45, count) * spacing
    points = np.column_stack([xy, scale])  # a sphere of radius `scale` resting on the floor
    spawner = point_mesh(scene, "Scatter", points, {"size": scale})
    tree, group_in, group_out = geometry_nodes(spawner, "Scatter")
    sphere = tree.nodes.new("GeometryNodeMeshUVSphere")
    sphere.inputs["Segments"].default_value, sphere.inputs["Rings"].default_value = segments, rings
    smooth = tree.nodes.new("GeometryNodeSetShadeSmooth")
    material = tree.nodes.new("GeometryNodeSetMaterial")
    material.inputs["Material"].default_value = bs.principled("Pebble", (0.7, 0.45, 0.3), roughness=0.45)
    size = tree.nodes.new("GeometryNodeInputNamedAttribute")
    size.data_type = "FLOAT"
    size.inputs["Name"].default_value = "size"
    instance = tree.nodes.new("GeometryNodeInstanceOnPoints")
    tree.links.new(sphere.outputs["Mesh"], smooth.inputs["Geometry"])
    tree.links.new(smooth.outputs["Geometry"], material.inputs["Geometry"])
    tree.links.new(group_in.outputs[0], instance.inputs["Points"])
    tree.links.new(material.outputs["Geometry"], instance.inputs["Instance"])
    tree.links.new(size.outputs["Attribute"], instance.inputs["Scale"])
    tree.links.new(instance.outputs["Instances"], group_out.inputs[0])
    sun_at_elevation(scene, 40.0, 30.0, 3.0)
    bs.camera(scene, (0.0, -14.0, 6.0), (68, 0, 0), lens=35)


def big_smooth_mesh(scene, n_triangles=1_300_000):
    """One smooth bumpy sphere of `n_triangles` triangles (optica_core.scenes.displaced_sphere's
    surface), glossy clay, on a floor, lit by an area light and a sky colour."""
    import optica_core.scenes

    d = optica_core.scenes.displaced_sphere(n_triangles)
    mesh = d["meshes"]["bumpy_sphere"]
    bs.world(scene, (0.2, 0.22, 0.25), 1.0)
    bs.plane(scene, "Floor", 20.0, bs.diffuse("Floor", (0.45, 0.45, 0.45)), z=-1.1)
    mesh_from_arrays(scene, "Bumpy", mesh["vertices"], mesh["triangles"],
                     bs.principled("Clay", (0.75, 0.55, 0.4), roughness=0.4))
    bs.light(scene, "AREA", energy=400.0, location=(2.5, -2.5, 3.0), rotation_deg=(40, 0, 45),
             shape="RECTANGLE", size=2.0, size_y=1.0)
    bs.camera(scene, (0.0, -5.0, 1.2), (80, 0, 0), lens=45)


def point_cloud(scene, count=200_000):
    """A cloud of `count` spheres (radius 1–3 cm, a geometry-nodes point cloud) in a slab over a
    floor, lit by a sun and a sky colour."""
    bs.world(scene, (0.3, 0.38, 0.5), 1.0)
    bs.plane(scene, "Floor", 30.0, bs.diffuse("Floor", (0.5, 0.5, 0.5)))
    rng = np.random.default_rng(7)
    points = rng.uniform((-2.5, -2.5, 0.2), (2.5, 2.5, 1.4), (count, 3))
    radius = rng.uniform(0.01, 0.03, count)
    holder = point_mesh(scene, "Cloud", points, {"r": radius})
    tree, group_in, group_out = geometry_nodes(holder, "Cloud")
    to_points = tree.nodes.new("GeometryNodeMeshToPoints")
    r = tree.nodes.new("GeometryNodeInputNamedAttribute")
    r.data_type = "FLOAT"
    r.inputs["Name"].default_value = "r"
    material = tree.nodes.new("GeometryNodeSetMaterial")
    material.inputs["Material"].default_value = bs.principled("Grain", (0.8, 0.7, 0.5), roughness=0.5)
    tree.links.new(group_in.outputs[0], to_points.inputs["Mesh"])
    tree.links.new(r.outputs["Attribute"], to_points.inputs["Radius"])
    tree.links.new(to_points.outputs["Points"], material.inputs["Geometry"])
    tree.links.new(material.outputs["Geometry"], group_out.inputs[0])
    sun_at_elevation(scene, 50.0, -30.0, 3.0)
    bs.camera(scene, (0.0, -7.0, 3.5), (65, 0, 0), lens=35)


def many_lights(scene, n_point=100, n_area=16, n_emissive=12):
    """A dark room of pillars and spheres lit only by `n_point` coloured point lights, `n_area`
    area lights and `n_emissive` glowing cubes (emissive meshes): many-light sampling."""
    bs.world(scene, (0.0, 0.0, 0.0))
    rng = np.random.default_rng(5)
    bs.plane(scene, "Floor", 24.0, bs.diffuse("Floor", (0.6, 0.6, 0.6)))
    bs.plane(scene, "Ceiling", 24.0, bs.diffuse("Ceiling", (0.6, 0.6, 0.6)), z=3.0)
    stone = bs.principled("Stone", (0.7, 0.7, 0.65), roughness=0.5)
    for i, (x, y) in enumerate(rng.uniform(-8, 8, (24, 2))):
        vertices, triangles = _box_arrays((0.4, 0.4, 3.0), (x, y, 1.5))
        mesh_from_arrays(scene, f"Pillar{i}", vertices, triangles, stone, smooth=False)
    for i, (x, y) in enumerate(rng.uniform(-8, 8, (16, 2))):
        bs.uv_sphere(scene, f"Ball{i}", 0.5, (x, y, 0.5), stone)
    hues = rng.uniform(0, 1, n_point + n_area + n_emissive)
    colors = [_hue(h) for h in hues]
    for i, (x, y, z) in enumerate(rng.uniform((-9, -9, 0.3), (9, 9, 2.6), (n_point, 3))):
        bs.light(scene, "POINT", energy=float(rng.uniform(10, 40)), location=(x, y, z), color=colors[i],
                 shadow_soft_size=0.05)
    for i, (x, y) in enumerate(rng.uniform(-9, 9, (n_area, 2))):
        bs.light(scene, "AREA", energy=float(rng.uniform(30, 90)), location=(x, y, 2.95), color=colors[n_point + i],
                 shape="RECTANGLE", size=0.6, size_y=0.3)
    for i, (x, y) in enumerate(rng.uniform(-9, 9, (n_emissive, 2))):
        glow = bs.principled(f"Glow{i}", (0.0, 0.0, 0.0), specular=0.0, emission=colors[n_point + n_area + i],
                             strength=8.0)
        vertices, triangles = _box_arrays((0.25, 0.25, 0.25), (x, y, 0.125))
        mesh_from_arrays(scene, f"Glow{i}", vertices, triangles, glow, smooth=False)
    bs.camera(scene, (0.0, -11.0, 1.6), (86, 0, 0), lens=24)


def motion_blur(scene, frame=5):
    """Render › Motion Blur over a full-frame shutter at a frame mid-animation: six cubes sliding
    and turning (object blur), a slab waved by a shape key (deformation blur), a camera panning
    (camera blur); a floor, a sun and a sky."""
    bs.world(scene, (0.35, 0.4, 0.5))
    sun_at_elevation(scene, 40.0, 30.0, 3.0, angle_deg=2.0)
    bs.plane(scene, "Floor", 30.0, bs.diffuse("Floor", (0.5, 0.5, 0.5)))
    scene.frame_start, scene.frame_end = 1, 10

    for i in range(6):
        vertices, triangles = _box_arrays((0.7, 0.7, 0.7), (0.0, 0.0, 0.35))
        ob = mesh_from_arrays(scene, f"Cube{i}", vertices, triangles,
                              bs.principled(f"Cube{i}", _hue(i / 6), roughness=0.4), smooth=False)
        y = -1.5 + 1.0 * i
        for f, x, angle in ((1, -3.0 + 0.4 * i, 0.0), (9, 3.0 - 0.4 * i, 1.5 + 0.3 * i)):
            ob.location = (x, y, 0.0)
            ob.rotation_euler.z = angle
            ob.keyframe_insert("location", frame=f)
            ob.keyframe_insert("rotation_euler", frame=f)
        bs.linear_keyframes(ob.animation_data.action)
    xs = np.linspace(-2.5, 2.5, 41)
    slab = [(x, y, z) for x in xs for y in (-0.3, 0.3) for z in (0.0, 0.3)]
    faces = []
    for i in range(len(xs) - 1):
        a, b = 4 * i, 4 * (i + 1)
        faces += [(a, b, b + 1, a + 1), (a + 2, a + 3, b + 3, b + 2), (a, a + 2, b + 2, b), (a + 1, b + 1, b + 3, a + 3)]
    wave = bs.mesh_object(scene, "Wave", slab, faces, bs.diffuse("Wave", (0.8, 0.7, 0.3)))
    wave.location = (0.0, 4.0, 0.0)
    wave.shape_key_add(name="Basis")
    key = wave.shape_key_add(name="Wave")
    for point in key.data:
        point.co.z += 0.8 * (1.0 + math.sin(point.co.x * 2.5))
    for f, value in ((1, 0.0), (9, 1.0)):
        key.value = value
        key.keyframe_insert("value", frame=f)
    bs.linear_keyframes(wave.data.shape_keys.animation_data.action)
    cam = bs.camera(scene, (0.0, -10.0, 3.5), (74, 0, 0), lens=32)
    for f, angle in ((1, -0.25), (9, 0.25)):
        cam.rotation_euler.z = angle
        cam.keyframe_insert("rotation_euler", frame=f)
    bs.linear_keyframes(cam.animation_data.action)
    scene.frame_set(frame)
    scene.render.use_motion_blur = True
    scene.render.motion_blur_shutter = 1.0


def hair_ball(scene, n_curves=2000):
    """The curve tests' hair ball (tests/bpy_scenes.py: a Curves object of bent round strands,
    4–8 Catmull-Rom points each, radii 4–20 mm narrowing to the tip, diffuse) with `n_curves`
    strands, over a ground under a sun and a sky colour."""
    bs.hair_stage(scene)
    scene.cycles_curves.shape = "THICK"  # round curves (3D Curve, Blender's default)
    bs.hair_ball(scene, n_curves)


def hair_patch(scene, n_segments=1_000_000):
    """optica_core.scenes.hair_patch's fur as a Curves object: n_segments / 7 bent hairs of 8
    Catmull-Rom points (7 segments each), 0.3 m long, 1.5 mm root radius, on a 4 m ground under a
    sun and a sky colour."""
    import optica_core.scenes

    fur = optica_core.scenes.hair_patch(n_segments, 16, 16)["curves"]["fur"]
    sizes = np.diff(fur["offsets"])
    bs.world(scene, (0.3, 0.38, 0.5), 1.0)
    bs.plane(scene, "Ground", 4.0, bs.diffuse("Ground", (0.5, 0.5, 0.5)))
    scene.cycles_curves.shape = "THICK"
    bs.curves_object(scene, "Fur", sizes, fur["points"], fur["radii"], bs.diffuse("Fur", (0.6, 0.45, 0.3)))
    sun_at_elevation(scene, 45.0, 30.0, 3.0)
    bs.camera(scene, (0.0, -3.0, 1.2), (70, 0, 0), lens=40)


def hdri_world(scene, image_path):
    """Spheres (diffuse, rough and smooth metal) on a floor lit only by an equirectangular
    environment image made by `environment_image` — a world texture, which needs issue 8."""
    w = bs.world(scene, (1.0, 1.0, 1.0))
    nodes, links = w.node_tree.nodes, w.node_tree.links
    env = nodes.new("ShaderNodeTexEnvironment")
    env.image = bpy.data.images.load(str(image_path), check_existing=True)
    links.new(env.outputs["Color"], nodes["Background"].inputs["Color"])
    bs.plane(scene, "Floor", 30.0, bs.diffuse("Floor", (0.5, 0.5, 0.5)))
    bs.uv_sphere(scene, "Matte", 0.7, (-1.6, 0.0, 0.7), bs.diffuse("Matte", (0.8, 0.8, 0.8)), 64, 32)
    bs.uv_sphere(scene, "Rough", 0.7, (0.0, 0.3, 0.7),
                 bs.principled("Rough", (0.9, 0.9, 0.9), metallic=1.0, roughness=0.35), 64, 32)
    bs.uv_sphere(scene, "Mirror", 0.7, (1.6, 0.0, 0.7),
                 bs.principled("Mirror", (0.95, 0.95, 0.95), metallic=1.0, roughness=0.05), 64, 32)
    bs.camera(scene, (0.0, -7.0, 1.8), (80, 0, 0), lens=40)


def environment_image(path, width=512):
    """Writes a synthetic HDR sky (gradient, horizon haze, a bright sun disk 25° up) as a linear
    float OpenEXR equirectangular image, as HDRIs are: an HDRI without third-party assets.
    Written with OpenEXR, untagged (Blender loads it as Linear Rec.709): `Image.save` of a float
    image writes it sRGB-encoded and tagged sRGB, which Cycles samples encoded from the file
    (interpolated, then decoded: a floor under the hard sun disk 3-6 % dark) while Blender's
    buffer holds it decoded."""
    import OpenEXR

    height = width // 2
    lat = (0.5 - (np.arange(height) + 0.5) / height) * math.pi
    lon = ((np.arange(width) + 0.5) / width - 0.5) * 2 * math.pi
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    sky = np.where(la[..., None] > 0,
                   np.array([0.25, 0.45, 0.9]) * (1 - np.sin(la))[..., None] + np.array([0.7, 0.75, 0.8]) * 0.3,
                   np.array([0.25, 0.22, 0.2]))
    sun_dir = np.array([math.cos(math.radians(25)) * math.cos(0.6), math.cos(math.radians(25)) * math.sin(0.6),
                        math.sin(math.radians(25))])
    d = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
    sky = sky + (d @ sun_dir > math.cos(math.radians(2.0)))[..., None] * np.array([400.0, 360.0, 300.0])
    channels = {c: np.ascontiguousarray(sky[..., i], dtype=np.float32) for i, c in enumerate("RGB")}  # top row first
    path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no bench cache yet
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, channels) as f:
        f.write(str(path))
    return path


# ---- helpers ----------------------------------------------------------------------------------

def _box_arrays(size, center):
    import optica_core.scenes

    return optica_core.scenes.box(size, center)


def _hue(h):
    """A saturated colour of hue h in [0, 1)."""
    rgb = np.clip(np.abs((h * 6 + np.array([0.0, 4.0, 2.0])) % 6 - 3) - 1, 0, 1)
    return tuple(float(c) for c in 0.25 + 0.75 * rgb)
