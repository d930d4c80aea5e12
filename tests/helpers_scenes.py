"""Small scene-dict builders for the native-core tests (test_core_render.py, test_intersect.py).

Scenes are written directly against docs/scene-dict.md (version 1) with numpy, so the tests
check the core against the contract rather than against another builder. Conventions are
Blender's: Z up, metres, 4x4 row-major object-to-world matrices, cameras and lights look
along their -Z.
"""

from __future__ import annotations

import math

import numpy as np

# ---------------------------------------------------------------------------------------------
# Matrices


def rotation(axis, angle: float) -> np.ndarray:
    """3x3 rotation by `angle` radians about `axis` (right-handed, Rodrigues)."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)


def trs(translation=(0.0, 0.0, 0.0), axis=(0.0, 0.0, 1.0), angle: float = 0.0, scale=1.0) -> np.ndarray:
    """Object-to-world float32 4x4: scale, then rotate, then translate (Blender's matrix_world)."""
    m = np.eye(4)
    m[:3, :3] = rotation(axis, angle) @ np.diag(np.broadcast_to(np.asarray(scale, np.float64), (3,)))
    m[:3, 3] = translation
    return m.astype(np.float32)


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Camera-to-world float32 4x4 for a camera at `eye` looking at `target` (camera -Z forward, +Y up)."""
    eye = np.asarray(eye, np.float64)
    f = np.asarray(target, np.float64) - eye
    f /= np.linalg.norm(f)
    x = np.cross(f, np.asarray(up, np.float64))
    x /= np.linalg.norm(x)
    y = np.cross(x, f)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, -f, eye
    return m.astype(np.float32)


def transform_points(m: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Apply a 4x4 object-to-world matrix to (N, 3) points, in float64."""
    m = np.asarray(m, np.float64)
    return np.asarray(p, np.float64) @ m[:3, :3].T + m[:3, 3]


# ---------------------------------------------------------------------------------------------
# Geometry


def plane_mesh(size: float = 2.0, z: float = 0.0, uvs: bool = False) -> dict:
    """A square of side `size` centred on the origin in the plane z = `z`, normal +Z (CCW from above)."""
    h = size / 2.0
    mesh = {
        "vertices": np.array([[-h, -h, z], [h, -h, z], [h, h, z], [-h, h, z]], np.float32),
        "triangles": np.array([[0, 1, 2], [0, 2, 3]], np.int32),
    }
    if uvs:
        mesh["uvs"] = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    return mesh


def random_triangles(n: int, rng: np.random.Generator, size: float = 0.25) -> dict:
    """`n` independent triangles in the unit cube [0, 1]^3, each with edges up to about `size`."""
    centres = rng.uniform(0.0, 1.0, (n, 1, 3))
    vertices = centres + rng.uniform(-size / 2, size / 2, (n, 3, 3))
    return {
        "vertices": vertices.reshape(-1, 3).astype(np.float32),
        "triangles": np.arange(3 * n, dtype=np.int32).reshape(n, 3),
    }


def random_spheres(n: int, rng: np.random.Generator, r_min: float = 0.05, r_max: float = 0.15) -> dict:
    """`n` spheres with centres in the unit cube and radii in [r_min, r_max]."""
    return {
        "centers": rng.uniform(0.0, 1.0, (n, 3)).astype(np.float32),
        "radii": rng.uniform(r_min, r_max, n).astype(np.float32),
    }


def uv_sphere_mesh(n_lat: int = 8, n_lon: int = 12, radius: float = 1.0) -> dict:
    """A closed, flat-shaded UV sphere (outward CCW triangles), poles on the Z axis."""
    verts = [[0.0, 0.0, radius]]
    for i in range(1, n_lat):
        th = math.pi * i / n_lat
        for j in range(n_lon):
            ph = 2 * math.pi * j / n_lon
            verts.append([radius * math.sin(th) * math.cos(ph), radius * math.sin(th) * math.sin(ph), radius * math.cos(th)])
    verts.append([0.0, 0.0, -radius])
    south = len(verts) - 1

    def ring(i, j):  # vertex index on latitude ring i (1..n_lat-1), longitude j
        return 1 + (i - 1) * n_lon + (j % n_lon)

    tris = []
    for j in range(n_lon):
        tris.append([0, ring(1, j), ring(1, j + 1)])
        tris.append([south, ring(n_lat - 1, j + 1), ring(n_lat - 1, j)])
    for i in range(1, n_lat - 1):
        for j in range(n_lon):
            a, b, c, d = ring(i, j), ring(i + 1, j), ring(i + 1, j + 1), ring(i, j + 1)
            tris.append([a, b, c])
            tris.append([a, c, d])
    return {"vertices": np.array(verts, np.float32), "triangles": np.array(tris, np.int32)}


def bake_instances(mesh: dict, transforms) -> dict:
    """One mesh holding copies of `mesh` placed by each 4x4 in `transforms` (flattened instancing).

    Triangle k of copy c becomes triangle c * T + k, so primitive indices map predictably.
    """
    v = np.asarray(mesh["vertices"])
    t = np.asarray(mesh["triangles"])
    verts = [transform_points(m, v) for m in transforms]
    tris = [t + c * len(v) for c in range(len(transforms))]
    return {"vertices": np.concatenate(verts).astype(np.float32), "triangles": np.concatenate(tris).astype(np.int32)}


# ---------------------------------------------------------------------------------------------
# Cameras, materials, whole scenes


def ortho_camera_down(height: float, ortho_scale: float) -> dict:
    """Orthographic camera at (0, 0, height) looking straight down (-Z); image +X right, +Y up.

    For a square image the view covers [-s/2, s/2]^2 in world XY, s = ortho_scale;
    row 0 is the top (+Y) of the frame.
    """
    m = np.eye(4, dtype=np.float32)
    m[2, 3] = height
    return {"type": "orthographic", "matrix": m, "ortho_scale": float(ortho_scale), "clip_start": 0.001, "clip_end": 1000.0}


def ortho_pixel_centres(width: int, height: int, ortho_scale: float, sub: int = 1):
    """World (x, y) of the `sub` x `sub` midpoint sub-samples of each pixel of `ortho_camera_down`.

    Returns arrays of shape (height, width, sub*sub). Valid for square images (width == height),
    where AUTO sensor fit makes the view `ortho_scale` wide and high.
    """
    assert width == height
    p = ortho_scale / width
    offs = (np.arange(sub) + 0.5) / sub
    cols = (np.arange(width)[:, None] + offs[None, :]).reshape(-1)  # (width*sub,)
    rows = (np.arange(height)[:, None] + offs[None, :]).reshape(-1)
    x = -ortho_scale / 2 + cols * p
    y = ortho_scale / 2 - rows * p
    xx = np.broadcast_to(x[None, :], (height * sub, width * sub))
    yy = np.broadcast_to(y[:, None], (height * sub, width * sub))

    def blocks(a):
        return a.reshape(height, sub, width, sub).transpose(0, 2, 1, 3).reshape(height, width, sub * sub)

    return blocks(xx), blocks(yy)


LAMBERT_WHITE = {"base_color": [1.0, 1.0, 1.0], "specular": 0.0, "roughness": 1.0, "metallic": 0.0}


def base_scene(width: int, height: int, camera: dict, **render) -> dict:
    """A version-1 scene with no geometry, black world and the given render settings."""
    r = {"width": int(width), "height": int(height)}
    r.update(render)
    return {"version": 1, "render": r, "camera": camera, "world": {"color": [0.0, 0.0, 0.0], "strength": 1.0},
            "materials": {}, "meshes": {}, "spheres": {}, "instances": [], "lights": {}}


def lit_plane_scene(light: dict, width: int = 64, ortho_scale: float = 4.0, camera_height: float = 0.5,
                    samples_filter: str = "box") -> dict:
    """A large white Lambertian plane at z = 0 seen straight down by an orthographic camera, one light.

    Box filter of width 1: a pixel is the plain average of the radiance over its footprint, which
    the expected values reproduce by quadrature. The plane cannot see itself and the world is black,
    so only direct light reaches the camera whatever `max_bounces` is.
    """
    d = base_scene(width, width, ortho_camera_down(camera_height, ortho_scale),
                   filter=samples_filter, filter_width=1.0, max_bounces=2, seed=1)
    d["materials"]["white"] = dict(LAMBERT_WHITE)
    d["meshes"]["plane"] = dict(plane_mesh(400.0), materials=["white"])
    d["instances"].append({"geometry": "plane", "transforms": np.eye(4, dtype=np.float32)[None]})
    d["lights"]["light"] = light
    return d


def checker_texture(n: int = 8) -> dict:
    """An n x n uint8 sRGB RGB checkerboard."""
    ij = np.add.outer(np.arange(n), np.arange(n)) % 2
    px = np.where(ij[..., None] == 1, np.uint8(220), np.uint8(30)).astype(np.uint8)
    return {"pixels": np.repeat(px, 3, axis=2), "interpolation": "closest"}


def sampler_scene(width: int = 48, height: int = 32, seed: int = 0) -> dict:
    """A scene touching most of the scene dict: every light type, a texture, instanced meshes with
    per-object material overrides, a sphere set with per-sphere colours, metal, glass and emission.

    Used where only self-consistency matters (determinism, round trips), not for expected values.
    """
    cam = {"type": "perspective", "matrix": look_at((0.0, -6.0, 3.0), (0.0, 0.0, 0.5)), "lens": 35.0}
    d = base_scene(width, height, cam, seed=seed, max_bounces=6)
    d["world"] = {"color": [0.05, 0.07, 0.1], "strength": 1.0}
    d["textures"] = {"checker": checker_texture()}
    d["materials"] = {
        "floor": {"base_color_texture": "checker", "roughness": 0.8},
        "red": {"base_color": [0.8, 0.1, 0.1], "roughness": 0.4},
        "metal": {"base_color": [0.9, 0.8, 0.5], "metallic": 1.0, "roughness": 0.2},
        "glass": {"transmission": 1.0, "roughness": 0.0, "ior": 1.45},
        "glow": {"base_color": [0.0, 0.0, 0.0], "emission_color": [1.0, 0.6, 0.2], "emission_strength": 4.0},
    }
    d["meshes"]["floor"] = dict(plane_mesh(12.0, uvs=True), materials=["floor"])
    d["meshes"]["ball"] = dict(uv_sphere_mesh(8, 12, 0.6), materials=["red"])
    rng = np.random.default_rng(7)
    d["spheres"]["dots"] = {
        "centers": np.column_stack([rng.uniform(-2.5, 2.5, 40), rng.uniform(-1.0, 2.5, 40), np.full(40, 0.12)]).astype(np.float32),
        "radii": np.full(40, 0.12, np.float32),
        "colors": rng.uniform(0.1, 0.9, (40, 3)).astype(np.float32),
        "material": None,
    }
    d["instances"] = [
        {"geometry": "floor", "transforms": np.eye(4, dtype=np.float32)[None]},
        {"geometry": "ball",
         "transforms": np.stack([trs((-1.6, 0.0, 0.6)), trs((0.0, 0.5, 0.6), (0, 0, 1), 0.3),
                                 trs((1.6, 0.0, 0.6), (1, 0, 0), 0.5, 1.1)]),
         "object_ids": np.array([5, 6, 7], np.int32),
         "materials": ["metal"]},
        {"geometry": "dots", "transforms": np.eye(4, dtype=np.float32)[None]},
        {"geometry": "ball", "transforms": trs((0.0, -1.5, 0.35), scale=0.5)[None], "materials": ["glass"]},
        {"geometry": "ball", "transforms": trs((2.2, 1.8, 0.25), scale=0.4)[None], "materials": ["glow"]},
    ]
    d["lights"] = {
        "key": {"type": "area", "shape": "rectangle", "size_x": 1.5, "size_y": 0.8, "power": 300.0,
                "color": [1.0, 0.95, 0.9], "matrix": look_at((2.0, -2.0, 4.0), (0.0, 0.0, 0.0))},
        "disk": {"type": "area", "shape": "disk", "size_x": 0.5, "power": 50.0, "matrix": trs((-2.0, 1.0, 3.0))},
        "fill": {"type": "point", "power": 80.0, "radius": 0.1, "matrix": trs((-3.0, -2.0, 2.5))},
        "spot": {"type": "spot", "power": 200.0, "spot_size": 0.8, "spot_blend": 0.2,
                 "matrix": look_at((0.0, 3.0, 4.0), (0.0, 0.0, 0.0))},
        "sun": {"type": "sun", "strength": 1.5, "angle": 0.05, "color": [1.0, 0.9, 0.8],
                "matrix": trs(axis=(1.0, 0.3, 0.0), angle=0.6)},
    }
    return d
