# SPDX-License-Identifier: GPL-3.0-or-later
"""Shader node trees → scene dict v2 graphs (addon/export/shader_graph.py, node_params.py) in
real Blender: node trees built by script, checked structurally against the contract
(docs/design/shading-graph.md) and against Blender's own evaluation (ramps, curves).

The core does not read version 2 yet: these tests check the dicts, not renders.
"""

import math
import os

import bpy
import numpy as np
import pytest
from conftest import export_package

pkg = export_package()
shader_graph = pkg.shader_graph
node_params = pkg.node_params
SceneExporter = pkg.SceneExporter

# Every shader node type Blender 5.0 has, except the ones a test wants unsupported.
ALL_TYPES = frozenset(n for n in dir(bpy.types) if n.startswith("ShaderNode")) - {
    "ShaderNodeGroup", "ShaderNodeCustomGroup", "ShaderNodeTree"}
UNSUPPORTED = frozenset({"ShaderNodeTexGabor", "ShaderNodeScript", "ShaderNodeBevel"})
EVALUABLE = ALL_TYPES - UNSUPPORTED


class Log:
    def __init__(self):
        self.messages = []

    def __call__(self, level, key, message):
        if key not in {k for k, _ in self.messages}:
            self.messages.append((key, message))


@pytest.fixture
def tree():
    """The node tree of a new material ("M") in an empty file, with its Principled BSDF."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.data.materials.new("M").node_tree


def extract(tree, evaluable=EVALUABLE, log=None, texture=lambda node: None):
    output = pkg.world.active_output(tree, "ShaderNodeOutputMaterial")
    return shader_graph.extract(output, evaluable, "Material 'M'", texture, log or Log()).finish()


def sock(sockets, key):
    """A socket by identifier (Blender's `[]` looks names up), name or index."""
    for s in sockets:
        if s.identifier == key:
            return s
    return sockets[key]


def link(tree, a, out, b, inp):
    return tree.links.new(sock(a.outputs, out), sock(b.inputs, inp))


def principled(tree):
    return tree.nodes["Principled BSDF"]


def links_into(graph, node_key):
    return {to_socket: (src, src_socket) for src, src_socket, to, to_socket in graph["links"] if to == node_key}


# ---------------------------------------------------------------------------------------------
# nodes, sockets, parameters


def test_only_nodes_that_reach_the_output(tree):
    p = principled(tree)
    noise = tree.nodes.new("ShaderNodeTexNoise")
    link(tree, noise, "Color", p, "Base Color")
    tree.nodes.new("ShaderNodeTexVoronoi")  # reaches nothing
    frame = tree.nodes.new("NodeFrame")
    noise.parent = frame
    g = extract(tree)
    assert g["output"] == "Material Output"
    assert list(g["nodes"]) == ["Material Output", "Principled BSDF", "Noise Texture"]
    assert [n["type"] for n in g["nodes"].values()] == [
        "ShaderNodeOutputMaterial", "ShaderNodeBsdfPrincipled", "ShaderNodeTexNoise"]
    assert sorted(map(tuple, g["links"])) == [
        ("Noise Texture", "Color", "Principled BSDF", "Base Color"),
        ("Principled BSDF", "BSDF", "Material Output", "Surface")]


def test_unlinked_inputs_by_identifier_hidden_and_unavailable_ones_left_out(tree):
    p = principled(tree)
    p.inputs["Base Color"].default_value = (0.9, 0.2, 0.1, 1.0)
    p.inputs["Roughness"].default_value = 0.25
    mix = tree.nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    sock(mix.inputs, "A_Color").default_value = (0.1, 0.2, 0.3, 1.0)
    link(tree, mix, "Result_Color", p, "Emission Color")
    g = extract(tree)
    inputs = g["nodes"]["Principled BSDF"]["inputs"]
    assert inputs["Base Color"] == pytest.approx([0.9, 0.2, 0.1, 1.0]) and inputs["Roughness"] == pytest.approx(0.25)
    assert isinstance(inputs["Roughness"], float)
    assert "Normal" not in inputs and "Tangent" not in inputs  # hide_value: the implicit normal
    assert "Weight" not in inputs  # unavailable
    assert "Emission Color" not in inputs  # linked
    m = g["nodes"]["Mix"]["inputs"]
    assert m["A_Color"] == pytest.approx([0.1, 0.2, 0.3, 1.0]) and "Factor_Float" in m
    assert not {"A_Float", "A_Vector", "Factor_Vector"} & set(m)
    assert links_into(g, "Principled BSDF")["Emission Color"] == ("Mix", "Result_Color")


def test_params_by_rna_identifier(tree):
    p = principled(tree)
    math_node = tree.nodes.new("ShaderNodeMath")
    math_node.operation, math_node.use_clamp = "MULTIPLY", True
    voronoi = tree.nodes.new("ShaderNodeTexVoronoi")
    voronoi.voronoi_dimensions, voronoi.feature = "2D", "SMOOTH_F1"
    link(tree, voronoi, "Distance", math_node, 0)
    link(tree, math_node, "Value", p, "Metallic")
    sky_world = tree.nodes.new("ShaderNodeTexSky")  # array parameter, not reached
    g = extract(tree)
    assert g["nodes"]["Math"]["params"] == {"operation": "MULTIPLY", "use_clamp": True}
    vp = g["nodes"]["Voronoi Texture"]["params"]
    assert (vp["voronoi_dimensions"], vp["feature"], vp["distance"], vp["normalize"]) == (
        "2D", "SMOOTH_F1", "EUCLIDEAN", False)
    assert g["nodes"]["Material Output"]["params"] == {}  # no is_active_output / target
    assert g["nodes"]["Principled BSDF"]["params"] == {"distribution": "MULTI_GGX",
                                                        "subsurface_method": "RANDOM_WALK"}
    sky = node_params.read_params(sky_world, lambda n: None)
    assert len(sky["sun_direction"]) == 3 and isinstance(sky["sky_type"], str)


def test_value_rgb_and_normal_constants_are_params(tree):
    p = principled(tree)
    value, rgb, normal = (tree.nodes.new(t) for t in ("ShaderNodeValue", "ShaderNodeRGB", "ShaderNodeNormal"))
    value.outputs[0].default_value = 0.375
    rgb.outputs[0].default_value = (0.5, 0.25, 0.125, 1.0)
    normal.outputs["Normal"].default_value = (0.0, 0.6, 0.8)
    link(tree, value, 0, p, "Metallic")
    link(tree, rgb, 0, p, "Base Color")
    link(tree, normal, "Dot", p, "Roughness")
    nodes = extract(tree)["nodes"]
    assert nodes[value.name]["params"] == {"value": 0.375}
    assert nodes[rgb.name]["params"] == {"color": pytest.approx([0.5, 0.25, 0.125, 1.0])}
    assert nodes[normal.name]["params"]["direction"] == pytest.approx([0.0, 0.6, 0.8])


def test_texture_coordinate_object_is_its_matrix(tree):
    empty = bpy.data.objects.new("Target", None)
    empty.location = (1.0, 2.0, 3.0)
    bpy.context.scene.collection.objects.link(empty)
    bpy.context.view_layer.update()
    coords = tree.nodes.new("ShaderNodeTexCoord")
    coords.object = empty
    link(tree, coords, "Object", principled(tree), "Base Color")
    params = extract(tree)["nodes"]["Texture Coordinate"]["params"]
    np.testing.assert_allclose(params["object"], np.array(empty.matrix_world, np.float32))
    assert params["object"].dtype == np.float32 and params["from_instancer"] is False
    coords.object = None
    assert extract(tree)["nodes"]["Texture Coordinate"]["params"]["object"] is None


# ---------------------------------------------------------------------------------------------
# flattening


def _group(name, build):
    g = bpy.data.node_groups.new(name, "ShaderNodeTree")
    gin, gout = g.nodes.new("NodeGroupInput"), g.nodes.new("NodeGroupOutput")
    build(g, gin, gout)
    return g


def test_groups_nested_two_deep_are_inlined(tree):
    def inner(g, gin, gout):
        g.interface.new_socket("Scale", in_out="INPUT", socket_type="NodeSocketFloat").default_value = 3.0
        g.interface.new_socket("Fac", in_out="OUTPUT", socket_type="NodeSocketFloat")
        noise = g.nodes.new("ShaderNodeTexNoise")
        g.links.new(gin.outputs[0], noise.inputs["Scale"])
        g.links.new(noise.outputs["Fac"], gout.inputs[0])

    inner_tree = _group("Inner", inner)

    def outer(g, gin, gout):
        g.interface.new_socket("Tint", in_out="INPUT", socket_type="NodeSocketFloat")
        g.interface.new_socket("Scale", in_out="INPUT", socket_type="NodeSocketFloat")
        g.interface.new_socket("Color", in_out="OUTPUT", socket_type="NodeSocketColor")
        g.interface.new_socket("Unset", in_out="OUTPUT", socket_type="NodeSocketFloat")
        node = g.nodes.new("ShaderNodeGroup")
        node.node_tree, node.name = inner_tree, "Detail"
        mix = g.nodes.new("ShaderNodeMix")
        mix.data_type = "RGBA"
        g.links.new(gin.outputs[1], node.inputs[0])
        g.links.new(node.outputs[0], sock(mix.inputs, "Factor_Float"))
        g.links.new(gin.outputs[0], sock(mix.inputs, "A_Color"))  # float group input into a colour
        g.links.new(sock(mix.outputs, "Result_Color"), gout.inputs[0])
        gout.inputs[1].default_value = 0.625  # unlinked inside: this value comes out

    outer_tree = _group("Outer", outer)
    p = principled(tree)
    group = tree.nodes.new("ShaderNodeGroup")
    group.node_tree, group.name = outer_tree, "Wood"
    group.inputs[0].default_value = 0.25  # Tint: unlinked on the group node
    scale = tree.nodes.new("ShaderNodeValue")
    scale.outputs[0].default_value = 7.0
    link(tree, scale, 0, group, 1)  # Scale: linked from outside
    link(tree, group, 0, p, "Base Color")
    link(tree, group, 1, p, "Metallic")
    g = extract(tree)
    assert set(g["nodes"]) == {"Material Output", "Principled BSDF", "Value", "Wood/Mix", "Wood/Detail/Noise Texture"}
    assert links_into(g, "Principled BSDF")["Base Color"] == ("Wood/Mix", "Result_Color")
    assert links_into(g, "Wood/Mix")["Factor_Float"] == ("Wood/Detail/Noise Texture", "Fac")
    assert links_into(g, "Wood/Detail/Noise Texture")["Scale"] == ("Value", "Value")
    assert g["nodes"]["Wood/Mix"]["inputs"]["A_Color"] == [0.25, 0.25, 0.25, 1.0]
    assert g["nodes"]["Principled BSDF"]["inputs"]["Metallic"] == pytest.approx(0.625)
    # The group's Scale left unlinked on the group node: the inner noise gets the node's value.
    tree.links.remove(group.inputs[1].links[0])
    group.inputs[1].default_value = 11.0
    g = extract(tree)
    assert g["nodes"]["Wood/Detail/Noise Texture"]["inputs"]["Scale"] == pytest.approx(11.0)
    assert "Value" not in g["nodes"]


def test_group_without_a_tree_or_output_leaves_the_input_its_value(tree):
    p = principled(tree)
    p.inputs["Roughness"].default_value = 0.33
    group = tree.nodes.new("ShaderNodeGroup")
    empty = bpy.data.node_groups.new("NoOutput", "ShaderNodeTree")
    empty.interface.new_socket("Fac", in_out="OUTPUT", socket_type="NodeSocketFloat")
    group.node_tree = empty
    link(tree, group, 0, p, "Roughness")
    assert extract(tree)["nodes"]["Principled BSDF"]["inputs"]["Roughness"] == pytest.approx(0.33)
    group.node_tree = None
    assert extract(tree)["nodes"]["Principled BSDF"]["inputs"]["Roughness"] == pytest.approx(0.33)


def test_too_deep_groups_and_too_long_chains_are_cut_and_reported(tree, monkeypatch):
    monkeypatch.setattr(shader_graph, "_MAX_GROUP_DEPTH", 1)
    monkeypatch.setattr(shader_graph, "_MAX_HOPS", 4)

    def wrapper(inner_tree=None):
        def build(g, gin, gout):
            g.interface.new_socket("Fac", in_out="OUTPUT", socket_type="NodeSocketFloat")
            node = g.nodes.new("ShaderNodeTexNoise")
            if inner_tree is not None:
                node = g.nodes.new("ShaderNodeGroup")
                node.node_tree = inner_tree
            g.links.new(node.outputs[0], gout.inputs[0])
        return build

    outer = _group("Outer", wrapper(_group("Inner", wrapper())))
    p = principled(tree)
    p.inputs["Metallic"].default_value, p.inputs["Roughness"].default_value = 0.2, 0.6
    group = tree.nodes.new("ShaderNodeGroup")
    group.node_tree = outer
    link(tree, group, 0, p, "Metallic")
    prev = tree.nodes.new("ShaderNodeTexWave")
    for _ in range(5):
        r = tree.nodes.new("NodeReroute")
        link(tree, prev, 0, r, 0)
        prev = r
    link(tree, prev, 0, p, "Roughness")
    log = Log()
    g = extract(tree, log=log)
    inputs = g["nodes"]["Principled BSDF"]["inputs"]
    assert (inputs["Metallic"], inputs["Roughness"]) == pytest.approx((0.2, 0.6))
    assert set(g["nodes"]) == {"Material Output", "Principled BSDF"}
    said = " ".join(m for _, m in log.messages)
    assert "nested deeper than 1 levels" in said and "longer than 4 links" in said


def test_a_key_taken_by_a_node_named_with_a_slash_is_made_unique(tree):
    def build(g, gin, gout):
        g.interface.new_socket("Fac", in_out="OUTPUT", socket_type="NodeSocketFloat")
        noise = g.nodes.new("ShaderNodeTexNoise")
        noise.name = "Noise"
        g.links.new(noise.outputs[0], gout.inputs[0])

    p = principled(tree)
    group = tree.nodes.new("ShaderNodeGroup")
    group.node_tree, group.name = _group("G", build), "G"
    link(tree, group, 0, p, "Metallic")
    impostor = tree.nodes.new("ShaderNodeTexWave")
    impostor.name = "G/Noise"
    link(tree, impostor, "Fac", p, "Roughness")
    g = extract(tree)
    into = links_into(g, "Principled BSDF")
    keys = {into["Metallic"][0], into["Roughness"][0]}
    assert keys == {"G/Noise", "G/Noise (2)"}
    assert {g["nodes"][k]["type"] for k in keys} == {"ShaderNodeTexNoise", "ShaderNodeTexWave"}


def test_colour_constant_into_a_float_socket_is_its_luminance():
    assert shader_graph.convert_value([1.0, 0.0, 0.0, 1.0], "VALUE") == pytest.approx(0.2126729)
    assert shader_graph.convert_value([0.3, 0.6, 0.9], "VALUE") == pytest.approx(0.6)
    assert shader_graph.convert_value(0.5, "VECTOR") == [0.5, 0.5, 0.5]
    assert shader_graph.convert_value([0.1, 0.2, 0.3], "RGBA") == [0.1, 0.2, 0.3, 1.0]
    assert shader_graph.convert_value(2.7, "INT") == 2 and shader_graph.convert_value(0.0, "BOOLEAN") is False


def test_reroute_chains_are_followed(tree):
    p = principled(tree)
    noise = tree.nodes.new("ShaderNodeTexNoise")
    prev = (noise, "Fac")
    for _ in range(3):
        r = tree.nodes.new("NodeReroute")
        link(tree, prev[0], prev[1], r, 0)
        prev = (r, 0)
    link(tree, prev[0], prev[1], p, "Roughness")
    g = extract(tree)
    assert links_into(g, "Principled BSDF")["Roughness"] == ("Noise Texture", "Fac")
    assert not any(n["type"] == "NodeReroute" for n in g["nodes"].values())
    # A reroute chain fed by nothing: the input keeps its own value.
    p.inputs["Metallic"].default_value = 0.4
    dangling = tree.nodes.new("NodeReroute")
    link(tree, dangling, 0, p, "Metallic")
    assert extract(tree)["nodes"]["Principled BSDF"]["inputs"]["Metallic"] == pytest.approx(0.4)


def test_muted_node_passes_its_internal_link(tree):
    p = principled(tree)
    noise = tree.nodes.new("ShaderNodeTexNoise")
    math_node = tree.nodes.new("ShaderNodeMath")
    link(tree, noise, "Fac", math_node, 0)
    link(tree, math_node, "Value", p, "Roughness")
    math_node.mute = True
    g = extract(tree)
    assert "Math" not in g["nodes"]
    assert links_into(g, "Principled BSDF")["Roughness"] == ("Noise Texture", "Fac")


def test_muted_node_without_internal_link_leaves_the_input_its_value(tree):
    p = principled(tree)
    p.inputs["Base Color"].default_value = (0.2, 0.4, 0.6, 1.0)
    noise = tree.nodes.new("ShaderNodeTexNoise")
    link(tree, noise, "Color", p, "Base Color")
    noise.mute = True
    assert not list(noise.internal_links)
    g = extract(tree)
    assert "Noise Texture" not in g["nodes"]
    assert g["nodes"]["Principled BSDF"]["inputs"]["Base Color"] == pytest.approx([0.2, 0.4, 0.6, 1.0])


def test_invalid_muted_and_unavailable_links_are_dropped(tree):
    p = principled(tree)
    p.inputs["Metallic"].default_value, p.inputs["Roughness"].default_value = 0.3, 0.7
    p.inputs["IOR"].default_value = 1.25
    diffuse = tree.nodes.new("ShaderNodeBsdfDiffuse")
    invalid = link(tree, diffuse, "BSDF", p, "Metallic")  # shader into a float: invalid
    noise = tree.nodes.new("ShaderNodeTexNoise")
    muted = link(tree, noise, "Fac", p, "Roughness")
    muted.is_muted = True
    mix = tree.nodes.new("ShaderNodeMix")  # FLOAT: Result_Color is unavailable
    link(tree, mix, "Result_Color", p, "IOR")
    bpy.context.view_layer.update()
    assert not invalid.is_valid
    g = extract(tree)
    assert set(g["nodes"]) == {"Material Output", "Principled BSDF"}
    inputs = g["nodes"]["Principled BSDF"]["inputs"]
    assert (inputs["Metallic"], inputs["Roughness"], inputs["IOR"]) == pytest.approx((0.3, 0.7, 1.25))


def test_unsupported_node_is_muted_and_reported_once_per_material_and_type(tree):
    p = principled(tree)
    value = tree.nodes.new("ShaderNodeValue")
    gabor = tree.nodes.new("ShaderNodeTexGabor")  # internal links: Scale -> Value, Phase, Intensity
    gabor2 = tree.nodes.new("ShaderNodeTexGabor")
    link(tree, value, 0, gabor, "Scale")
    link(tree, gabor, "Value", p, "Roughness")
    link(tree, gabor2, "Phase", p, "Metallic")  # its Scale is unlinked: Metallic keeps its value
    p.inputs["Metallic"].default_value = 0.15
    log = Log()
    ex = shader_graph.extract(tree.nodes["Material Output"], EVALUABLE, "Material 'M'", lambda n: None, log)
    g = ex.finish()
    assert ex.approximated == ("ShaderNodeTexGabor",)
    assert not any(n["type"] == "ShaderNodeTexGabor" for n in g["nodes"].values())
    assert links_into(g, "Principled BSDF")["Roughness"] == ("Value", "Value")
    assert g["nodes"]["Principled BSDF"]["inputs"]["Metallic"] == pytest.approx(0.15)
    assert len(log.messages) == 1 and "ShaderNodeTexGabor" in log.messages[0][1] and "'M'" in log.messages[0][1]
    other = shader_graph.extract(tree.nodes["Material Output"], EVALUABLE, "Material 'N'", lambda n: None, log)
    assert other.approximated == ("ShaderNodeTexGabor",)
    assert len(log.messages) == 2  # another material, the same type: said for it too


def test_no_output_renders_black_and_cycles_output_is_preferred(tree):
    out = tree.nodes["Material Output"]
    out.target = "EEVEE"
    assert pkg.world.active_output(tree, "ShaderNodeOutputMaterial") is None
    mat = bpy.data.materials["M"]
    g = pkg.materials.material_graph(mat, EVALUABLE, lambda n, s: None, Log()).finish()
    assert g == {"nodes": {"Material Output": {"type": "ShaderNodeOutputMaterial", "params": {}, "inputs": {}}},
                 "links": [], "output": "Material Output"}
    out.target = "ALL"
    cycles_out = tree.nodes.new("ShaderNodeOutputMaterial")
    cycles_out.target, cycles_out.name = "CYCLES", "Cycles Output"
    assert pkg.world.active_output(tree, "ShaderNodeOutputMaterial") == cycles_out


# ---------------------------------------------------------------------------------------------
# ramps and curves against Blender's own evaluation


def _ramp_reference(ramp, x):
    """Blender's LINEAR/CONSTANT RGB ramp at x, from the exported stops."""
    pos, col = ramp["positions"], ramp["colors"]
    if ramp["interpolation"] == "CONSTANT":
        i = np.searchsorted(pos, x, side="right") - 1
        return col[np.clip(i, 0, len(pos) - 1)]
    return np.array([np.interp(x, pos, col[:, c]) for c in range(4)])


@pytest.mark.parametrize("interpolation", ["LINEAR", "CONSTANT"])
def test_color_ramp_stops_reproduce_blenders_ramp(tree, interpolation):
    node = tree.nodes.new("ShaderNodeValToRGB")
    cr = node.color_ramp
    cr.interpolation = interpolation
    cr.elements[0].position, cr.elements[0].color = 0.1, (1.0, 0.0, 0.0, 1.0)
    cr.elements[1].position, cr.elements[1].color = 0.9, (0.0, 0.0, 1.0, 0.5)
    mid = cr.elements.new(0.4)
    mid.color = (0.0, 1.0, 0.2, 0.8)
    link(tree, node, "Color", principled(tree), "Base Color")
    ramp = extract(tree)["nodes"]["Color Ramp"]["params"]["ramp"]
    assert (ramp["interpolation"], ramp["color_mode"], ramp["hue_interpolation"]) == (interpolation, "RGB", "NEAR")
    assert ramp["positions"].dtype == np.float32 and ramp["colors"].shape == (3, 4)
    for x in np.linspace(-0.2, 1.2, 57):
        if interpolation == "CONSTANT" and np.min(np.abs(ramp["positions"] - x)) < 1e-6:
            continue  # exactly on a stop: either side is right
        np.testing.assert_allclose(_ramp_reference(ramp, x), cr.evaluate(float(x)), atol=1e-5, err_msg=str(x))


def _table_at(curve, column, x):
    """Cycles' lookup of a baked table (linear between entries, clamped)."""
    table, (lo, hi) = curve["table"][:, column], curve["range"]
    f = np.clip((x - lo) / (hi - lo), 0.0, 1.0) * (len(table) - 1)
    i = min(int(f), len(table) - 2)
    return table[i] + (f - i) * (table[i + 1] - table[i])


def test_float_curve_is_baked_as_cycles_bakes_it(tree):
    node = tree.nodes.new("ShaderNodeFloatCurve")
    mapping = node.mapping
    mapping.use_clip = False
    c = mapping.curves[0]
    c.points[0].location = (-0.5, 0.2)
    c.points.new(0.3, 0.9)
    c.points.new(1.5, 0.1)
    mapping.extend = "EXTRAPOLATED"
    mapping.update()
    link(tree, node, "Value", principled(tree), "Roughness")
    curve = extract(tree)["nodes"]["Float Curve"]["params"]["curve"]
    assert curve["table"].shape == (257, 1) and curve["table"].dtype == np.float32
    assert curve["range"] == pytest.approx([-0.5, 1.5]) and curve["extrapolate"] is True
    mapping.initialize()
    for x in np.linspace(-0.5, 1.5, 41):
        assert _table_at(curve, 0, x) == pytest.approx(mapping.evaluate(c, float(x)), abs=4e-3), x
    mapping.extend = "HORIZONTAL"
    assert extract(tree)["nodes"]["Float Curve"]["params"]["curve"]["extrapolate"] is False


def test_rgb_curve_columns_follow_the_combined_curve(tree):
    node = tree.nodes.new("ShaderNodeRGBCurve")
    mapping = node.mapping
    red, combined = mapping.curves[0], mapping.curves[3]
    red.points.new(0.5, 0.8)
    combined.points[1].location = (1.0, 0.6)
    mapping.update()
    link(tree, node, "Color", principled(tree), "Base Color")
    curve = extract(tree)["nodes"]["RGB Curves"]["params"]["curve"]
    assert curve["table"].shape == (257, 3) and curve["range"] == pytest.approx([0.0, 1.0])
    mapping.initialize()
    for x in np.linspace(0.0, 1.0, 21):
        x = float(x)
        expected = [mapping.evaluate(mapping.curves[k], mapping.evaluate(combined, x)) for k in range(3)]
        got = [_table_at(curve, k, x) for k in range(3)]
        assert got == pytest.approx(expected, abs=4e-3), x


def test_vector_curve_range_spans_all_three_curves(tree):
    node = tree.nodes.new("ShaderNodeVectorCurve")
    mapping = node.mapping
    mapping.use_clip = False
    mapping.curves[1].points[0].location = (-1.0, -1.0)
    mapping.curves[2].points[1].location = (2.0, 1.0)
    mapping.update()
    link(tree, node, "Vector", principled(tree), "Base Color")
    curve = extract(tree)["nodes"]["Vector Curves"]["params"]["curve"]
    assert curve["table"].shape == (257, 3) and curve["range"] == pytest.approx([-1.0, 2.0])
    mapping.initialize()
    for k in range(3):
        for x in (-1.0, -0.25, 0.5, 1.75):
            assert _table_at(curve, k, x) == pytest.approx(mapping.evaluate(mapping.curves[k], x), abs=4e-3)


# ---------------------------------------------------------------------------------------------
# mesh data requests


def test_nodes_request_the_mesh_data_they_read(tree):
    p = principled(tree)
    nmap = tree.nodes.new("ShaderNodeNormalMap")
    link(tree, nmap, "Normal", p, "Normal")
    tangent = tree.nodes.new("ShaderNodeTangent")
    tangent.direction_type, tangent.uv_map = "UV_MAP", "Second"
    link(tree, tangent, "Tangent", p, "Tangent")
    attr = tree.nodes.new("ShaderNodeAttribute")
    attr.attribute_name = "wetness"
    link(tree, attr, "Fac", p, "Roughness")
    col = tree.nodes.new("ShaderNodeVertexColor")
    link(tree, col, "Color", p, "Base Color")
    output = tree.nodes["Material Output"]
    req = shader_graph.extract(output, EVALUABLE, "M", lambda n: None, Log()).requests
    assert req.tangents == {"", "Second"} and req.attributes == {"wetness", ""}
    nmap.space, attr.attribute_type = "OBJECT", "OBJECT"
    tree.links.remove(col.outputs["Color"].links[0])
    req = shader_graph.extract(output, EVALUABLE, "M", lambda n: None, Log()).requests
    assert req.tangents == {"Second"} and not req.attributes


# ---------------------------------------------------------------------------------------------
# through the exporter: images, caching, stats, errors


def _plane_with(mat):
    bpy.ops.mesh.primitive_plane_add()
    ob = bpy.context.object
    ob.data.materials.append(mat)
    return ob


def test_image_nodes_name_textures_and_missing_images_are_none(tree, tmp_path):
    img = bpy.data.images.new("Paint", 2, 2)
    px = np.arange(16, dtype=np.float32).reshape(2, 2, 4) * 15 / 255
    img.pixels.foreach_set(px.ravel())
    p = principled(tree)
    a, b, c = (tree.nodes.new("ShaderNodeTexImage") for _ in range(3))
    a.image, a.interpolation, a.extension = img, "Cubic", "MIRROR"
    b.image = None
    link(tree, a, "Color", p, "Base Color")
    link(tree, a, "Alpha", p, "Alpha")
    link(tree, b, "Color", p, "Emission Color")
    gone = bpy.data.images.new("Gone", 4, 4)
    gone.source, gone.filepath = "FILE", str(tmp_path / "gone.png")
    c.image = gone
    link(tree, c, "Color", p, "Specular Tint")
    _plane_with(bpy.data.materials["M"])
    log = []
    ex = SceneExporter(log=lambda level, msg: log.append(msg), version=2, evaluable=EVALUABLE)
    d = ex.export(bpy.context.evaluated_depsgraph_get())
    nodes = d["materials"]["M"]["nodes"]
    pa = nodes["Image Texture"]["params"]
    assert (pa["interpolation"], pa["extension"], pa["projection"]) == ("Cubic", "MIRROR", "FLAT")
    t = d["textures"][pa["image"]]
    assert set(t) == {"pixels", "colorspace", "alpha_mode"}
    assert t["pixels"].dtype == np.uint8 and (t["colorspace"], t["alpha_mode"]) == ("srgb", "STRAIGHT")
    np.testing.assert_array_equal(t["pixels"], np.arange(16).reshape(2, 2, 4) * 15)
    assert nodes["Image Texture.001"]["params"]["image"] is None  # no image: magenta in the core
    assert nodes["Image Texture.002"]["params"]["image"] is None  # missing file: magenta too
    assert any("Image Texture without an image" in m and "Material 'M'" in m for m in log)
    assert any("'Gone' has no pixels" in m for m in log)
    assert not any("mirror" in m for m in log)  # version 2 samples as the node says


def test_unchanged_material_is_not_finished_again(tree):
    node = tree.nodes.new("ShaderNodeRGBCurve")
    link(tree, node, "Color", principled(tree), "Base Color")
    ob = _plane_with(bpy.data.materials["M"])
    ex = SceneExporter(log=lambda *a: None, version=2, evaluable=EVALUABLE)
    d1 = ex.export(bpy.context.evaluated_depsgraph_get())
    ob.location.x += 1.0
    d2 = ex.export(bpy.context.evaluated_depsgraph_get())
    assert d2["materials"]["M"] is d1["materials"]["M"]
    node.mapping.curves[3].points.new(0.5, 0.9)
    node.mapping.update()
    bpy.data.materials["M"].node_tree.update_tag()
    d3 = ex.export(bpy.context.evaluated_depsgraph_get())
    assert d3["materials"]["M"] is not d1["materials"]["M"]
    t1 = d1["materials"]["M"]["nodes"]["RGB Curves"]["params"]["curve"]["table"]
    t3 = d3["materials"]["M"]["nodes"]["RGB Curves"]["params"]["curve"]["table"]
    assert not np.allclose(t1, t3)
    principled(tree).inputs["Roughness"].default_value = 0.9
    d4 = ex.export(bpy.context.evaluated_depsgraph_get())
    assert d4["materials"]["M"]["nodes"]["Principled BSDF"]["inputs"]["Roughness"] == pytest.approx(0.9)


def test_approximated_materials_are_counted(tree):
    p = principled(tree)
    gabor = tree.nodes.new("ShaderNodeTexGabor")
    link(tree, gabor, "Value", p, "Roughness")
    plain = bpy.data.materials.new("Plain")
    ob = _plane_with(bpy.data.materials["M"])
    ob.data.materials.append(plain)
    log = []
    ex = SceneExporter(log=lambda level, msg: log.append(msg), version=2, evaluable=EVALUABLE)
    d = ex.export(bpy.context.evaluated_depsgraph_get())
    assert d["version"] == 2
    s = ex.last_stats
    assert (s["materials"], s["materials_approximated"], s["materials_fallback"]) == (2, 1, 0)
    assert sum("ShaderNodeTexGabor" in m for m in log) == 1
    ex.export(bpy.context.evaluated_depsgraph_get())
    assert sum("ShaderNodeTexGabor" in m for m in log) == 1  # once, across exports too
    assert ex.last_stats["materials_approximated"] == 1


def test_a_graph_that_fails_to_convert_falls_back_and_is_reported(tree, monkeypatch):
    mat = bpy.data.materials["M"]
    mat.diffuse_color = (0.1, 0.6, 0.3, 1.0)
    _plane_with(mat)
    world = bpy.context.scene.world = bpy.data.worlds.new("Sky")
    world.color = (0.2, 0.3, 0.4)

    def broken(*args, **kwargs):
        raise RuntimeError("unreadable tree")

    monkeypatch.setattr(pkg.materials, "extract", broken)
    monkeypatch.setattr(pkg.world, "extract", broken)
    log = []
    ex = SceneExporter(log=lambda level, msg: log.append(msg), version=2, evaluable=EVALUABLE)
    d = ex.export(bpy.context.evaluated_depsgraph_get())
    nodes = d["materials"]["M"]["nodes"]
    assert nodes["Diffuse BSDF"]["inputs"]["Color"] == pytest.approx([0.1, 0.6, 0.3, 1.0])
    assert d["world"]["nodes"]["Background"]["inputs"]["Color"] == pytest.approx([0.2, 0.3, 0.4, 1.0])
    assert ex.last_stats["materials_approximated"] == 1
    assert sum("unreadable tree" in m for m in log) == 2
    assert any(m.startswith("Material 'M' could not be converted") for m in log)
    assert any(m.startswith("World 'Sky' could not be converted") for m in log)


def test_version_2_is_the_default_and_needs_the_evaluable_node_types():
    assert SceneExporter(log=lambda *a: None, evaluable=EVALUABLE).version == 2
    with pytest.raises(ValueError, match="node types the core evaluates"):
        SceneExporter()
    with pytest.raises(ValueError, match="version 3"):
        SceneExporter(version=3)


def test_world_graph(tree):
    scene = bpy.context.scene
    assert scene.world is None
    ex = SceneExporter(log=lambda *a: None, version=2, evaluable=EVALUABLE)
    w = ex.export(bpy.context.evaluated_depsgraph_get())["world"]
    assert w["nodes"]["Background"]["inputs"]["Color"] == pytest.approx([0.050876] * 3 + [1.0])
    world = scene.world = bpy.data.worlds.new("Sky")
    wt = world.node_tree
    env = wt.nodes.new("ShaderNodeTexEnvironment")
    env.projection = "MIRROR_BALL"
    bg = wt.nodes["Background"]
    wt.links.new(env.outputs["Color"], bg.inputs["Color"])
    log = []
    ex = SceneExporter(log=lambda level, msg: log.append(msg), version=2, evaluable=EVALUABLE)
    w = ex.export(bpy.context.evaluated_depsgraph_get())["world"]
    assert w["output"] == "World Output"
    assert w["nodes"]["Environment Texture"]["params"]["projection"] == "MIRROR_BALL"
    assert w["nodes"]["Environment Texture"]["params"]["image"] is None
    assert any("World 'Sky'" in m and "Environment Texture without an image" in m for m in log)
    assert links_into(w, "Background")["Color"] == ("Environment Texture", "Color")


# ---------------------------------------------------------------------------------------------
# a material built by Blender's glTF importer


def _write_png(path, rgba, non_color=False):
    img = bpy.data.images.new(os.path.basename(path), 4, 4)
    img.pixels.foreach_set(np.tile(np.asarray(rgba, np.float32), 16))
    img.filepath_raw, img.file_format = str(path), "PNG"
    img.save()
    return img


def test_gltf_imported_material(tree, tmp_path):
    p = principled(tree)
    images = {n: _write_png(tmp_path / f"{n}.png", c) for n, c in (
        ("albedo", (0.8, 0.3, 0.1, 1)), ("orm", (1.0, 0.6, 0.2, 1)), ("normal", (0.5, 0.5, 1.0, 1)),
        ("emissive", (0.1, 0.9, 0.2, 1)))}

    def image(name):
        node = tree.nodes.new("ShaderNodeTexImage")
        node.image = images[name]
        return node

    link(tree, image("albedo"), "Color", p, "Base Color")
    orm, sep = image("orm"), tree.nodes.new("ShaderNodeSeparateColor")
    link(tree, orm, "Color", sep, "Color")
    link(tree, sep, "Green", p, "Roughness")
    link(tree, sep, "Blue", p, "Metallic")
    nmap = tree.nodes.new("ShaderNodeNormalMap")
    link(tree, image("normal"), "Color", nmap, "Color")
    link(tree, nmap, "Normal", p, "Normal")
    link(tree, image("emissive"), "Color", p, "Emission Color")
    p.inputs["Emission Strength"].default_value = 1.0
    settings = bpy.data.node_groups.new("glTF Material Output", "ShaderNodeTree")
    settings.interface.new_socket("Occlusion", in_out="INPUT", socket_type="NodeSocketFloat")
    settings.nodes.new("NodeGroupInput")
    occlusion = tree.nodes.new("ShaderNodeGroup")
    occlusion.node_tree = settings
    link(tree, sep, "Red", occlusion, "Occlusion")
    _plane_with(bpy.data.materials["M"])
    path = tmp_path / "asset.gltf"
    assert bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLTF_SEPARATE") == {"FINISHED"}

    bpy.ops.wm.read_factory_settings(use_empty=True)
    assert bpy.ops.import_scene.gltf(filepath=str(path)) == {"FINISHED"}
    (mat,) = [m for m in bpy.data.materials]
    imported = mat.node_tree
    groups = [n for n in imported.nodes if n.bl_idname == "ShaderNodeGroup"]
    assert [g.node_tree.name for g in groups] == ["glTF Material Output"]  # built as the importer does

    ex = SceneExporter(log=lambda *a: None, version=2, evaluable=EVALUABLE)
    d = ex.export(bpy.context.evaluated_depsgraph_get())
    g = d["materials"][mat.name]
    nodes = g["nodes"]
    into_p = links_into(g, "Principled BSDF")

    def image_of(key):
        assert nodes[key]["type"] == "ShaderNodeTexImage"
        return d["textures"][nodes[key]["params"]["image"]]

    base_src, _ = into_p["Base Color"]
    assert image_of(base_src)["colorspace"] == "srgb"
    sep_key, green = into_p["Roughness"]
    assert nodes[sep_key]["type"] == "ShaderNodeSeparateColor" and green == "Green"
    assert into_p["Metallic"] == (sep_key, "Blue") and nodes[sep_key]["params"] == {"mode": "RGB"}
    assert image_of(links_into(g, sep_key)["Color"][0])["colorspace"] == "non_color"  # data
    nmap_key, _ = into_p["Normal"]
    assert nodes[nmap_key]["type"] == "ShaderNodeNormalMap" and nodes[nmap_key]["params"]["space"] == "TANGENT"
    assert image_of(links_into(g, nmap_key)["Color"][0])["colorspace"] == "non_color"
    emission_src, _ = into_p["Emission Color"]
    assert image_of(emission_src)["colorspace"] == "srgb"
    # The glTF Material Output group reaches no output: not part of the graph (Cycles ignores it too).
    assert not any("glTF" in k or n["type"] == "ShaderNodeGroup" for k, n in nodes.items())
    assert ex.last_stats["materials_approximated"] == 0
    mesh = next(iter(d["meshes"].values()))
    uv_map = nodes[nmap_key]["params"]["uv_map"]
    assert uv_map in mesh["tangents"] and set(mesh["tangents"]) <= {"", *mesh["uv_maps"]}  # asked by the Normal Map
    px = image_of(base_src)["pixels"]
    assert px.dtype == np.uint8 and tuple(px[0, 0, :3]) == (204, 77, 26)
