"""Converter and colour nodes: Math, Vector Math, Mix (and the legacy MixRGB), Separate and
Combine Color / XYZ."""

from __future__ import annotations

from ..registry import Param, define, enum

MATH_OPERATIONS = (
    "ADD SUBTRACT MULTIPLY DIVIDE MULTIPLY_ADD POWER LOGARITHM SQRT INVERSE_SQRT ABSOLUTE EXPONENT MINIMUM "
    "MAXIMUM LESS_THAN GREATER_THAN SIGN COMPARE SMOOTH_MIN SMOOTH_MAX ROUND FLOOR CEIL TRUNC FRACT MODULO "
    "FLOORED_MODULO WRAP SNAP PINGPONG SINE COSINE TANGENT ARCSINE ARCCOSINE ARCTANGENT ARCTAN2 SINH COSH TANH "
    "RADIANS DEGREES")
VECTOR_MATH_OPERATIONS = (
    "ADD SUBTRACT MULTIPLY DIVIDE MULTIPLY_ADD CROSS_PRODUCT PROJECT REFLECT REFRACT FACEFORWARD DOT_PRODUCT "
    "DISTANCE LENGTH SCALE NORMALIZE ABSOLUTE POWER SIGN MINIMUM MAXIMUM FLOOR CEIL FRACTION MODULO WRAP SNAP "
    "SINE COSINE TANGENT")
BLEND_TYPES = ("MIX DARKEN MULTIPLY BURN LIGHTEN SCREEN DODGE ADD OVERLAY SOFT_LIGHT LINEAR_LIGHT DIFFERENCE "
               "EXCLUSION SUBTRACT DIVIDE HUE SATURATION COLOR VALUE")
_COLOR_MODE = enum("RGB HSV HSL")
_ZERO3 = (0.0, 0.0, 0.0)
_GREY = (0.5, 0.5, 0.5)


@define("ShaderNodeMath", inputs={"Value": ("VALUE", 0.5), "Value_001": ("VALUE", 0.5), "Value_002": ("VALUE", 0.5)},
        outputs={"Value": "VALUE"},
        params={"operation": enum(MATH_OPERATIONS), "use_clamp": Param("bool", False)})
def math(nc):
    out = nc.output("Value")
    if out is not None:
        nc.emit("MATH", nc.param("operation"), nc.param("use_clamp"), nc.input("Value"), nc.input("Value_001"),
                nc.input("Value_002"), out)


@define("ShaderNodeVectorMath",
        inputs={"Vector": ("VECTOR", _ZERO3), "Vector_001": ("VECTOR", _ZERO3), "Vector_002": ("VECTOR", _ZERO3),
                "Scale": ("VALUE", 1.0)},
        outputs={"Vector": "VECTOR", "Value": "VALUE"}, params={"operation": enum(VECTOR_MATH_OPERATIONS)})
def vector_math(nc):
    vector_out, value_out = nc.output("Vector"), nc.output("Value")
    if vector_out is not None or value_out is not None:
        nc.emit("VECTOR_MATH", nc.param("operation"), nc.input("Vector"), nc.input("Vector_001"),
                nc.input("Vector_002"), nc.input("Scale"), vector_out, value_out)


@define("ShaderNodeMix",
        inputs={"Factor_Float": ("VALUE", 0.5), "Factor_Vector": ("VECTOR", _GREY), "A_Float": ("VALUE", 0.0),
                "B_Float": ("VALUE", 0.0), "A_Vector": ("VECTOR", _ZERO3), "B_Vector": ("VECTOR", _ZERO3),
                "A_Color": ("RGBA", _GREY), "B_Color": ("RGBA", _GREY), "A_Rotation": ("ROTATION", _ZERO3),
                "B_Rotation": ("ROTATION", _ZERO3)},
        outputs={"Result_Float": "VALUE", "Result_Vector": "VECTOR", "Result_Color": "RGBA",
                 "Result_Rotation": "ROTATION"},
        params={"data_type": enum("FLOAT VECTOR RGBA ROTATION"), "factor_mode": enum("UNIFORM NON_UNIFORM"),
                "blend_type": enum(BLEND_TYPES), "clamp_factor": Param("bool", True),
                "clamp_result": Param("bool", False)},
        description="data_type ROTATION passes A through (rotation mixing is not evaluated)")
def mix(nc):
    data_type, clamp = nc.param("data_type"), nc.param("clamp_factor")
    if data_type == "FLOAT":
        out = nc.output("Result_Float")
        if out is not None:
            nc.emit("MIX_FLOAT", clamp, nc.input("Factor_Float"), nc.input("A_Float"), nc.input("B_Float"), out)
    elif data_type == "VECTOR":
        out = nc.output("Result_Vector")
        if out is None:
            return
        if nc.param("factor_mode") == "NON_UNIFORM":
            nc.emit("MIX_VECTOR_NON_UNIFORM", clamp, nc.input("Factor_Vector"), nc.input("A_Vector"),
                    nc.input("B_Vector"), out)
        else:
            nc.emit("MIX_VECTOR", clamp, nc.input("Factor_Float"), nc.input("A_Vector"), nc.input("B_Vector"), out)
    elif data_type == "RGBA":
        out = nc.output("Result_Color")
        if out is not None:
            nc.emit("MIX_COLOR", nc.param("blend_type"), clamp, nc.param("clamp_result"), nc.input("Factor_Float"),
                    nc.input("A_Color"), nc.input("B_Color"), out)
    elif nc.wants("Result_Rotation"):
        nc.set_output("Result_Rotation", nc.input("A_Rotation"))


@define("ShaderNodeMixRGB", inputs={"Fac": ("VALUE", 0.5), "Color1": ("RGBA", _GREY), "Color2": ("RGBA", _GREY)},
        outputs={"Color": "RGBA"},
        params={"blend_type": enum(BLEND_TYPES), "use_alpha": Param("bool", False), "use_clamp": Param("bool", False)},
        description="the legacy Mix node; use_alpha is not evaluated")
def mix_rgb(nc):
    out = nc.output("Color")
    if out is not None:  # Cycles always clamps the legacy node's factor
        nc.emit("MIX_COLOR", nc.param("blend_type"), True, nc.param("use_clamp"), nc.input("Fac"),
                nc.input("Color1"), nc.input("Color2"), out)


@define("ShaderNodeSeparateColor", inputs={"Color": ("RGBA", (0.8, 0.8, 0.8))},
        outputs={"Red": "VALUE", "Green": "VALUE", "Blue": "VALUE"}, params={"mode": _COLOR_MODE})
def separate_color(nc):
    outs = [nc.output(name) for name in ("Red", "Green", "Blue")]
    if any(out is not None for out in outs):
        nc.emit("SEPARATE_COLOR", nc.param("mode"), nc.input("Color"), *outs)


@define("ShaderNodeCombineColor", inputs={"Red": ("VALUE", 0.0), "Green": ("VALUE", 0.0), "Blue": ("VALUE", 0.0)},
        outputs={"Color": "RGBA"}, params={"mode": _COLOR_MODE})
def combine_color(nc):
    out = nc.output("Color")
    if out is not None:
        nc.emit("COMBINE_COLOR", nc.param("mode"), nc.input("Red"), nc.input("Green"), nc.input("Blue"), out)


@define("ShaderNodeSeparateXYZ", inputs={"Vector": ("VECTOR", _ZERO3)},
        outputs={"X": "VALUE", "Y": "VALUE", "Z": "VALUE"})
def separate_xyz(nc):
    outs = [nc.output(name) for name in ("X", "Y", "Z")]
    if any(out is not None for out in outs):
        nc.emit("SEPARATE_XYZ", nc.input("Vector"), *outs)


@define("ShaderNodeCombineXYZ", inputs={"X": ("VALUE", 0.0), "Y": ("VALUE", 0.0), "Z": ("VALUE", 0.0)},
        outputs={"Vector": "VECTOR"})
def combine_xyz(nc):
    out = nc.output("Vector")
    if out is not None:
        nc.emit("COMBINE_XYZ", nc.input("X"), nc.input("Y"), nc.input("Z"), out)
