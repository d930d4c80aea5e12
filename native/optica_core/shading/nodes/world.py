"""World textures: Environment Texture (an image around the scene) and Sky Texture."""

from __future__ import annotations

from .. import sky
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


@define("ShaderNodeTexSky", inputs={"Vector": ("VECTOR", (0.0, 0.0, 0.0))}, outputs={"Color": "RGBA"},
        params={"sky_type": enum("SINGLE_SCATTERING MULTIPLE_SCATTERING PREETHAM HOSEK_WILKIE", "MULTIPLE_SCATTERING"),
                "sun_direction": Param("vector", (0.0, 0.0, 1.0)), "turbidity": Param("float", 2.200000047683716),
                "ground_albedo": Param("float", 0.30000001192092896), "sun_disc": Param("bool", True),
                "sun_size": Param("float", 0.009512044489383698), "sun_intensity": Param("float", 1.0),
                "sun_elevation": Param("float", 0.2617993950843811), "sun_rotation": Param("float", 0.0),
                "altitude": Param("float", 100.0), "air_density": Param("float", 1.0),
                "aerosol_density": Param("float", 1.0), "ozone_density": Param("float", 1.0)},
        description="Preetham (sun_direction, turbidity), Hosek / Wilkie (sun_direction, turbidity in 1 … 10, "
                    "ground_albedo in 0 … 1), Single and Multiple Scattering (the sun_* and density params, their "
                    "tables precomputed on the host), all evaluated as Cycles. "
                    "Unlinked Vector: Generated (in the world, the ray direction); a Single or Multiple Scattering "
                    "sky with its sun disc on ignores a linked Vector, as Blender (the socket is unavailable then)")
def sky_texture(nc):
    color = nc.output("Color")
    if color is None:
        return
    sky_type = nc.param("sky_type")
    if sky_type == "PREETHAM":
        data = sky.preetham(nc.param("sun_direction"), nc.param("turbidity"))
    elif sky_type == "HOSEK_WILKIE":
        try:
            data = sky.hosek_wilkie(nc.param("sun_direction"), nc.param("turbidity"), nc.param("ground_albedo"))
        except ValueError as e:
            raise ValueError(f"{nc.what}: {e}") from None
    else:  # the two Nishita types: the same kernel model, each with its own table and disc
        precompute = sky.single_scattering if sky_type == "SINGLE_SCATTERING" else sky.multiple_scattering
        data = precompute(*(float(nc.param(name)) if name != "sun_disc" else bool(nc.param(name))
                            for name in ("sun_disc", "sun_size", "sun_intensity", "sun_elevation", "sun_rotation",
                                         "altitude", "air_density", "aerosol_density", "ozone_density")))
    # Blender makes the Vector socket unavailable on a Nishita-type sky with its sun disc on
    # (node_shader_tex_sky.cc, node_shader_update_sky): a link into it is not evaluated, the
    # ray direction / Generated coordinates are — the disc is always where the sun is.
    disc = sky_type in ("SINGLE_SCATTERING", "MULTIPLE_SCATTERING") and bool(nc.param("sun_disc"))
    co = nc.input("Vector") if nc.linked("Vector") and not disc else nc.implicit("generated")
    nc.emit("TEX_SKY", nc.constant(tuple(float(v) for v in data)), co, color)
    if disc:
        # The disc is seen along the ray direction: worth aiming light samples at (a world
        # reads it so; in a material the guide is unused).
        nc.compiler.sun_guides.append(sky.sun_guide(data))
