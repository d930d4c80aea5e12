"""Converter and colour nodes: Math, Vector Math, Mix (and the legacy MixRGB), Separate and
Combine Color / XYZ, Map Range, Clamp, Invert, Gamma, Hue/Saturation/Value, Bright/Contrast,
RGB to BW, Color Ramp, RGB and Float Curves."""

from __future__ import annotations

from .. import ramps
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


# ---- colour adjustments, Map Range, Clamp, ramps and curves (kernel/svm/color_nodes.h,
# converter_nodes.h, ramp.h)

_WHITE = (1.0, 1.0, 1.0)
_MAP_RANGE_TYPES = enum("LINEAR STEPPED SMOOTHSTEP SMOOTHERSTEP")
_IDENTITY_RAMP = {"interpolation": "LINEAR", "color_mode": "RGB", "hue_interpolation": "NEAR",
                  "positions": [0.0, 1.0], "colors": [[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]]}


def identity_curve(channels: int) -> dict:
    """The curve parameter of an untouched curve node: y = x over [0, 1]."""
    column = [i / (ramps.CURVE_TABLE_SIZE - 1) for i in range(ramps.CURVE_TABLE_SIZE)]
    return {"table": [[x] * channels for x in column], "range": [0.0, 1.0], "extrapolate": False}


@define("ShaderNodeMapRange",
        inputs={"Value": ("VALUE", 1.0), "From Min": ("VALUE", 0.0), "From Max": ("VALUE", 1.0),
                "To Min": ("VALUE", 0.0), "To Max": ("VALUE", 1.0), "Steps": ("VALUE", 4.0),
                "Vector": ("VECTOR", _ZERO3), "From_Min_FLOAT3": ("VECTOR", _ZERO3),
                "From_Max_FLOAT3": ("VECTOR", _WHITE), "To_Min_FLOAT3": ("VECTOR", _ZERO3),
                "To_Max_FLOAT3": ("VECTOR", _WHITE), "Steps_FLOAT3": ("VECTOR", (4.0, 4.0, 4.0))},
        outputs={"Result": "VALUE", "Vector": "VECTOR"},
        params={"clamp": Param("bool", True), "interpolation_type": _MAP_RANGE_TYPES,
                "data_type": enum("FLOAT FLOAT_VECTOR")})
def map_range(nc):
    kind, clamp = nc.param("interpolation_type"), nc.param("clamp")
    if nc.param("data_type") == "FLOAT":
        out = nc.output("Result")
        if out is not None:
            nc.emit("MAP_RANGE", kind, clamp, *(nc.input(name) for name in (
                "Value", "From Min", "From Max", "To Min", "To Max", "Steps")), out)
        return
    out = nc.output("Vector")
    if out is not None:
        nc.emit("MAP_RANGE_VECTOR", kind, clamp, *(nc.input(name) for name in (
            "Vector", "From_Min_FLOAT3", "From_Max_FLOAT3", "To_Min_FLOAT3", "To_Max_FLOAT3", "Steps_FLOAT3")), out)


@define("ShaderNodeClamp", inputs={"Value": ("VALUE", 1.0), "Min": ("VALUE", 0.0), "Max": ("VALUE", 1.0)},
        outputs={"Result": "VALUE"}, params={"clamp_type": enum("MINMAX RANGE")})
def clamp(nc):
    out = nc.output("Result")
    if out is not None:
        nc.emit("CLAMP", nc.param("clamp_type"), nc.input("Value"), nc.input("Min"), nc.input("Max"), out)


@define("ShaderNodeInvert", inputs={"Fac": ("VALUE", 1.0), "Color": ("RGBA", _ZERO3)}, outputs={"Color": "RGBA"})
def invert(nc):
    out = nc.output("Color")
    if out is not None:
        nc.emit("INVERT", nc.input("Fac"), nc.input("Color"), out)


@define("ShaderNodeGamma", inputs={"Color": ("RGBA", _WHITE), "Gamma": ("VALUE", 1.0)}, outputs={"Color": "RGBA"})
def gamma(nc):
    out = nc.output("Color")
    if out is not None:
        nc.emit("GAMMA", nc.input("Color"), nc.input("Gamma"), out)


@define("ShaderNodeHueSaturation",
        inputs={"Hue": ("VALUE", 0.5), "Saturation": ("VALUE", 1.0), "Value": ("VALUE", 1.0), "Fac": ("VALUE", 1.0),
                "Color": ("RGBA", (0.8, 0.8, 0.8))},
        outputs={"Color": "RGBA"})
def hue_saturation(nc):
    out = nc.output("Color")
    if out is not None:
        nc.emit("HUE_SATURATION", *(nc.input(name) for name in ("Hue", "Saturation", "Value", "Fac", "Color")), out)


@define("ShaderNodeBrightContrast",
        inputs={"Color": ("RGBA", _WHITE), "Bright": ("VALUE", 0.0), "Contrast": ("VALUE", 0.0)},
        outputs={"Color": "RGBA"})
def bright_contrast(nc):
    out = nc.output("Color")
    if out is not None:
        nc.emit("BRIGHT_CONTRAST", nc.input("Color"), nc.input("Bright"), nc.input("Contrast"), out)


@define("ShaderNodeRGBToBW", inputs={"Color": ("RGBA", _GREY)}, outputs={"Val": "VALUE"},
        description="luminance with the scene's Rec.709 coefficients, as Cycles")
def rgb_to_bw(nc):
    if nc.wants("Val"):
        nc.set_output("Val", nc.compiler.convert(nc.input("Color"), "RGBA", "VALUE"))


@define("ShaderNodeValToRGB", inputs={"Fac": ("VALUE", 0.5)}, outputs={"Color": "RGBA", "Alpha": "VALUE"},
        params={"ramp": Param("ramp", _IDENTITY_RAMP)},
        description="params.ramp: the stops and modes; baked into Cycles' 256-entry table")
def color_ramp(nc):
    outs = [nc.output("Color"), nc.output("Alpha")]
    if all(out is None for out in outs):
        return
    ramp = nc.param("ramp")
    table = nc.constant(tuple(ramps.ramp_table(ramp).reshape(-1)))
    nc.emit("COLOR_RAMP", table, ramp["interpolation"] != "CONSTANT", nc.input("Fac"), *outs)


def emit_curves(nc, value_input: str, value_output: str):
    """RGB and Vector Curves: the baked table looked up per channel (kernel/svm/ramp.h)."""
    out = nc.output(value_output)
    if out is None:
        return
    curve = nc.param("curve")
    lo, hi = curve["range"]
    nc.emit("CURVES", nc.constant(tuple(curve["table"].reshape(-1))), curve["extrapolate"], nc.constant(lo),
            nc.constant(hi), nc.input("Fac"), nc.input(value_input), out)


@define("ShaderNodeRGBCurve", inputs={"Fac": ("VALUE", 1.0), "Color": ("RGBA", _WHITE)}, outputs={"Color": "RGBA"},
        params={"curve": Param("curve", identity_curve(3), (3,))},
        description="params.curve: the mapping baked as Cycles bakes it (R(C(x)) per channel)")
def rgb_curves(nc):
    emit_curves(nc, "Color", "Color")


@define("ShaderNodeFloatCurve", inputs={"Factor": ("VALUE", 1.0), "Value": ("VALUE", 1.0)},
        outputs={"Value": "VALUE"}, params={"curve": Param("curve", identity_curve(1), (1,))},
        description="params.curve: the mapping baked as Cycles bakes it")
def float_curve(nc):
    out = nc.output("Value")
    if out is None:
        return
    curve = nc.param("curve")
    lo, hi = curve["range"]
    nc.emit("FLOAT_CURVE", nc.constant(tuple(curve["table"].reshape(-1))), curve["extrapolate"], nc.constant(lo),
            nc.constant(hi), nc.input("Factor"), nc.input("Value"), out)


_FALLOFF_OUTPUTS = ("Quadratic", "Linear", "Constant")


@define("ShaderNodeLightFalloff", inputs={"Strength": ("VALUE", 100.0), "Smooth": ("VALUE", 0.0)},
        outputs={name: "VALUE" for name in _FALLOFF_OUTPUTS},
        description="on surfaces (emission), over the ray's length, as Cycles; Optica's lights ignore node graphs")
def light_falloff(nc):
    for name in _FALLOFF_OUTPUTS:
        out = nc.output(name)
        if out is not None:
            nc.emit("LIGHT_FALLOFF", name, nc.input("Strength"), nc.input("Smooth"), out)


@define("ShaderNodeBlackbody", inputs={"Temperature": ("VALUE", 6500.0)}, outputs={"Color": "RGBA"},
        description="Cycles' fit of Planck's law, in Rec.709 (Blender's scene linear)")
def blackbody(nc):
    out = nc.output("Color")
    if out is not None:
        nc.emit("BLACKBODY", nc.input("Temperature"), out)


@define("ShaderNodeWavelength", inputs={"Wavelength": ("VALUE", 500.0)}, outputs={"Color": "RGBA"},
        description="CIE 1931 colour matching, XYZ (D65) to Rec.709, scaled as Cycles")
def wavelength(nc):
    out = nc.output("Color")
    if out is not None:
        nc.emit("WAVELENGTH", nc.input("Wavelength"), out)
