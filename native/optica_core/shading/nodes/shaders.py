"""Shader nodes: the BSDFs, Emission, Background, Holdout, and the Mix and Add Shader nodes
that hand weights down to them."""

from __future__ import annotations

from ..compiler import EMISSIVE, HOLDOUT, TRANSPARENT
from ..registry import define, enum

_ZERO3 = (0.0, 0.0, 0.0)
_WHITE = (1.0, 1.0, 1.0)
_GREY8 = (0.8, 0.8, 0.8)
_THIN_FILM = {"Thin Film Thickness": ("VALUE", 0.0), "Thin Film IOR": ("VALUE", 1.33)}
_BSDF = {"BSDF": "SHADER"}

_PRINCIPLED_INPUTS = {
    "Base Color": ("RGBA", _GREY8), "Metallic": ("VALUE", 0.0), "Roughness": ("VALUE", 0.5), "IOR": ("VALUE", 1.5),
    "Alpha": ("VALUE", 1.0), "Normal": ("VECTOR", _ZERO3), "Diffuse Roughness": ("VALUE", 0.0),
    "Subsurface Weight": ("VALUE", 0.0), "Subsurface Radius": ("VECTOR", (1.0, 0.2, 0.1)),
    "Subsurface Scale": ("VALUE", 0.05), "Subsurface IOR": ("VALUE", 1.4), "Subsurface Anisotropy": ("VALUE", 0.0),
    "Specular IOR Level": ("VALUE", 0.5), "Specular Tint": ("RGBA", _WHITE), "Anisotropic": ("VALUE", 0.0),
    "Anisotropic Rotation": ("VALUE", 0.0), "Tangent": ("VECTOR", _ZERO3), "Transmission Weight": ("VALUE", 0.0),
    "Coat Weight": ("VALUE", 0.0), "Coat Roughness": ("VALUE", 0.03), "Coat IOR": ("VALUE", 1.5),
    "Coat Tint": ("RGBA", _WHITE), "Coat Normal": ("VECTOR", _ZERO3), "Sheen Weight": ("VALUE", 0.0),
    "Sheen Roughness": ("VALUE", 0.5), "Sheen Tint": ("RGBA", _WHITE), "Emission Color": ("RGBA", _WHITE),
    "Emission Strength": ("VALUE", 0.0), **_THIN_FILM,
}


def _is_constant(value, number) -> bool:
    return value.const is not None and all(c == number for c in value.const)


def _tangent(nc, anisotropy):
    """The tangent for anisotropy: the linked one, else Cycles' default (radial around Z);
    none at all when the anisotropy is a constant zero."""
    if _is_constant(anisotropy, 0.0):
        return None
    return nc.input("Tangent") if nc.linked("Tangent") else nc.implicit("tangent")


def _emission(nc, color, strength):
    if _is_constant(color, 0.0) or _is_constant(strength, 0.0):
        return
    nc.add_flags(EMISSIVE)
    nc.add_emission_estimate(color, strength)


@define("ShaderNodeBsdfPrincipled", inputs=_PRINCIPLED_INPUTS, outputs=_BSDF,
        params={"distribution": enum("GGX MULTI_GGX", "MULTI_GGX"),
                "subsurface_method": enum("BURLEY RANDOM_WALK RANDOM_WALK_SKIN", "RANDOM_WALK")},
        description="subsurface is approximated by diffuse reflection of the base colour; "
                    "thin film is not rendered; sheen uses an approximate lobe (docs/scene-dict.md, Node types)")
def principled_bsdf(nc):
    v = {name: nc.input(name) for name, (kind, _) in _PRINCIPLED_INPUTS.items()
         if name not in ("Normal", "Coat Normal", "Tangent")}
    tangent = _tangent(nc, v["Anisotropic"])
    nc.emit("PRINCIPLED_BSDF", nc.weight, nc.param("distribution"),
            v["Base Color"], v["Metallic"], v["Roughness"], v["IOR"], v["Alpha"], nc.input_or_none("Normal"),
            v["Diffuse Roughness"],
            v["Subsurface Weight"], v["Subsurface Radius"], v["Subsurface Scale"], v["Subsurface IOR"],
            v["Subsurface Anisotropy"],
            v["Specular IOR Level"], v["Specular Tint"], v["Anisotropic"], v["Anisotropic Rotation"], tangent,
            v["Transmission Weight"],
            v["Coat Weight"], v["Coat Roughness"], v["Coat IOR"], v["Coat Tint"], nc.input_or_none("Coat Normal"),
            v["Sheen Weight"], v["Sheen Roughness"], v["Sheen Tint"],
            v["Emission Color"], v["Emission Strength"],
            v["Thin Film Thickness"], v["Thin Film IOR"])
    _emission(nc, v["Emission Color"], v["Emission Strength"])
    if not _is_constant(v["Alpha"], 1.0):
        nc.add_flags(TRANSPARENT)


@define("ShaderNodeBsdfDiffuse",
        inputs={"Color": ("RGBA", _GREY8), "Roughness": ("VALUE", 0.0), "Normal": ("VECTOR", _ZERO3)}, outputs=_BSDF)
def diffuse_bsdf(nc):
    nc.emit("DIFFUSE_BSDF", nc.weight, nc.input("Color"), nc.input("Roughness"), nc.input_or_none("Normal"))


@define("ShaderNodeBsdfAnisotropic",
        inputs={"Color": ("RGBA", _GREY8), "Roughness": ("VALUE", 0.5), "Anisotropy": ("VALUE", 0.0),
                "Rotation": ("VALUE", 0.0), "Normal": ("VECTOR", _ZERO3), "Tangent": ("VECTOR", _ZERO3)},
        outputs=_BSDF, params={"distribution": enum("BECKMANN GGX ASHIKHMIN_SHIRLEY MULTI_GGX", "MULTI_GGX")},
        description="the Glossy BSDF; ASHIKHMIN_SHIRLEY is rendered as GGX")
def glossy_bsdf(nc):
    anisotropy = nc.input("Anisotropy")
    nc.emit("GLOSSY_BSDF", nc.weight, nc.param("distribution"), nc.input("Color"), nc.input("Roughness"), anisotropy,
            nc.input("Rotation"), nc.input_or_none("Normal"), _tangent(nc, anisotropy))


@define("ShaderNodeBsdfMetallic",
        inputs={"Base Color": ("RGBA", (0.617, 0.577, 0.540)), "Edge Tint": ("RGBA", (0.695, 0.726, 0.770)),
                "IOR": ("VECTOR", (2.757, 2.513, 2.231)), "Extinction": ("VECTOR", (3.867, 3.404, 3.009)),
                "Roughness": ("VALUE", 0.5), "Anisotropy": ("VALUE", 0.0), "Rotation": ("VALUE", 0.0),
                "Normal": ("VECTOR", _ZERO3), "Tangent": ("VECTOR", _ZERO3), **_THIN_FILM},
        outputs=_BSDF,
        params={"distribution": enum("BECKMANN GGX MULTI_GGX", "MULTI_GGX"),
                "fresnel_type": enum("PHYSICAL_CONDUCTOR F82", "F82")},
        description="thin film is not rendered")
def metallic_bsdf(nc):
    anisotropy = nc.input("Anisotropy")
    nc.emit("METALLIC_BSDF", nc.weight, nc.param("distribution"), nc.param("fresnel_type"), nc.input("Base Color"),
            nc.input("Edge Tint"), nc.input("IOR"), nc.input("Extinction"), nc.input("Roughness"), anisotropy,
            nc.input("Rotation"), nc.input_or_none("Normal"), _tangent(nc, anisotropy),
            nc.input("Thin Film Thickness"), nc.input("Thin Film IOR"))


@define("ShaderNodeBsdfGlass",
        inputs={"Color": ("RGBA", _WHITE), "Roughness": ("VALUE", 0.0), "IOR": ("VALUE", 1.5),
                "Normal": ("VECTOR", _ZERO3), **_THIN_FILM},
        outputs=_BSDF, params={"distribution": enum("BECKMANN GGX MULTI_GGX", "MULTI_GGX")},
        description="thin film is not rendered")
def glass_bsdf(nc):
    nc.emit("GLASS_BSDF", nc.weight, nc.param("distribution"), nc.input("Color"), nc.input("Roughness"),
            nc.input("IOR"), nc.input_or_none("Normal"), nc.input("Thin Film Thickness"), nc.input("Thin Film IOR"))


@define("ShaderNodeBsdfRefraction",
        inputs={"Color": ("RGBA", _WHITE), "Roughness": ("VALUE", 0.0), "IOR": ("VALUE", 1.45),
                "Normal": ("VECTOR", _ZERO3)},
        outputs=_BSDF, params={"distribution": enum("BECKMANN GGX", "BECKMANN")})
def refraction_bsdf(nc):
    nc.emit("REFRACTION_BSDF", nc.weight, nc.param("distribution"), nc.input("Color"), nc.input("Roughness"),
            nc.input("IOR"), nc.input_or_none("Normal"))


@define("ShaderNodeBsdfTransparent", inputs={"Color": ("RGBA", _WHITE)}, outputs=_BSDF)
def transparent_bsdf(nc):
    nc.emit("TRANSPARENT_BSDF", nc.weight, nc.input("Color"))
    nc.add_flags(TRANSPARENT)


@define("ShaderNodeBsdfTranslucent", inputs={"Color": ("RGBA", _GREY8), "Normal": ("VECTOR", _ZERO3)}, outputs=_BSDF)
def translucent_bsdf(nc):
    nc.emit("TRANSLUCENT_BSDF", nc.weight, nc.input("Color"), nc.input_or_none("Normal"))


@define("ShaderNodeBsdfSheen",
        inputs={"Color": ("RGBA", _GREY8), "Roughness": ("VALUE", 0.5), "Normal": ("VECTOR", _ZERO3)},
        outputs=_BSDF, params={"distribution": enum("ASHIKHMIN MICROFIBER", "MICROFIBER")},
        description="both distributions use one approximate sheen lobe (docs/scene-dict.md, Node types)")
def sheen_bsdf(nc):
    nc.emit("SHEEN_BSDF", nc.weight, nc.param("distribution"), nc.input("Color"), nc.input("Roughness"),
            nc.input_or_none("Normal"))


_HAIR_INPUTS = {
    "Color": ("RGBA", (0.017513, 0.005763, 0.002059)), "Melanin": ("VALUE", 0.8), "Melanin Redness": ("VALUE", 1.0),
    "Tint": ("RGBA", _WHITE), "Absorption Coefficient": ("VECTOR", (0.245531, 0.52, 1.365)),
    "Aspect Ratio": ("VALUE", 0.85), "Roughness": ("VALUE", 0.3), "Radial Roughness": ("VALUE", 0.3),
    "Coat": ("VALUE", 0.0), "IOR": ("VALUE", 1.55), "Offset": ("VALUE", 0.03490658476948738),
    "Random Color": ("VALUE", 0.0), "Random Roughness": ("VALUE", 0.0), "Random": ("VALUE", 0.0),
    "R lobe": ("VALUE", 1.0), "TT lobe": ("VALUE", 1.0), "TRT lobe": ("VALUE", 1.0),
}


@define("ShaderNodeBsdfHairPrincipled", inputs=_HAIR_INPUTS, outputs=_BSDF,
        params={"model": enum("CHIANG HUANG", "CHIANG"),
                "parametrization": enum("ABSORPTION MELANIN COLOR", "COLOR")},
        description="Chiang as Cycles; Huang is approximated by Chiang's lobes scaled by the R, TT and TRT lobe "
                    "inputs, its Aspect Ratio not rendered (a round fibre; docs/shading.md)")
def principled_hair_bsdf(nc):
    v = {name: nc.input(name) for name in _HAIR_INPUTS if name != "Aspect Ratio"}
    # Cycles: with Random unlinked, the curve's Curves Info › Random (the socket's value elsewhere).
    nc.emit("PRINCIPLED_HAIR_BSDF", nc.weight, nc.param("model"), nc.param("parametrization"),
            v["Color"], v["Melanin"], v["Melanin Redness"], v["Tint"], v["Absorption Coefficient"],
            v["Roughness"], v["Radial Roughness"], v["Coat"], v["IOR"], v["Offset"],
            v["Random Roughness"], v["Random Color"], v["Random"], not nc.linked("Random"),
            v["R lobe"], v["TT lobe"], v["TRT lobe"])


@define("ShaderNodeBsdfHair",
        inputs={"Color": ("RGBA", _GREY8), "Offset": ("VALUE", 0.0), "RoughnessU": ("VALUE", 0.1),
                "RoughnessV": ("VALUE", 1.0), "Tangent": ("VECTOR", _ZERO3)},
        outputs=_BSDF, params={"component": enum("Reflection Transmission", "Reflection")})
def hair_bsdf(nc):
    nc.emit("HAIR_BSDF", nc.weight, nc.param("component"), nc.input("Color"), nc.input("Offset"),
            nc.input("RoughnessU"), nc.input("RoughnessV"), nc.input_or_none("Tangent"))


@define("ShaderNodeEmission", inputs={"Color": ("RGBA", _WHITE), "Strength": ("VALUE", 1.0)},
        outputs={"Emission": "SHADER"})
def emission(nc):
    color, strength = nc.input("Color"), nc.input("Strength")
    nc.emit("EMISSION", nc.weight, color, strength)
    _emission(nc, color, strength)


@define("ShaderNodeBackground", inputs={"Color": ("RGBA", _GREY8), "Strength": ("VALUE", 1.0)},
        outputs={"Background": "SHADER"})
def background(nc):
    color, strength = nc.input("Color"), nc.input("Strength")
    nc.emit("BACKGROUND", nc.weight, color, strength)
    _emission(nc, color, strength)


@define("ShaderNodeHoldout", outputs={"Holdout": "SHADER"})
def holdout(nc):
    nc.emit("HOLDOUT", nc.weight)
    nc.add_flags(HOLDOUT)


@define("ShaderNodeMixShader", inputs={"Fac": ("VALUE", 0.5), "Shader": ("SHADER", None),
                                       "Shader_001": ("SHADER", None)},
        outputs={"Shader": "SHADER"})
def mix_shader(nc):
    first, second = nc.temp(1), nc.temp(1)
    nc.emit("MIX_CLOSURE", nc.input("Fac"), nc.weight, first, second)
    nc.branch(first, lambda: nc.shader("Shader", first))
    nc.branch(second, lambda: nc.shader("Shader_001", second))


@define("ShaderNodeAddShader", inputs={"Shader": ("SHADER", None), "Shader_001": ("SHADER", None)},
        outputs={"Shader": "SHADER"})
def add_shader(nc):
    nc.shader("Shader", nc.weight)
    nc.shader("Shader_001", nc.weight)
