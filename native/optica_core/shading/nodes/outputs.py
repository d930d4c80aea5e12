"""Material Output and World Output: compilation starts at their Surface input."""

from __future__ import annotations

from ..registry import Param, define, enum

_TARGET = enum("ALL EEVEE CYCLES")


@define("ShaderNodeOutputMaterial",
        inputs={"Surface": ("SHADER", None), "Volume": ("SHADER", None), "Displacement": ("VECTOR", (0.0, 0.0, 0.0)),
                "Thickness": ("VALUE", 0.0)},
        params={"is_active_output": Param("bool", False), "target": _TARGET},
        description="Surface is rendered; Volume, Displacement and Thickness are not evaluated")
def material_output(nc):
    pass


@define("ShaderNodeOutputWorld", inputs={"Surface": ("SHADER", None), "Volume": ("SHADER", None)},
        params={"is_active_output": Param("bool", True), "target": _TARGET},
        description="Surface is the background; Volume is not evaluated")
def world_output(nc):
    pass
