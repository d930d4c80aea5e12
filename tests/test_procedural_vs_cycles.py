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
import shader_scenes as ss  # noqa: E402
from conftest import empty_scene  # noqa: E402
from test_nodes_vs_cycles import compare_tiles, render_both  # noqa: E402

_ZERO3 = (0.0, 0.0, 0.0)


@pytest.fixture
def scene(optica_installed):
    s = empty_scene()
    bpy.data.batch_remove(list(bpy.data.images))
    return s


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


# ---- Checker, Gradient, Magic, Wave, Brick, White Noise -----------------------------------------

def _floored(node: dict, output: str, dims_scale=4.3) -> ss.Tile:
    """White noise of integer-valued coordinates: the hash of a float's bits changes with its
    last bit, so both engines must hash the very same numbers (floor(x · 4.3) is exact)."""
    nodes = {"Coords": {"type": "ShaderNodeTexCoord"},
             "Scaled": {"type": "ShaderNodeVectorMath", "params": {"operation": "MULTIPLY"},
                        "inputs": {"Vector_001": (dims_scale, dims_scale * 0.8, 1.0)}},
             "Floor": {"type": "ShaderNodeVectorMath", "params": {"operation": "FLOOR"}},
             "XYZ": {"type": "ShaderNodeSeparateXYZ"},
             "Node": node}
    links = [["Coords", "Object", "Scaled", "Vector"], ["Scaled", "Vector", "Floor", "Vector"],
             ["Floor", "Vector", "Node", "Vector"], ["Floor", "Vector", "XYZ", "Vector"], ["XYZ", "Y", "Node", "W"]]
    return ss.Tile(ss.emission_graph(nodes, links, ("Node", output)))


def test_checker_gradient_magic_wave_brick_gabor_white_noise(scene, tmp_path):
    tiles = {}
    tiles["Checker"] = textured({"type": "ShaderNodeTexChecker", "inputs": {"Scale": 3.1, "Color1": (0.9, 0.3, 0.1)}},
                                "Color", w_input=None)
    tiles["Checker Fac, Generated"] = textured({"type": "ShaderNodeTexChecker"}, "Fac", w_input=None, implicit=True)
    for kind in ("LINEAR", "QUADRATIC", "EASING", "DIAGONAL", "SPHERICAL", "QUADRATIC_SPHERE", "RADIAL"):
        tiles[f"Gradient {kind}"] = textured({"type": "ShaderNodeTexGradient", "params": {"gradient_type": kind}},
                                             "Fac", w_input=None, scale=(0.9, 0.8, 0.7))
    tiles["Gradient colour, Generated"] = textured({"type": "ShaderNodeTexGradient"}, "Color", w_input=None,
                                                   implicit=True)
    for depth in (0, 1, 2, 5, 10):
        tiles[f"Magic depth {depth}"] = textured(
            {"type": "ShaderNodeTexMagic", "params": {"turbulence_depth": depth},
             "inputs": {"Scale": 1.3, "Distortion": 0.8}}, "Color", w_input=None)
    tiles["Magic Fac, no distortion"] = textured({"type": "ShaderNodeTexMagic", "inputs": {"Distortion": 0.0}},
                                                 "Fac", w_input=None, implicit=True)
    for wave_type, directions in (("BANDS", ("X", "Y", "Z", "DIAGONAL")), ("RINGS", ("X", "Y", "Z", "SPHERICAL"))):
        for direction in directions:
            for profile in ("SIN", "SAW", "TRI"):
                tiles[f"Wave {wave_type} {direction} {profile}"] = textured(
                    {"type": "ShaderNodeTexWave",
                     "params": {"wave_type": wave_type, "bands_direction": direction if wave_type == "BANDS" else "X",
                                "rings_direction": direction if wave_type == "RINGS" else "X",
                                "wave_profile": profile},
                     "inputs": {"Scale": 0.35, "Phase Offset": 0.7}}, "Fac", w_input=None)
    tiles["Wave distorted"] = textured({"type": "ShaderNodeTexWave",
                                        "inputs": {"Scale": 0.35, "Distortion": 3.0, "Detail": 2.5,
                                                   "Detail Scale": 1.7, "Detail Roughness": 0.6}}, "Color",
                                       w_input=None)
    tiles["Brick"] = textured({"type": "ShaderNodeTexBrick",
                               "inputs": {"Scale": 2.1, "Mortar Size": 0.04, "Bias": 0.2,
                                          "Color1": (0.7, 0.2, 0.1), "Mortar": (0.9, 0.9, 0.8)}}, "Color",
                              w_input=None)
    tiles["Brick squashed, offset, hard mortar"] = textured(
        {"type": "ShaderNodeTexBrick", "params": {"offset": 0.3, "offset_frequency": 3, "squash": 0.6,
                                                  "squash_frequency": 2},
         "inputs": {"Scale": 2.1, "Mortar Smooth": 0.0, "Brick Width": 0.7, "Row Height": 0.3}}, "Fac", w_input=None)
    tiles["Brick Generated"] = textured({"type": "ShaderNodeTexBrick"}, "Color", w_input=None, implicit=True)
    for gabor_type in ("2D", "3D"):
        for output in ("Value", "Phase", "Intensity"):
            tiles[f"Gabor {gabor_type} {output}"] = textured(
                {"type": "ShaderNodeTexGabor", "params": {"gabor_type": gabor_type},
                 "inputs": {"Scale": 1.7, "Frequency": 1.6, "Anisotropy": 0.6, "Orientation 2D": 0.4,
                            "Orientation 3D": (0.3, 0.8, 0.5)}}, output, w_input=None)
        tiles[f"Gabor {gabor_type} anisotropic, Generated"] = textured(
            {"type": "ShaderNodeTexGabor", "params": {"gabor_type": gabor_type}}, "Value", w_input=None, implicit=True)
    for dims in DIMENSIONS:
        for output in ("Value", "Color"):
            tiles[f"White Noise {dims} {output}"] = _floored(
                {"type": "ShaderNodeTexWhiteNoise", "params": {"noise_dimensions": dims}}, output)
    # Squares, bricks and bands have edges; white noise changes at every cell.
    render_and_compare(scene, tmp_path, tiles, outlier_fraction=0.08)


# ---- colour, converter and vector nodes ---------------------------------------------------------

def _spread_color() -> tuple[dict, list]:
    """A colour varying over the tile (red along x, green along y, blue 0.35), into "Node"."""
    nodes = {"Coords": {"type": "ShaderNodeTexCoord"}, "XYZ": {"type": "ShaderNodeSeparateXYZ"},
             "Col": {"type": "ShaderNodeCombineColor", "inputs": {"Blue": 0.35}}}
    links = [["Coords", "UV", "XYZ", "Vector"], ["XYZ", "X", "Col", "Red"], ["XYZ", "Y", "Col", "Green"]]
    return nodes, links


def colored(node: dict, color_input: str, output: str, fac_input: str | None = None) -> ss.Tile:
    """`node` fed the spread colour (and its x as the factor, beyond [0, 1] at the ends)."""
    nodes, links = _spread_color()
    nodes["Node"] = node
    links.append(["Col", "Color", "Node", color_input])
    if fac_input:
        nodes["Fac"] = {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"},
                        "inputs": {"Value_001": 1.4, "Value_002": -0.2}}
        links += [["XYZ", "X", "Fac", "Value"], ["Fac", "Value", "Node", fac_input]]
    return ss.Tile(ss.emission_graph(nodes, links, ("Node", output)))


def valued(node: dict, value_input: str, output: str, low=-0.6, high=1.7) -> ss.Tile:
    """`node` fed a value running from `low` to `high` along x."""
    nodes, links = _spread_color()
    nodes["Value"] = {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"},
                      "inputs": {"Value_001": high - low, "Value_002": low}}
    nodes["Node"] = node
    links += [["XYZ", "X", "Value", "Value"], ["Value", "Value", "Node", value_input]]
    return ss.Tile(ss.emission_graph(nodes, links, ("Node", output)))


def _ramp(interpolation="LINEAR", color_mode="RGB", hue="NEAR"):
    return {"type": "ShaderNodeValToRGB",
            "params": {"ramp": {"interpolation": interpolation, "color_mode": color_mode, "hue_interpolation": hue,
                                "positions": [0.1, 0.45, 0.8],
                                "colors": [[0.9, 0.1, 0.1, 1.0], [0.1, 0.8, 0.3, 0.5], [0.2, 0.3, 1.0, 0.2]]}}}


def test_color_and_converter_nodes(scene, tmp_path):
    tiles = {}
    for kind in ("LINEAR", "STEPPED", "SMOOTHSTEP", "SMOOTHERSTEP"):
        for clamp in (True, False):
            tiles[f"Map Range {kind} clamp {clamp}"] = valued(
                {"type": "ShaderNodeMapRange", "params": {"interpolation_type": kind, "clamp": clamp},
                 "inputs": {"From Min": 0.1, "From Max": 0.9, "To Min": 0.8, "To Max": -0.3, "Steps": 3.0}},
                "Value", "Result")
        tiles[f"Map Range vector {kind}"] = colored(
            {"type": "ShaderNodeMapRange", "params": {"interpolation_type": kind, "data_type": "FLOAT_VECTOR"},
             "inputs": {"From_Min_FLOAT3": (0.1, 0.2, 0.0), "From_Max_FLOAT3": (0.8, 0.6, 1.0),
                        "To_Min_FLOAT3": (0.0, 1.0, 0.5), "To_Max_FLOAT3": (1.0, -0.5, 0.7),
                        "Steps_FLOAT3": (3.0, 4.0, 2.0)}}, "Vector", "Vector")
    tiles["Map Range inverted source range"] = valued(
        {"type": "ShaderNodeMapRange", "params": {"interpolation_type": "SMOOTHSTEP"},
         "inputs": {"From Min": 0.9, "From Max": 0.1}}, "Value", "Result")
    for kind in ("MINMAX", "RANGE"):
        tiles[f"Clamp {kind}"] = valued({"type": "ShaderNodeClamp", "params": {"clamp_type": kind},
                                         "inputs": {"Min": 0.9, "Max": 0.2}}, "Value", "Result")
    tiles["Invert"] = colored({"type": "ShaderNodeInvert"}, "Color", "Color", fac_input="Fac")
    tiles["Gamma"] = valued({"type": "ShaderNodeGamma", "inputs": {"Color": (0.2, 0.5, 0.9)}}, "Gamma", "Color",
                            low=0.0, high=2.5)
    tiles["Hue/Saturation/Value"] = colored({"type": "ShaderNodeHueSaturation",
                                             "inputs": {"Hue": 0.3, "Saturation": 1.6, "Value": 1.3}},
                                            "Color", "Color", fac_input="Fac")
    tiles["Bright/Contrast"] = colored({"type": "ShaderNodeBrightContrast",
                                        "inputs": {"Bright": 0.2, "Contrast": 0.7}}, "Color", "Color")
    tiles["RGB to BW"] = colored({"type": "ShaderNodeRGBToBW"}, "Color", "Val")
    for interpolation in ("LINEAR", "EASE", "CARDINAL", "B_SPLINE", "CONSTANT"):
        tiles[f"Color Ramp {interpolation}"] = valued(_ramp(interpolation), "Fac", "Color", low=-0.1, high=1.1)
    for mode in ("HSV", "HSL"):
        for hue in ("NEAR", "FAR", "CW", "CCW"):
            tiles[f"Color Ramp {mode} {hue}"] = valued(_ramp(color_mode=mode, hue=hue), "Fac", "Color", low=-0.1,
                                                       high=1.1)
    tiles["Color Ramp alpha"] = valued(_ramp(), "Fac", "Alpha", low=-0.1, high=1.1)
    tiles["Color Ramp default"] = valued({"type": "ShaderNodeValToRGB"}, "Fac", "Color", low=-0.1, high=1.1)
    for rotation_type in ("AXIS_ANGLE", "X_AXIS", "Y_AXIS", "Z_AXIS", "EULER_XYZ"):
        for invert in (False, True):
            tiles[f"Vector Rotate {rotation_type} invert {invert}"] = colored(
                {"type": "ShaderNodeVectorRotate", "params": {"rotation_type": rotation_type, "invert": invert},
                 "inputs": {"Center": (0.2, 0.1, -0.3), "Axis": (0.3, -0.5, 0.8), "Angle": 0.9,
                            "Rotation": (0.4, -0.6, 1.1)}}, "Vector", "Vector")
    tiles["Blackbody"] = valued({"type": "ShaderNodeBlackbody"}, "Temperature", "Color", low=500.0, high=14000.0)
    tiles["Wavelength"] = valued({"type": "ShaderNodeWavelength"}, "Wavelength", "Color", low=360.0, high=800.0)
    tiles["Vector Rotate zero axis"] = colored({"type": "ShaderNodeVectorRotate", "inputs": {"Axis": _ZERO3,
                                                                                             "Angle": 0.5}},
                                               "Vector", "Vector")
    # Stepped mapping jumps between steps.
    render_and_compare(scene, tmp_path, tiles, outliers={"Map Range vector STEPPED": 0.1,
                                                          "Map Range STEPPED clamp True": 0.1,
                                                          "Map Range STEPPED clamp False": 0.1})


def test_vector_transform_between_spaces(scene, tmp_path):
    tiles = {}
    spaces = ("WORLD", "OBJECT", "CAMERA")
    for kind in ("POINT", "VECTOR", "NORMAL"):
        for source in spaces:
            for target in spaces:
                if source != target:
                    node = {"type": "ShaderNodeVectorTransform",
                            "params": {"vector_type": kind, "convert_from": source, "convert_to": target}}
                    tile = colored(node, "Vector", "Vector")
                    tile.matrix = _transform()
                    tiles[f"{kind} {source} to {target}"] = tile
    render_and_compare(scene, tmp_path, tiles)


def _transform():
    c, s = np.cos(0.5), np.sin(0.5)
    m = np.eye(4)
    m[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.diag((0.8, 1.1, 1.3))
    m[:3, 3] = (0.05, -0.03, 0.2)
    return m


def _bend(curve, points):
    """Moves a curve's two end points and adds the middle ones (x, y)."""
    curve.points[0].location = points[0]
    curve.points[-1].location = points[-1]
    for x, y in points[1:-1]:
        curve.points.new(x, y)


def test_rgb_float_and_vector_curves(scene, tmp_path, optica_installed):
    """Curves are baked by the exporter (addon/export/node_params.py) from Blender's
    CurveMapping, as Cycles bakes them; the core looks the table up as Cycles does."""
    import importlib

    node_params = importlib.import_module(f"{optica_installed}.addon.export.node_params")
    tiles = {
        "RGB Curves": colored({"type": "ShaderNodeRGBCurve"}, "Color", "Color", fac_input="Fac"),
        "RGB Curves extrapolated": colored({"type": "ShaderNodeRGBCurve"}, "Color", "Color"),
        "Float Curve": valued({"type": "ShaderNodeFloatCurve"}, "Value", "Value", low=0.0, high=1.0),
        "Float Curve extrapolated": valued({"type": "ShaderNodeFloatCurve"}, "Value", "Value"),
        "Vector Curves": colored({"type": "ShaderNodeVectorCurve"}, "Vector", "Vector"),
    }
    channels = {"ShaderNodeRGBCurve": 4, "ShaderNodeFloatCurve": 1, "ShaderNodeVectorCurve": 3}
    t = ss.TileScene(list(tiles.values()), tile_px=12, cols=8)
    t.build_blender(scene)
    for k, (name, tile) in enumerate(tiles.items()):
        node = bpy.data.materials[f"tile{k}"].node_tree.nodes["Node"]
        mapping = node.mapping
        bends = [[(0.0, 0.1), (0.4, 0.7), (1.0, 0.9)], [(0.0, 0.8), (0.6, 0.2), (1.0, 0.5)],
                 [(-0.2, 0.0), (0.3, 0.5), (0.9, 1.0)], [(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)]]
        for curve, points in zip(mapping.curves, bends, strict=False):
            _bend(curve, points)
        if "extrapolated" in name:
            mapping.extend = "EXTRAPOLATED"
        tile.graph["nodes"]["Node"].setdefault("params", {})["curve"] = node_params.bake_curve(
            mapping, channels[node.bl_idname])
    cycles = ss.render_cycles(scene, tmp_path / "cycles.exr")
    optica = ss.render_optica(t.optica_dict())
    compare_tiles(t, cycles, optica, list(tiles))


def test_view_light_falloff_and_object_default_inputs(scene, tmp_path):
    """Camera Data, Light Falloff, Wireframe, and what Cycles gives a mesh from Particle, Hair,
    Point and Volume Info and Ambient Occlusion (the tiles are coplanar: nothing occludes them)."""
    tiles = {}
    inside = _transform() @ np.diag((0.7, 0.6, 1.0, 1.0))  # rotated, and within its tile

    def add(type_, output, **node):
        tiles[f"{type_[10:]} {output}"] = ss.Tile(ss.emission_graph({"Node": {"type": type_, **node}}, [],
                                                                    ("Node", output)), matrix=inside)

    for output in ("View Vector", "View Z Depth", "View Distance"):
        add("ShaderNodeCameraData", output)
    for output in ("Quadratic", "Linear", "Constant"):
        add("ShaderNodeLightFalloff", output, inputs={"Strength": 0.3, "Smooth": 2.0})
    for output in ("Index", "Random", "Age", "Lifetime", "Location", "Size", "Velocity", "Angular Velocity"):
        add("ShaderNodeParticleInfo", output)
    for output in ("Is Strand", "Intercept", "Length", "Thickness", "Tangent Normal", "Random"):
        add("ShaderNodeHairInfo", output)
    for output in ("Position", "Radius", "Random"):
        add("ShaderNodePointInfo", output)
    for output in ("Color", "Density", "Flame", "Temperature"):
        add("ShaderNodeVolumeInfo", output)
    for output in ("Color", "AO"):
        add("ShaderNodeAmbientOcclusion", output, inputs={"Color": (0.3, 0.6, 0.9)})
    for pixel_size, size in ((False, 0.08), (True, 1.5)):
        tiles[f"Wireframe pixel size {pixel_size}"] = ss.Tile(ss.emission_graph(
            {"Node": {"type": "ShaderNodeWireframe", "params": {"use_pixel_size": pixel_size},
                      "inputs": {"Size": size}}}, [], ("Node", "Fac")), matrix=inside)
    # The wire's edges are jumps from 0 to 1.
    t, _, optica = render_and_compare(scene, tmp_path, tiles, tile_px=16,
                                      outliers={"Wireframe pixel size False": 0.12, "Wireframe pixel size True": 0.12})
    for name in ("Wireframe pixel size False", "Wireframe pixel size True"):
        wire = ss.tile_pixels(optica, t, list(tiles).index(name))[..., 0]
        assert 0.03 < wire.mean() < 0.6, f"{name}: {wire.mean():.0%} of the tile is wire"


# ---- a procedural scene, end to end --------------------------------------------------------------

E2E_WORLD = {"nodes": {"Background": {"type": "ShaderNodeBackground", "inputs": {"Color": (0.3, 0.4, 0.55)}},
                       "World Output": {"type": "ShaderNodeOutputWorld"}},
             "links": [["Background", "Background", "World Output", "Surface"]], "output": "World Output"}
E2E_BOUNCES = 6


def _principled(extra_nodes: dict, links: list, **inputs) -> dict:
    return ss.shader_graph("ShaderNodeBsdfPrincipled", inputs={"Roughness": 0.5, **inputs}, extra_nodes=extra_nodes,
                           extra_links=links)


def procedural_materials() -> dict:
    ramp = _ramp()
    return {
        "noise colour through a ramp": _principled(
            {"Noise": _noise("3D", Distortion=0.4), "Ramp": ramp},
            [["Noise", "Fac", "Ramp", "Fac"], ["Ramp", "Color", "Shader", "Base Color"]]),
        "voronoi cells, noisy roughness": _principled(
            {"Voronoi": _voronoi("3D"), "Noise": _noise("3D"), "Ramp": ramp},
            [["Voronoi", "Distance", "Ramp", "Fac"], ["Ramp", "Color", "Shader", "Base Color"],
             ["Noise", "Fac", "Shader", "Roughness"]]),
        "bump by noise": _principled(
            {"Noise": _noise("3D", Detail=2.0), "Bump": {"type": "ShaderNodeBump",
                                                          "inputs": {"Strength": 0.6, "Distance": 0.05}}},
            [["Noise", "Fac", "Bump", "Height"], ["Bump", "Normal", "Shader", "Normal"]],
            **{"Base Color": (0.7, 0.5, 0.3)}),
        "diffuse and glossy mixed by voronoi": ss.shader_graph("ShaderNodeMixShader", extra_nodes={
            "Voronoi": _voronoi("3D", "SMOOTH_F1"),
            "Range": {"type": "ShaderNodeMapRange", "inputs": {"From Max": 0.6}},
            "Diffuse": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": (0.2, 0.5, 0.3)}},
            "Glossy": {"type": "ShaderNodeBsdfAnisotropic", "inputs": {"Roughness": 0.25}}},
            extra_links=[["Voronoi", "Distance", "Range", "Value"], ["Range", "Result", "Shader", "Fac"],
                         ["Diffuse", "BSDF", "Shader", "Shader"], ["Glossy", "BSDF", "Shader", "Shader_001"]]),
        "wave metal": _principled(
            {"Wave": {"type": "ShaderNodeTexWave", "inputs": {"Distortion": 2.0}},
             "Gamma": {"type": "ShaderNodeGamma", "inputs": {"Gamma": 2.2}}},
            [["Wave", "Fac", "Shader", "Metallic"], ["Wave", "Color", "Gamma", "Color"],
             ["Gamma", "Color", "Shader", "Base Color"]], Roughness=0.35),
        "bricks through hue and value": _principled(
            {"Brick": {"type": "ShaderNodeTexBrick", "inputs": {"Color1": (0.6, 0.2, 0.1)}},
             "HSV": {"type": "ShaderNodeHueSaturation", "inputs": {"Hue": 0.6, "Value": 1.2}}},
            [["Brick", "Color", "HSV", "Color"], ["HSV", "Color", "Shader", "Base Color"]]),
    }


def build_procedural_scene(scene, tile_px=32):
    graphs = procedural_materials()
    tiles = ss.TileScene([ss.Tile(g, shape="sphere") for g in graphs.values()], tile_px=tile_px, cols=3,
                         world=E2E_WORLD, sun=(0.75, 0.5, 2.5, 0.1))
    tiles.build_blender(scene)
    return tiles, list(graphs)


def test_procedural_materials_scene_matches_cycles(scene, tmp_path):
    """Means within 1 % over the image, 2 % per material (the two renders' noise alone moves a
    material's mean by a few tenths of a percent), at 256 samples each."""
    tiles, names = build_procedural_scene(scene)
    cycles = ss.render_cycles(scene, tmp_path / "cycles.exr", 256, bounces=E2E_BOUNCES)
    optica = ss.render_optica(tiles.optica_dict(), 256, bounces=E2E_BOUNCES)
    assert np.isfinite(optica).all()
    overall = optica[..., :3].mean() / cycles[..., :3].mean()
    failures = [] if abs(overall - 1) <= 0.01 else [f"image: Optica/Cycles {overall:.4f}"]
    for k, name in enumerate(names):
        c, o = (ss.tile_pixels(img, tiles, k, 0)[..., :3].mean() for img in (cycles, optica))
        print(f"{name}: Optica/Cycles {o / c:.4f}")
        if abs(o / c - 1) > 0.02:
            failures.append(f"{name}: Optica/Cycles {o / c:.4f}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_procedural_materials_scene_converges_to_cycles(scene, tmp_path):
    """Optica's error against a 4096-sample Cycles reference (two halves, so its own noise is
    subtracted) keeps falling like 1/√spp from 64 to 1024 samples (bench/convergence.py's
    plateau check)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import convergence as cv

    tiles, _ = build_procedural_scene(scene)
    halves = [ss.render_cycles(scene, tmp_path / f"reference{seed}.exr", 2048, bounces=E2E_BOUNCES, seed=seed)[..., :3]
              for seed in (1, 2)]
    reference, reference_noise = cv.reference_from_halves(*halves)
    d = tiles.optica_dict()
    counts = (64, 256, 1024)
    errors = [cv.corrected_rmse(ss.render_optica(d, n, bounces=E2E_BOUNCES, seed=n)[..., :3], reference,
                                reference_noise) for n in counts]
    check = cv.convergence_check(counts, errors)
    print(f"errors {errors}, check {check}")
    assert not check["plateau"], f"the error plateaus: {errors} ({check})"


# ---- exhaustive sweeps (slow) ------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_random_procedural_parameters_sweep(scene, tmp_path, seed):
    """Random parameter sets for Noise, Voronoi and Wave, 96 tiles a run. The finest octave is
    kept to at most a cycle per three pixels: finer detail changes within a pixel, and the two
    engines' samples (anywhere within ±0.005 pixel) then see different values."""
    rng = np.random.default_rng(seed)
    tiles = {}

    def octaves(detail_max):
        """(scale, detail, lacunarity) whose finest octave is about 10 cycles per tile at most."""
        detail, lacunarity = float(rng.uniform(0, detail_max)), float(rng.uniform(1, 3))
        finest = lacunarity ** np.ceil(detail)
        return min(float(rng.uniform(0.5, 4)), 6.0 / finest), detail, lacunarity

    for k in range(32):
        dims = str(rng.choice(DIMENSIONS))
        scale, detail, lacunarity = octaves(6)
        tiles[f"noise {k} {dims}"] = textured(
            _noise(dims, str(rng.choice(NOISE_TYPES)), bool(rng.integers(2)), Scale=scale,
                   Detail=detail, Roughness=float(rng.uniform(0, 1)),
                   Lacunarity=lacunarity, Offset=float(rng.uniform(-0.5, 1)),
                   Gain=float(rng.uniform(0, 2)), Distortion=float(rng.uniform(0, 1))),
            str(rng.choice(["Fac", "Color"])))
        dims = str(rng.choice(DIMENSIONS))
        feature = str(rng.choice(FEATURES))
        scale, detail, lacunarity = octaves(3)
        tiles[f"voronoi {k} {dims} {feature}"] = textured(
            _voronoi(dims, feature, str(rng.choice(["EUCLIDEAN", "MANHATTAN", "CHEBYCHEV", "MINKOWSKI"])),
                     bool(rng.integers(2)), Scale=scale, Detail=detail,
                     Roughness=float(rng.uniform(0, 1)), Lacunarity=lacunarity,
                     Smoothness=float(rng.uniform(0, 1)), Exponent=float(rng.uniform(0.3, 3)),
                     Randomness=float(rng.uniform(0, 1))), _FEATURE_OUTPUT.get(feature, "Distance"))
        tiles[f"wave {k}"] = textured(
            {"type": "ShaderNodeTexWave",
             "params": {"wave_type": str(rng.choice(["BANDS", "RINGS"])),
                        "wave_profile": str(rng.choice(["SIN", "SAW", "TRI"]))},
             "inputs": {"Scale": float(rng.uniform(0.1, 1)), "Distortion": float(rng.uniform(0, 4)),
                        "Detail": float(rng.uniform(0, 4)), "Phase Offset": float(rng.uniform(0, 6))}},
            "Fac", w_input=None)
    render_and_compare(scene, tmp_path, tiles, tile_px=24, outlier_fraction=0.08)
