# SPDX-License-Identifier: GPL-3.0-or-later
"""Evaluated point clouds → `spheres[name]` of the scene dict (docs/scene-dict.md).

Positions from the `position` attribute, radii from `radius` (0.01 — Blender's default point
radius — where the cloud has none), per-point colours from a point colour attribute named
`Cd` or `color` (Houdini's and Blender's usual names) when there is one.
"""

from __future__ import annotations

import numpy as np

from .cache import digest

DEFAULT_RADIUS = 0.01
COLOR_NAMES = ("Cd", "color", "Col", "Color")
_WIDTH = {"FLOAT_COLOR": 4, "BYTE_COLOR": 4, "FLOAT_VECTOR": 3}
_PROP = {"FLOAT_COLOR": "color", "BYTE_COLOR": "color", "FLOAT_VECTOR": "vector"}


class PointInputs:
    __slots__ = ("centers", "radii", "colors", "digest")

    def __init__(self, b_cloud):
        n = len(b_cloud.points)
        attrs = b_cloud.attributes
        self.centers = np.empty((n, 3), np.float32)
        attrs["position"].data.foreach_get("vector", self.centers.ravel())
        radius = attrs.get("radius")
        if radius is not None and radius.domain == "POINT" and radius.data_type == "FLOAT":
            self.radii = np.empty(n, np.float32)
            radius.data.foreach_get("value", self.radii)
        else:
            self.radii = np.full(n, DEFAULT_RADIUS, np.float32)
        self.colors = None
        for name in COLOR_NAMES:
            a = attrs.get(name)
            if a is not None and a.domain == "POINT" and a.data_type in _WIDTH:
                w = _WIDTH[a.data_type]
                values = np.empty(n * w, np.float32)
                a.data.foreach_get(_PROP[a.data_type], values)
                colors = np.nan_to_num(values.reshape(n, w)[:, :3], nan=0.0)
                self.colors = np.ascontiguousarray(np.clip(colors, 0.0, 1.0))
                break
        for a in (self.centers, self.radii):
            if not np.isfinite(a).all():
                np.nan_to_num(a, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        np.maximum(self.radii, 1e-8, out=self.radii)
        self.digest = digest("spheres", n, self.centers, self.radii, self.colors)


def read_points(b_cloud) -> tuple[bytes, PointInputs]:
    inputs = PointInputs(b_cloud)
    return inputs.digest, inputs


def convert_points(inputs: PointInputs) -> dict:
    out = {"centers": inputs.centers, "radii": inputs.radii}
    if inputs.colors is not None:
        out["colors"] = inputs.colors
    return out


def spheres_dict(data: dict, material) -> dict:
    d = {k: data[k] for k in ("centers", "radii", "colors") if k in data}
    d["material"] = material
    return d
