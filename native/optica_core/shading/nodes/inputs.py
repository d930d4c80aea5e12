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


# ---- inputs a mesh gives their defaults, and view data (kernel/svm/vector_nodes.h)

@define("ShaderNodeCameraData", outputs={"View Vector": "VECTOR", "View Z Depth": "VALUE", "View Distance": "VALUE"},
        description="the shading point in camera space, as Cycles (+Z forward)")
def camera_data(nc):
    outs = [nc.output(name) for name in ("View Vector", "View Z Depth", "View Distance")]
    if any(out is not None for out in outs):
        nc.emit("CAMERA_DATA", *outs)


_PARTICLE_OUTPUTS = {"Index": 0.0, "Age": 0.0, "Lifetime": 0.0, "Location": (0.0, 0.0, 0.0), "Size": 0.0,
                     "Velocity": (0.0, 0.0, 0.0), "Angular Velocity": (0.0, 0.0, 0.0)}


@define("ShaderNodeParticleInfo",
        outputs={"Index": "VALUE", "Random": "VALUE", "Age": "VALUE", "Lifetime": "VALUE", "Location": "VECTOR",
                 "Size": "VALUE", "Velocity": "VECTOR", "Angular Velocity": "VECTOR"},
        description="what Cycles gives objects that are not particles (its particle 0: zeros, Random of index 0); "
                    "particle instances are not told apart")
def particle_info(nc):
    for name, value in _PARTICLE_OUTPUTS.items():
        nc.set_output(name, nc.constant(value))
    out = nc.output("Random")
    if out is not None:
        nc.emit("INDEX_RANDOM", nc.constant(0.0), out)


def _constant_outputs(nc, values: dict):
    for name, value in values.items():
        nc.set_output(name, nc.constant(value))


_HAIR_OUTPUTS = ("Is Strand", "Intercept", "Length", "Thickness", "Tangent Normal", "Random")


@define("ShaderNodeHairInfo", outputs={name: "VECTOR" if name == "Tangent Normal" else "VALUE" for name in _HAIR_OUTPUTS},
        description="Curves Info: on curves as Cycles (intercept along the curve, length, random per curve, diameter, "
                    "the normal across the strand); zeros elsewhere, as Cycles gives meshes")
def hair_info(nc):
    outs = [nc.output(name) for name in _HAIR_OUTPUTS]
    if any(out is not None for out in outs):
        nc.emit("HAIR_INFO", *outs)


@define("ShaderNodePointInfo", outputs={"Position": "VECTOR", "Radius": "VALUE", "Random": "VALUE"},
        description="what Cycles gives meshes: zeros (also on point clouds: approximation)")
def point_info(nc):
    _constant_outputs(nc, {"Position": (0.0, 0.0, 0.0), "Radius": 0.0, "Random": 0.0})


@define("ShaderNodeVolumeInfo", outputs={"Color": "RGBA", "Density": "VALUE", "Flame": "VALUE",
                                         "Temperature": "VALUE"},
        description="what Cycles gives surfaces without volume grids: zeros")
def volume_info(nc):
    _constant_outputs(nc, {"Color": (0.0, 0.0, 0.0), "Density": 0.0, "Flame": 0.0, "Temperature": 0.0})


@define("ShaderNodeAmbientOcclusion",
        inputs={"Color": ("RGBA", (1.0, 1.0, 1.0)), "Distance": ("VALUE", 1.0), "Normal": ("VECTOR", (0.0, 0.0, 0.0))},
        outputs={"Color": "RGBA", "AO": "VALUE"},
        params={"samples": Param("int", 16), "inside": Param("bool", False), "only_local": Param("bool", False)},
        description="approximated as unoccluded: Color passes through, AO is 1 (no rays are traced from shaders)")
def ambient_occlusion(nc):
    if nc.wants("Color"):
        nc.set_output("Color", nc.input("Color"))
    nc.set_output("AO", nc.constant(1.0))


@define("ShaderNodeBevel", inputs={"Radius": ("VALUE", 0.05), "Normal": ("VECTOR", (0.0, 0.0, 0.0))},
        outputs={"Normal": "VECTOR"}, params={"samples": Param("int", 4)},
        description="approximated: the normal without rounding (the linked Normal, else the shading normal)")
def bevel(nc):
    out = nc.output("Normal")
    if out is None:
        return
    if nc.linked("Normal"):
        nc.set_output("Normal", nc.input("Normal"))
    else:
        nc.emit("GEOMETRY_VECTOR", "Normal", nc.bump, nc.filter_width, out)


@define("ShaderNodeWireframe", inputs={"Size": ("VALUE", 0.01)}, outputs={"Fac": "VALUE"},
        params={"use_pixel_size": Param("bool", False)},
        description="the edges of the triangles Cycles sees (a quad shows its diagonal)")
def wireframe(nc):
    out = nc.output("Fac")
    if out is not None:
        nc.emit("WIREFRAME", nc.param("use_pixel_size"), nc.bump, nc.filter_width, nc.input("Size"), out)
