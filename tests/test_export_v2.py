# SPDX-License-Identifier: GPL-3.0-or-later
"""What scene dict v2 adds to meshes and instances for the shader nodes (addon/export/mesh.py,
object_info.py), in real Blender: UV maps by name, colour and named attributes, MikkTSpace
tangents against Blender's own `MeshLoop.tangent`, the texture space, and Object Info values
against what Cycles renders for them.
"""

import bpy
import numpy as np
import pytest
from mathutils import Matrix
from bpy_scenes import configure_cycles, render
from conftest import export_package

pkg = export_package()
SceneExporter = pkg.SceneExporter
EVALUABLE = frozenset(n for n in dir(bpy.types) if n.startswith("ShaderNode"))


@pytest.fixture
def scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def export(version=2):
    ex = SceneExporter(log=lambda *a: None, version=version, evaluable=EVALUABLE)
    return ex.export(bpy.context.evaluated_depsgraph_get())


def add(scene, name, data, location=(0, 0, 0)):
    ob = bpy.data.objects.new(name, data)
    ob.location = location
    scene.collection.objects.link(ob)
    return ob


def grid_mesh(name="Grid", n=3, size=2.0):
    xs = np.linspace(-size / 2, size / 2, n + 1)
    verts = [(x, y, 0.0) for y in xs for x in xs]
    faces = [(j * (n + 1) + i, j * (n + 1) + i + 1, (j + 1) * (n + 1) + i + 1, (j + 1) * (n + 1) + i)
             for j in range(n) for i in range(n)]
    me = bpy.data.meshes.new(name)
    me.from_pydata(verts, [], faces)
    return me


def material_reading(name, *nodes):
    """A material whose Principled BSDF reads the given (node type, settings, output, input) nodes."""
    mat = bpy.data.materials.new(name)
    tree = mat.node_tree
    p = tree.nodes["Principled BSDF"]
    for node_type, settings, out, into in nodes:
        node = tree.nodes.new(node_type)
        for k, v in settings.items():
            setattr(node, k, v)
        tree.links.new(node.outputs[out], p.inputs[into])
    return mat


def corners_of(b_mesh):
    n = len(b_mesh.loop_triangles)
    loops = np.empty(3 * n, np.int32)
    b_mesh.loop_triangles.foreach_get("loops", loops)
    return loops.reshape(n, 3)


def only_mesh(d):
    (m,) = d["meshes"].values()
    return m


# ---------------------------------------------------------------------------------------------
# UV maps, attributes, texture space


def test_every_uv_map_by_name(scene):
    me = grid_mesh(n=2)
    rng = np.random.default_rng(1)
    values = {}
    for name in ("First", "Second"):
        layer = me.uv_layers.new(name=name)
        values[name] = rng.random((len(me.loops), 2)).astype(np.float32)
        layer.uv.foreach_set("vector", values[name].ravel())
    me.uv_layers["Second"].active_render = True
    add(scene, "Grid", me)
    m = only_mesh(export())
    assert set(m["uv_maps"]) == {"First", "Second"}
    for name, uv in values.items():
        np.testing.assert_array_equal(m["uv_maps"][name]["uvs"], uv)
        np.testing.assert_array_equal(m["uv_maps"][name]["uv_indices"], corners_of(me))
    assert m["uvs"] is m["uv_maps"]["Second"]["uvs"]  # the render map is the version-1 default
    assert "uv_maps" not in only_mesh(export(version=1))


def _srgb_to_linear(c):
    c = np.asarray(c, np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def test_colour_and_named_attributes_in_every_domain(scene):
    me = grid_mesh(n=2)
    nc, nv, nf = len(me.loops), len(me.vertices), len(me.polygons)
    rng = np.random.default_rng(7)
    byte = me.color_attributes.new("Paint", "BYTE_COLOR", "CORNER")
    srgb = np.round(rng.random((nc, 4)) * 255) / 255
    byte.data.foreach_set("color_srgb", srgb.astype(np.float32).ravel())
    flt = me.color_attributes.new("Linear", "FLOAT_COLOR", "POINT")
    lin = rng.random((nv, 4)).astype(np.float32) * 3
    flt.data.foreach_set("color", lin.ravel())
    me.color_attributes.render_color_index = [a.name for a in me.color_attributes].index("Paint")
    wet = me.attributes.new("wetness", "FLOAT", "FACE")
    wet_values = np.arange(nf, dtype=np.float32) / nf
    wet.data.foreach_set("value", wet_values)
    flag = me.attributes.new("flag", "BOOLEAN", "POINT")
    flag.data.foreach_set("value", np.arange(nv) % 2 == 0)
    me.attributes.new("unused", "FLOAT_VECTOR", "POINT")
    me.attributes.new("matrix", "FLOAT4X4", "POINT")  # a type the nodes cannot read
    me.attributes.new("edgy", "FLOAT", "EDGE")  # a domain they cannot read
    me.materials.append(material_reading(
        "Attrs",
        ("ShaderNodeVertexColor", {"layer_name": ""}, "Color", "Base Color"),
        ("ShaderNodeVertexColor", {"layer_name": "Linear"}, "Color", "Emission Color"),
        ("ShaderNodeAttribute", {"attribute_name": "wetness"}, "Fac", "Roughness"),
        ("ShaderNodeAttribute", {"attribute_name": "flag"}, "Fac", "Metallic"),
        ("ShaderNodeAttribute", {"attribute_name": "missing"}, "Fac", "Alpha"),
        ("ShaderNodeAttribute", {"attribute_name": "matrix"}, "Fac", "IOR"),
        ("ShaderNodeAttribute", {"attribute_name": "edgy"}, "Fac", "Coat Weight"),
    ))
    add(scene, "Grid", me)
    m = only_mesh(export())
    a = m["attributes"]
    assert set(a) == {"Paint", "Linear", "wetness", "flag"}  # only what the nodes read
    assert m["active_color_attribute"] == "Paint"  # what the node naming none reads (the core resolves "")
    assert a["Paint"]["domain"] == "corner"
    np.testing.assert_array_equal(a["Paint"]["indices"], corners_of(me))
    np.testing.assert_allclose(a["Paint"]["data"][:, :3], _srgb_to_linear(srgb[:, :3]), atol=2e-6)
    np.testing.assert_allclose(a["Paint"]["data"][:, 3], srgb[:, 3], atol=2e-6)
    assert a["Linear"]["domain"] == "point" and "indices" not in a["Linear"]
    np.testing.assert_array_equal(a["Linear"]["data"], lin)
    tri_faces = np.empty(len(me.loop_triangles), np.int32)
    me.loop_triangle_polygons.foreach_get("value", tri_faces)
    assert a["wetness"]["domain"] == "face" and a["wetness"]["data"].shape == (len(tri_faces), 1)
    np.testing.assert_array_equal(a["wetness"]["data"][:, 0], wet_values[tri_faces])
    np.testing.assert_array_equal(a["flag"]["data"][:, 0], (np.arange(nv) % 2 == 0).astype(np.float32))
    assert all(v["data"].dtype == np.float32 for v in a.values())


def test_texture_space_auto_and_set(scene):
    me = grid_mesh(n=1, size=2.0)
    me.transform(Matrix(((3.0, 0, 0, 12.0), (0, 1.5, 0, -1.5), (0, 0, 1.0, 0.5), (0, 0, 0, 1))))
    ob = add(scene, "Grid", me)
    # Auto: the bounding box, a flat axis sized 1 (Blender's rule): x in [9, 15], y in [-3, 0].
    assert only_mesh(export())["texspace"] == pytest.approx([12.0, -1.5, 0.5, 3.0, 1.5, 1.0])
    # A deforming modifier keeps the undeformed mesh's texture space, as Blender and Cycles do.
    disp = ob.modifiers.new("Move", "DISPLACE")
    disp.direction, disp.strength, disp.mid_level = "Z", 2.0, 0.0
    assert only_mesh(export())["texspace"] == pytest.approx([12.0, -1.5, 0.5, 3.0, 1.5, 1.0])
    me.use_auto_texspace = False
    me.texspace_location, me.texspace_size = (1.0, 2.0, 3.0), (4.0, 5.0, 6.0)
    assert only_mesh(export())["texspace"] == pytest.approx([1, 2, 3, 4, 5, 6])


# ---------------------------------------------------------------------------------------------
# tangents


def _blender_tangents(b_mesh, uv_name):
    b_mesh.calc_tangents(uvmap=uv_name)
    nc = len(b_mesh.loops)
    t, s = np.empty(nc * 3, np.float32), np.empty(nc, np.float32)
    b_mesh.loops.foreach_get("tangent", t)
    b_mesh.loops.foreach_get("bitangent_sign", s)
    b_mesh.free_tangents()
    return np.column_stack([t.reshape(nc, 3), s])


def test_tangents_are_blenders_and_only_where_a_normal_map_needs_them(scene):
    bpy.ops.mesh.primitive_uv_sphere_add(segments=12, ring_count=6)
    ob = bpy.context.object
    me = ob.data
    me.shade_smooth()
    second = me.uv_layers.new(name="Twisted")
    uv = np.empty(len(me.loops) * 2, np.float32)
    me.uv_layers[0].uv.foreach_get("vector", uv)
    uv = uv.reshape(-1, 2)
    second.uv.foreach_set("vector", np.column_stack([uv[:, 1], uv[:, 0] * 2.0]).ravel())
    plain = bpy.data.materials.new("Plain")
    me.materials.append(plain)
    assert only_mesh(export())["tangents"] == {}
    mat = material_reading("Bumpy", ("ShaderNodeNormalMap", {}, "Normal", "Normal"),
                           ("ShaderNodeTangent", {"direction_type": "UV_MAP", "uv_map": "Twisted"},
                            "Tangent", "Tangent"),
                           ("ShaderNodeNormalMap", {"uv_map": "No such map"}, "Normal", "Coat Normal"))
    me.materials[0] = mat
    m = only_mesh(export())
    assert set(m["tangents"]) == {"UVMap", "Twisted"} and m["active_uv_map"] == "UVMap"
    for name in ("UVMap", "Twisted"):
        t = m["tangents"][name]
        assert t["data"].shape == (len(me.loops), 4) and t["data"].dtype == np.float32
        np.testing.assert_array_equal(t["indices"], corners_of(me))
        np.testing.assert_allclose(t["data"], _blender_tangents(me, name), atol=1e-6)
    assert not np.allclose(m["tangents"]["UVMap"]["data"], m["tangents"]["Twisted"]["data"])


def test_tangents_of_a_mesh_with_ngons(scene):
    bpy.ops.mesh.primitive_circle_add(vertices=9, radius=1.0, fill_type="NGON")
    ob = bpy.context.object
    me = ob.data
    assert max(len(p.vertices) for p in me.polygons) == 9
    pos = np.empty(len(me.vertices) * 3, np.float32)
    me.vertices.foreach_get("co", pos)
    pos = pos.reshape(-1, 3)
    corner_vert = np.empty(len(me.loops), np.int32)
    me.loops.foreach_get("vertex_index", corner_vert)
    layer = me.uv_layers.new(name="Planar")
    layer.uv.foreach_set("vector", (pos[corner_vert, :2] * 0.5 + 0.5).ravel())  # u along x, v along y
    me.materials.append(material_reading("Bumpy", ("ShaderNodeNormalMap", {"uv_map": "Planar"}, "Normal", "Normal")))
    with pytest.raises(RuntimeError, match="tris/quads"):
        me.calc_tangents(uvmap="Planar")  # what Blender itself refuses
    m = only_mesh(export())
    t = m["tangents"]["Planar"]
    nt = len(me.loop_triangles)
    np.testing.assert_array_equal(t["indices"], np.arange(3 * nt).reshape(nt, 3))
    np.testing.assert_allclose(t["data"], np.tile([1.0, 0.0, 0.0, 1.0], (3 * nt, 1)), atol=1e-5)
    assert len(bpy.data.meshes) == 1  # the triangle copy is gone


# ---------------------------------------------------------------------------------------------
# Object Info


def test_cycles_name_hash():
    oi = pkg.object_info
    assert oi.hash_string("") == 0 and oi.hash_string("ab") == 97 * 37 + 98
    assert oi.hash_string("é") == 0xC3 * 37 + 0xA9  # UTF-8 bytes, unsigned as Blender's chars
    assert oi.hash_uint2(0, 0) != oi.hash_uint2(1, 0)
    assert oi.random_numbers(np.array([0, 2 ** 31, -1]))[1] == pytest.approx(0.5)
    assert 0.0 <= oi.random_numbers(np.array([-1]))[0] <= 1.0


def _object_info_scene(scene):
    """Three geometry-nodes instances of a square at x = -3, -1, 1 and one object at x = 3, all
    emitting (Random, Object Index / 10, Color.r); an orthographic camera 16 × 2 px over them."""
    mat = bpy.data.materials.new("Info")
    tree = mat.node_tree
    out = tree.nodes["Material Output"]
    info, emit = tree.nodes.new("ShaderNodeObjectInfo"), tree.nodes.new("ShaderNodeEmission")
    combine, tenth = tree.nodes.new("ShaderNodeCombineColor"), tree.nodes.new("ShaderNodeMath")
    split = tree.nodes.new("ShaderNodeSeparateColor")
    tenth.operation, tenth.inputs[1].default_value = "MULTIPLY", 0.1
    tree.links.new(info.outputs["Random"], combine.inputs[0])
    tree.links.new(info.outputs["Object Index"], tenth.inputs[0])
    tree.links.new(tenth.outputs[0], combine.inputs[1])
    tree.links.new(info.outputs["Color"], split.inputs[0])
    tree.links.new(split.outputs[0], combine.inputs[2])
    tree.links.new(combine.outputs[0], emit.inputs["Color"])
    tree.links.new(emit.outputs[0], out.inputs["Surface"])

    ng = bpy.data.node_groups.new("Row", "GeometryNodeTree")
    ng.interface.new_socket(name="Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    line, square = ng.nodes.new("GeometryNodeMeshLine"), ng.nodes.new("GeometryNodeMeshGrid")
    line.inputs["Count"].default_value = 3
    line.inputs["Start Location"].default_value = (-3.0, 0.0, 0.0)
    line.inputs["Offset"].default_value = (2.0, 0.0, 0.0)
    square.inputs["Size X"].default_value = square.inputs["Size Y"].default_value = 1.8
    setmat, iop = ng.nodes.new("GeometryNodeSetMaterial"), ng.nodes.new("GeometryNodeInstanceOnPoints")
    setmat.inputs["Material"].default_value = mat
    ng.links.new(square.outputs["Mesh"], setmat.inputs["Geometry"])
    ng.links.new(line.outputs["Mesh"], iop.inputs["Points"])
    ng.links.new(setmat.outputs["Geometry"], iop.inputs["Instance"])
    ng.links.new(iop.outputs["Instances"], ng.nodes.new("NodeGroupOutput").inputs[0])
    row = add(scene, "Row", bpy.data.meshes.new("RowMesh"))
    row.modifiers.new("GN", "NODES").node_group = ng
    row.color, row.pass_index = (0.25, 0.5, 0.75, 1.0), 3
    me = grid_mesh("Single", n=1, size=1.8)
    me.materials.append(mat)
    single = add(scene, "Single Ünïcode", me, location=(3.0, 0.0, 0.0))
    single.color, single.pass_index = (0.6, 0.1, 0.2, 0.5), 7

    cam = add(scene, "Camera", bpy.data.cameras.new("Camera"), location=(0.0, 0.0, 10.0))
    cam.data.type, cam.data.ortho_scale = "ORTHO", 8.0
    scene.camera = cam
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 16, 2, 100
    return row, single


def test_object_info_matches_cycles(scene, tmp_path, read_exr):
    row, single = _object_info_scene(scene)
    d = export()
    placements = []  # (x, random, pass index, colour)
    for g in d["instances"]:
        info = g["object_info"]
        assert info["color"].dtype == np.float32 and info["pass_index"].dtype == np.int32
        for k in range(len(g["transforms"])):
            placements.append((float(g["transforms"][k, 0, 3]), float(info["random"][k]),
                               int(info["pass_index"][k]), info["color"][k]))
    placements.sort(key=lambda p: p[0])
    assert [round(p[0]) for p in placements] == [-3, -1, 1, 3]
    assert len({p[1] for p in placements}) == 4  # every instance its own random number
    assert placements[3][2] == 7 and placements[3][3] == pytest.approx([0.6, 0.1, 0.2, 0.5])
    assert all(p[2] == 3 and p[3] == pytest.approx([0.25, 0.5, 0.75, 1.0]) for p in placements[:3])
    assert placements[3][1] == pytest.approx(pkg.object_info.random_numbers(
        [pkg.object_info.name_random_id("Single Ünïcode")])[0])

    configure_cycles(scene, samples=1)
    scene.cycles.pixel_filter_type, scene.cycles.filter_width = "BOX", 0.01
    image = render(scene, tmp_path / "info.exr", read_exr)  # (2, 16, 3)
    for x, random, pass_index, color in placements:
        col = int((x + 4.0) / 0.5)  # pixel columns col and col - 1 lie inside the square
        for c in (col - 1, col):
            np.testing.assert_allclose(image[0, c], [random, pass_index / 10, color[0]], atol=2e-6)


def test_shadow_terminator_offsets_per_placement(scene):
    """Objects sharing a mesh keep it stored once; the group carries each placement's offsets,
    and only when one is off Blender's defaults."""
    me = grid_mesh(n=1)
    a, b = add(scene, "A", me), add(scene, "B", me)
    b.location.x = 3.0
    d = export()
    assert len(d["instances"]) == 1 and "shadow_terminator" not in d["instances"][0]
    b.shadow_terminator_geometry_offset = 0.0
    b.shadow_terminator_shading_offset = 0.4
    d = export()
    (group,) = d["instances"]
    t = group["shadow_terminator"]
    rows = {round(float(m[0, 3])): k for k, m in enumerate(group["transforms"])}
    assert t["geometry_offset"][rows[0]] == np.float32(0.1) and t["shading_offset"][rows[0]] == 0.0
    assert t["geometry_offset"][rows[3]] == 0.0 and t["shading_offset"][rows[3]] == np.float32(0.4)
    assert a.shadow_terminator_geometry_offset == pytest.approx(0.1)  # Blender's default, as exported
