"""Image Texture (procedural textures are added by their own module)."""

from __future__ import annotations

from ..registry import Param, define, enum


@define("ShaderNodeTexImage", inputs={"Vector": ("VECTOR", (0.0, 0.0, 0.0))}, outputs={"Color": "RGBA", "Alpha": "VALUE"},
        params={"image": Param("image", None), "interpolation": enum("Linear Closest Cubic Smart"),
                "extension": enum("REPEAT EXTEND CLIP MIRROR"), "projection": enum("FLAT BOX SPHERE TUBE"),
                "projection_blend": Param("float", 0.0)},
        description="params.image: a name in textures, or None (Cycles' magenta); unlinked Vector: the UV map")
def image_texture(nc):
    color, alpha = nc.output("Color"), nc.output("Alpha")
    if color is None and alpha is None:
        return
    co = nc.input("Vector") if nc.linked("Vector") else nc.implicit("uv")
    # The colour is divided by alpha only when the Alpha output is used (Cycles).
    alpha_used = alpha is not None
    image, interpolation, extension = nc.param("image"), nc.param("interpolation"), nc.param("extension")
    if nc.param("projection") == "BOX":
        nc.emit("TEX_IMAGE_BOX", image, interpolation, extension, nc.constant(nc.param("projection_blend")),
                alpha_used, co, color, alpha)
    else:
        nc.emit("TEX_IMAGE", image, interpolation, extension, nc.param("projection"), alpha_used, co, color, alpha)
