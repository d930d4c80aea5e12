# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender lights → `lights[name]` of the scene dict (docs/scene-dict.md), in Cycles' units.

As Cycles' `blender/light.cpp`: colour × (blackbody colour when `use_temperature`) ×
energy × 2^exposure; point/spot `shadow_soft_size` is the radius; sun `angle`; area shape,
`size`, `size_y`, with the object's scale stretching the light.

`normalize = False` (Cycles, `scene/light.cpp`: the emitter's `invarea` becomes 1 instead of
1/area) means the radiance no longer falls as the light grows. The scene dict has one
convention (power spread over the emitter's area), so the power is multiplied by that area:
π·r² for a point or spot light of radius r, the world-space area of an area light,
π·sin²(angle/2) for a sun of angular diameter `angle` (the core's own disc normalisation).
"""

from __future__ import annotations

import math

import numpy as np


def light_params(b_light, report) -> dict | None:
    """The placement-independent part of light datablock `b_light`, or None to skip it."""
    color = np.array(b_light.color[:3], np.float64)
    if b_light.use_temperature:
        color = color * np.array(b_light.temperature_color[:3], np.float64)
    scale = 2.0 ** float(b_light.exposure)
    kind = b_light.type
    p = {"color": color, "normalize": bool(b_light.normalize)}
    if kind in ("POINT", "SPOT"):
        p["type"] = kind.lower()
        p["power"] = float(b_light.energy) * scale
        p["radius"] = max(0.0, float(b_light.shadow_soft_size))
        if kind == "SPOT":
            p["spot_size"] = min(max(float(b_light.spot_size), 1e-6), math.pi)
            p["spot_blend"] = min(max(float(b_light.spot_blend), 0.0), 1.0)
    elif kind == "SUN":
        p["type"] = "sun"
        p["strength"] = float(b_light.energy) * scale
        p["angle"] = min(max(float(b_light.angle), 0.0), math.pi)
    elif kind == "AREA":
        p["type"] = "area"
        p["power"] = float(b_light.energy) * scale
        shape = b_light.shape.lower()
        p["shape"] = shape
        p["size_x"] = float(b_light.size)
        p["size_y"] = float(b_light.size_y) if shape in ("rectangle", "ellipse") else float(b_light.size)
        if p["size_x"] <= 0 or p["size_y"] <= 0:
            report("WARNING", ("light-size", b_light.name), f"Light '{b_light.name}': area light of zero size, skipped")
            return None
        if b_light.spread < math.pi - 1e-6:
            report(
                "WARNING",
                ("light-spread", b_light.name),
                f"Light '{b_light.name}': area light spread {math.degrees(b_light.spread):.0f}° is not "
                "supported, rendered as 180°",
            )
    else:
        report("WARNING", ("light-type", b_light.name), f"Light '{b_light.name}': type {kind} is not supported")
        return None
    if getattr(b_light, "use_nodes", False) and b_light.node_tree is not None and _has_other_nodes(b_light.node_tree):
        report(
            "INFO",
            ("light-nodes", b_light.name),
            f"Light '{b_light.name}': light shader nodes are ignored (colour and strength only)",
        )
    return p


def _has_other_nodes(tree) -> bool:
    return any(n.bl_idname not in ("ShaderNodeOutputLight", "ShaderNodeEmission") for n in tree.nodes)


def place_light(params: dict, matrix: np.ndarray) -> dict | None:
    """`lights[name]` for `params` placed by `matrix` (light to world, (4, 4)); None when the
    placement is degenerate (zero scale)."""
    m = np.asarray(matrix, np.float64)
    d = {"type": params["type"], "color": [float(c) for c in np.maximum(params["color"], 0.0)]}
    t = params["type"]
    if t in ("point", "spot"):
        power, radius = params["power"], params["radius"]
        if not params["normalize"] and radius > 0:
            power *= math.pi * radius * radius
        d.update(power=power, radius=radius)
        if t == "spot":
            d.update(spot_size=params["spot_size"], spot_blend=params["spot_blend"])
        # Position and direction are all the core reads: drop the scale (a spot's cone is the
        # light's, not the object's; non-uniform spot scale is not supported).
        m = _without_scale(m)
        if m is None:
            return None
    elif t == "sun":
        strength = params["strength"]
        half = 0.5 * params["angle"]
        if not params["normalize"] and half > 0:
            strength *= math.pi * math.sin(half) ** 2
        d.update(strength=strength, angle=params["angle"])
        m = _without_scale(m)
        if m is None:
            return None
    else:  # area: the object's scale stretches the light, as in Cycles
        sx, sy = params["size_x"], params["size_y"]
        lu = np.linalg.norm(m[:3, 0]) * sx
        lv = np.linalg.norm(m[:3, 1]) * sy
        area = lu * lv * (math.pi / 4 if params["shape"] in ("disk", "ellipse") else 1.0)
        if not area > 0 or abs(np.linalg.det(m[:3, :3])) < 1e-12:
            return None
        power = params["power"]
        if not params["normalize"]:
            power *= area
        d.update(power=power, shape=params["shape"], size_x=sx)
        if params["shape"] in ("rectangle", "ellipse"):
            d["size_y"] = sy
    d["matrix"] = m.astype(np.float32)
    return d


def _without_scale(m: np.ndarray) -> np.ndarray | None:
    cols = np.linalg.norm(m[:3, :3], axis=0)
    if not np.all(cols > 1e-12):
        return None
    out = m.copy()
    out[:3, :3] = m[:3, :3] / cols
    out[3] = (0.0, 0.0, 0.0, 1.0)
    return out
