"""World textures: Environment Texture (an image around the scene) and Sky Texture."""

from __future__ import annotations

from ..registry import Param, define, enum


@define("ShaderNodeTexEnvironment", inputs={"Vector": ("VECTOR", (0.0, 0.0, 0.0))}, outputs={"Color": "RGBA"},
        params={"image": Param("image", None), "projection": enum("EQUIRECTANGULAR MIRROR_BALL"),
                "interpolation": enum("Linear Closest Cubic Smart")},
        description="params.image: a name in textures, or None (Cycles' magenta); unlinked Vector: the "
                    "position (in the world, the ray direction); Repeat extension, as Cycles")
def environment_texture(nc):
    color = nc.output("Color")
    if color is None:
        return
    if nc.linked("Vector"):
        co = nc.input("Vector")
    else:
        co = nc.temp(3)
        nc.emit("GEOMETRY_VECTOR", "Position", nc.bump, nc.filter_width, co)
    nc.emit("TEX_ENVIRONMENT", nc.param("image"), nc.param("interpolation"), nc.param("projection"), co, color)
