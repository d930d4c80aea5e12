# SPDX-License-Identifier: GPL-3.0-or-later
"""Test scenes built in real bpy (data API, deterministic arrays), and rendering one scene with
Optica or Cycles under matched settings so the two can be compared pixel by pixel.

Cycles is set up to estimate the same integral as Optica: no adaptive sampling, no denoising,
no clamping, no glossy blur, one path-length limit for every ray type, and the same
Blackman-Harris 1.5 px pixel filter (FACTS.md lists the factory defaults that differ).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import bpy
from mathutils import Euler, Matrix, Vector

BOUNCES = 8


def new_empty_scene(width: int, height: int):
    scene = bpy.context.scene
    scene.render.resolution_x = width
    scene.render.resolution_y = height
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    return scene


def link(scene, obj):
    scene.collection.objects.link(obj)
    return obj


def principled(name, color=(0.8, 0.8, 0.8), *, metallic=0.0, roughness=0.5, specular=0.5, ior=1.5,
               transmission=0.0, emission=(1.0, 1.0, 1.0), strength=0.0):
    mat = bpy.data.materials.new(name)
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Metallic"].default_value = metallic
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Specular IOR Level"].default_value = specular
    bsdf.inputs["IOR"].default_value = ior
    bsdf.inputs["Transmission Weight"].default_value = transmission
    bsdf.inputs["Emission Color"].default_value = (*emission, 1.0)
    bsdf.inputs["Emission Strength"].default_value = strength
    return mat


def diffuse(name, color=(0.8, 0.8, 0.8)):
    """A Principled BSDF without a specular layer: plain Lambert, the same in both engines."""
    return principled(name, color, specular=0.0, roughness=1.0)


def mesh_object(scene, name, vertices, faces, material=None, *, smooth=False, matrix=None):
    me = bpy.data.meshes.new(name)
    me.from_pydata([tuple(map(float, v)) for v in vertices], [], [tuple(map(int, f)) for f in faces])
    me.update()
    if smooth:
        me.shade_smooth()
    if material is not None:
        me.materials.append(material)
    obj = bpy.data.objects.new(name, me)
    if matrix is not None:
        obj.matrix_world = Matrix(matrix)
    return link(scene, obj)


def plane(scene, name, size, material, *, z=0.0):
    h = size / 2
    return mesh_object(scene, name, [(-h, -h, z), (h, -h, z), (h, h, z), (-h, h, z)], [(0, 1, 2, 3)], material)


def uv_sphere(scene, name, radius, center, material, segments=48, rings=24):
    """A smooth UV sphere from arrays (bmesh's sphere faces come in a run-dependent order)."""
    theta = np.linspace(0, math.pi, rings + 1)[1:-1]
    phi = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring_verts = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1).reshape(-1, 3)
    verts = np.vstack([[0, 0, 1], ring_verts, [0, 0, -1]]) * radius + np.asarray(center)
    faces = []
    bottom = len(verts) - 1
    for j in range(segments):
        faces.append((0, 1 + j, 1 + (j + 1) % segments))
    for i in range(rings - 2):
        for j in range(segments):
            a = 1 + i * segments + j
            b = 1 + i * segments + (j + 1) % segments
            faces.append((a, a + segments, b + segments, b))
    last = 1 + (rings - 2) * segments
    for j in range(segments):
        faces.append((last + j, bottom, last + (j + 1) % segments))
    return mesh_object(scene, name, verts, faces, material, smooth=True)


def camera(scene, location, rotation_deg, *, lens=50.0, ortho_scale=None, shift=(0.0, 0.0), sensor_fit="AUTO"):
    cam = bpy.data.cameras.new("Camera")
    cam.lens = lens
    cam.sensor_fit = sensor_fit
    cam.shift_x, cam.shift_y = shift
    cam.clip_start, cam.clip_end = 0.05, 200.0
    if ortho_scale is not None:
        cam.type = "ORTHO"
        cam.ortho_scale = ortho_scale
    obj = link(scene, bpy.data.objects.new("Camera", cam))
    obj.location = location
    obj.rotation_euler = Euler([math.radians(a) for a in rotation_deg])
    scene.camera = obj
    return obj


def light(scene, kind, *, energy, location, rotation_deg=(0, 0, 0), color=(1, 1, 1), **settings):
    data = bpy.data.lights.new(kind.title(), kind)
    data.energy = energy
    data.color = color
    for key, value in settings.items():
        setattr(data, key, value)
    obj = link(scene, bpy.data.objects.new(data.name, data))
    obj.location = location
    obj.rotation_euler = Euler([math.radians(a) for a in rotation_deg])
    return obj


def world(scene, color, strength=1.0):
    w = bpy.data.worlds.new("World")
    bg = w.node_tree.nodes["Background"]
    bg.inputs["Color"].default_value = (*color, 1.0)
    bg.inputs["Strength"].default_value = strength
    scene.world = w
    return w


# ---- scenes -----------------------------------------------------------------------------------

def cornell_box(scene):
    """The Cornell box of optica_core.scenes, rebuilt as Blender objects and materials."""
    import optica_core

    d = optica_core.validate_scene(optica_core.scenes.cornell_box(scene.render.resolution_x, scene.render.resolution_y))
    mats = {}
    for name, graph in d["materials"].items():
        m = graph["nodes"]["Principled BSDF"]["inputs"]  # the builders' flat materials, upgraded
        mats[name] = principled(name, tuple(m["Base Color"]), metallic=m["Metallic"], roughness=m["Roughness"],
                                specular=m["Specular IOR Level"], ior=m["IOR"], emission=tuple(m["Emission Color"]),
                                strength=m["Emission Strength"])
    for group in d["instances"]:
        mesh = d["meshes"][group["geometry"]]
        slot = mesh["materials"][0] if mesh["materials"] else None
        for xf in group["transforms"]:
            mesh_object(scene, group["geometry"], mesh["vertices"], mesh["triangles"], mats.get(slot), matrix=xf)
    for name, l in d["lights"].items():
        data = bpy.data.lights.new(name, l["type"].upper())
        data.energy = l["power"]
        data.color = tuple(l["color"])
        data.shape = l["shape"].upper()
        data.size = l["size_x"]
        data.size_y = l["size_y"]
        obj = link(scene, bpy.data.objects.new(name, data))
        obj.matrix_world = Matrix(l["matrix"])
    c = d["camera"]
    cam = bpy.data.cameras.new("Camera")
    cam.lens, cam.sensor_width, cam.sensor_height = c["lens"], c["sensor_width"], c["sensor_height"]
    cam.clip_start, cam.clip_end = c["clip_start"], c["clip_end"]
    obj = link(scene, bpy.data.objects.new("Camera", cam))
    obj.matrix_world = Matrix(c["matrix"])
    scene.camera = obj
    world(scene, (0.0, 0.0, 0.0))


def spheres_sun_world(scene):
    """A diffuse and a rough-metal sphere on a diffuse floor, lit by a sun and a world colour."""
    world(scene, (0.25, 0.35, 0.5))
    plane(scene, "Floor", 20.0, diffuse("Floor", (0.5, 0.5, 0.5)))
    uv_sphere(scene, "Diffuse", 0.8, (-1.0, 0.0, 0.8), principled("White", (0.8, 0.8, 0.8), roughness=0.5))
    uv_sphere(scene, "Metal", 0.8, (1.0, 0.0, 0.8),
              principled("Copper", (0.95, 0.64, 0.54), metallic=1.0, roughness=0.4))
    light(scene, "SUN", energy=3.0, location=(0, 0, 5), rotation_deg=(40, 0, 30), angle=math.radians(5))
    camera(scene, (0.0, -7.0, 2.2), (78, 0, 0), lens=45)


def lit_plane(scene, kind, shape=None):
    """One light of the given kind over a diffuse plane, seen from above at an angle."""
    world(scene, (0.0, 0.0, 0.0))
    plane(scene, "Plane", 8.0, diffuse("Plane", (0.8, 0.8, 0.8)))
    uv_sphere(scene, "Ball", 0.4, (0.6, 0.4, 0.4), diffuse("Ball", (0.7, 0.3, 0.2)))
    if kind == "POINT":
        light(scene, "POINT", energy=300.0, location=(-0.5, -0.3, 2.0), shadow_soft_size=0.1)
    elif kind == "SPOT":
        light(scene, "SPOT", energy=500.0, location=(0.0, -1.0, 2.5), rotation_deg=(25, 0, 0),
              shadow_soft_size=0.1, spot_size=math.radians(50), spot_blend=0.3)
    elif kind == "SUN":
        light(scene, "SUN", energy=2.0, location=(0, 0, 4), rotation_deg=(30, 0, -20), angle=math.radians(3))
    else:
        sizes = {"SQUARE": (1.0, 1.0), "RECTANGLE": (1.5, 0.5), "DISK": (1.0, 1.0), "ELLIPSE": (1.5, 0.6)}[shape]
        light(scene, "AREA", energy=150.0, location=(-0.3, 0.0, 1.8), rotation_deg=(15, 10, 0),
              shape=shape, size=sizes[0], size_y=sizes[1])
    camera(scene, (0.0, -5.0, 4.0), (50, 0, 0), lens=35)


def emissive_mesh(scene):
    """A glowing panel (emission only) lighting a plane and a sphere: mesh lights with MIS."""
    world(scene, (0.0, 0.0, 0.0))
    plane(scene, "Plane", 8.0, diffuse("Plane"))
    uv_sphere(scene, "Ball", 0.5, (0.0, 0.3, 0.5), diffuse("Ball", (0.3, 0.5, 0.7)))
    glow = principled("Glow", (0.0, 0.0, 0.0), specular=0.0, emission=(1.0, 0.9, 0.7), strength=6.0)
    mesh_object(scene, "Panel", [(-0.6, -1.2, 0.4), (0.6, -1.2, 0.4), (0.6, -1.0, 1.6), (-0.6, -1.0, 1.6)],
                [(0, 1, 2, 3)], glow)
    camera(scene, (2.5, -4.0, 3.0), (60, 0, 32), lens=35)


def camera_mapping(scene, kind):
    """An asymmetric arrangement seen by an orthographic or a shifted perspective camera:
    a wrong view-plane mapping moves edges and fails the per-pixel comparison."""
    world(scene, (0.3, 0.3, 0.3))
    plane(scene, "Plane", 10.0, diffuse("Plane", (0.6, 0.6, 0.6)))
    uv_sphere(scene, "A", 0.5, (-1.2, 0.5, 0.5), diffuse("A", (0.8, 0.2, 0.2)))
    uv_sphere(scene, "B", 0.3, (0.9, -0.4, 0.3), diffuse("B", (0.2, 0.8, 0.2)))
    light(scene, "SUN", energy=3.0, location=(0, 0, 4), rotation_deg=(20, 10, 0), angle=math.radians(2))
    if kind == "ORTHO":
        camera(scene, (0.5, -6.0, 5.0), (50, 0, 5), ortho_scale=5.0)
    else:
        camera(scene, (0.0, -6.0, 3.0), (65, 0, 0), lens=40, shift=(0.15, -0.1), sensor_fit="VERTICAL")


def hair_stage(scene):
    """The curve scenes' surroundings: a diffuse ground, a sun 2° wide and a grey-blue sky."""
    plane(scene, "Ground", 20.0, diffuse("Ground", (0.5, 0.5, 0.5)))
    light(scene, "SUN", energy=3.0, location=(0, 0, 5), rotation_deg=(40, 0, 30), angle=math.radians(2))
    world(scene, (0.3, 0.35, 0.4))


def curves_object(scene, name, sizes, points, radii, material):
    """A Curves object (Blender's hair curves: Catmull-Rom) of len(sizes) curves, sizes[i] points
    each, from (P, 3) points and (P,) radii, written with foreach_set."""
    curves = bpy.data.hair_curves.new(name)
    curves.add_curves(np.asarray(sizes).tolist())
    curves.position_data.foreach_set("vector", np.ascontiguousarray(points, np.float32).ravel())
    radius = curves.attributes.new("radius", "FLOAT", "POINT")
    radius.data.foreach_set("value", np.ascontiguousarray(radii, np.float32))
    curves.materials.append(material)
    return link(scene, bpy.data.objects.new(name, curves))


def hair_ball(scene, n_curves=400, seed=1):
    """Strands out of a unit sphere, 4 to 8 points each, bent, radii 4–20 mm at the root
    narrowing to the tip, in front of the camera 1.6 m above the ground."""
    camera(scene, (0, -6, 1.6), (85, 0, 0), lens=40)
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 9, n_curves)
    directions = rng.normal(size=(n_curves, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    bend = rng.normal(scale=0.3, size=(n_curves, 3))
    along = np.concatenate([np.linspace(0.0, 1.0, k) for k in sizes])
    root = np.repeat(directions, sizes, axis=0)
    points = root * (0.6 + 0.8 * along[:, None]) + np.repeat(bend, sizes, axis=0) * along[:, None] ** 2
    root_radius = np.repeat(rng.uniform(0.004, 0.02, n_curves), sizes)
    ob = curves_object(scene, "Ball", sizes, points, root_radius * (1.0 - 0.7 * along), diffuse("Fur", (0.7, 0.45, 0.2)))
    ob.location = (0, 0, 1.6)
    return ob


def fur_patch(scene, count=600):
    """A particle hair system: `count` hairs on a 2 m plane, root radius 10 mm to a closed tip."""
    camera(scene, (0, -3.2, 1.6), (62, 0, 0), lens=40)
    mesh = bpy.data.meshes.new("Patch")
    mesh.from_pydata([(-1, -1, 0.01), (1, -1, 0.01), (1, 1, 0.01), (-1, 1, 0.01)], [], [(0, 1, 2, 3)])
    mesh.materials.append(diffuse("Skin", (0.3, 0.2, 0.15)))
    mesh.materials.append(diffuse("Hair", (0.8, 0.7, 0.5)))
    ob = link(scene, bpy.data.objects.new("Patch", mesh))
    ps = ob.modifiers.new("Fur", "PARTICLE_SYSTEM").particle_system
    settings = ps.settings
    settings.type = "HAIR"
    settings.count = count
    settings.hair_length = 0.5
    settings.material = 2
    settings.use_advanced_hair = True
    settings.normal_factor = 1.0
    settings.factor_random = 0.3
    settings.root_radius, settings.tip_radius, settings.radius_scale = 1.0, 0.0, 0.02
    settings.display_step = settings.render_step = 3
    return ob


# ---- rendering --------------------------------------------------------------------------------

def configure_cycles(scene, samples: int, seed: int = 0):
    scene.render.engine = "CYCLES"
    c = scene.cycles
    c.device = "CPU"
    c.samples = samples
    c.seed = seed
    c.use_adaptive_sampling = False
    c.use_denoising = False
    c.sample_clamp_direct = 0.0
    c.sample_clamp_indirect = 0.0
    c.blur_glossy = 0.0
    c.caustics_reflective = True
    c.caustics_refractive = True
    c.max_bounces = c.diffuse_bounces = c.glossy_bounces = c.transmission_bounces = BOUNCES
    c.transparent_max_bounces = 64
    c.pixel_filter_type = "BLACKMAN_HARRIS"
    c.filter_width = 1.5


def configure_optica(scene, samples: int, seed: int = 0):
    scene.render.engine = "OPTICA"
    o = scene.optica
    o.samples = samples
    o.seed = seed
    # The same Light Paths as configure_cycles: every limit at BOUNCES, 64 transparent passes.
    o.max_bounces = o.diffuse_bounces = o.glossy_bounces = o.transmission_bounces = BOUNCES
    o.transparent_max_bounces = 64
    o.time_limit = 0.0
    o.noise_threshold = 0.0
    o.use_denoiser = False
    o.filter_width = 1.5


def render(scene, path: Path, read_image) -> np.ndarray:
    """Renders the scene with its current engine to a float EXR; returns (h, w, 3), top row first."""
    settings = scene.render.image_settings
    settings.file_format = "OPEN_EXR"
    settings.color_depth = "32"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    image = read_image(path)[""]
    return image[..., :3].astype(np.float64)


def linear_keyframes(action) -> None:
    """Every keyframe of a (layered, Blender 5.0) action interpolated linearly: a steady motion
    over a shutter, which both engines sample the same way."""
    for layer in action.layers:
        for strip in layer.strips:
            for bag in strip.channelbags:
                for fc in bag.fcurves:
                    for kp in fc.keyframe_points:
                        kp.interpolation = "LINEAR"


def render_with(scene, tmp_path: Path, engine: str, samples: int, seed: int = 0) -> np.ndarray:
    """Renders with Cycles or Optica at the tests' matched settings (`configure_cycles` or
    `configure_optica`), into tmp_path; returns (h, w, 3)."""
    from conftest import read_image_file

    configure = configure_cycles if engine == "cycles" else configure_optica
    configure(scene, samples, seed=seed)
    return render(scene, tmp_path / f"{engine}_{samples}_{seed}.exr", read_image_file)


def binned(image: np.ndarray) -> np.ndarray:
    """2 × 2-pixel bins (a pixel's neighbours average out the noise a per-pixel error would see)."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return image[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))


def relative_rmse(a: np.ndarray, b: np.ndarray) -> float:
    """RMSE of a against b over 2 × 2-pixel bins, relative to b's mean."""
    a, b = binned(a), binned(b)
    return float(np.sqrt(np.mean((a - b) ** 2)) / max(b.mean(), 1e-6))


def assert_matches_cycles_per_pixel(scene, tmp_path: Path, what: str, control, control_name: str, *,
                                    samples: int = 128, noise_factor: float = 1.5, mean_tol: float = 0.01) -> None:
    """Optica against Cycles at `samples`: the image means within mean_tol, the per-pixel error
    (relative_rmse) within noise_factor × Cycles' own (two seeds) + 0.003. Then `control()` takes
    out what is tested (the hair, the blur, the closure...) and Optica's image must fall outside
    that bound: the comparison sees it."""
    cycles = [render_with(scene, tmp_path, "cycles", samples, seed=s) for s in (1, 2)]
    optica = render_with(scene, tmp_path, "optica", samples)
    control()
    other = render_with(scene, tmp_path, "optica", samples, seed=7)
    noise = relative_rmse(cycles[1], cycles[0])
    error = relative_rmse(optica, cycles[0])
    other_error = relative_rmse(other, cycles[0])
    bound = noise_factor * noise + 0.003
    mean_ratio = optica.mean() / cycles[0].mean()
    print(f"{what}: mean Optica/Cycles {mean_ratio:.4f}; rel. RMSE {error:.4f} (bound {bound:.4f}), "
          f"Cycles–Cycles {noise:.4f}, {control_name} {other_error:.4f}")
    assert abs(mean_ratio - 1) < mean_tol, f"image means differ: Optica/Cycles = {mean_ratio:.4f}"
    assert error <= bound, f"per-pixel error {error:.4f} exceeds the noise bound {bound:.4f}"
    assert other_error > bound, f"{control_name} ({other_error:.4f}) is within the bound: it tests nothing"


def assert_converges_to_cycles(scene, tmp_path: Path, name: str, counts=(64, 256, 1024)) -> None:
    """Against a 2 × 2048-sample Cycles reference (its own noise subtracted): Optica's mean within
    1 % at the most samples, and its error falling like 1/√spp over `counts` (no plateau)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import convergence as cv

    halves = [render_with(scene, tmp_path, "cycles", 2048, seed=s) for s in (1, 2)]
    reference, reference_noise = cv.reference_from_halves(*halves)
    images = [render_with(scene, tmp_path, "optica", n, seed=n) for n in counts]
    errors = [cv.corrected_rmse(image, reference, reference_noise) for image in images]
    check = cv.convergence_check(counts, errors)
    mean = cv.relative_mean_difference(images[-1], reference)
    print(f"{name}: mean difference {mean:+.4f}, errors {errors}, check {check}")
    assert abs(mean) < cv.MEAN_TOLERANCE, f"{name}: means differ by {mean:+.4f}"
    assert not check["plateau"], f"{name}: the error plateaus: {errors} ({check})"
