# SPDX-License-Identifier: GPL-3.0-or-later
"""The procedural, colour, converter and vector nodes in the core, without rendering: their
registry enums against the kernel's tables, constant folding, the colour ramp's baking against
Blender's own ColorRamp, and the errors bad ramp and curve parameters give."""

from __future__ import annotations

import numpy as np
import pytest

import optica_core as oc
from optica_core import shading
from optica_core.shading import isa, ramps

_ENUM_TABLES = {
    ("ShaderNodeTexNoise", "noise_dimensions"): "dimensions", ("ShaderNodeTexNoise", "noise_type"): "noise_type",
    ("ShaderNodeTexVoronoi", "voronoi_dimensions"): "dimensions",
    ("ShaderNodeTexVoronoi", "feature"): "voronoi_feature", ("ShaderNodeTexVoronoi", "distance"): "voronoi_metric",
    ("ShaderNodeTexWhiteNoise", "noise_dimensions"): "dimensions",
    ("ShaderNodeTexGradient", "gradient_type"): "gradient_type", ("ShaderNodeTexWave", "wave_type"): "wave_type",
    ("ShaderNodeTexWave", "bands_direction"): "bands_direction",
    ("ShaderNodeTexWave", "rings_direction"): "rings_direction", ("ShaderNodeTexWave", "wave_profile"): "wave_profile",
    ("ShaderNodeMapRange", "interpolation_type"): "map_range", ("ShaderNodeClamp", "clamp_type"): "clamp_type",
    ("ShaderNodeVectorRotate", "rotation_type"): "vector_rotate",
    ("ShaderNodeVectorTransform", "vector_type"): "vector_transform_type",
    ("ShaderNodeVectorTransform", "convert_from"): "vector_transform_space",
    ("ShaderNodeVectorTransform", "convert_to"): "vector_transform_space",
    ("ShaderNodeTexGabor", "gabor_type"): "gabor_type",
}


@pytest.mark.parametrize("node, param", list(_ENUM_TABLES))
def test_registry_enums_match_the_kernel_tables(node, param):
    assert shading.NODE_TYPES[node]["params"][param]["values"] == isa.enums()[_ENUM_TABLES[(node, param)]]


def test_light_falloff_outputs_are_kernel_names():
    assert tuple(shading.NODE_TYPES["ShaderNodeLightFalloff"]["outputs"]) == isa.enums()["light_falloff"]


def _graph(nodes: dict, links: list, source: tuple) -> dict:
    nodes = dict(nodes, Emission={"type": "ShaderNodeEmission"}, Out={"type": "ShaderNodeOutputMaterial"})
    links = [*links, [*source, "Emission", "Color"], ["Emission", "Emission", "Out", "Surface"]]
    return {"nodes": nodes, "links": links, "output": "Out"}


def _compile(graph: dict):
    normalised = shading.validate_graph(graph, "materials['m']", "material", {}, lambda *a, **k: None)
    return shading.compile_graph(normalised, "materials['m']")


def test_constant_textures_fold_to_constants():
    """A texture with constant inputs runs once at compile time (the kernel's own code)."""
    # Unlinked Vector means Generated coordinates: not constant, so the noise stays.
    program = _compile(_graph({"Noise": {"type": "ShaderNodeTexNoise"}}, [], ("Noise", "Color")))
    assert isa.opcodes()["TEX_NOISE"].code in program.code
    folded = _compile(_graph({"XYZ": {"type": "ShaderNodeCombineXYZ", "inputs": {"X": 0.3, "Y": 0.7, "Z": 0.2}},
                              "Noise": {"type": "ShaderNodeTexNoise"}},
                             [["XYZ", "Vector", "Noise", "Vector"]], ("Noise", "Color")))
    assert folded.constant_emission is not None
    r, g, b = folded.constant_emission
    assert 0.0 < r < 1.0 and 0.0 < g < 1.0 and 0.0 < b < 1.0 and len({r, g, b}) == 3


def test_noise_is_deterministic_and_continuous():
    """Folded values of 3D noise along a line: the same for the same point, and small steps
    give small changes (Perlin noise is smooth)."""
    def noise_at(x):
        g = _graph({"XYZ": {"type": "ShaderNodeCombineXYZ", "inputs": {"X": x, "Y": 0.25, "Z": 0.5}},
                    "Noise": {"type": "ShaderNodeTexNoise", "inputs": {"Detail": 0.0}}},
                   [["XYZ", "Vector", "Noise", "Vector"]], ("Noise", "Fac"))
        return _compile(g).constant_emission[0]

    xs = np.linspace(0.0, 1.0, 41)
    values = np.array([noise_at(x) for x in xs])
    assert noise_at(0.5) == noise_at(0.5)
    assert np.abs(np.diff(values)).max() < 0.2 and values.std() > 0.01


RAMP = {"interpolation": "LINEAR", "color_mode": "RGB", "hue_interpolation": "NEAR", "positions": [0.2, 0.7],
        "colors": [[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.5]]}


def _ramp_graph(ramp) -> dict:
    return _graph({"Ramp": {"type": "ShaderNodeValToRGB", "params": {"ramp": ramp}}}, [], ("Ramp", "Color"))


@pytest.mark.parametrize("change, message", [
    ("not a dict", "expected a colour ramp dict"),
    ({"positions": []}, "a colour ramp has 1 to 32 stops"),
    ({"positions": [0.1, 0.2, 0.3]}, "one per position"),
    ({"interpolation": "SMOOTH"}, "interpolation"),
    ({"color_mode": "LAB"}, "colour mode"),
    ({"colors": [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]}, "expected shape"),
    ({"extra": 1}, "unknown keys"),
    ({"positions": [0.1, float("nan")]}, "NaN"),
])
def test_a_bad_ramp_is_a_value_error_naming_it(change, message):
    ramp = change if isinstance(change, str) else dict(RAMP, **change)
    with pytest.raises(ValueError, match=message) as err:
        _compile(_ramp_graph(ramp))
    assert "materials['m'].nodes['Ramp'].params.ramp" in str(err.value)


def _curve_graph(curve) -> dict:
    return _graph({"Curve": {"type": "ShaderNodeFloatCurve", "params": {"curve": curve}}}, [], ("Curve", "Value"))


@pytest.mark.parametrize("change, message", [
    ({"table": np.zeros((256, 1))}, "expected shape"),
    ({"table": np.zeros((257, 3))}, "expected shape"),
    ({"range": [1.0, 0.0]}, "x_min < x_max"),
    ({"extrapolate": "yes"}, "expected a bool"),
    ({"scale": 2}, "unknown keys"),
])
def test_a_bad_curve_is_a_value_error_naming_it(change, message):
    curve = dict({"table": np.zeros((257, 1)), "range": [0.0, 1.0], "extrapolate": False}, **change)
    with pytest.raises(ValueError, match=message) as err:
        _compile(_curve_graph(curve))
    assert "materials['m'].nodes['Curve'].params.curve" in str(err.value)


def test_untouched_ramp_and_curves_are_blenders_defaults():
    """A node given without its ramp/curve gets Blender's default: black to white, y = x."""
    ramp = _compile(_graph({"Ramp": {"type": "ShaderNodeValToRGB", "inputs": {"Fac": 0.25}}}, [], ("Ramp", "Color")))
    assert np.allclose(ramp.constant_emission, 0.25, atol=1e-3)
    curve = _compile(_graph({"Curve": {"type": "ShaderNodeFloatCurve", "inputs": {"Value": 0.3}}}, [],
                            ("Curve", "Value")))
    assert np.allclose(curve.constant_emission, 0.3, atol=1e-4)


def test_ramp_table_is_blenders_colorramp_evaluation():
    """The baked table against Blender's own ColorRamp.evaluate, for every interpolation,
    colour mode and hue interpolation, with stops out of order."""
    bpy = pytest.importorskip("bpy")
    rng = np.random.default_rng(4)
    texture = bpy.data.textures.new("ramp", "BLEND")
    texture.use_color_ramp = True
    color_ramp = texture.color_ramp
    positions = np.array([0.8, 0.15, 0.5, 0.3], np.float32)
    colors = rng.uniform(0, 1, (4, 4)).astype(np.float32)
    elements = color_ramp.elements
    elements[0].position, elements[0].color = float(positions[0]), colors[0]
    elements[1].position, elements[1].color = float(positions[1]), colors[1]
    for p, c in zip(positions[2:], colors[2:], strict=True):
        elements.new(float(p)).color = c
    problems = []
    cases = [(i, "RGB", "NEAR") for i in ramps.RAMP_INTERPOLATIONS]
    cases += [("LINEAR", m, h) for m in ("HSV", "HSL") for h in ramps.RAMP_HUE_INTERPOLATIONS]
    for interpolation, mode, hue in cases:
        color_ramp.interpolation, color_ramp.color_mode, color_ramp.hue_interpolation = interpolation, mode, hue
        ramp = ramps.read_ramp({"interpolation": interpolation, "color_mode": mode, "hue_interpolation": hue,
                                "positions": positions, "colors": colors}, "ramp", None, None)
        ours = ramps.ramp_table(ramp)
        xs = np.arange(ramps.RAMP_TABLE_SIZE) / (ramps.RAMP_TABLE_SIZE - 1)
        theirs = np.array([color_ramp.evaluate(float(x)) for x in xs])
        worst = np.abs(ours - theirs).max()
        if worst > 1e-4:
            problems.append(f"{interpolation} {mode} {hue}: off by {worst}")
    bpy.data.textures.remove(texture)
    assert not problems, "\n".join(problems)


def test_renderer_accepts_a_scene_with_every_new_node():
    """Every node type this part added compiles with its defaults inside a real scene."""
    added = ["ShaderNodeTexNoise", "ShaderNodeTexVoronoi", "ShaderNodeTexChecker", "ShaderNodeTexGradient",
             "ShaderNodeTexMagic", "ShaderNodeTexWave", "ShaderNodeTexBrick", "ShaderNodeTexWhiteNoise",
             "ShaderNodeMapRange", "ShaderNodeClamp", "ShaderNodeInvert", "ShaderNodeGamma",
             "ShaderNodeHueSaturation", "ShaderNodeBrightContrast", "ShaderNodeRGBToBW", "ShaderNodeValToRGB",
             "ShaderNodeRGBCurve", "ShaderNodeFloatCurve", "ShaderNodeVectorCurve", "ShaderNodeVectorRotate",
             "ShaderNodeVectorTransform", "ShaderNodeBlackbody", "ShaderNodeWavelength", "ShaderNodeCameraData",
             "ShaderNodeLightFalloff", "ShaderNodeParticleInfo", "ShaderNodeHairInfo", "ShaderNodePointInfo",
             "ShaderNodeVolumeInfo", "ShaderNodeAmbientOcclusion", "ShaderNodeBevel", "ShaderNodeWireframe",
             "ShaderNodeTexGabor"]
    materials = {}
    for type_ in added:
        output = next(iter(shading.NODE_TYPES[type_]["outputs"]))
        materials[type_] = _graph({"Node": {"type": type_}}, [], ("Node", output))
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
    d = {"version": 2, "render": {"width": 8, "height": 8, "max_bounces": 1},
         "camera": {"type": "orthographic", "matrix": np.array([[1, 0, 0, 0.3], [0, 1, 0, 0.3], [0, 0, 1, 2],
                                                                [0, 0, 0, 1]], np.float32), "ortho_scale": 1.0},
         "materials": materials, "meshes": {}, "instances": []}
    for type_ in added:
        d["meshes"][type_] = {"vertices": vertices, "triangles": np.array([[0, 1, 2]], np.int32),
                              "materials": [type_]}
        d["instances"].append({"geometry": type_, "transforms": np.eye(4, dtype=np.float32)[None]})
    r = oc.Renderer()
    r.set_scene(d)
    r.accumulate(1)
    assert np.isfinite(np.asarray(r.color)).all()
