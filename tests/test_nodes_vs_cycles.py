# SPDX-License-Identifier: GPL-3.0-or-later
"""Shader nodes against Cycles, node by node (shader_scenes.py): each tile of a grid shows one
node's output through an Emission shader, rendered with zero bounces and a 0.01-pixel
Gaussian filter by both engines, so every pixel is the node evaluated at the pixel centre and the two
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


def compare_tiles(tiles: ss.TileScene, cycles, optica, names, outlier_fraction=0.03, outliers=None):
    """outliers: {tile name: fraction} for tiles with more jumps than most."""
    failures = []
    for k, name in enumerate(names):
        allowed = (outliers or {}).get(name, outlier_fraction)
        a, b = ss.tile_pixels(cycles, tiles, k)[..., :3], ss.tile_pixels(optica, tiles, k)[..., :3]
        bad = np.abs(a - b) > ATOL + RTOL * np.abs(a) + 0.01 * _pixel_gradient(ss.tile_pixels(cycles, tiles, k, 0))
        fraction = bad.any(axis=-1).mean()
        if fraction > allowed:
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


def _plain_value(value):
    return tuple(value) if hasattr(value, "__len__") and not isinstance(value, str) else value


def test_registry_matches_blender_sockets_and_parameters():
    """Every registered node type against the node bpy creates: socket identifiers, types and
    defaults, enum values and parameter defaults (converters leave out what equals a default)."""
    material = bpy.data.materials.new("registry")
    world = bpy.data.worlds.new("registry")
    trees = (material.node_tree, world.node_tree)  # Blender 5 makes both with the data block
    problems = []
    for type_, entry in oc.shading.NODE_TYPES.items():
        try:
            node = trees[0].nodes.new(type_)
        except RuntimeError:  # world-only nodes
            node = trees[1].nodes.new(type_)
        inputs = {s.identifier: s for s in node.inputs}
        for ident, socket in entry["inputs"].items():
            s = inputs.get(ident)
            if s is None or s.type != socket["type"]:
                problems.append(f"{type_} input {ident}: bpy has {s and s.type}, registry {socket['type']}")
            elif socket["default"] is not None and hasattr(s, "default_value"):
                value = np.ravel(_plain_value(s.default_value))[:np.size(socket["default"])]
                if not np.allclose(value, socket["default"], atol=1e-6):
                    problems.append(f"{type_} input {ident}: default {value} in bpy, {socket['default']}")
        outputs = {s.identifier: s.type for s in node.outputs}
        for ident, type_name in entry["outputs"].items():
            if outputs.get(ident) != type_name:
                problems.append(f"{type_} output {ident}: bpy has {outputs.get(ident)}, registry {type_name}")
        for name, param in entry["params"].items():
            if (type_, name) in _OUTPUT_PARAMS:
                value = np.ravel(_plain_value(node.outputs[0].default_value))[:np.size(param["default"])]
                if not np.allclose(value, param["default"]):
                    problems.append(f"{type_}.{name}: default {value} in bpy, {param['default']}")
            elif not hasattr(node, name):
                continue  # data blocks and scene data the converters write (image, object matrix...)
            elif param["kind"] == "enum":
                items = {i.identifier for i in node.bl_rna.properties[name].enum_items}
                if set(param["values"]) != items or getattr(node, name) != param["default"]:
                    problems.append(f"{type_}.{name}: bpy {sorted(items)} default {getattr(node, name)}, "
                                    f"registry {sorted(param['values'])} default {param['default']}")
            elif param["kind"] in ("bool", "float", "int", "string") and param["default"] is not None:
                if getattr(node, name) != param["default"]:
                    problems.append(f"{type_}.{name}: default {getattr(node, name)} in bpy, {param['default']}")
    bpy.data.materials.remove(material)
    bpy.data.worlds.remove(world)
    assert not problems, "\n".join(problems)


_OUTPUT_PARAMS = {("ShaderNodeValue", "value"), ("ShaderNodeRGB", "color"), ("ShaderNodeNormal", "direction")}


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


def _checker_texture(rng, channels=3, dtype=np.uint8, size=(4, 5)):
    if dtype == np.uint8:
        px = rng.integers(0, 256, (*size, channels)).astype(np.uint8)
    else:
        px = rng.uniform(0.0, 2.0, (*size, channels)).astype(np.float32)
    return px


def _image_tile(image, *, interpolation="Linear", extension="REPEAT", projection="FLAT", output="Color",
                scale=(2.3, 1.7, 1.0), blend=0.0):
    nodes = {"UV": {"type": "ShaderNodeTexCoord"},
             "Map": {"type": "ShaderNodeMapping", "params": {"vector_type": "POINT"},
                     "inputs": {"Location": (-0.61, -0.37, 0.0), "Scale": scale}},
             "Image": {"type": "ShaderNodeTexImage",
                       "params": {"image": image, "interpolation": interpolation, "extension": extension,
                                  "projection": projection, "projection_blend": blend}}}
    links = [["UV", "Generated" if projection != "FLAT" else "UV", "Map", "Vector"], ["Map", "Vector", "Image", "Vector"]]
    return ss.Tile(ss.emission_graph(nodes, links, ("Image", output)))


def test_image_texture_interpolation_extension_and_formats(scene, tmp_path):
    rng = np.random.default_rng(5)
    rgba = _checker_texture(rng, 4)
    rgba[..., 3] = rng.choice([0, 64, 200, 255], rgba.shape[:2])
    textures = {
        "srgb": {"pixels": _checker_texture(rng), "colorspace": "srgb"},
        "linear8": {"pixels": _checker_texture(rng), "colorspace": "linear"},
        "data8": {"pixels": _checker_texture(rng), "colorspace": "non_color"},
        "grey8": {"pixels": _checker_texture(rng, 1), "colorspace": "srgb"},
        "float": {"pixels": _checker_texture(rng, 4, np.float32), "colorspace": "linear"},
        "rgba": {"pixels": rgba, "colorspace": "srgb"},
        "float rgba": {"pixels": np.concatenate([_checker_texture(rng, 3, np.float32),
                                                 rgba[..., 3:].astype(np.float32) / 255], axis=2),
                       "colorspace": "linear"},
    }
    names, tiles = [], []
    for interpolation in ("Linear", "Closest", "Cubic", "Smart"):
        for extension in ("REPEAT", "EXTEND", "CLIP", "MIRROR"):
            names.append(f"srgb {interpolation} {extension}")
            tiles.append(_image_tile("srgb", interpolation=interpolation, extension=extension))
    for image in ("linear8", "data8", "grey8", "float", "float rgba"):
        names.append(image)
        tiles.append(_image_tile(image))
    # PREMUL is left out: Blender stores byte images straight and converts the pixels it is given
    # on the way in, so a Blender image cannot hold given premultiplied bytes (the core's meaning of
    # PREMUL is tested in test_shading_core.py).
    for mode in ("STRAIGHT", "CHANNEL_PACKED", "NONE"):
        textures[f"rgba {mode}"] = dict(textures["rgba"], alpha_mode=mode)
        for output in ("Color", "Alpha"):
            names.append(f"rgba {mode} {output}")
            tile = _image_tile(f"rgba {mode}", output=output, scale=(0.9, 0.8, 1.0))
            if output == "Color":  # with Alpha used too, so the colour is unassociated
                tile.graph["nodes"]["Strength"] = {"type": "ShaderNodeMath", "params": {"operation": "MAXIMUM"},
                                                   "inputs": {"Value_001": 1.0}}
                tile.graph["links"] += [["Image", "Alpha", "Strength", "Value"],
                                        ["Strength", "Value", "Emission", "Strength"]]
            tiles.append(tile)
    names.append("rgba STRAIGHT, Alpha unused")
    tiles.append(_image_tile("rgba STRAIGHT", scale=(0.9, 0.8, 1.0)))
    for projection in ("SPHERE", "TUBE"):
        names.append(projection)
        tiles.append(_image_tile("srgb", projection=projection, scale=(1.0, 1.0, 1.0)))
    names.append("missing image")
    tiles.append(_image_tile(None))
    t = ss.TileScene(tiles, tile_px=16, cols=8, textures=textures)
    compare_tiles(t, *render_both(scene, t, tmp_path), names)


def test_srgb_texture_edges_are_decoded_after_interpolation(scene, tmp_path):
    """An 8-bit sRGB texture magnified with Linear interpolation: Cycles blends the encoded bytes
    and decodes the blend, which makes edges softer than blending decoded values. Optica must
    give Cycles' values, not the blend of decoded ones."""
    px = np.zeros((2, 2, 3), np.uint8)
    px[:, 1] = 255
    textures = {"edge": {"pixels": px, "colorspace": "srgb"}}
    tile = _image_tile("edge", scale=(1.0, 1.0, 1.0), extension="EXTEND")
    tile.graph["nodes"]["Map"]["inputs"]["Location"] = (0.0, 0.0, 0.0)
    t = ss.TileScene([tile], tile_px=32, cols=1, textures=textures)
    cycles, optica = render_both(scene, t, tmp_path)
    compare_tiles(t, cycles, optica, ["edge"], outlier_fraction=0.0)
    row = optica[16, :, 0]
    u = (np.arange(32) + 0.5) / 32
    blend = np.clip(u * 2 - 0.5, 0, 1)  # interpolation weight of the white texel along the row
    decoded_after = np.where(blend <= 0.04045, blend / 12.92, ((blend + 0.055) / 1.055) ** 2.4)
    assert np.allclose(row, decoded_after, atol=2e-3), "sRGB must be decoded after interpolating the bytes"
    assert not np.allclose(row, blend, atol=2e-2), "a linear blend of decoded texels is the old, sharper edge"


def _rotated(angle=0.6, scale=(0.8, 1.1, 1.0)):
    c, s = np.cos(angle), np.sin(angle)
    m = np.eye(4)
    m[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.diag(scale)
    return m


def _output_tile(node, output, **tile_args):
    return ss.Tile(ss.emission_graph({"Node": node}, [], ("Node", output)), **tile_args)


def test_input_nodes(scene, tmp_path):
    """Texture Coordinate, Geometry, UV Map, Attribute, Color Attribute, Object Info, Light Path,
    Value and RGB on planes (some rotated and scaled, with their own colour and pass index)."""
    rng = np.random.default_rng(3)
    names, tiles = [], []

    def add(name, node, output, **tile_args):
        names.append(name)
        tiles.append(_output_tile(node, output, **tile_args))

    for output in ("Generated", "Normal", "UV", "Object", "Camera", "Window", "Reflection"):
        add(f"TexCoord {output}", {"type": "ShaderNodeTexCoord"}, output, matrix=_rotated())
    for output in ("Position", "Normal", "Tangent", "True Normal", "Incoming", "Parametric", "Backfacing"):
        add(f"Geometry {output}", {"type": "ShaderNodeNewGeometry"}, output, matrix=_rotated(-0.4))
    add("UV Map Alt", {"type": "ShaderNodeUVMap", "params": {"uv_map": "Alt"}}, "UV")
    add("UV Map default", {"type": "ShaderNodeUVMap"}, "UV")
    colors = rng.uniform(0, 1, (4, 4)).astype(np.float32)
    weights = rng.uniform(-1, 2, 4).astype(np.float32)
    for output in ("Color", "Vector", "Fac", "Alpha"):
        add(f"Attribute Col {output}", {"type": "ShaderNodeAttribute", "params": {"attribute_name": "Col"}}, output,
            point_colors=colors)
    for output in ("Color", "Fac", "Alpha"):
        add(f"Attribute weight {output}", {"type": "ShaderNodeAttribute", "params": {"attribute_name": "weight"}},
            output, weights=weights)
    add("Attribute UVMap", {"type": "ShaderNodeAttribute", "params": {"attribute_name": "Alt"}}, "Vector")
    add("Attribute missing", {"type": "ShaderNodeAttribute", "params": {"attribute_name": "nope"}}, "Color")
    add("Attribute missing alpha", {"type": "ShaderNodeAttribute", "params": {"attribute_name": "nope"}}, "Alpha")
    add("Color Attribute default", {"type": "ShaderNodeVertexColor"}, "Color", point_colors=colors)
    add("Color Attribute Col alpha", {"type": "ShaderNodeVertexColor", "params": {"layer_name": "Col"}}, "Alpha",
        point_colors=colors)
    for output in ("Location", "Color", "Alpha", "Object Index", "Material Index"):
        add(f"Object Info {output}", {"type": "ShaderNodeObjectInfo"}, output, matrix=_rotated(0.3),
            color=(0.2, 0.7, 0.4, 0.6), pass_index=7)
    for output in ("Is Camera Ray", "Is Shadow Ray", "Is Diffuse Ray", "Is Reflection Ray", "Ray Length",
                   "Ray Depth", "Transparent Depth"):
        add(f"Light Path {output}", {"type": "ShaderNodeLightPath"}, output)
    add("Value", {"type": "ShaderNodeValue", "params": {"value": 0.37}}, "Value")
    add("RGB", {"type": "ShaderNodeRGB", "params": {"color": (0.1, 0.5, 0.9)}}, "Color")
    t = ss.TileScene(tiles, tile_px=12, cols=8)
    compare_tiles(t, *render_both(scene, t, tmp_path), names)


def test_normal_nodes_on_spheres(scene, tmp_path):
    """Nodes that read or make normals, on smooth spheres (their output shown as a colour):
    Normal Map in every space, Bump (from UV and from object coordinates), Normal, Tangent,
    Fresnel, Layer Weight, the Geometry normals."""
    names, tiles = [], []

    def add(name, nodes, links, source, matrix=None):
        names.append(name)
        tiles.append(ss.Tile(ss.emission_graph(nodes, links, source), shape="sphere", matrix=matrix))

    uv_color = {"UV": {"type": "ShaderNodeTexCoord"}, "XYZ": {"type": "ShaderNodeSeparateXYZ"},
                "Color": {"type": "ShaderNodeCombineColor", "inputs": {"Blue": 0.9}},
                "X": {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"},
                      "inputs": {"Value_001": 0.6, "Value_002": 0.2}},
                "Y": {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"},
                      "inputs": {"Value_001": 0.6, "Value_002": 0.2}}}
    uv_links = [["UV", "UV", "XYZ", "Vector"], ["XYZ", "X", "X", "Value"], ["XYZ", "Y", "Y", "Value"],
                ["X", "Value", "Color", "Red"], ["Y", "Value", "Color", "Green"]]
    for space in ("TANGENT", "OBJECT", "WORLD", "BLENDER_OBJECT", "BLENDER_WORLD"):
        nodes = dict(uv_color, Map={"type": "ShaderNodeNormalMap", "params": {"space": space},
                                    "inputs": {"Strength": 0.7}})
        add(f"Normal Map {space}", nodes, [*uv_links, ["Color", "Color", "Map", "Color"]], ("Map", "Normal"),
            matrix=_rotated(0.5, (1.0, 1.0, 1.0)))
    waves = {"UV": {"type": "ShaderNodeTexCoord"}, "XYZ": {"type": "ShaderNodeSeparateXYZ"},
             "Scale": {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY"}, "inputs": {"Value_001": 9.0}},
             "Sine": {"type": "ShaderNodeMath", "params": {"operation": "SINE"}},
             "Bump": {"type": "ShaderNodeBump", "inputs": {"Strength": 0.8, "Distance": 0.05}}}
    for source in ("UV", "Object"):
        links = [["UV", source, "XYZ", "Vector"], ["XYZ", "X", "Scale", "Value"], ["Scale", "Value", "Sine", "Value"],
                 ["Sine", "Value", "Bump", "Height"]]
        add(f"Bump from {source}", dict(waves), links, ("Bump", "Normal"))
    add("Bump inverted", dict(waves, Bump={"type": "ShaderNodeBump", "params": {"invert": True},
                                           "inputs": {"Distance": 0.05}}),
        [["UV", "Object", "XYZ", "Vector"], ["XYZ", "Y", "Scale", "Value"], ["Scale", "Value", "Sine", "Value"],
         ["Sine", "Value", "Bump", "Height"]], ("Bump", "Normal"))
    for output in ("Normal", "Dot"):
        add(f"Normal {output}", {"N": {"type": "ShaderNodeNormal", "params": {"direction": (0.3, -0.5, 0.81)}},
                                 "Geo": {"type": "ShaderNodeNewGeometry"}},
            [["Geo", "Normal", "N", "Normal"]], ("N", output))
    for axis in ("X", "Y", "Z"):
        add(f"Tangent radial {axis}", {"T": {"type": "ShaderNodeTangent", "params": {"axis": axis}}}, [], ("T", "Tangent"))
    add("Tangent UV map", {"T": {"type": "ShaderNodeTangent", "params": {"direction_type": "UV_MAP", "uv_map": "UVMap"}}},
        [], ("T", "Tangent"))
    add("Fresnel", {"F": {"type": "ShaderNodeFresnel", "inputs": {"IOR": 1.45}}}, [], ("F", "Fac"))
    for output in ("Fresnel", "Facing"):
        add(f"Layer Weight {output}", {"L": {"type": "ShaderNodeLayerWeight", "inputs": {"Blend": 0.3}}}, [],
            ("L", output))
    for output in ("Normal", "True Normal", "Incoming"):
        add(f"Geometry {output}", {"G": {"type": "ShaderNodeNewGeometry"}}, [], ("G", output))
    add("TexCoord Normal", {"C": {"type": "ShaderNodeTexCoord"}}, [], ("C", "Normal"), matrix=_rotated(0.5))
    t = ss.TileScene(tiles, tile_px=24, cols=6)
    # A flat triangle's normal jumps at every edge, and the sphere has many.
    compare_tiles(t, *render_both(scene, t, tmp_path), names, outliers={"Geometry True Normal": 0.08})
