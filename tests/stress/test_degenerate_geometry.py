# SPDX-License-Identifier: GPL-3.0-or-later
"""The degenerate-geometry catalogue: scenes a modeller or a modifier really produces, each
rendered by the core without an error and without a NaN pixel in any pass (the image itself
is not judged here: only that nothing breaks).

Zero-area and needle triangles, duplicate vertices, non-manifold and inside-out meshes,
zero-scale (refused by validation: a singular matrix cannot be inverted — the exporter drops such
objects, as Blender draws nothing) and mirrored instances, coordinates at 1e7, 1e30 and 3.4e38, an empty
scene and 2^20 triangles (2^24 with `-m stress`: they need about 3 GiB), the camera
exactly at an object's vertex and inside it, lights inside closed geometry. The Blender side's
cases (NaN produced by modifiers) are in test_degenerate_blender.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import optica_core
from optica_core import scenes


def _render(d, samples=2, threads=2):
    r = optica_core.Renderer(threads)
    r.set_scene(d)
    assert r.accumulate(samples) == samples
    for name in ("color", "albedo", "normal", "depth"):
        image = np.asarray(getattr(r, name))
        assert not np.isnan(image).any(), f"NaN in the {name} pass"
    return r


def _with_mesh(vertices, triangles, transforms=None, **extra) -> dict:
    d = scenes.cornell_box(24, 16)
    d["meshes"]["thing"] = {
        "vertices": np.asarray(vertices, np.float32),
        "triangles": np.asarray(triangles, np.int32),
        **extra,
    }
    d["instances"].append(
        {"geometry": "thing", "transforms": np.eye(4, dtype=np.float32)[None] if transforms is None else transforms}
    )
    return d


def _box_at(center, size):
    v, t = scenes.box((size,) * 3, center)
    return v, t


CASES = {
    "zero-area triangles": lambda: _with_mesh(
        [[0, 0, 1], [0, 0, 1], [0, 0, 1], [0.2, 0, 1], [0.4, 0, 1]], [[0, 1, 2], [0, 3, 4]]
    ),
    "needle triangles": lambda: _with_mesh([[0, 0, 0.5], [1e-7, 0, 1.5], [0, 1e-7, 0.5]], [[0, 1, 2]]),
    "duplicate vertices": lambda: _with_mesh(
        np.repeat(_box_at((0, 0, 1), 0.4)[0], 2, axis=0), _box_at((0, 0, 1), 0.4)[1] * 2
    ),
    "non-manifold (three faces on one edge)": lambda: _with_mesh(
        [[0, 0, 0.5], [0, 0, 1.5], [0.5, 0, 1], [-0.5, 0, 1], [0, 0.5, 1]], [[0, 1, 2], [0, 1, 3], [0, 1, 4]]
    ),
    "inside-out mesh": lambda: _with_mesh(_box_at((0, 0, 1), 0.5)[0], _box_at((0, 0, 1), 0.5)[1][:, ::-1]),
    "zero-length and flipped normals": lambda: _with_mesh(
        *_box_at((0, 0, 1), 0.5), normals=np.tile([[0, 0, -1]], (8, 1)).astype(np.float32)
    ),
    "mirrored instances": lambda: _with_mesh(
        *_box_at((0.3, 0, 1), 0.3),
        transforms=np.stack([np.diag([-1.0, 1, 1, 1]), np.diag([1.0, -1, 1, 1]), np.diag([-1.0, -1, -1, 1])]).astype(
            np.float32
        ),
    ),
    "tiny-scale instance": lambda: _with_mesh(
        *_box_at((0, 0, 1), 0.5), transforms=np.diag([1e-5, 1e-5, 1e-5, 1]).astype(np.float32)[None]
    ),
    "coordinates at 1e7": lambda: _with_mesh(_box_at((1e7, 1e7, 1e7), 1.0)[0], _box_at((0, 0, 0), 1.0)[1]),
    "coordinates at 1e30": lambda: _with_mesh(_box_at((1e30, 0, 0), 1e29)[0], _box_at((0, 0, 0), 1.0)[1]),
    "a mesh at 1e7 seen from 1e7": lambda: _far_camera(),
    "empty mesh and empty instance group": lambda: _with_mesh(
        np.zeros((0, 3)), np.zeros((0, 3)), transforms=np.zeros((0, 4, 4), np.float32)
    ),
    "camera exactly at a vertex": lambda: _camera_at_vertex(),
    "camera inside a closed box": lambda: _camera_inside(),
    "lights inside closed geometry": lambda: _lights_inside(),
    "sphere of radius 1e-30 and 1e30": lambda: _spheres(),
    "a sphere and a triangle at the float range's end": lambda: _at_float_max(),
}


def _at_float_max():
    """Found by the fuzzer (render-crash-621ef017e232): bounds whose centre overflowed to inf gave
    the BVH builder NaN bin indices, which indexed outside its bins (SIGSEGV in set_scene)."""
    big = np.finfo(np.float32).max
    d = _with_mesh([[big, big, big], [big, 0, big], [0, big, big]], [[0, 1, 2]])
    d["spheres"] = {"far": {"centers": np.full((1, 3), big, np.float32), "radii": np.ones(1, np.float32)}}
    d["instances"].append({"geometry": "far", "transforms": np.eye(4, dtype=np.float32)[None]})
    return d


def _far_camera():
    d = _with_mesh(_box_at((1e7, 1e7, 1e7), 1.0)[0], _box_at((0, 0, 0), 1.0)[1])
    d["camera"] = dict(d["camera"], matrix=scenes.look_at((1e7 + 5, 1e7 - 5, 1e7 + 2), (1e7, 1e7, 1e7)), clip_end=1e9)
    return d


def _camera_at_vertex():
    d = scenes.cornell_box(24, 16)
    d["camera"] = dict(d["camera"], matrix=scenes.look_at((-1.0, -1.0, 0.0), (0.0, 0.0, 1.0)), clip_start=0.0)
    return d


def _camera_inside():
    v, t = _box_at((0, -2.9, 1), 0.2)
    d = _with_mesh(v, t)
    return d


def _lights_inside():
    d = _with_mesh(*_box_at((0, 0, 1), 0.6))
    d["lights"]["inside_point"] = {
        "type": "point",
        "power": 100.0,
        "radius": 0.1,
        "matrix": scenes.translation((0, 0, 1)),
    }
    d["lights"]["inside_area"] = {
        "type": "area",
        "power": 50.0,
        "size_x": 0.2,
        "matrix": scenes.translation((0, 0, 1.1)),
    }
    return d


def _spheres():
    d = scenes.spheres_and_plane(24, 16)
    d["spheres"]["odd"] = {
        "centers": np.array([[0, 0, 1], [0, 5, 1]], np.float32),
        "radii": np.array([1e-30, 1e30], np.float32),
    }
    d["instances"].append({"geometry": "odd", "transforms": np.eye(4, dtype=np.float32)[None]})
    return d


@pytest.mark.parametrize("case", list(CASES))
def test_degenerate_scene_renders_without_nan(case):
    _render(CASES[case]())


def test_a_zero_scale_instance_is_a_clear_error():
    d = _with_mesh(*_box_at((0, 0, 1), 0.5), transforms=np.diag([0.0, 1, 1, 1]).astype(np.float32)[None])
    with pytest.raises(ValueError, match=r"instances\[7\]\.transforms\[0\]: not invertible"):
        optica_core.Renderer(1).set_scene(d)


def _many_triangles(n: int) -> dict:
    """n triangles in a grid of tiny quads, built without Python loops."""
    side = int(np.ceil(np.sqrt(n / 2)))
    xs = np.linspace(-0.9, 0.9, side + 1, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)
    vertices = np.stack([gx.ravel(), gy.ravel() * 0 + 0.5, gy.ravel() + 1.0], axis=1).astype(np.float32)
    i = np.arange(side)
    a = (i[:, None] * (side + 1) + i[None, :]).ravel()
    quads = np.stack([a, a + 1, a + side + 2, a + side + 1], axis=1)
    triangles = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])[:n].astype(np.int32)
    return _with_mesh(vertices, triangles)


def test_a_million_triangles():
    _render(_many_triangles(1 << 20), samples=1)


@pytest.mark.stress
def test_sixteen_million_triangles():
    _render(_many_triangles(1 << 24), samples=1)
