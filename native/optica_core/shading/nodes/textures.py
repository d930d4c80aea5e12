"""Texture nodes: Image Texture, and the procedural textures computed as Cycles computes them
(Noise, Voronoi, Gabor, Checker, Gradient, Magic, Wave, Brick, White Noise)."""

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


# ---- procedural textures (kernel/svm/noise.h, voronoi.h, textures.h)

_DIMENSIONS = enum("1D 2D 3D 4D", "3D")
_ZERO3 = (0.0, 0.0, 0.0)
_VECTOR = {"Vector": ("VECTOR", _ZERO3)}
_COLOR_FAC = {"Color": "RGBA", "Fac": "VALUE"}


def _coordinates(nc):
    """The Vector input, or Generated coordinates where it is unlinked (Cycles)."""
    return nc.input("Vector") if nc.linked("Vector") else nc.implicit("generated")


def _outputs(nc, *names):
    """Output values for `names` (None where unread), or None when nothing is read at all."""
    outs = [nc.output(name) for name in names]
    return outs if any(out is not None for out in outs) else None


@define("ShaderNodeTexNoise",
        inputs={**_VECTOR, "W": ("VALUE", 0.0), "Scale": ("VALUE", 5.0), "Detail": ("VALUE", 2.0),
                "Roughness": ("VALUE", 0.5), "Lacunarity": ("VALUE", 2.0), "Offset": ("VALUE", 0.0),
                "Gain": ("VALUE", 1.0), "Distortion": ("VALUE", 0.0)},
        outputs={"Fac": "VALUE", "Color": "RGBA"},
        params={"noise_dimensions": _DIMENSIONS,
                "noise_type": enum("MULTIFRACTAL RIDGED_MULTIFRACTAL HYBRID_MULTIFRACTAL FBM HETERO_TERRAIN", "FBM"),
                "normalize": Param("bool", True)},
        description="Perlin noise and its fractals as Cycles computes them; unlinked Vector: Generated")
def noise_texture(nc):
    outs = _outputs(nc, "Fac", "Color")
    if outs is None:
        return
    nc.emit("TEX_NOISE", nc.param("noise_dimensions"), nc.param("noise_type"), nc.param("normalize"),
            _coordinates(nc), *(nc.input(name) for name in ("W", "Scale", "Detail", "Roughness", "Lacunarity",
                                                              "Offset", "Gain", "Distortion")), *outs)


_VORONOI_OUTPUTS = ("Distance", "Color", "Position", "W", "Radius")


@define("ShaderNodeTexVoronoi",
        inputs={**_VECTOR, "W": ("VALUE", 0.0), "Scale": ("VALUE", 5.0), "Detail": ("VALUE", 0.0),
                "Roughness": ("VALUE", 0.5), "Lacunarity": ("VALUE", 2.0), "Smoothness": ("VALUE", 1.0),
                "Exponent": ("VALUE", 0.5), "Randomness": ("VALUE", 1.0)},
        outputs={"Distance": "VALUE", "Color": "RGBA", "Position": "VECTOR", "W": "VALUE", "Radius": "VALUE"},
        params={"voronoi_dimensions": _DIMENSIONS,
                "distance": enum("EUCLIDEAN MANHATTAN CHEBYCHEV MINKOWSKI"),
                "feature": enum("F1 F2 SMOOTH_F1 DISTANCE_TO_EDGE N_SPHERE_RADIUS"),
                "normalize": Param("bool", False)},
        description="Cycles' Voronoi (same feature points); unlinked Vector: Generated")
def voronoi_texture(nc):
    outs = _outputs(nc, *_VORONOI_OUTPUTS)
    if outs is None:
        return
    nc.emit("TEX_VORONOI", nc.param("voronoi_dimensions"), nc.param("feature"), nc.param("distance"),
            nc.param("normalize"), _coordinates(nc),
            *(nc.input(name) for name in ("W", "Scale", "Detail", "Roughness", "Lacunarity", "Smoothness",
                                          "Exponent", "Randomness")), *outs)


@define("ShaderNodeTexChecker",
        inputs={**_VECTOR, "Color1": ("RGBA", (0.8, 0.8, 0.8)), "Color2": ("RGBA", (0.2, 0.2, 0.2)),
                "Scale": ("VALUE", 5.0)},
        outputs=_COLOR_FAC)
def checker_texture(nc):
    outs = _outputs(nc, "Color", "Fac")
    if outs is not None:
        nc.emit("TEX_CHECKER", _coordinates(nc), nc.input("Color1"), nc.input("Color2"), nc.input("Scale"), *outs)


@define("ShaderNodeTexGradient", inputs=dict(_VECTOR), outputs=_COLOR_FAC,
        params={"gradient_type": enum("LINEAR QUADRATIC EASING DIAGONAL SPHERICAL QUADRATIC_SPHERE RADIAL")})
def gradient_texture(nc):
    outs = _outputs(nc, "Color", "Fac")
    if outs is not None:
        nc.emit("TEX_GRADIENT", nc.param("gradient_type"), _coordinates(nc), *outs)


@define("ShaderNodeTexMagic", inputs={**_VECTOR, "Scale": ("VALUE", 5.0), "Distortion": ("VALUE", 1.0)},
        outputs=_COLOR_FAC, params={"turbulence_depth": Param("int", 2)})
def magic_texture(nc):
    outs = _outputs(nc, "Color", "Fac")
    if outs is not None:
        depth = min(max(nc.param("turbulence_depth"), 0), 10)
        nc.emit("TEX_MAGIC", nc.constant(float(depth)), _coordinates(nc), nc.input("Scale"), nc.input("Distortion"),
                *outs)


@define("ShaderNodeTexWave",
        inputs={**_VECTOR, "Scale": ("VALUE", 5.0), "Distortion": ("VALUE", 0.0), "Detail": ("VALUE", 2.0),
                "Detail Scale": ("VALUE", 1.0), "Detail Roughness": ("VALUE", 0.5), "Phase Offset": ("VALUE", 0.0)},
        outputs=_COLOR_FAC,
        params={"wave_type": enum("BANDS RINGS"), "bands_direction": enum("X Y Z DIAGONAL"),
                "rings_direction": enum("X Y Z SPHERICAL"), "wave_profile": enum("SIN SAW TRI")})
def wave_texture(nc):
    outs = _outputs(nc, "Color", "Fac")
    if outs is not None:
        nc.emit("TEX_WAVE", nc.param("wave_type"), nc.param("bands_direction"), nc.param("rings_direction"),
                nc.param("wave_profile"), _coordinates(nc),
                *(nc.input(name) for name in ("Scale", "Distortion", "Detail", "Detail Scale", "Detail Roughness",
                                              "Phase Offset")), *outs)


@define("ShaderNodeTexBrick",
        inputs={**_VECTOR, "Color1": ("RGBA", (0.8, 0.8, 0.8)), "Color2": ("RGBA", (0.2, 0.2, 0.2)),
                "Mortar": ("RGBA", _ZERO3), "Scale": ("VALUE", 5.0), "Mortar Size": ("VALUE", 0.02),
                "Mortar Smooth": ("VALUE", 0.1), "Bias": ("VALUE", 0.0), "Brick Width": ("VALUE", 0.5),
                "Row Height": ("VALUE", 0.25)},
        outputs=_COLOR_FAC,
        params={"offset": Param("float", 0.5), "offset_frequency": Param("int", 2), "squash": Param("float", 1.0),
                "squash_frequency": Param("int", 2)})
def brick_texture(nc):
    outs = _outputs(nc, "Color", "Fac")
    if outs is None:
        return
    nc.emit("TEX_BRICK", _coordinates(nc), nc.input("Color1"), nc.input("Color2"), nc.input("Mortar"),
            *(nc.input(name) for name in ("Scale", "Mortar Size", "Mortar Smooth", "Bias", "Brick Width",
                                          "Row Height")),
            nc.constant(nc.param("offset")), nc.constant(float(nc.param("offset_frequency"))),
            nc.constant(nc.param("squash")), nc.constant(float(nc.param("squash_frequency"))), *outs)


@define("ShaderNodeTexWhiteNoise", inputs={**_VECTOR, "W": ("VALUE", 0.0)},
        outputs={"Value": "VALUE", "Color": "RGBA"}, params={"noise_dimensions": _DIMENSIONS},
        description="hashes of the coordinates' bits, as Cycles; unlinked Vector: (0, 0, 0) as in Cycles")
def white_noise_texture(nc):
    outs = _outputs(nc, "Value", "Color")
    if outs is not None:
        nc.emit("TEX_WHITE_NOISE", nc.param("noise_dimensions"), nc.input("Vector"), nc.input("W"), *outs)


@define("ShaderNodeTexGabor",
        inputs={**_VECTOR, "Scale": ("VALUE", 5.0), "Frequency": ("VALUE", 2.0), "Anisotropy": ("VALUE", 1.0),
                "Orientation 2D": ("VALUE", 0.7853981852531433),
                "Orientation 3D": ("VECTOR", (1.4142135381698608, 1.4142135381698608, 0.0))},
        outputs={"Value": "VALUE", "Phase": "VALUE", "Intensity": "VALUE"},
        params={"gabor_type": enum("2D 3D")},
        description="Cycles' phasor noise (same impulses); unlinked Vector: Generated")
def gabor_texture(nc):
    outs = _outputs(nc, "Value", "Phase", "Intensity")
    if outs is not None:
        nc.emit("TEX_GABOR", nc.param("gabor_type"), _coordinates(nc),
                *(nc.input(name) for name in ("Scale", "Frequency", "Anisotropy", "Orientation 2D", "Orientation 3D")),
                *outs)
