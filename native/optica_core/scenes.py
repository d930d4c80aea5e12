"""Built-in scenes for the demo, the tests and the benchmarks, plus the geometry helpers they use.

Every builder returns a valid scene dictionary in Blender's
conventions: right-handed, Z up, metres; cameras and lights look along their −Z. Everything is
deterministic and built with vectorised numpy.
"""

from __future__ import annotations

import math

import numpy as np


# The builders write flat materials, the version-1 form; validate_scene upgrades them to node
# graphs (docs/scene-dict.md, "Version 1").
_VERSION = 1

# --------------------------------------------------------------------------------------------
# Matrices


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Object-to-world float32 4x4 placing a camera or light at `eye` with its −Z towards `target`
    and its +Y as close to `up` as possible (Blender cameras and lights look along −Z)."""
    eye = np.asarray(eye, np.float64)
    forward = np.asarray(target, np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(up, np.float64))
    if np.linalg.norm(right) < 1e-9:
        raise ValueError("look_at: `up` is parallel to the viewing direction")
    right /= np.linalg.norm(right)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, np.cross(right, forward), -forward, eye
    return m.astype(np.float32)


def translation(offset) -> np.ndarray:
    """Object-to-world float32 4x4 moving by `offset`."""
    m = np.eye(4, dtype=np.float32)
    m[:3, 3] = offset
    return m


def _identity_group(name: str, materials: list | None = None) -> dict:
    group = {"geometry": name, "transforms": np.eye(4, dtype=np.float32)[None]}
    if materials is not None:
        group["materials"] = materials
    return group


# --------------------------------------------------------------------------------------------
# Geometry


def uv_sphere(radius: float = 1.0, n_u: int = 32, n_v: int = 16):
    """A closed UV sphere centred on the origin, poles on Z, outward counter-clockwise triangles.

    n_u segments around Z, n_v rings from pole to pole (Blender's "segments" and "rings").
    Returns (vertices f32 (V, 3), triangles i32 (T, 3), normals f32 (V, 3)) with
    V = 2 + n_u (n_v − 1) and T = 2 n_u (n_v − 1); vertex 0 is the north pole, the last one the
    south pole, and the normals are the exact sphere normals (smooth shading).
    """
    if n_u < 3 or n_v < 2:
        raise ValueError(f"uv_sphere: need n_u >= 3 and n_v >= 2, got {n_u}, {n_v}")
    theta = np.pi * np.arange(1, n_v) / n_v  # polar angle of each ring, north to south
    phi = 2 * np.pi * np.arange(n_u) / n_u
    ring = np.stack(np.broadcast_arrays(np.sin(theta)[:, None] * np.cos(phi), np.sin(theta)[:, None] * np.sin(phi),
                                        np.cos(theta)[:, None]), axis=-1).reshape(-1, 3)
    unit = np.concatenate([[[0.0, 0.0, 1.0]], ring, [[0.0, 0.0, -1.0]]])
    south = len(unit) - 1

    j = np.arange(n_u)
    j_next = (j + 1) % n_u
    north_fan = np.stack([np.zeros(n_u, np.int64), 1 + j, 1 + j_next], axis=1)
    last_ring = 1 + (n_v - 2) * n_u
    south_fan = np.stack([np.full(n_u, south), last_ring + j_next, last_ring + j], axis=1)
    upper = 1 + np.arange(n_v - 2)[:, None] * n_u  # first vertex of each ring that has one below
    a, b = upper + j, upper + j_next  # quad corners on the upper ring
    c, d = a + n_u, b + n_u  # and right below them
    quads = np.stack([np.stack([a, c, b], -1), np.stack([b, c, d], -1)], axis=2).reshape(-1, 3)
    triangles = np.concatenate([north_fan, quads, south_fan]).astype(np.int32)
    return (radius * unit).astype(np.float32), triangles, unit.astype(np.float32)


def box(size=(1.0, 1.0, 1.0), center=(0.0, 0.0, 0.0), angle_z: float = 0.0):
    """A closed box of `size` rotated by `angle_z` radians about Z around its `center`.
    Returns (vertices f32 (8, 3), triangles i32 (12, 3)), outward counter-clockwise."""
    corners = (np.array([[x, y, z] for z in (-0.5, 0.5) for y in (-0.5, 0.5) for x in (-0.5, 0.5)])
               * np.asarray(size, np.float64))  # corner i has x, y, z from bits 0, 1, 2 of i
    c, s = math.cos(angle_z), math.sin(angle_z)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    vertices = corners @ rotation.T + np.asarray(center, np.float64)
    # Each face's corners counter-clockwise seen from outside: −Z, +Z, −Y, +Y, −X, +X.
    faces = np.array([[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]])
    return vertices.astype(np.float32), _quads_to_triangles(faces)


def quad(corners):
    """One flat quad from 4 corners in order; its front (counter-clockwise) side faces the
    direction (c1 − c0) × (c2 − c0). Returns (vertices f32 (4, 3), triangles i32 (2, 3))."""
    return np.asarray(corners, np.float32), _quads_to_triangles(np.array([[0, 1, 2, 3]]))


def _quads_to_triangles(quads: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]]), dtype=np.int32)


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Smooth per-vertex normals: the area-weighted mean of the adjacent face normals (f32)."""
    v = vertices.astype(np.float64)
    p0, p1, p2 = v[triangles[:, 0]], v[triangles[:, 1]], v[triangles[:, 2]]
    face = _cross(p1 - p0, p2 - p0)  # length = twice the area, hence area weighting
    summed = np.zeros_like(v)
    for corner in range(3):
        for axis in range(3):
            summed[:, axis] += np.bincount(triangles[:, corner], weights=face[:, axis], minlength=len(v))
    return (summed / np.linalg.norm(summed, axis=1, keepdims=True)).astype(np.float32)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (N, 3) arrays; numpy 1.26's np.cross is ~10x slower on large N."""
    return np.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
                     a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)


# --------------------------------------------------------------------------------------------
# Scene parts


def _scene(width: int, height: int, camera: dict, *, max_bounces: int = 12) -> dict:
    return {"version": _VERSION,
            "render": {"width": int(width), "height": int(height), "max_bounces": max_bounces},
            "camera": camera, "world": {"color": (0.0, 0.0, 0.0), "strength": 1.0},
            "materials": {}, "textures": {}, "meshes": {}, "spheres": {}, "instances": [], "lights": {}}


def _sun(eye, strength: float) -> dict:
    """A sun shining from the direction of `eye` towards the origin; 0.526° wide, as Blender's."""
    return {"type": "sun", "strength": strength, "angle": math.radians(0.526),
            "color": (1.0, 1.0, 1.0), "matrix": look_at(eye, (0.0, 0.0, 0.0))}


# --------------------------------------------------------------------------------------------
# Scenes


def cornell_box(width: int = 256, height: int = 256, *, samples_hint: int | None = None) -> dict:
    """The Cornell box, 2 m wide: x in [−1, 1] (red wall at −x, green at +x), y in [−1, 1] (open at
    −y, back wall at +y), z in [0, 2]. A short box front right, a tall box back left, a 0.5 m
    square area light just under the ceiling, the camera at y = −2.9 looking along +y.

    `samples_hint` is accepted for callers that pass their sample count along; the scene
    dictionary carries no sample count (Renderer.accumulate takes it), so it changes nothing.
    """
    del samples_hint
    camera = {"type": "perspective", "matrix": look_at((0.0, -2.9, 1.0), (0.0, 0.0, 1.0)),
              "lens": 35.0, "sensor_width": 36.0, "sensor_fit": "AUTO"}
    d = _scene(width, height, camera)
    d["materials"] = {
        "white": {"base_color": (0.73, 0.73, 0.73), "specular": 0.0, "roughness": 1.0},
        "red": {"base_color": (0.63, 0.065, 0.05), "specular": 0.0, "roughness": 1.0},
        "green": {"base_color": (0.14, 0.45, 0.091), "specular": 0.0, "roughness": 1.0},
    }
    # Walls face the inside of the box (their counter-clockwise side).
    parts = {
        "floor": (quad([(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)]), "white"),
        "ceiling": (quad([(-1, -1, 2), (-1, 1, 2), (1, 1, 2), (1, -1, 2)]), "white"),
        "back_wall": (quad([(-1, 1, 0), (1, 1, 0), (1, 1, 2), (-1, 1, 2)]), "white"),
        "left_wall": (quad([(-1, -1, 0), (-1, 1, 0), (-1, 1, 2), (-1, -1, 2)]), "red"),
        "right_wall": (quad([(1, -1, 0), (1, -1, 2), (1, 1, 2), (1, 1, 0)]), "green"),
        "short_box": (box((0.6, 0.6, 0.6), (0.33, -0.3, 0.3), math.radians(-17.0)), "white"),
        "tall_box": (box((0.6, 0.6, 1.2), (-0.33, 0.3, 0.6), math.radians(17.0)), "white"),
    }
    for name, ((vertices, triangles), material) in parts.items():
        d["meshes"][name] = {"vertices": vertices, "triangles": triangles, "materials": [material]}
        d["instances"].append(_identity_group(name))
    # A one-sided emitter facing down (lights emit along their −Z), 1 cm under the ceiling.
    # 30 W exposes well: in Cycles with the Standard view the mean pixel is about 0.5 and
    # almost nothing clips.
    d["lights"]["ceiling_light"] = {"type": "area", "shape": "square", "size_x": 0.5, "power": 30.0,
                                    "color": (1.0, 0.85, 0.7), "matrix": translation((0.0, 0.0, 1.99))}
    return d


def displaced_sphere(n_triangles: int = 1_000_000, width: int = 256, height: int = 256) -> dict:
    """One smooth-shaded, bumpy sphere of about `n_triangles` triangles (radius about 1 m), lit by a
    sun under a grey sky: a heavy single mesh for BVH and traversal benchmarks."""
    n_v = max(3, round((1 + math.sqrt(1 + n_triangles)) / 2))  # T = 2 n_u (n_v − 1) with n_u = 2 n_v
    _, triangles, unit = uv_sphere(1.0, 2 * n_v, n_v)
    vertices = (unit * (1.0 + _bumps(unit))[:, None]).astype(np.float32)
    camera = {"type": "perspective", "matrix": look_at((0.0, -5.0, 1.5), (0.0, 0.0, 0.0)), "lens": 50.0}
    d = _scene(width, height, camera)
    d["world"] = {"color": (0.18, 0.18, 0.18), "strength": 1.0}
    d["materials"]["clay"] = {"base_color": (0.75, 0.55, 0.4), "specular": 0.0, "roughness": 1.0}
    d["meshes"]["bumpy_sphere"] = {"vertices": vertices, "triangles": triangles,
                                   "normals": vertex_normals(vertices, triangles), "materials": ["clay"]}
    d["instances"].append(_identity_group("bumpy_sphere"))
    d["lights"]["sun"] = _sun((3.0, -2.0, 4.0), 3.0)
    return d


def _bumps(unit: np.ndarray) -> np.ndarray:
    """A smooth, deterministic height field on the unit sphere, within ±0.1: a few sinusoids."""
    x, y, z = unit[:, 0], unit[:, 1], unit[:, 2]
    return (0.05 * np.sin(7 * x + 1.3) * np.sin(6 * y + 0.7) * np.sin(5 * z + 2.1)
            + 0.03 * np.sin(13 * x - 11 * y + 9 * z)
            + 0.02 * np.sin(23 * (x + z) + 0.5) * np.cos(19 * y))


def spheres_and_plane(width: int = 256, height: int = 256) -> dict:
    """A smoke test touching the main paths: a ground mesh and one sphere primitive placed three
    times (diffuse white, rough metal and glass by per-instance material), a sun and a sky colour."""
    camera = {"type": "perspective", "matrix": look_at((0.0, -8.0, 3.0), (0.0, 0.0, 0.8)), "lens": 40.0}
    d = _scene(width, height, camera)
    d["world"] = {"color": (0.3, 0.4, 0.55), "strength": 1.0}
    d["materials"] = {
        "ground": {"base_color": (0.5, 0.5, 0.5), "roughness": 0.8},
        "white": {"base_color": (0.8, 0.8, 0.8), "specular": 0.0, "roughness": 1.0},
        "rough_metal": {"base_color": (0.95, 0.64, 0.54), "metallic": 1.0, "roughness": 0.35},
        "glass": {"base_color": (1.0, 1.0, 1.0), "transmission": 1.0, "roughness": 0.0, "ior": 1.45},
    }
    vertices, triangles = quad([(-10, -10, 0), (10, -10, 0), (10, 10, 0), (-10, 10, 0)])
    d["meshes"]["ground"] = {"vertices": vertices, "triangles": triangles, "materials": ["ground"]}
    d["spheres"]["ball"] = {"centers": np.zeros((1, 3), np.float32), "radii": np.ones(1, np.float32),
                            "material": "white"}
    d["instances"] = [
        _identity_group("ground"),
        {"geometry": "ball", "transforms": translation((-2.2, 0.0, 1.0))[None]},
        {"geometry": "ball", "transforms": translation((0.0, 0.0, 1.0))[None], "materials": ["rough_metal"]},
        {"geometry": "ball", "transforms": translation((2.2, 0.0, 1.0))[None], "materials": ["glass"]},
    ]
    d["lights"]["sun"] = _sun((-4.0, -3.0, 6.0), 3.0)
    return d


def furnace(width: int = 64, height: int = 64) -> dict:
    """The white furnace: a white Lambertian unit sphere under a uniform white sky, no lights.
    Energy is conserved, so every pixel converges to the sky's radiance (1, 1, 1)."""
    camera = {"type": "perspective", "matrix": look_at((0.0, -4.0, 0.0), (0.0, 0.0, 0.0)), "lens": 50.0}
    d = _scene(width, height, camera, max_bounces=64)
    d["world"] = {"color": (1.0, 1.0, 1.0), "strength": 1.0}
    d["materials"]["white"] = {"base_color": (1.0, 1.0, 1.0), "metallic": 0.0, "specular": 0.0, "roughness": 1.0}
    vertices, triangles, normals = uv_sphere(1.0, 64, 32)
    d["meshes"]["sphere"] = {"vertices": vertices, "triangles": triangles, "normals": normals, "materials": ["white"]}
    d["instances"].append(_identity_group("sphere"))
    return d


def moving_hair(width: int = 64, height: int = 64) -> dict:
    """Motion steps and curves (version 2): a box moving over a centred half-frame shutter, a
    plane bending over it, a turning camera and a patch of 400 hairs (round Catmull-Rom
    curves)."""
    eye = (0.0, -6.0, 2.0)
    camera = {"type": "perspective", "matrix": look_at(eye, (0.0, 0.0, 0.5)), "lens": 40.0}
    camera["motion"] = np.stack([look_at(eye, (x, 0.0, 0.5)) for x in (-0.1, 0.0, 0.1)])
    d = _scene(width, height, camera)
    d["version"] = 2
    del d["world"]
    d["motion"] = {"shutter": 0.5, "position": "CENTER"}
    vertices, triangles = box((1.0, 1.0, 1.0), (0.0, 0.0, 0.5))
    d["meshes"]["box"] = {"vertices": vertices, "triangles": triangles}
    plane_v, plane_t = quad([(-3, -3, 0), (3, -3, 0), (3, 3, 0), (-3, 3, 0)])
    bent = plane_v.copy()
    bent[:, 2] += 0.05 * bent[:, 0]
    d["meshes"]["ground"] = {"vertices": plane_v, "triangles": plane_t,
                             "motion": {"vertices": np.stack([plane_v, bent])}}
    steps = np.stack([translation((x, 0.0, 0.0)) for x in (-0.3, 0.0, 0.3)])[:, None]
    rng = np.random.default_rng(7)
    roots = np.concatenate([rng.uniform(-1.5, 1.5, (400, 2)) + (0.0, 1.5), np.zeros((400, 1))], axis=1)
    points = (roots[:, None, :] + np.linspace(0, 0.4, 5)[None, :, None] * (0.1, 0.0, 1.0)).reshape(-1, 3)
    d["curves"] = {"hair": {"points": points.astype(np.float32), "radii": np.full(2000, 0.004, np.float32),
                            "offsets": np.arange(0, 2001, 5, dtype=np.int32)}}
    d["instances"] = [{"geometry": "box", "transforms": np.eye(4, dtype=np.float32)[None], "motion": steps},
                      _identity_group("ground"), _identity_group("hair")]
    d["lights"]["sun"] = _sun((-4.0, -3.0, 6.0), 3.0)
    return d


def hair_patch(n_segments: int = 1_000_000, width: int = 256, height: int = 256, *, shape: str = "round",
               points_per_curve: int = 8) -> dict:
    """A fur patch for the curve benchmark (version 2): n_segments / (points_per_curve − 1)
    bent Catmull-Rom hairs, 0.3 m long, 1.5 mm root radius narrowing to a tenth, on a 4 m
    ground under a sun (no world light)."""
    per = points_per_curve - 1
    n_curves = max(1, n_segments // per)
    rng = np.random.default_rng(11)
    eye = (0.0, -3.0, 1.2)
    d = _scene(width, height, {"type": "perspective", "matrix": look_at(eye, (0.0, 0.0, 0.2)), "lens": 40.0})
    d["version"] = 2
    del d["world"]
    roots = np.concatenate([rng.uniform(-2.0, 2.0, (n_curves, 2)), np.zeros((n_curves, 1))], axis=1)
    lean = rng.normal(scale=0.15, size=(n_curves, 3)) * (1.0, 1.0, 0.0)
    s = np.linspace(0.0, 1.0, points_per_curve)
    points = roots[:, None, :] + s[None, :, None] * np.array([0.0, 0.0, 0.3]) + lean[:, None, :] * s[None, :, None] ** 2
    radii = np.tile(0.0015 * (1.0 - 0.9 * s), n_curves)
    offsets = np.arange(0, n_curves * points_per_curve + 1, points_per_curve, dtype=np.int32)
    d["curves"] = {"fur": {"points": points.reshape(-1, 3).astype(np.float32), "radii": radii.astype(np.float32),
                           "offsets": offsets, "shape": shape}}
    plane_v, plane_t = quad([(-2, -2, 0), (2, -2, 0), (2, 2, 0), (-2, 2, 0)])
    d["meshes"]["ground"] = {"vertices": plane_v, "triangles": plane_t}
    d["instances"] = [_identity_group("ground"), _identity_group("fur")]
    d["lights"]["sun"] = _sun((-4.0, -3.0, 6.0), 3.0)
    return d


# --------------------------------------------------------------------------------------------
# A textured PBR scene (version 2: node graphs)


def pbr_spheres(width: int = 256, height: int = 256, *, textured: bool = True, texture_size: int = 512) -> dict:
    """Nine smooth spheres on a floor under a sun and a sky, with materials built the way
    Blender's glTF importer builds them: an sRGB base-colour texture into Base Color; one
    Non-Color texture through Separate Color into Roughness (G) and Metallic (B); a normal map
    through a Normal Map node. With `textured=False` the same Principled BSDFs hold constants
    (each texture's mean) instead: the flat counterpart for bench/render.py.
    """
    rng = np.random.default_rng(11)
    camera = {"type": "perspective", "matrix": look_at((0.0, -7.0, 4.0), (0.0, 0.0, 0.6)), "lens": 40.0}
    d = _scene(width, height, camera)
    d["version"] = 2
    d["world"] = _background_graph((0.3, 0.4, 0.55))
    textures = _pbr_textures(rng, texture_size)
    d["textures"] = textures if textured else {}
    vertices, triangles, normals = uv_sphere(0.6, 64, 32)
    uvs, tangents = _sphere_uvs_and_tangents(normals)
    for i in range(9):
        name = f"sphere{i}"
        tint = rng.uniform(0.3, 1.0, 3)
        d["materials"][name] = (_gltf_material(tint) if textured else
                                _flat_material(textures, tint))
        d["meshes"][name] = {"vertices": vertices, "triangles": triangles, "normals": normals, "uvs": uvs,
                             "materials": [name], "tangents": {"UVMap": {"data": tangents, "indices": triangles}},
                             "active_uv_map": "UVMap"}
        x, y = (i % 3 - 1) * 1.6, (i // 3 - 1) * 1.6
        d["instances"].append({"geometry": name, "transforms": translation((x, y, 0.6))[None]})
    floor_v, floor_t = quad([(-6, -6, 0), (6, -6, 0), (6, 6, 0), (-6, 6, 0)])
    floor_uv = (floor_v[:, :2] / 3.0).astype(np.float32)
    d["materials"]["floor"] = _gltf_material((1.0, 1.0, 1.0)) if textured else _flat_material(textures, (1, 1, 1))
    d["meshes"]["floor"] = {"vertices": floor_v, "triangles": floor_t, "uvs": floor_uv, "materials": ["floor"],
                            "tangents": {"UVMap": {"data": np.tile(np.float32([[1, 0, 0, 1]]), (4, 1)),
                                                   "indices": floor_t}},
                            "active_uv_map": "UVMap"}
    d["instances"].append(_identity_group("floor"))
    d["lights"]["sun"] = _sun((4.0, -3.0, 6.0), 3.0)
    return d


def _background_graph(color) -> dict:
    return {"nodes": {"Background": {"type": "ShaderNodeBackground", "inputs": {"Color": tuple(color)}},
                      "World Output": {"type": "ShaderNodeOutputWorld"}},
            "links": [["Background", "Background", "World Output", "Surface"]], "output": "World Output"}


def _pbr_textures(rng: np.random.Generator, n: int) -> dict:
    """Base colour (sRGB), occlusion-roughness-metallic and normal map (Non-Color), 8-bit."""
    y, x = np.mgrid[0:n, 0:n] / n
    cells = (np.floor(x * 8) + np.floor(y * 8)) % 2
    grain = rng.uniform(0.0, 1.0, (n, n))
    base = np.stack([0.55 + 0.35 * cells, 0.45 + 0.2 * grain, 0.35 + 0.3 * (1 - cells)], axis=-1)
    orm = np.stack([np.ones_like(x), 0.25 + 0.6 * grain, cells], axis=-1)  # G: roughness, B: metallic
    slope = 0.25 * np.stack([np.sin(2 * np.pi * 8 * x), np.cos(2 * np.pi * 6 * y)], axis=-1)
    normal = np.concatenate([0.5 + 0.5 * slope, np.ones_like(x)[..., None]], axis=-1)

    def as_bytes(a):
        return np.ascontiguousarray(np.clip(np.round(a * 255), 0, 255).astype(np.uint8))

    return {"base_color": {"pixels": as_bytes(base), "colorspace": "srgb"},
            "orm": {"pixels": as_bytes(orm), "colorspace": "non_color"},
            "normal": {"pixels": as_bytes(normal), "colorspace": "non_color"}}


def _gltf_material(tint) -> dict:
    nodes = {
        "Base Color": {"type": "ShaderNodeTexImage", "params": {"image": "base_color"}},
        "Tint": {"type": "ShaderNodeMix", "params": {"data_type": "RGBA", "blend_type": "MULTIPLY"},
                 "inputs": {"Factor_Float": 1.0, "B_Color": tuple(float(t) for t in tint)}},
        "ORM": {"type": "ShaderNodeTexImage", "params": {"image": "orm"}},
        "Separate": {"type": "ShaderNodeSeparateColor"},
        "Normal Texture": {"type": "ShaderNodeTexImage", "params": {"image": "normal"}},
        "Normal Map": {"type": "ShaderNodeNormalMap"},
        "Principled BSDF": {"type": "ShaderNodeBsdfPrincipled"},
        "Material Output": {"type": "ShaderNodeOutputMaterial"},
    }
    links = [["Base Color", "Color", "Tint", "A_Color"], ["Tint", "Result_Color", "Principled BSDF", "Base Color"],
             ["ORM", "Color", "Separate", "Color"], ["Separate", "Green", "Principled BSDF", "Roughness"],
             ["Separate", "Blue", "Principled BSDF", "Metallic"], ["Normal Texture", "Color", "Normal Map", "Color"],
             ["Normal Map", "Normal", "Principled BSDF", "Normal"],
             ["Principled BSDF", "BSDF", "Material Output", "Surface"]]
    return {"nodes": nodes, "links": links, "output": "Material Output"}


def _flat_material(textures: dict, tint) -> dict:
    base = textures["base_color"]["pixels"].reshape(-1, 3).mean(axis=0) / 255
    base = np.where(base <= 0.04045, base / 12.92, ((base + 0.055) / 1.055) ** 2.4) * np.asarray(tint)
    orm = textures["orm"]["pixels"].reshape(-1, 3).mean(axis=0) / 255
    inputs = {"Base Color": tuple(float(b) for b in base), "Roughness": float(orm[1]), "Metallic": float(orm[2])}
    return {"nodes": {"Principled BSDF": {"type": "ShaderNodeBsdfPrincipled", "inputs": inputs},
                      "Material Output": {"type": "ShaderNodeOutputMaterial"}},
            "links": [["Principled BSDF", "BSDF", "Material Output", "Surface"]], "output": "Material Output"}


def _sphere_uvs_and_tangents(unit: np.ndarray):
    """Longitude/latitude UVs of uv_sphere() vertices and the tangent along increasing u
    (around +Z), with a +1 bitangent sign."""
    phi = np.arctan2(unit[:, 1], unit[:, 0])
    u = (phi / (2 * np.pi)) % 1.0
    v = 0.5 + np.arcsin(np.clip(unit[:, 2], -1, 1)) / np.pi
    tangent = np.stack([-np.sin(phi), np.cos(phi), np.zeros_like(phi)], axis=1)
    return (np.stack([u, v], axis=1).astype(np.float32),
            np.concatenate([tangent, np.ones((len(unit), 1))], axis=1).astype(np.float32))
