# SPDX-License-Identifier: GPL-3.0-or-later
"""A shader node's parameters (`params` of a scene-dict v2 node): its RNA properties and the
data Blender keeps outside sockets — images, colour ramps, curve tables, object matrices.

Parameters are the node's own RNA properties (those a plain `ShaderNode` does not have), by
identifier, enums as their strings. Pointers become scene-dict data: `image` a texture name
(through the exporter's texture pipeline) or None (Cycles' magenta), `color_ramp` the `ramp`
stops, `mapping` the `curve` table baked as Cycles bakes it, `object` (Texture Coordinate)
the object's object-to-world matrix. Value, RGB and Normal nodes keep their constant on an
output socket: it becomes `value`, `color` and `direction`.

What costs time (curve baking: ~1000 `CurveMapping.evaluate` calls per RGB curve) is
`Deferred`: the walk records a cheap key (the curve's control points) so an unchanged graph is
recognised before anything is baked, and `Deferred.make()` runs only for new content.
"""

from __future__ import annotations

import numpy as np

# Cycles' RAMP_TABLE_SIZE: its curve tables hold RAMP_TABLE_SIZE + 1 samples over the curves'
# x range (blender/util.h, curvemapping_*_to_array).
CURVE_TABLE_SIZE = 256

# Selection and UI state, not shading (output nodes' target, texture nodes' legacy mapping
# blocks that Blender 5.0's UI no longer shows).
_SKIPPED = frozenset({"is_active_output", "target", "texture_mapping", "color_mapping", "image_user"})
_SCALAR_TYPES = frozenset({"BOOLEAN", "INT", "FLOAT", "STRING", "ENUM"})
_OUTPUT_CONSTANTS = {
    "ShaderNodeValue": ("value", "Value"),
    "ShaderNodeRGB": ("color", "Color"),
    "ShaderNodeNormal": ("direction", "Normal"),
}
_CURVE_CHANNELS = {"ShaderNodeRGBCurve": 4, "ShaderNodeVectorCurve": 3, "ShaderNodeFloatCurve": 1}


class Deferred:
    """A parameter whose value is costly to make: `key` names it (for digests), `make()`
    builds it."""

    __slots__ = ("key", "make")

    def __init__(self, key, make):
        self.key = key
        self.make = make

    def __repr__(self) -> str:
        return repr(self.key)


_specs: dict[str, tuple] = {}
_base: frozenset = frozenset()  # the properties every shader node has (read once)


def _base_properties() -> frozenset:
    import bpy

    return frozenset(p.identifier for p in bpy.types.ShaderNode.bl_rna.properties)


def _spec(node) -> tuple:
    """((identifier, kind), …) of the node type's own properties, computed once per type."""
    global _base
    found = _specs.get(node.bl_idname)
    if found is not None:
        return found
    if not _base:
        _base = _base_properties()
    spec: list[tuple[str, str]] = []
    for prop in node.bl_rna.properties:
        ident = prop.identifier
        if ident in _base or ident in _SKIPPED:
            continue
        if prop.type in _SCALAR_TYPES and not getattr(prop, "is_enum_flag", False):
            spec.append((ident, "array" if getattr(prop, "array_length", 0) else "scalar"))
        elif prop.type == "POINTER" and ident in ("image", "color_ramp", "mapping", "object"):
            spec.append((ident, ident))
    found = _specs[node.bl_idname] = tuple(spec)
    return found


def read_params(node, texture) -> dict:
    """The node's `params`. `texture(node)` → a texture name or None for image nodes."""
    params = {}
    for ident, kind in _spec(node):
        if kind == "scalar":
            params[ident] = getattr(node, ident)
        elif kind == "array":
            params[ident] = [float(v) for v in getattr(node, ident)]
        elif kind == "image":
            params["image"] = texture(node)
        elif kind == "color_ramp":
            params["ramp"] = ramp(node.color_ramp)
        elif kind == "mapping":
            params["curve"] = curve(node.mapping, _CURVE_CHANNELS.get(node.bl_idname, 1))
        elif kind == "object":
            params["object"] = object_matrix(node.object)
    constant = _OUTPUT_CONSTANTS.get(node.bl_idname)
    if constant is not None:
        value = node.outputs[constant[1]].default_value
        params[constant[0]] = float(value) if isinstance(value, float) else [float(v) for v in value]
    return params


def ramp(color_ramp) -> Deferred:
    """`ramp`: the Color Ramp's stops and modes (the core interpolates as Blender does)."""
    elements = color_ramp.elements
    n = len(elements)
    positions = np.empty(n, np.float32)
    colors = np.empty(n * 4, np.float32)
    elements.foreach_get("position", positions)
    elements.foreach_get("color", colors)
    modes = (color_ramp.interpolation, color_ramp.color_mode, color_ramp.hue_interpolation)

    def make():
        return {
            "interpolation": modes[0],
            "color_mode": modes[1],
            "hue_interpolation": modes[2],
            "positions": positions,
            "colors": colors.reshape(n, 4),
        }

    return Deferred(("ramp", modes, positions.tobytes(), colors.tobytes()), make)


def curve(mapping, channels: int) -> Deferred:
    """`curve`: the mapping's table, baked when made (see `bake_curve`)."""
    points = tuple(tuple((p.location[0], p.location[1], p.handle_type) for p in c.points) for c in mapping.curves)
    key = (
        "curve",
        channels,
        mapping.extend,
        mapping.use_clip,
        mapping.clip_min_x,
        mapping.clip_min_y,
        mapping.clip_max_x,
        mapping.clip_max_y,
        points,
    )
    return Deferred(key, lambda: bake_curve(mapping, channels))


def bake_curve(mapping, channels: int) -> dict:
    """A CurveMapping as Cycles bakes it (blender/util.h): CURVE_TABLE_SIZE + 1 samples of the
    curves over [x_min, x_max], the extreme control points of the curves used; an RGB curve's
    R, G, B columns are each applied after the combined curve C (R(C(x))), so `table` has 3
    columns for RGB and vector curves and 1 for a float curve; `extrapolate` is the mapping's
    Extrapolated extension."""
    mapping.update()  # tables from the current points, as Cycles' BKE_curvemapping_changed_all
    mapping.initialize()
    curves = list(mapping.curves)[:channels]
    lo = min(c.points[0].location[0] for c in curves)
    hi = max(c.points[len(c.points) - 1].location[0] for c in curves)
    xs = [lo + i / CURVE_TABLE_SIZE * (hi - lo) for i in range(CURVE_TABLE_SIZE + 1)]
    evaluate = mapping.evaluate
    if channels == 4:
        combined = curves[3]
        xs = [evaluate(combined, x) for x in xs]
        columns = [[evaluate(c, x) for x in xs] for c in curves[:3]]
    else:
        columns = [[evaluate(c, x) for x in xs] for c in curves]
    table = np.ascontiguousarray(np.array(columns, np.float32).T)
    return {"table": table, "range": [float(lo), float(hi)], "extrapolate": mapping.extend == "EXTRAPOLATED"}


def object_matrix(b_object):
    """The object-to-world matrix (f32 (4, 4), row-major) of a Texture Coordinate node's
    object, or None (the shaded object itself)."""
    if b_object is None:
        return None
    m = np.array(b_object.matrix_world, np.float32)
    return Deferred(("object", m.tobytes()), lambda: m)
