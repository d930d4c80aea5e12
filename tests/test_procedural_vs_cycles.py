# SPDX-License-Identifier: GPL-3.0-or-later
"""Procedural textures against Cycles, per pixel (the fixture and tolerances of
test_nodes_vs_cycles.py: each tile shows one node's output through an Emission shader, zero
bounces, a 0.01-pixel filter, so every pixel is the node evaluated at its centre in both
engines). Procedural textures are deterministic functions: they must agree per pixel, apart
from the few pixels a discontinuity (a Voronoi cell edge, a checker square, a brick) passes
through.

One Blender scene per node family, many variants as tiles of it. Coordinates: object
coordinates of the tile through a Mapping (rotated, so z and W vary too), or the implicit
Generated coordinates where the test says so.
"""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import optica_core as oc  # noqa: E402

import shader_scenes as ss  # noqa: E402
from test_nodes_vs_cycles import compare_tiles, render_both, scene  # noqa: E402,F401

_ZERO3 = (0.0, 0.0, 0.0)


def textured(node: dict, output: str, *, scale=(1.3, 1.1, 0.9), w_input: str | None = "W",
             vector_input: str | None = "Vector", implicit: bool = False) -> ss.Tile:
    """A tile showing `output` of `node`, its Vector from rotated object coordinates (or the
    implicit Generated ones) and its W from the x coordinate."""
    nodes = {"Coords": {"type": "ShaderNodeTexCoord"},
             "Map": {"type": "ShaderNodeMapping", "params": {"vector_type": "POINT"},
                     "inputs": {"Location": (0.37, -0.21, 0.73), "Rotation": (0.4, 0.3, 0.2), "Scale": scale}},
             "XYZ": {"type": "ShaderNodeSeparateXYZ"},
             "W": {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"},
                   "inputs": {"Value_001": 0.6, "Value_002": 0.31}},
             "Node": node}
    links = [["Coords", "Object", "Map", "Vector"], ["Map", "Vector", "XYZ", "Vector"], ["XYZ", "X", "W", "Value"]]
    if vector_input and not implicit:
        links.append(["Map", "Vector", "Node", vector_input])
    if w_input:
        links.append(["W", "Value", "Node", w_input])
    return ss.Tile(ss.emission_graph(nodes, links, ("Node", output)))


def render_and_compare(scene, tmp_path, named_tiles: dict, *, tile_px=12, outliers=None, outlier_fraction=0.03,
                       textures=None):
    names = list(named_tiles)
    # No more rows than columns: the camera's ortho scale spans the width only while it is the
    # larger side (Blender's automatic sensor fit).
    cols = max(8, int(np.ceil(np.sqrt(len(names)))))
    t = ss.TileScene(list(named_tiles.values()), tile_px=tile_px, cols=cols, textures=textures or {})
    cycles, optica = render_both(scene, t, tmp_path)
    compare_tiles(t, cycles, optica, names, outlier_fraction=outlier_fraction, outliers=outliers)
    return t, cycles, optica


# ---- Noise ---------------------------------------------------------------------------------------

def _noise(dims, kind="FBM", normalize=True, **inputs):
    return {"type": "ShaderNodeTexNoise", "params": {"noise_dimensions": dims, "noise_type": kind,
                                                     "normalize": normalize},
            "inputs": {"Scale": 2.3, "Detail": 3.5, "Roughness": 0.6, "Lacunarity": 2.1, "Offset": 0.3,
                       "Gain": 1.2, **inputs}}


NOISE_TYPES = ("MULTIFRACTAL", "RIDGED_MULTIFRACTAL", "HYBRID_MULTIFRACTAL", "FBM", "HETERO_TERRAIN")
DIMENSIONS = ("1D", "2D", "3D", "4D")


def test_noise_texture_every_dimension_and_type(scene, tmp_path):
    tiles = {}
    for dims in DIMENSIONS:
        for kind in NOISE_TYPES:
            tiles[f"{dims} {kind}"] = textured(_noise(dims, kind), "Fac")
        tiles[f"{dims} colour, distorted"] = textured(_noise(dims, Distortion=0.8), "Color")
        tiles[f"{dims} not normalized"] = textured(_noise(dims, normalize=False, Detail=1.0), "Fac")
    tiles["3D Generated, default inputs"] = textured({"type": "ShaderNodeTexNoise"}, "Color", implicit=True)
    tiles["3D detail 0, rough 0"] = textured(_noise("3D", Detail=0.0, Roughness=0.0), "Fac")
    tiles["3D ridged, detail 15"] = textured(_noise("3D", "RIDGED_MULTIFRACTAL", Detail=15.0), "Fac")
    render_and_compare(scene, tmp_path, tiles)


# ---- Voronoi -------------------------------------------------------------------------------------

FEATURES = ("F1", "F2", "SMOOTH_F1", "DISTANCE_TO_EDGE", "N_SPHERE_RADIUS")
_FEATURE_OUTPUT = {"DISTANCE_TO_EDGE": "Distance", "N_SPHERE_RADIUS": "Radius"}


def _voronoi(dims, feature="F1", metric="EUCLIDEAN", normalize=False, **inputs):
    return {"type": "ShaderNodeTexVoronoi",
            "params": {"voronoi_dimensions": dims, "feature": feature, "distance": metric, "normalize": normalize},
            "inputs": {"Scale": 2.7, "Randomness": 0.85, "Smoothness": 0.6, "Exponent": 1.5, **inputs}}


def test_voronoi_texture_every_dimension_feature_and_metric(scene, tmp_path):
    tiles = {}
    for dims in DIMENSIONS:
        for feature in FEATURES:
            tiles[f"{dims} {feature}"] = textured(_voronoi(dims, feature), _FEATURE_OUTPUT.get(feature, "Distance"))
        tiles[f"{dims} F1 colour"] = textured(_voronoi(dims), "Color")
        if dims != "1D":  # outputs Blender shows (a link from a hidden one is ignored)
            tiles[f"{dims} F1 position"] = textured(_voronoi(dims), "Position")
        if dims in ("1D", "4D"):
            tiles[f"{dims} smooth F1 W"] = textured(_voronoi(dims, "SMOOTH_F1"), "W")
        tiles[f"{dims} F1 fractal, normalized"] = textured(
            _voronoi(dims, normalize=True, Detail=2.5, Roughness=0.6, Lacunarity=2.2), "Distance")
        tiles[f"{dims} edge fractal, normalized"] = textured(
            _voronoi(dims, "DISTANCE_TO_EDGE", normalize=True, Detail=1.5), "Distance")
    for dims in ("2D", "3D", "4D"):
        for metric in ("MANHATTAN", "CHEBYCHEV", "MINKOWSKI"):
            for feature in ("F1", "F2", "SMOOTH_F1"):
                tiles[f"{dims} {feature} {metric}"] = textured(_voronoi(dims, feature, metric), "Distance")
    tiles["3D Generated, default inputs"] = textured({"type": "ShaderNodeTexVoronoi"}, "Color", implicit=True)
    tiles["3D smooth F1 colour"] = textured(_voronoi("3D", "SMOOTH_F1"), "Color")
    # Cell edges are discontinuities of the colour, position and F2 outputs.
    render_and_compare(scene, tmp_path, tiles, outlier_fraction=0.06)
