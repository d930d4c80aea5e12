"""A small animation for the standalone renderer, sequence-folder and farm tests: a static
smooth sphere mesh (the heavy, shared part), a ground, and a ball that moves every frame."""

from __future__ import annotations

import numpy as np

from optica_core import scenes


class Animation:
    """scene(frame) for frames 1…n: the same static arrays every frame (as an exporter that
    keeps unchanged meshes hands them over), only the ball's transform and the seed change."""

    def __init__(self, width: int = 32, height: int = 24, sphere_segments: int = 64, max_bounces: int = 4):
        self.base = scenes.spheres_and_plane(width, height)
        self.base["render"]["max_bounces"] = max_bounces
        vertices, triangles, normals = scenes.uv_sphere(0.7, sphere_segments, sphere_segments // 2)
        self.base["meshes"]["statue"] = {"vertices": vertices, "triangles": triangles, "normals": normals,
                                         "materials": ["white"]}
        self.base["instances"].append({"geometry": "statue",
                                       "transforms": scenes.translation((0.0, 2.5, 0.7))[None]})

    def scene(self, frame: int) -> dict:
        d = dict(self.base)
        d["render"] = dict(self.base["render"], seed=frame)
        d["instances"] = list(self.base["instances"])
        moved = dict(d["instances"][1])
        moved["transforms"] = scenes.translation((-2.2 + 0.15 * frame, 0.0, 1.0))[None]
        d["instances"][1] = moved
        return d


def assert_same_scene(a, b, path: str = "scene") -> None:
    """Equal structure, equal values, arrays bit-identical with equal dtypes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), path
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for key in a:
            assert_same_scene(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_scene(x, y, f"{path}[{i}]")
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"
