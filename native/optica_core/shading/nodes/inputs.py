"""Input nodes: Value, RGB, Texture Coordinate, UV Map, Attribute, Color Attribute, Geometry,
Fresnel, Layer Weight, Light Path, Object Info, Tangent."""

from __future__ import annotations

import numpy as np

from ..registry import Param, define, enum

_FROM_INSTANCER = Param("bool", False)


@define("ShaderNodeValue", outputs={"Value": "VALUE"}, params={"value": Param("float", 0.0)},
        description="params.value: the node's output value")
def value_node(nc):
    nc.set_output("Value", nc.constant(nc.param("value")))


@define("ShaderNodeRGB", outputs={"Color": "RGBA"}, params={"color": Param("color", (0.5, 0.5, 0.5))},
        description="params.color: the node's output colour")
def rgb_node(nc):
    nc.set_output("Color", nc.constant(nc.param("color")))


_TEX_COORD_OUTPUTS = ("Generated", "Normal", "UV", "Object", "Camera", "Window", "Reflection")


@define("ShaderNodeTexCoord", outputs={name: "VECTOR" for name in _TEX_COORD_OUTPUTS},
        params={"from_instancer": _FROM_INSTANCER, "object": Param("matrix", None)},
        description="params.object: world matrix of the object whose space the Object output uses, or None")
def texture_coordinate(nc):
    for name in _TEX_COORD_OUTPUTS:
        out = nc.output(name)
        if out is None:
            continue
        if name == "UV":
            nc.emit("ATTRIBUTE", ("uv", ""), nc.bump, nc.filter_width, out, None, None)
        elif name == "Object" and nc.param("object") is not None:
            to_object = np.linalg.inv(np.asarray(nc.param("object"), np.float64))[:3].astype(np.float32)
            position = nc.temp(3)
            nc.emit("GEOMETRY_VECTOR", "Position", nc.bump, nc.filter_width, position)
            nc.emit("TRANSFORM_POINT", nc.constant(tuple(to_object.reshape(-1))), position, out)
        else:
            nc.emit("TEX_COORD", name, nc.bump, nc.filter_width, out)


@define("ShaderNodeUVMap", outputs={"UV": "VECTOR"},
        params={"from_instancer": _FROM_INSTANCER, "uv_map": Param("string", "")})
def uv_map(nc):
    out = nc.output("UV")
    if out is not None:
        nc.emit("ATTRIBUTE", ("uv", nc.param("uv_map")), nc.bump, nc.filter_width, out, None, None)


def _attribute_outputs(nc, request, color_names):
    """One attribute read feeding the colour/vector output(s), Fac and Alpha."""
    wanted = [name for name in color_names if nc.wants(name)]
    color = nc.temp(3) if wanted else None
    for name in wanted:
        nc.set_output(name, color)
    fac = nc.output("Fac") if nc.has_output("Fac") else None
    alpha = nc.output("Alpha")
    if color is not None or fac is not None or alpha is not None:
        nc.emit("ATTRIBUTE", request, nc.bump, nc.filter_width, color, fac, alpha)


@define("ShaderNodeAttribute", outputs={"Color": "RGBA", "Vector": "VECTOR", "Fac": "VALUE", "Alpha": "VALUE"},
        params={"attribute_type": enum("GEOMETRY OBJECT INSTANCER VIEW_LAYER"),
                "attribute_name": Param("string", "")},
        description="GEOMETRY attributes by name (mesh attributes, UV maps, point colours 'color'); "
                    "OBJECT/INSTANCER/VIEW_LAYER attributes read as missing (0)")
def attribute(nc):
    if nc.param("attribute_type") != "GEOMETRY":
        for name in ("Color", "Vector"):
            nc.set_output(name, nc.constant((0.0, 0.0, 0.0)))
        nc.set_output("Fac", nc.constant(0.0))
        nc.set_output("Alpha", nc.constant(1.0))
        return
    _attribute_outputs(nc, ("attribute", nc.param("attribute_name")), ("Color", "Vector"))


@define("ShaderNodeVertexColor", outputs={"Color": "RGBA", "Alpha": "VALUE"},
        params={"layer_name": Param("string", "")},
        description="params.layer_name: a colour attribute; empty: the mesh's active one")
def color_attribute(nc):
    _attribute_outputs(nc, ("color", nc.param("layer_name")), ("Color",))


_GEOMETRY_VECTORS = {"Position": "Position", "Normal": "Normal", "Tangent": "Tangent", "True Normal": "True_Normal",
                     "Incoming": "Incoming", "Parametric": "Parametric"}
_GEOMETRY_FLOATS = {"Backfacing": "Backfacing", "Pointiness": "Pointiness", "Random Per Island": "Random_Per_Island"}


@define("ShaderNodeNewGeometry",
        outputs={**{name: "VECTOR" for name in _GEOMETRY_VECTORS}, **{name: "VALUE" for name in _GEOMETRY_FLOATS}},
        description="Pointiness reads 0.5 and Random Per Island 0 (no per-mesh data for them yet)")
def geometry(nc):
    for name, which in _GEOMETRY_VECTORS.items():
        out = nc.output(name)
        if out is not None:
            nc.emit("GEOMETRY_VECTOR", which, nc.bump, nc.filter_width, out)
    for name, which in _GEOMETRY_FLOATS.items():
        out = nc.output(name)
        if out is not None:
            nc.emit("GEOMETRY_FLOAT", which, out)


@define("ShaderNodeFresnel", inputs={"IOR": ("VALUE", 1.5), "Normal": ("VECTOR", (0.0, 0.0, 0.0))},
        outputs={"Fac": "VALUE"})
def fresnel(nc):
    out = nc.output("Fac")
    if out is not None:
        nc.emit("FRESNEL", nc.input("IOR"), nc.input_or_none("Normal"), out)


@define("ShaderNodeLayerWeight", inputs={"Blend": ("VALUE", 0.5), "Normal": ("VECTOR", (0.0, 0.0, 0.0))},
        outputs={"Fresnel": "VALUE", "Facing": "VALUE"})
def layer_weight(nc):
    fresnel_out, facing_out = nc.output("Fresnel"), nc.output("Facing")
    if fresnel_out is not None or facing_out is not None:
        nc.emit("LAYER_WEIGHT", nc.input("Blend"), nc.input_or_none("Normal"), fresnel_out, facing_out)


_LIGHT_PATH_OUTPUTS = ("Is Camera Ray", "Is Shadow Ray", "Is Diffuse Ray", "Is Glossy Ray", "Is Singular Ray",
                       "Is Reflection Ray", "Is Transmission Ray", "Is Volume Scatter Ray", "Ray Length", "Ray Depth",
                       "Diffuse Depth", "Glossy Depth", "Transparent Depth", "Transmission Depth", "Portal Depth")


@define("ShaderNodeLightPath", outputs={name: "VALUE" for name in _LIGHT_PATH_OUTPUTS})
def light_path(nc):
    for name in _LIGHT_PATH_OUTPUTS:
        out = nc.output(name)
        if out is not None:
            nc.emit("LIGHT_PATH", name.replace(" ", "_"), out)


@define("ShaderNodeObjectInfo",
        outputs={"Location": "VECTOR", "Color": "RGBA", "Alpha": "VALUE", "Object Index": "VALUE",
                 "Material Index": "VALUE", "Random": "VALUE"})
def object_info(nc):
    for name in ("Location", "Color"):
        out = nc.output(name)
        if out is not None:
            nc.emit("OBJECT_INFO_VECTOR", name, out)
    material_index = nc.constant(float(nc.compiler.graph.get("pass_index", 0)))
    for name in ("Alpha", "Object Index", "Material Index", "Random"):
        out = nc.output(name)
        if out is not None:
            nc.emit("OBJECT_INFO_FLOAT", name.replace(" ", "_"), material_index, out)


@define("ShaderNodeTangent", outputs={"Tangent": "VECTOR"},
        params={"direction_type": enum("RADIAL UV_MAP"), "axis": enum("X Y Z", "Z"), "uv_map": Param("string", "")})
def tangent(nc):
    out = nc.output("Tangent")
    if out is None:
        return
    radial = nc.param("direction_type") == "RADIAL"
    request = ("attribute", "") if radial else ("tangent", nc.param("uv_map"))
    nc.emit("TANGENT", nc.param("direction_type"), nc.param("axis"), request, out)
