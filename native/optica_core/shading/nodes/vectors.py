"""Vector nodes: Mapping, Normal Map, Bump, Normal, Vector Curves, Vector Rotate, Vector Transform."""

from __future__ import annotations

from ..compiler import BUMP_DX, BUMP_DY
from ..registry import Param, define, enum
from .converters import emit_curves, identity_curve

_ZERO3 = (0.0, 0.0, 0.0)


@define("ShaderNodeMapping",
        inputs={"Vector": ("VECTOR", _ZERO3), "Location": ("VECTOR", _ZERO3), "Rotation": ("VECTOR", _ZERO3),
                "Scale": ("VECTOR", (1.0, 1.0, 1.0))},
        outputs={"Vector": "VECTOR"}, params={"vector_type": enum("POINT TEXTURE VECTOR NORMAL")})
def mapping(nc):
    out = nc.output("Vector")
    if out is not None:
        nc.emit("MAPPING", nc.param("vector_type"), nc.input("Vector"), nc.input("Location"), nc.input("Rotation"),
                nc.input("Scale"), out)


@define("ShaderNodeNormalMap", inputs={"Strength": ("VALUE", 1.0), "Color": ("RGBA", (0.5, 0.5, 1.0))},
        outputs={"Normal": "VECTOR"},
        params={"space": enum("TANGENT OBJECT WORLD BLENDER_OBJECT BLENDER_WORLD"), "uv_map": Param("string", "")},
        description="tangent space from meshes[…].tangents (MikkTSpace, as Blender computes them)")
def normal_map(nc):
    out = nc.output("Normal")
    if out is not None:
        nc.emit("NORMAL_MAP", nc.param("space"), ("tangent", nc.param("uv_map")), nc.input("Strength"),
                nc.input("Color"), out)


@define("ShaderNodeBump",
        inputs={"Strength": ("VALUE", 1.0), "Distance": ("VALUE", 0.001), "Filter Width": ("VALUE", 0.1),
                "Height": ("VALUE", 1.0), "Normal": ("VECTOR", _ZERO3)},
        outputs={"Normal": "VECTOR"}, params={"invert": Param("bool", False)},
        description="Height is evaluated at the point and at two points offset by Filter Width ray footprints")
def bump(nc):
    out = nc.output("Normal")
    if out is None:
        return
    filter_width = nc.input("Filter Width")
    heights = [nc.input("Height"), nc.input_at("Height", BUMP_DX, filter_width),
               nc.input_at("Height", BUMP_DY, filter_width)]
    nc.emit("BUMP", nc.param("invert"), nc.input("Strength"), nc.input("Distance"), filter_width, *heights,
            nc.input_or_none("Normal"), out)


@define("ShaderNodeNormal", inputs={"Normal": ("VECTOR", (0.0, 0.0, 1.0))}, outputs={"Normal": "VECTOR", "Dot": "VALUE"},
        params={"direction": Param("vector", (0.0, 0.0, 1.0))},
        description="params.direction: the node's normal (its Normal output's value in Blender)")
def normal(nc):
    normal_out, dot_out = nc.output("Normal"), nc.output("Dot")
    if normal_out is not None or dot_out is not None:
        nc.emit("NORMAL", nc.constant(nc.param("direction")), nc.input("Normal"), normal_out, dot_out)


@define("ShaderNodeVectorCurve", inputs={"Fac": ("VALUE", 1.0), "Vector": ("VECTOR", _ZERO3)},
        outputs={"Vector": "VECTOR"}, params={"curve": Param("curve", identity_curve(3), (3,))},
        description="params.curve: the mapping baked as Cycles bakes it")
def vector_curves(nc):
    emit_curves(nc, "Vector", "Vector")


@define("ShaderNodeVectorRotate",
        inputs={"Vector": ("VECTOR", _ZERO3), "Center": ("VECTOR", _ZERO3), "Axis": ("VECTOR", (0.0, 0.0, 1.0)),
                "Angle": ("VALUE", 0.0), "Rotation": ("VECTOR", _ZERO3)},
        outputs={"Vector": "VECTOR"},
        params={"rotation_type": enum("AXIS_ANGLE X_AXIS Y_AXIS Z_AXIS EULER_XYZ"), "invert": Param("bool", False)},
        description="unlinked Vector: (0, 0, 0), as in Cycles")
def vector_rotate(nc):
    out = nc.output("Vector")
    if out is not None:
        nc.emit("VECTOR_ROTATE", nc.param("rotation_type"), nc.param("invert"),
                *(nc.input(name) for name in ("Vector", "Center", "Axis", "Angle", "Rotation")), out)


_SPACES = "WORLD OBJECT CAMERA"


@define("ShaderNodeVectorTransform", inputs={"Vector": ("VECTOR", (0.5, 0.5, 0.5))}, outputs={"Vector": "VECTOR"},
        params={"vector_type": enum("POINT VECTOR NORMAL", "VECTOR"), "convert_from": enum(_SPACES, "WORLD"),
                "convert_to": enum(_SPACES, "OBJECT")},
        description="camera space is Cycles' (+Z forward)")
def vector_transform(nc):
    out = nc.output("Vector")
    if out is not None:
        nc.emit("VECTOR_TRANSFORM", nc.param("vector_type"), nc.param("convert_from"), nc.param("convert_to"),
                nc.input("Vector"), out)
