# SPDX-License-Identifier: GPL-3.0-or-later
"""Hair and curves → `curves` of the scene dict: the Curves object (geometry-nodes hair) and
particle hair, as Cycles reads them (docs/scene-dict.md, `curves`; docs/export.md).

Cycles takes a Curves object's control points as they are (`position`, the `radius` attribute or
0.005, `curve_offset_data`) and draws every curve as the scene's Curves › Shape says, whatever
each curve's own type (Catmull-Rom, Bézier, NURBS, poly); so does this converter. Particle hair
is the particle system's path cache (parents, or children when it has them), `co_hair` point by
point — the only Python access Blender offers to it (~0.6 µs a point) — with Cycles' radius
from the root and tip widths along the hair. Everything else is numpy over `foreach_get`
buffers. Intercept, length and random are left to the core, which derives them as Cycles does.
"""

from __future__ import annotations

import numpy as np

from .mesh import finite

DEFAULT_RADIUS = 0.005  # Cycles' radius of a Curves point without a radius attribute

# Render Properties › Curves › Shape (scene.cycles_curves.shape) → (shape, segments).
SHAPES = {
    "THICK": ("round", "catmull_rom"),
    "THICK_LINEAR": ("round", "linear"),
    "RIBBONS": ("ribbon", "catmull_rom"),
}


def curve_style(b_scene) -> tuple[str, str]:
    """(shape, segments) from the scene's Curves panel (3D Curve when Cycles' settings are absent)."""
    settings = getattr(b_scene, "cycles_curves", None)
    return SHAPES.get(getattr(settings, "shape", "THICK"), SHAPES["THICK"])


def _scalar_attribute(b_curves, name: str, domain: str, count: int) -> np.ndarray | None:
    """A float or int attribute on `domain` ("POINT" / "CURVE") with `count` values, or None."""
    attr = b_curves.attributes.get(name)
    if attr is None or attr.domain != domain or attr.data_type not in ("FLOAT", "INT") or len(attr.data) != count:
        return None
    out = np.empty(count, np.float32 if attr.data_type == "FLOAT" else np.int32)
    attr.data.foreach_get("value", out)
    return out


def read_curves(b_curves, style: tuple[str, str]) -> dict | None:
    """The curve set of an evaluated Curves datablock (None when it has no points)."""
    n_points, n_curves = len(b_curves.points), len(b_curves.curves)
    if n_points == 0 or n_curves == 0:
        return None
    points = np.empty(n_points * 3, np.float32)
    b_curves.position_data.foreach_get("vector", points)
    offsets = np.empty(n_curves + 1, np.int32)
    b_curves.curve_offset_data.foreach_get("value", offsets)
    radii = _scalar_attribute(b_curves, "radius", "POINT", n_points)
    if radii is None:
        radii = np.full(n_points, DEFAULT_RADIUS, np.float32)
    finite(points)  # NaN/Inf (geometry nodes can make them) become 0: the scene dict refuses them
    finite(radii)
    d = {
        "points": points.reshape(n_points, 3),
        "radii": np.maximum(radii, 0.0),
        "offsets": offsets,
        "shape": style[0],
        "segments": style[1],
    }
    material_index = _scalar_attribute(b_curves, "material_index", "CURVE", n_curves)
    if material_index is not None and material_index.any():
        d["material_ids"] = material_index.astype(np.int32)
    return d


def hair_systems(b_ob) -> list:
    """The evaluated object's particle systems drawn as hair paths."""
    out = []
    for psys in getattr(b_ob, "particle_systems", ()):
        s = psys.settings
        if s.type == "HAIR" and s.render_type == "PATH" and (len(psys.particles) or len(psys.child_particles)):
            out.append(psys)
    return out


def read_particle_hair(b_ob, psys, render: bool, style: tuple[str, str]) -> dict | None:
    """The hair of particle system `psys` of evaluated object `b_ob`, in object space: one curve
    per drawn hair (children when there are any, else parents) of 2^steps + 1 path points."""
    s = psys.settings
    n_hairs = len(psys.child_particles) or len(psys.particles)
    steps = (1 << (s.render_step if render else s.display_step)) + 1
    if n_hairs == 0:
        return None
    co_hair = psys.co_hair
    flat = [c for i in range(n_hairs) for k in range(steps) for c in co_hair(b_ob, particle_no=i, step=k)]
    world = np.array(flat, np.float64).reshape(-1, 3)
    inverse = np.linalg.inv(np.array(b_ob.matrix_world, np.float64))  # co_hair gives world space
    points = (world @ inverse[:3, :3].T + inverse[:3, 3]).astype(np.float32)
    finite(points)
    offsets = np.arange(0, n_hairs * steps + 1, steps, dtype=np.int32)
    radii = particle_radii(points, steps, s)
    return {"points": points, "radii": radii, "offsets": offsets, "shape": style[0], "segments": style[1]}


def particle_radii(points: np.ndarray, steps: int, s) -> np.ndarray:
    """Cycles' hair radius: root and tip widths × radius scale / 2, blended along the hair by its
    length fraction with the Shape exponent; 0 at the tip with Close Tip."""
    p = points.reshape(-1, steps, 3).astype(np.float64)
    seg = np.linalg.norm(np.diff(p, axis=1), axis=2)
    along = np.concatenate([np.zeros((len(p), 1)), np.cumsum(seg, axis=1)], axis=1)
    total = along[:, -1:]
    time = np.divide(along, total, out=np.zeros_like(along), where=total > 0)
    scale = s.radius_scale * 0.5
    root, tip, shape = s.root_radius * scale, s.tip_radius * scale, s.shape
    r = 1.0 - time
    if shape < 0:
        r = r ** (1.0 + shape)
    elif shape > 0:
        r = r ** (1.0 / (1.0 - shape))
    radius = r * (root - tip) + tip
    if s.use_close_tip:
        radius[:, -1] = 0.0
    return np.maximum(radius, 0.0).astype(np.float32).reshape(-1)
