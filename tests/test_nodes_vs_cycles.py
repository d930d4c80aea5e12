# SPDX-License-Identifier: GPL-3.0-or-later
"""Shader nodes against Cycles, node by node (shader_scenes.py): each tile of a grid shows one
node's output through an Emission shader, rendered with zero bounces and a 0.01-pixel box
filter by both engines, so every pixel is the node evaluated at the pixel centre and the two
images must agree per pixel.

Tolerances: 2e-3 absolute + 2e-3 relative (float32 rounding), plus what moving the sample by
0.01 pixel changes (the two filters put their sample anywhere within ±0.005 pixel of the
centre: the allowance is 0.01 × the pixel-to-pixel difference of the Cycles image there);
nodes with discontinuities (floor, modulo, comparisons) may differ in the pixels a jump passes
through, so a tile may have up to 3% of its pixels off.
"""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import optica_core as oc  # noqa: E402

import shader_scenes as ss  # noqa: E402
from conftest import empty_scene  # noqa: E402

ATOL, RTOL = 2e-3, 2e-3


@pytest.fixture
def scene(optica_installed):
    s = empty_scene()
    for coll in (bpy.data.images,):
        bpy.data.batch_remove(list(coll))
    return s


def compare_tiles(tiles: ss.TileScene, cycles, optica, names, outlier_fraction=0.03):
    failures = []
    for k, name in enumerate(names):
        a, b = ss.tile_pixels(cycles, tiles, k)[..., :3], ss.tile_pixels(optica, tiles, k)[..., :3]
        bad = np.abs(a - b) > ATOL + RTOL * np.abs(a) + 0.01 * _pixel_gradient(ss.tile_pixels(cycles, tiles, k, 0))
        fraction = bad.any(axis=-1).mean()
        if fraction > outlier_fraction:
            worst = np.unravel_index(np.argmax(np.abs(a - b).max(axis=-1)), a.shape[:2])
            failures.append(f"{name}: {fraction:.0%} of pixels differ, e.g. Cycles {a[worst]} vs Optica {b[worst]}")
    assert not failures, "\n".join(failures)


def _pixel_gradient(tile: np.ndarray) -> np.ndarray:
    """Largest change to a neighbouring pixel, for the interior of a tile (margin 1)."""
    t = tile[..., :3]
    centre = t[1:-1, 1:-1]
    return np.max([np.abs(t[1:-1, :-2] - centre), np.abs(t[1:-1, 2:] - centre),
                   np.abs(t[:-2, 1:-1] - centre), np.abs(t[2:, 1:-1] - centre)], axis=0)


def render_both(scene, tiles: ss.TileScene, tmp_path, spp=1):
    tiles.build_blender(scene)
    cycles = ss.render_cycles(scene, tmp_path / "cycles.exr", spp)
    optica = ss.render_optica(tiles.optica_dict(), spp)
    assert cycles.shape == optica.shape
    return cycles, optica


# The inputs of the maths nodes across each tile: a in [-1.46, 1.47] along x (inside ±π/2, so
# tangents stay finite), b in [0.41, 1.54] along y (away from 0, where modulo and snap change
# faster than a pixel resolves). Odd scales keep jumps away from pixel centres.
_SPREAD = {
    "UV": {"type": "ShaderNodeTexCoord"},
    "XYZ": {"type": "ShaderNodeSeparateXYZ"},
    "a": {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"}, "inputs": {"Value_001": 2.93,
                                                                                      "Value_002": -1.459}},
    "b": {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"}, "inputs": {"Value_001": 1.13,
                                                                                      "Value_002": 0.41}},
}
_SPREAD_LINKS = [["UV", "UV", "XYZ", "Vector"], ["XYZ", "X", "a", "Value"], ["XYZ", "Y", "b", "Value"]]


def test_math_every_operation(scene, tmp_path):
    ops = oc.shading.NODE_TYPES["ShaderNodeMath"]["params"]["operation"]["values"]
    tiles = []
    for op in ops:
        nodes = dict(_SPREAD, Op={"type": "ShaderNodeMath", "params": {"operation": op},
                                 "inputs": {"Value_002": 0.3}})
        links = [*_SPREAD_LINKS, ["a", "Value", "Op", "Value"], ["b", "Value", "Op", "Value_001"]]
        tiles.append(ss.Tile(ss.emission_graph(nodes, links, ("Op", "Value"))))
    t = ss.TileScene(tiles, tile_px=12, cols=8)
    compare_tiles(t, *render_both(scene, t, tmp_path), ops)


def _vectors():
    """A and B: 3-vectors varying across the tile; C a constant."""
    nodes = dict(_SPREAD)
    nodes["A"] = {"type": "ShaderNodeCombineXYZ", "inputs": {"Z": 0.37}}
    nodes["B"] = {"type": "ShaderNodeCombineXYZ", "inputs": {"X": 0.73, "Z": -1.31}}  # no 0 component: modulo
    links = [*_SPREAD_LINKS, ["a", "Value", "A", "X"], ["b", "Value", "A", "Y"], ["b", "Value", "B", "Y"]]
    return nodes, links


def test_vector_math_every_operation(scene, tmp_path):
    ops = oc.shading.NODE_TYPES["ShaderNodeVectorMath"]["params"]["operation"]["values"]
    value_ops = {"DOT_PRODUCT", "DISTANCE", "LENGTH"}
    tiles = []
    for op in ops:
        nodes, links = _vectors()
        nodes["Op"] = {"type": "ShaderNodeVectorMath", "params": {"operation": op},
                       "inputs": {"Vector_002": (0.2, 0.5, -0.4), "Scale": 0.67 if op == "REFRACT" else 1.7}}
        links += [["A", "Vector", "Op", "Vector"], ["B", "Vector", "Op", "Vector_001"]]
        if op == "WRAP":  # max B, min C: make the range non-empty everywhere
            nodes["Op"]["inputs"]["Vector_002"] = (-2.0, -2.0, -2.0)
        tiles.append(ss.Tile(ss.emission_graph(nodes, links, ("Op", "Value" if op in value_ops else "Vector"))))
    t = ss.TileScene(tiles, tile_px=12, cols=8)
    compare_tiles(t, *render_both(scene, t, tmp_path), ops)


def test_mix_every_mode_and_type(scene, tmp_path):
    blends = oc.shading.NODE_TYPES["ShaderNodeMix"]["params"]["blend_type"]["values"]
    names, tiles = [], []

    def tile(name, mix_node, source="Result_Color", factor_out="X"):
        nodes, links = _vectors()
        nodes["Color"] = {"type": "ShaderNodeCombineColor", "inputs": {"Blue": 0.3}}
        nodes["F"] = {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"},
                      "inputs": {"Value_001": 1.7, "Value_002": -0.35}}  # factor beyond [0, 1] at the ends
        nodes["Mix"] = mix_node
        links += [["XYZ", "X", "Color", "Red"], ["XYZ", "Y", "Color", "Green"], ["XYZ", factor_out, "F", "Value"]]
        kind = mix_node["type"]
        if kind == "ShaderNodeMixRGB":
            links += [["F", "Value", "Mix", "Fac"], ["Color", "Color", "Mix", "Color1"]]
        else:
            links += [["F", "Value", "Mix", "Factor_Float"], ["Color", "Color", "Mix", "A_Color"],
                      ["A", "Vector", "Mix", "A_Vector"], ["a", "Value", "Mix", "A_Float"],
                      ["A", "Vector", "Mix", "Factor_Vector"]]
        names.append(name)
        tiles.append(ss.Tile(ss.emission_graph(nodes, links, ("Mix", source))))

    for blend in blends:
        tile(blend, {"type": "ShaderNodeMix", "params": {"data_type": "RGBA", "blend_type": blend},
                     "inputs": {"B_Color": (0.6, 0.25, 0.9)}})
    tile("RGBA clamp result", {"type": "ShaderNodeMix", "params": {"data_type": "RGBA", "blend_type": "ADD",
                                                                   "clamp_result": True},
                               "inputs": {"B_Color": (0.6, 0.25, 0.9)}})
    tile("RGBA no factor clamp", {"type": "ShaderNodeMix", "params": {"data_type": "RGBA", "clamp_factor": False},
                                  "inputs": {"B_Color": (0.6, 0.25, 0.9)}})
    tile("FLOAT", {"type": "ShaderNodeMix", "params": {"data_type": "FLOAT", "clamp_factor": False},
                   "inputs": {"B_Float": 0.8}}, "Result_Float")
    tile("VECTOR", {"type": "ShaderNodeMix", "params": {"data_type": "VECTOR"}, "inputs": {"B_Vector": (1, -1, 2)}},
         "Result_Vector")
    tile("VECTOR non-uniform", {"type": "ShaderNodeMix", "params": {"data_type": "VECTOR", "factor_mode": "NON_UNIFORM"},
                                "inputs": {"B_Vector": (1, -1, 2)}}, "Result_Vector")
    for blend in ("MIX", "OVERLAY", "DODGE"):
        tile(f"MixRGB {blend}", {"type": "ShaderNodeMixRGB", "params": {"blend_type": blend, "use_clamp": True},
                                 "inputs": {"Color2": (0.6, 0.25, 0.9)}}, "Color")
    t = ss.TileScene(tiles, tile_px=12, cols=8)
    compare_tiles(t, *render_both(scene, t, tmp_path), names)


def test_separate_combine_color_and_xyz(scene, tmp_path):
    names, tiles = [], []
    for mode in ("RGB", "HSV", "HSL"):
        nodes = dict(_SPREAD)
        nodes["Combine"] = {"type": "ShaderNodeCombineColor", "params": {"mode": mode}, "inputs": {"Blue": 0.8}}
        nodes["UVs"] = {"type": "ShaderNodeSeparateXYZ"}
        links = [*_SPREAD_LINKS, ["UV", "UV", "UVs", "Vector"], ["UVs", "X", "Combine", "Red"],
                 ["UVs", "Y", "Combine", "Green"]]
        names.append(f"combine {mode}")
        tiles.append(ss.Tile(ss.emission_graph(nodes, links, ("Combine", "Color"))))
        nodes = dict(nodes)
        nodes["Separate"] = {"type": "ShaderNodeSeparateColor", "params": {"mode": mode}}
        nodes["Back"] = {"type": "ShaderNodeCombineXYZ"}
        nodes["Source"] = {"type": "ShaderNodeCombineColor", "inputs": {"Blue": 0.45}}
        links = links + [["UVs", "X", "Source", "Red"], ["UVs", "Y", "Source", "Green"],
                         ["Source", "Color", "Separate", "Color"], ["Separate", "Red", "Back", "X"],
                         ["Separate", "Green", "Back", "Y"], ["Separate", "Blue", "Back", "Z"]]
        names.append(f"separate {mode}")
        tiles.append(ss.Tile(ss.emission_graph(nodes, links, ("Back", "Vector"))))
    t = ss.TileScene(tiles, tile_px=12, cols=6)
    compare_tiles(t, *render_both(scene, t, tmp_path), names)


def test_mapping_every_type(scene, tmp_path):
    names, tiles = [], []
    for kind in ("POINT", "TEXTURE", "VECTOR", "NORMAL"):
        nodes = {"UV": {"type": "ShaderNodeTexCoord"},
                 "Map": {"type": "ShaderNodeMapping", "params": {"vector_type": kind},
                         "inputs": {"Location": (0.3, -0.2, 0.1), "Rotation": (0.4, -0.7, 1.1),
                                    "Scale": (1.5, 0.6, -1.2)}}}
        links = [["UV", "UV", "Map", "Vector"]]
        names.append(kind)
        tiles.append(ss.Tile(ss.emission_graph(nodes, links, ("Map", "Vector"))))
    t = ss.TileScene(tiles, tile_px=12, cols=4)
    compare_tiles(t, *render_both(scene, t, tmp_path), names)
