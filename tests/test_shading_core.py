"""Shader graphs in the core (optica_core.shading, the kernel interpreter), without Blender:
the registry, graph validation and its errors, the compiler (folding, stack reuse, reuse of
programs across set_scene), the native checks of programs, and renders with known answers.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import pytest

oc = pytest.importorskip("optica_core")
from optica_core import _native, shading  # noqa: E402
from optica_core.shading import isa  # noqa: E402

try:
    from . import helpers_scenes as hs
except ImportError:
    import helpers_scenes as hs


# ---- helpers -----------------------------------------------------------------------------------

def emission(nodes=None, links=(), source=None, color=(1.0, 1.0, 1.0), strength=1.0):
    """A material whose Emission Color is `source` (node, output) or `color`."""
    nodes = dict(nodes or {})
    nodes["Emission"] = {"type": "ShaderNodeEmission", "inputs": {"Color": color, "Strength": strength}}
    nodes["Output"] = {"type": "ShaderNodeOutputMaterial"}
    links = [*links, ["Emission", "Emission", "Output", "Surface"]]
    if source:
        links.append([*source, "Emission", "Color"])
    return {"nodes": nodes, "links": links, "output": "Output"}


def plane_scene(material: dict, size=8, world=None, textures=None, **mesh):
    """A plane filling an orthographic view from above, one material, zero bounces, a filter so
    narrow that pixels are their centres."""
    d = {"version": 2, "render": {"width": size, "height": size, "max_bounces": 0, "filter": "gaussian",
                                  "filter_width": 0.01},
         "camera": hs.ortho_camera_down(1.0, 2.0), "materials": {"m": material}, "textures": textures or {},
         "meshes": {"plane": dict(hs.plane_mesh(2.0, uvs=True), materials=["m"], **mesh)},
         "instances": [{"geometry": "plane", "transforms": np.eye(4, dtype=np.float32)[None]}]}
    if world is not None:
        d["world"] = world
    return d


def render(d, spp=1):
    r = oc.Renderer(threads=1)
    r.set_scene(d)
    r.accumulate(spp)
    return np.array(r.color, dtype=np.float64)


def world_graph(color):
    return {"nodes": {"Background": {"type": "ShaderNodeBackground", "inputs": {"Color": color}},
                      "World Output": {"type": "ShaderNodeOutputWorld"}},
            "links": [["Background", "Background", "World Output", "Surface"]], "output": "World Output"}


# ---- registry ----------------------------------------------------------------------------------

def test_registry_is_plain_data_for_every_defined_node():
    assert set(shading.NODE_TYPES) == set(shading.DEFINITIONS)
    for type_, entry in shading.NODE_TYPES.items():
        assert set(entry) - {"partial"} == {"inputs", "outputs", "params", "description"}, type_
        if "partial" in entry:  # some settings only: an enum param and the values evaluated
            partial = entry["partial"]
            assert set(partial["values"]) < set(entry["params"][partial["param"]]["values"]), type_
        for socket in entry["inputs"].values():
            assert socket["type"] in ("VALUE", "INT", "BOOLEAN", "VECTOR", "RGBA", "ROTATION", "SHADER")
        for param in entry["params"].values():
            if param["kind"] == "enum":
                assert param["default"] in param["values"], type_


# Registry enums and the kernel's enum tables must list the same values in the same order: the
# compiler turns a parameter into the kernel's index of its name.
_ENUM_TABLES = {("ShaderNodeMath", "operation"): "math", ("ShaderNodeVectorMath", "operation"): "vector_math",
                ("ShaderNodeMix", "blend_type"): "blend", ("ShaderNodeMixRGB", "blend_type"): "blend",
                ("ShaderNodeSeparateColor", "mode"): "color_mode", ("ShaderNodeCombineColor", "mode"): "color_mode",
                ("ShaderNodeMapping", "vector_type"): "mapping", ("ShaderNodeNormalMap", "space"): "normal_map_space",
                ("ShaderNodeTexImage", "interpolation"): "interpolation",
                ("ShaderNodeTexImage", "extension"): "extension", ("ShaderNodeTexImage", "projection"): "projection",
                ("ShaderNodeTangent", "direction_type"): "tangent_direction", ("ShaderNodeTangent", "axis"): "axis",
                ("ShaderNodeBsdfPrincipled", "distribution"): "principled_distribution",
                ("ShaderNodeBsdfAnisotropic", "distribution"): "glossy_distribution",
                ("ShaderNodeBsdfMetallic", "distribution"): "metallic_distribution",
                ("ShaderNodeBsdfMetallic", "fresnel_type"): "metallic_fresnel",
                ("ShaderNodeBsdfGlass", "distribution"): "glass_distribution",
                ("ShaderNodeBsdfRefraction", "distribution"): "refraction_distribution",
                ("ShaderNodeBsdfSheen", "distribution"): "sheen_distribution"}


@pytest.mark.parametrize("node, param", list(_ENUM_TABLES))
def test_registry_enums_match_the_kernel_tables(node, param):
    assert shading.NODE_TYPES[node]["params"][param]["values"] == isa.enums()[_ENUM_TABLES[(node, param)]]


def test_node_outputs_named_in_opcode_enums_exist():
    """Output names the compiler passes as enum values (Light Path, Geometry, ...) are kernel names."""
    lp = shading.NODE_TYPES["ShaderNodeLightPath"]["outputs"]
    assert [n.replace(" ", "_") for n in lp] == list(isa.enums()["light_path"])


# ---- validation ----------------------------------------------------------------------------------

def _bad(mutate, message):
    d = plane_scene(emission({"Math": {"type": "ShaderNodeMath"}}, [["Math", "Value", "Emission", "Strength"]]))
    mutate(d["materials"]["m"])
    with pytest.raises(ValueError, match=message):
        oc.validate_scene(d)


@pytest.mark.parametrize("mutate, message", [
    (lambda m: m["nodes"]["Math"].update(type="ShaderNodeNope"),
     r"^materials\['m'\]\.nodes\['Math'\]\.type: unknown node type 'ShaderNodeNope'"),
    (lambda m: m["nodes"]["Math"].update(inputs={"Value": (1, 2, 3)}),
     r"^materials\['m'\]\.nodes\['Math'\]\.inputs\['Value'\]: expected a float"),
    (lambda m: m["nodes"]["Math"].update(inputs={"Colour": 1.0}),
     r"^materials\['m'\]\.nodes\['Math'\]\.inputs: unknown key 'Colour' for a ShaderNodeMath"),
    (lambda m: m["nodes"]["Math"].update(params={"operation": "FOO"}),
     r"^materials\['m'\]\.nodes\['Math'\]\.params\.operation: 'FOO' is not one of 'ADD', "),
    (lambda m: m["nodes"]["Emission"]["inputs"].update(Color=0.5),
     r"^materials\['m'\]\.nodes\['Emission'\]\.inputs\['Color'\]: expected 3 floats"),
    (lambda m: m["links"].append(["Math", "Value", "Math", "Value_001"]),
     r"^materials\['m'\]\.links: the node graph has a cycle: 'Math' -> 'Math'"),
    (lambda m: m["links"].append(["Math", "Value", "Nowhere", "X"]), r"^materials\['m'\]\.links\[\d\]: no node named"),
    (lambda m: m["links"].append(["Math", "Fac", "Emission", "Color"]),
     r"^materials\['m'\]\.links\[\d\]: node 'Math' \(ShaderNodeMath\) has no output 'Fac'"),
    (lambda m: m["links"].append(["Math", "Value", "Output", "Surface"]),
     r"links a data output into a shader input"),
    (lambda m: m["links"].append(["Math", "Value", "Emission", "Strength"]), r"already has a link"),
    (lambda m: m.update(output="Math"), r"^materials\['m'\]\.output: node 'Math' is a ShaderNodeMath"),
    (lambda m: m["nodes"].update(Image={"type": "ShaderNodeTexImage", "params": {"image": "gone.png"}}),
     r"^materials\['m'\]\.nodes\['Image'\]\.params\.image: no texture named 'gone.png'"),
])
def test_bad_graphs_name_the_material_and_the_node(mutate, message):
    _bad(mutate, message)


def test_a_link_from_an_output_the_node_hides_with_its_settings_is_a_value_error():
    """A float Mix has no Result_Color (Blender hides it; the exporter drops such links): a file
    that links it anyway is refused when the program is compiled, naming material, node, socket
    (found by the fuzzer: it was a RuntimeError)."""
    d = plane_scene(emission({"Mix": {"type": "ShaderNodeMix", "params": {"data_type": "FLOAT"}}},
                             [["Mix", "Result_Color", "Emission", "Color"]]))
    with pytest.raises(ValueError, match=r"materials\['m'\]: node 'Mix' has no output 'Result_Color' with its settings"):
        oc.Renderer(threads=1).set_scene(d)


def test_longer_cycles_are_reported_with_their_nodes():
    nodes = {"A": {"type": "ShaderNodeMath"}, "B": {"type": "ShaderNodeMath"}, "C": {"type": "ShaderNodeMath"}}
    links = [["A", "Value", "B", "Value"], ["B", "Value", "C", "Value"], ["C", "Value", "A", "Value"],
             ["C", "Value", "Emission", "Strength"]]
    with pytest.raises(ValueError, match=r"cycle: '[ABC]' -> '[ABC]' -> '[ABC]' -> '[ABC]'"):
        oc.validate_scene(plane_scene(emission(nodes, links)))


def test_normalised_graph_fills_every_input_and_param_and_validates_to_itself():
    d = oc.validate_scene(plane_scene(emission({"Math": {"type": "ShaderNodeMath"}},
                                               [["Math", "Value", "Emission", "Strength"]])))
    math = d["materials"]["m"]["nodes"]["Math"]
    assert math == {"type": "ShaderNodeMath", "inputs": {"Value": 0.5, "Value_001": 0.5, "Value_002": 0.5},
                    "params": {"operation": "ADD", "use_clamp": False}}
    assert d["materials"]["m"]["links"][0] == ("Math", "Value", "Emission", "Strength")
    assert oc.validate_scene(d)["materials"] == d["materials"]


def test_graphs_round_trip_through_files(tmp_path):
    tex = {"pixels": np.arange(24, dtype=np.uint8).reshape(2, 4, 3), "colorspace": "srgb", "alpha_mode": "NONE"}
    material = emission({"Image": {"type": "ShaderNodeTexImage", "params": {"image": "t", "interpolation": "Cubic"}},
                         "Map": {"type": "ShaderNodeMapping", "inputs": {"Scale": (2.0, 3.0, 1.0)}}},
                        [["Map", "Vector", "Image", "Vector"]], ("Image", "Color"))
    d = oc.validate_scene(plane_scene(material, textures={"t": tex}, world=world_graph((0.1, 0.2, 0.3))))
    oc.save_scene(d, tmp_path / "s.optica")
    back = oc.load_scene(tmp_path / "s.optica")
    assert back["materials"] == d["materials"] and back["world"] == d["world"]
    assert np.array_equal(back["textures"]["t"]["pixels"], tex["pixels"])


# ---- compiler ------------------------------------------------------------------------------------

def test_flat_principled_compiles_to_one_instruction():
    v = oc.validate_scene(oc.scenes.cornell_box(8, 8))
    for name, graph in v["materials"].items():
        program = shading.compile_graph(graph, name)
        assert program.code[0] == isa.opcodes()["PRINCIPLED_BSDF"].code
        assert len(program.code) == 1 + len(isa.opcodes()["PRINCIPLED_BSDF"].operands), name
        layout = isa.opcodes()["PRINCIPLED_BSDF"].operands
        values = [w for w, kind in zip(program.code[1:], layout) if kind in ("f", "v", "F", "V")]
        assert all(w < 0 for w in values), "every input a constant (or none)"


def test_constant_subgraphs_fold_to_constants():
    nodes = {"A": {"type": "ShaderNodeMath", "params": {"operation": "POWER"}, "inputs": {"Value": 2.0, "Value_001": 3.0}},
             "B": {"type": "ShaderNodeMath", "params": {"operation": "SUBTRACT"}, "inputs": {"Value_001": 0.5}},
             "C": {"type": "ShaderNodeCombineXYZ"}}
    links = [["A", "Value", "B", "Value"], ["B", "Value", "C", "X"], ["A", "Value", "C", "Z"]]
    graph = oc.validate_scene(plane_scene(emission(nodes, links, ("C", "Vector"))))["materials"]["m"]
    program = shading.compile_graph(graph, "m")
    assert program.code[0] == isa.opcodes()["EMISSION"].code and len(program.code) == 4, "only the emission is left"
    color = -program.code[2] - 1
    assert list(program.constants[color:color + 3]) == [7.5, 0.0, 8.0]
    assert program.constant_emission == (7.5, 0.0, 8.0)
    assert program.flags & shading.compiler.EMISSIVE and program.emission_estimate == (7.5, 0.0, 8.0)


def test_stack_slots_are_reused_along_long_chains():
    """A 300-node chain needs a few slots at a time, not 300: values are freed after their
    last reader (the stack has 256 floats)."""
    nodes = {"UV": {"type": "ShaderNodeTexCoord"}, "X": {"type": "ShaderNodeSeparateXYZ"}}
    links = [["UV", "UV", "X", "Vector"]]
    prev = ("X", "X")
    for i in range(300):
        nodes[f"M{i}"] = {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY_ADD"},
                          "inputs": {"Value_001": 1.0, "Value_002": 0.001}}
        links.append([*prev, f"M{i}", "Value"])
        prev = (f"M{i}", "Value")
    links.append([*prev, "Emission", "Strength"])
    d = plane_scene(emission(nodes, links))
    t0 = time.perf_counter()
    program = shading.compile_graph(oc.validate_scene(d)["materials"]["m"], "m")
    assert time.perf_counter() - t0 < 0.5
    slots = _stack_slots(program.code)
    assert len(program.code) > 300 * 6 and max(slots) < 16
    # And it runs: the chain adds 0.3 to u along the plane.
    img = render(d)
    u = (np.arange(8) + 0.5) / 8
    np.testing.assert_allclose(img[4, :, 0], u + 0.3, atol=1e-3)  # float32 sums, the sample within 0.005 px


def _stack_slots(code) -> list:
    """Every stack slot the program's operands name."""
    by_code = {op.code: op for op in isa.opcodes().values()}
    slots, pc = [], 0
    while pc < len(code):
        op = by_code[int(code[pc])]
        pc += 1
        for kind in op.operands:
            if kind in ("f", "v", "F", "V", "o", "w") and code[pc] >= 0:
                slots.append(int(code[pc]))
            pc += 2 if kind[0] == "c" else 1
    return slots


def test_unchanged_materials_are_not_compiled_again():
    d = hs.sampler_scene(16, 16)
    r = oc.Renderer(threads=1)
    r.set_scene(d)
    first = r.programs_compiled
    assert first == len(oc.validate_scene(d)["materials"]) + 2  # + the default material and the world
    r.set_scene(copy.deepcopy(d))
    assert r.programs_compiled == 0
    d["materials"]["red"]["roughness"] = 0.9
    r.set_scene(d)
    assert r.programs_compiled == 1


# ---- the native checks -----------------------------------------------------------------------------

def _program_dict(code, constants=(1.0, 1.0, 1.0, 1.0), textures=(), attributes=()):
    return {"code": np.asarray(code, np.int32), "constants": np.asarray(constants, np.float32),
            "textures": list(textures), "attributes": [list(a) for a in attributes], "flags": 0,
            "emission_estimate": (0.0, 0.0, 0.0), "pass_index": 0.0, "constant_emission": None}


EMISSION = isa.opcodes()["EMISSION"].code
TEX_IMAGE = isa.opcodes()["TEX_IMAGE"]
JUMP = isa.opcodes()["JUMP_IF_ZERO"].code


@pytest.mark.parametrize("code, problem", [
    ([999], "opcode 999 out of range"),
    ([-5], "opcode -5 out of range"),
    ([EMISSION, isa.NONE, -1], "truncated"),
    ([EMISSION, isa.NONE, 254, -1], "operand 1 \\(v\\) = 254 is out of range"),  # 3 floats from slot 254
    ([EMISSION, isa.NONE, -1, -9], "operand 2 \\(f\\) = -9 is out of range"),  # constant 8 of 4
    ([EMISSION, 300, -1, -1], "operand 0 \\(F\\) = 300 is out of range"),
    ([JUMP, -1, 7], "operand 1 \\(j\\) = 7 is out of range"),
    ([JUMP, -1, 1, EMISSION, isa.NONE, -1, -1], "lands inside an instruction"),
    ([TEX_IMAGE.code, 3, 0, 0, 0, 0, -1, isa.NONE, isa.NONE], "operand 0 \\(t\\) = 3 is out of range"),
    ([TEX_IMAGE.code, -1, 9, 0, 0, 0, -1, isa.NONE, isa.NONE], "operand 1 \\(e:interpolation\\) = 9"),
    ([TEX_IMAGE.code, -1, 0, 0, 0, 2, -1, isa.NONE, isa.NONE], "operand 4 \\(b\\) = 2"),
])
def test_bad_programs_are_value_errors_not_crashes(code, problem):
    assert problem.replace("\\", "") in _native.svm_verify(np.asarray(code, np.int32), 4, 1, 0) or \
        __import__("re").search(problem, _native.svm_verify(np.asarray(code, np.int32), 4, 1, 0))
    valid = oc.validate_scene(plane_scene(emission()))
    programs = oc.ProgramCache().for_scene(valid)
    programs["materials"]["m"] = _program_dict(code)
    native = _native.Renderer(1)
    with pytest.raises(ValueError, match=r"programs\['m'\]: invalid shader program: .*" + problem):
        native.set_scene(valid, programs)


def test_programs_naming_missing_textures_or_bad_attributes_are_refused():
    valid = oc.validate_scene(plane_scene(emission()))
    programs = oc.ProgramCache().for_scene(valid)
    programs["materials"]["m"] = _program_dict([EMISSION, isa.NONE, -1, -1], textures=["nope"])
    with pytest.raises(ValueError, match=r"programs\['m'\]\.textures: no texture named 'nope'"):
        _native.Renderer(1).set_scene(valid, programs)
    programs["materials"]["m"] = _program_dict([EMISSION, isa.NONE, -1, -1], attributes=[("colour", "x")])
    with pytest.raises(ValueError, match=r"unknown attribute kind 'colour'"):
        _native.Renderer(1).set_scene(valid, programs)


def test_fold_runs_only_pure_instructions():
    with pytest.raises(ValueError, match="not pure"):
        _native.svm_fold(np.asarray([EMISSION, isa.NONE, -1, -1], np.int32), np.ones(4, np.float32))


# ---- renders with known answers ------------------------------------------------------------------

def test_emission_is_the_pixel_value_and_math_folds_or_runs_alike():
    """Emission seen directly is its colour × strength; a Math node gives the same value folded
    (constant inputs) and run per shading point (an input from Light Path, 1 for camera rays)."""
    folded = emission({"M": {"type": "ShaderNodeMath", "params": {"operation": "ARCTAN2"},
                             "inputs": {"Value": 0.7, "Value_001": -0.4}}}, [["M", "Value", "Emission", "Strength"]],
                      color=(0.5, 1.0, 0.25))
    run = copy.deepcopy(folded)
    run["nodes"]["LP"] = {"type": "ShaderNodeLightPath"}
    run["nodes"]["Scale"] = {"type": "ShaderNodeMath", "params": {"operation": "MULTIPLY"}, "inputs": {"Value_001": 0.7}}
    run["links"] += [["LP", "Is Camera Ray", "Scale", "Value"], ["Scale", "Value", "M", "Value"]]
    a, b = render(plane_scene(folded)), render(plane_scene(run))
    expected = np.arctan2(0.7, -0.4) * np.array([0.5, 1.0, 0.25])
    np.testing.assert_allclose(a[..., :3], np.broadcast_to(expected, a[..., :3].shape), rtol=1e-6)
    np.testing.assert_allclose(b, a, rtol=1e-6)


def test_holdout_cuts_alpha_and_light_path_mixes_the_world():
    """A Holdout mixed 40% into an emission: alpha 0.6 and 60% of the colour; the world graph
    shows one colour to camera rays and another to others (Mix Shader by Is Camera Ray)."""
    material = {"nodes": {"E": {"type": "ShaderNodeEmission", "inputs": {"Color": (1.0, 0.5, 0.25)}},
                          "H": {"type": "ShaderNodeHoldout"},
                          "Mix": {"type": "ShaderNodeMixShader", "inputs": {"Fac": 0.4}},
                          "Output": {"type": "ShaderNodeOutputMaterial"}},
                "links": [["E", "Emission", "Mix", "Shader"], ["H", "Holdout", "Mix", "Shader_001"],
                          ["Mix", "Shader", "Output", "Surface"]], "output": "Output"}
    img = render(plane_scene(material), 4)
    np.testing.assert_allclose(img[..., 3], 0.6, rtol=1e-6)
    np.testing.assert_allclose(img[..., :3], np.broadcast_to([0.6, 0.3, 0.15], img[..., :3].shape), rtol=1e-6)

    world = {"nodes": {"Sky": {"type": "ShaderNodeBackground", "inputs": {"Color": (0.0, 0.0, 1.0)}},
                       "Camera": {"type": "ShaderNodeBackground", "inputs": {"Color": (1.0, 0.0, 0.0)}},
                       "LP": {"type": "ShaderNodeLightPath"}, "Mix": {"type": "ShaderNodeMixShader"},
                       "World Output": {"type": "ShaderNodeOutputWorld"}},
             "links": [["LP", "Is Camera Ray", "Mix", "Fac"], ["Sky", "Background", "Mix", "Shader"],
                       ["Camera", "Background", "Mix", "Shader_001"], ["Mix", "Shader", "World Output", "Surface"]],
             "output": "World Output"}
    mirror = {"nodes": {"G": {"type": "ShaderNodeBsdfAnisotropic", "inputs": {"Roughness": 0.0, "Color": (1, 1, 1)}},
                        "Output": {"type": "ShaderNodeOutputMaterial"}},
              "links": [["G", "BSDF", "Output", "Surface"]], "output": "Output"}
    d = plane_scene(mirror, world=world)
    d["render"]["max_bounces"] = 1
    d["meshes"]["plane"] = dict(hs.plane_mesh(1.0), materials=["m"])  # half the view: plane and sky
    img = render(d, 4)
    sky, plane = img[0, 0, :3], img[4, 4, :3]
    np.testing.assert_allclose(sky, [1.0, 0.0, 0.0], atol=1e-6)  # the camera's colour
    assert plane[2] > 0.9 and plane[0] < 1e-6, f"a mirror shows the other colour to reflected rays: {plane}"


def test_transparency_lets_the_world_through_and_shadow_rays_too():
    material = {"nodes": {"T": {"type": "ShaderNodeBsdfTransparent", "inputs": {"Color": (0.5, 0.8, 1.0)}},
                          "Output": {"type": "ShaderNodeOutputMaterial"}},
                "links": [["T", "BSDF", "Output", "Surface"]], "output": "Output"}
    img = render(plane_scene(material, world=world_graph((0.2, 0.4, 0.6))), 2)
    np.testing.assert_allclose(img[..., :3], np.broadcast_to([0.1, 0.32, 0.6], img[..., :3].shape), rtol=1e-5)
    # A white diffuse floor under a transparent sheet, lit by a sun from straight above: the
    # sheet's colour tints the light (0.5, 0.8, 1.0) × irradiance / π.
    d = hs.lit_plane_scene({"type": "sun", "strength": 3.0, "matrix": np.eye(4, dtype=np.float32)})
    d = copy.deepcopy(oc.validate_scene(d))  # the version-2 form, as a changeable copy
    d["materials"]["sheet"] = material
    d["meshes"]["sheet"] = dict(hs.plane_mesh(400.0, z=0.2), materials=["sheet"])
    d["instances"].append({"geometry": "sheet", "transforms": np.eye(4, dtype=np.float32)[None]})
    d["camera"]["matrix"] = hs.ortho_camera_down(0.1, 4.0)["matrix"]  # under the sheet
    img = render(d, 4)
    np.testing.assert_allclose(img[..., :3].mean(axis=(0, 1)), np.array([0.5, 0.8, 1.0]) * 3.0 / np.pi, rtol=1e-4)


def test_white_furnace_with_layered_principled_materials():
    """A convex object in a uniform white world: an energy-conserving BSDF of albedo 1 looks
    exactly white. Multiscatter GGX and the Principled layering (dielectric specular over a
    white diffuse base, a rough white metal, a coat) keep the energy within 2%."""
    for inputs in ({"Base Color": (1.0, 1.0, 1.0), "Roughness": 0.6},
                   {"Base Color": (1.0, 1.0, 1.0), "Metallic": 1.0, "Roughness": 0.7},
                   {"Base Color": (1.0, 1.0, 1.0), "Roughness": 0.4, "Coat Weight": 1.0, "Coat Roughness": 0.3}):
        d = copy.deepcopy(oc.validate_scene(oc.scenes.furnace(32, 32)))  # version 2, changeable
        d["render"]["filter"] = "box"
        d["render"]["filter_width"] = 1.0
        sphere_material = d["meshes"]["sphere"]["materials"][0]
        d["materials"][sphere_material] = {
            "nodes": {"P": {"type": "ShaderNodeBsdfPrincipled", "inputs": inputs},
                      "Output": {"type": "ShaderNodeOutputMaterial"}},
            "links": [["P", "BSDF", "Output", "Surface"]], "output": "Output"}
        r = oc.Renderer()
        r.set_scene(d)
        r.accumulate(64)
        hit = np.asarray(r.object_id) >= 0
        mean = np.asarray(r.color)[..., :3][hit].mean()
        assert abs(mean - 1.0) < 0.02, f"{inputs}: furnace mean {mean:.4f}"


def test_premultiplied_textures_are_not_premultiplied_again():
    """alpha_mode PREMUL: the pixels are associated already; the colour is divided by alpha when
    the Alpha output is used, and left associated when it is not."""
    px = np.array([[[40, 80, 120, 128]]], np.uint8)
    textures = {"t": {"pixels": px, "colorspace": "non_color", "alpha_mode": "PREMUL"}}

    def image_material(with_alpha):
        m = emission({"I": {"type": "ShaderNodeTexImage", "params": {"image": "t", "interpolation": "Closest"}}},
                     [], ("I", "Color"))
        if with_alpha:
            m["nodes"]["A"] = {"type": "ShaderNodeMath", "params": {"operation": "MAXIMUM"}, "inputs": {"Value_001": 1}}
            m["links"] += [["I", "Alpha", "A", "Value"], ["A", "Value", "Emission", "Strength"]]
        return m

    plain = render(plane_scene(image_material(False), textures=textures))[4, 4, :3]
    np.testing.assert_allclose(plain, np.array([40, 80, 120]) / 255, rtol=1e-5)
    textures["t"]["colorspace"] = "srgb"
    unassociated = render(plane_scene(image_material(True), textures=textures))[4, 4, :3]
    decoded = np.array([40, 80, 120]) / 128
    decoded = np.where(decoded <= 0.04045, decoded / 12.92, ((decoded + 0.055) / 1.055) ** 2.4)
    np.testing.assert_allclose(unassociated, decoded, rtol=2e-3)
