# SPDX-License-Identifier: GPL-3.0-or-later
"""The depsgraph → scene-dict conversion (addon/export) in real Blender (bpy 5.0, headless).

Every scene is built by script in a fresh factory file, exported with `SceneExporter`, and
checked against Blender's own data (loop triangles, normals, UVs) or against the units of
docs/scene-dict.md. Every exported dict also passes `optica_core.validate_scene` (strict).

The export package is loaded from the source tree (addon/export), not from the installed
extension, so these tests check the code as it is, without building the zip.
"""

import math

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import optica_core as oc
import pytest
from conftest import export_package

export_pkg = export_package()
SceneExporter = export_pkg.SceneExporter


# ---------------------------------------------------------------------------------------------
# helpers


class Log:
    def __init__(self):
        self.messages = []

    def __call__(self, level, message):
        self.messages.append((level, message))

    def count(self, text):
        return sum(text in m for _, m in self.messages)


@pytest.fixture
def scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    s = bpy.context.scene
    s.render.resolution_x, s.render.resolution_y, s.render.resolution_percentage = 64, 48, 100
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.location = (0.0, -10.0, 0.0)
    cam.rotation_euler = (math.pi / 2, 0.0, 0.0)  # looking along +Y
    s.collection.objects.link(cam)
    s.camera = cam
    return s


@pytest.fixture
def log():
    return Log()


@pytest.fixture
def exporter(log):
    return SceneExporter(log=log, evaluable=oc.shading.NODE_TYPES)


@pytest.fixture
def exporter_v1(log):
    """The version-1 converter (flat Principled materials, a world colour), kept for the files
    of that version: the tests of its material and world rules use it."""
    return SceneExporter(log=log, version=1)


def export(exporter, depsgraph=None) -> dict:
    d = exporter.export(depsgraph or bpy.context.evaluated_depsgraph_get())
    oc.validate_scene(d)  # strict: unknown keys are errors too
    return d


def add(scene, name, data, location=(0, 0, 0), rotation=(0, 0, 0), scale=(1, 1, 1)):
    ob = bpy.data.objects.new(name, data)
    ob.location, ob.rotation_euler, ob.scale = location, rotation, scale
    scene.collection.objects.link(ob)
    return ob


def cube_mesh(name="Cube", size=1.0):
    h = size / 2
    verts = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    me = bpy.data.meshes.new(name)
    me.from_pydata(verts, [], faces)
    return me


def grid_mesh(name="Grid", n=4, size=2.0):
    xs = np.linspace(-size / 2, size / 2, n + 1)
    verts = [(x, y, 0.0) for y in xs for x in xs]
    faces = [(j * (n + 1) + i, j * (n + 1) + i + 1, (j + 1) * (n + 1) + i + 1, (j + 1) * (n + 1) + i)
             for j in range(n) for i in range(n)]
    me = bpy.data.meshes.new(name)
    me.from_pydata(verts, [], faces)
    return me


def only_group(d, geometry=None):
    groups = [g for g in d["instances"] if geometry is None or g["geometry"] == geometry]
    assert len(groups) == 1, [(g["geometry"], len(g["transforms"])) for g in d["instances"]]
    return groups[0]


def mesh_of(d):
    assert len(d["meshes"]) == 1, list(d["meshes"])
    return next(iter(d["meshes"].values()))


def blender_triangles(b_mesh):
    n = len(b_mesh.loop_triangles)
    verts, loops = np.empty(3 * n, np.int32), np.empty(3 * n, np.int32)
    b_mesh.loop_triangles.foreach_get("vertices", verts)
    b_mesh.loop_triangles.foreach_get("loops", loops)
    return verts.reshape(n, 3), loops.reshape(n, 3)


def evaluated_mesh(ob):
    return ob.evaluated_get(bpy.context.evaluated_depsgraph_get()).data


def instance_on_points_tree(name, nx, ny, size, instance):
    """Geometry nodes: a grid of nx × ny points (size × size m) with `instance` on each; instance
    is an object (Object Info, "As Instance") or a float (a cube primitive of that size)."""
    ng = bpy.data.node_groups.new(name, "GeometryNodeTree")
    ng.interface.new_socket(name="Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    out = ng.nodes.new("NodeGroupOutput")
    grid = ng.nodes.new("GeometryNodeMeshGrid")
    grid.inputs["Vertices X"].default_value, grid.inputs["Vertices Y"].default_value = nx, ny
    grid.inputs["Size X"].default_value = grid.inputs["Size Y"].default_value = size
    iop = ng.nodes.new("GeometryNodeInstanceOnPoints")
    ng.links.new(grid.outputs["Mesh"], iop.inputs["Points"])
    if isinstance(instance, float):
        src = ng.nodes.new("GeometryNodeMeshCube")
        src.inputs["Size"].default_value = (instance,) * 3
        ng.links.new(src.outputs["Mesh"], iop.inputs["Instance"])
    else:
        src = ng.nodes.new("GeometryNodeObjectInfo")
        src.inputs["Object"].default_value = instance
        src.inputs["As Instance"].default_value = True
        ng.links.new(src.outputs["Geometry"], iop.inputs["Instance"])
    ng.links.new(iop.outputs["Instances"], out.inputs[0])
    return ng


def gn_object(scene, name, tree):
    ob = add(scene, name, bpy.data.meshes.new(name + "Mesh"))
    ob.modifiers.new("GN", "NODES").node_group = tree
    return ob


# ---------------------------------------------------------------------------------------------
# meshes


def test_subdivision_exports_evaluated_triangles(scene, exporter):
    ob = add(scene, "Cube", cube_mesh())
    ob.modifiers.new("Subdivision", "SUBSURF").levels = 2
    d = export(exporter)
    m = mesh_of(d)
    # 6 faces × 4² quads, 2 triangles each; 98 vertices on the subdivided cube.
    assert m["triangles"].shape == (192, 3) and m["vertices"].shape == (98, 3)
    b_mesh = evaluated_mesh(ob)
    tris, _ = blender_triangles(b_mesh)
    np.testing.assert_array_equal(m["triangles"], tris)
    positions = np.array([v.co for v in b_mesh.vertices], np.float32)
    np.testing.assert_array_equal(m["vertices"], positions)
    assert m["vertices"].dtype == np.float32 and m["triangles"].dtype == np.int32


def test_ngons_and_triangles_follow_blenders_triangulation(scene, exporter):
    me = bpy.data.meshes.new("Mixed")
    # a pentagon, a concave quad (split on its 1-3 diagonal by Blender) and a triangle
    me.from_pydata([(0, 0, 0), (2, 0, 0), (2.5, 1, 0), (1, 2, 0), (-0.5, 1, 0), (2, -1, 0), (0, -1, 0),
                    (3, -1, 0), (1.0, -0.2, 0)],
                   [], [(0, 1, 2, 3, 4), (6, 5, 1, 8), (1, 5, 7)])
    add(scene, "Mixed", me)
    tri_only = bpy.data.meshes.new("Tris")  # triangles only: corners computed, not read from Blender
    tri_only.from_pydata([(0, 0, 1), (1, 0, 1), (0, 1, 1), (1, 1, 1)], [], [(0, 1, 2), (1, 3, 2)])
    tri_only.uv_layers.new(name="UVMap")
    add(scene, "Tris", tri_only)
    d = export(exporter)
    for name, n_tris in (("Mixed", 3 + 2 + 1), ("Tris", 2)):
        tris, loops = blender_triangles(evaluated_mesh(bpy.data.objects[name]))
        assert len(tris) == n_tris
        np.testing.assert_array_equal(d["meshes"][name]["triangles"], tris)
    _, loops = blender_triangles(evaluated_mesh(bpy.data.objects["Tris"]))
    np.testing.assert_array_equal(d["meshes"]["Tris"]["uv_indices"], loops)


def test_triangle_corners_are_read_from_blenders_own_array(scene):
    """mesh.corner_triangles copies Blender's corner_tris in one go; it equals what RNA's
    per-item `loops` says, on the non-planar quads of a bent grid (whose split depends on the
    positions) and on n-gons."""
    mesh_module = export_package().mesh
    n = 30
    xs = np.linspace(-1.0, 1.0, n + 1)
    verts = [(x, y, 0.0) for y in xs for x in xs] + [(2, 0, 0), (3, 0, 0), (3.5, 1, 0), (2.5, 2, 0), (1.5, 1, 0)]
    faces = [(j * (n + 1) + i, j * (n + 1) + i + 1, (j + 1) * (n + 1) + i + 1, (j + 1) * (n + 1) + i)
             for j in range(n) for i in range(n)]
    k = (n + 1) ** 2
    me = bpy.data.meshes.new("Bent")
    me.from_pydata(verts, [], faces + [tuple(range(k, k + 5))])
    ob = add(scene, "Bent", me)
    ob.modifiers.new("Bend", "SIMPLE_DEFORM").deform_method = "BEND"
    b_mesh = evaluated_mesh(ob)
    _, loops = blender_triangles(b_mesh)
    assert len(loops) == 2 * n * n + 3
    corners = mesh_module.corner_triangles(b_mesh, len(loops))
    assert corners.dtype == np.int32 and corners.flags.c_contiguous
    np.testing.assert_array_equal(corners, loops)


def test_triangle_corners_not_laid_out_as_expected_are_not_copied(scene):
    """The in-place copy checks the layout first: items that are not consecutive int3s (here the
    same triangles in reverse order) are refused, and the exporter falls back to RNA."""
    mesh_module = export_package().mesh
    b_mesh = evaluated_mesh(add(scene, "Cube", cube_mesh()))
    _, loops = blender_triangles(b_mesh)
    out = np.zeros_like(loops)
    n_corners = len(b_mesh.loops)
    assert not mesh_module._copy_corner_tris(list(reversed(b_mesh.loop_triangles)), out, n_corners)
    assert not mesh_module._copy_corner_tris(b_mesh.loop_triangles, out, n_corners - 1)  # a corner beyond the mesh
    assert mesh_module._copy_corner_tris(b_mesh.loop_triangles, out, n_corners)
    np.testing.assert_array_equal(out, loops)


def test_meshes_are_recognised_by_comparing_their_inputs():
    """cache.Content: equal inputs are equal keys (arrays bit for bit), a single changed element
    or a changed shape is not; NaN equals itself, -0.0 is not 0.0."""
    Content = export_package().cache.Content
    a = np.arange(300, dtype=np.float32).reshape(100, 3)
    same = Content(("mesh", 100), (a.copy(), None, "UVMap"))
    assert Content(("mesh", 100), (a, None, "UVMap")) == same and hash(Content(("mesh", 100), (a, None, "UVMap"))) == hash(same)
    moved = a.copy()
    moved[57, 1] += 1e-3  # not one of the fingerprint's samples: the full comparison decides
    assert Content(("mesh", 100), (moved, None, "UVMap")) != same
    assert Content(("mesh", 101), (a, None, "UVMap")) != same
    assert Content(("mesh", 100), (a, None, "Other")) != same
    assert Content(("mesh", 100), (a.reshape(300), None, "UVMap")) != same
    nan = np.array([np.nan, 1.0], np.float32)
    assert Content((), (nan,)) == Content((), (nan.copy(),))
    assert Content((), (np.array([0.0], np.float32),)) != Content((), (np.array([-0.0], np.float32),))


def test_separately_made_identical_meshes_share_one_conversion(scene, exporter):
    add(scene, "A", grid_mesh("GridA"))
    add(scene, "B", grid_mesh("GridB"), location=(3, 0, 0))
    changed = grid_mesh("GridC")
    changed.vertices[7].co.z += 0.25
    add(scene, "C", changed, location=(6, 0, 0))
    d = export(exporter)
    assert exporter.last_stats["meshes_converted"] == 2 and exporter.last_stats["meshes_reused"] == 1
    assert sorted(d["meshes"]) == ["GridA", "GridC"]
    assert sorted((g["geometry"], len(g["transforms"])) for g in d["instances"]) == [("GridA", 2), ("GridC", 1)]


def test_flat_mesh_has_no_normals(scene, exporter):
    add(scene, "Cube", cube_mesh())
    m = mesh_of(export(exporter))
    assert "normals" not in m and "normal_indices" not in m  # the core's geometric normals


def test_smooth_mesh_has_vertex_normals(scene, exporter):
    me = cube_mesh()
    me.shade_smooth()
    ob = add(scene, "Cube", me)
    m = mesh_of(export(exporter))
    assert "normal_indices" not in m and m["normals"].shape == (8, 3)
    expected = np.array([v.normal for v in evaluated_mesh(ob).vertices], np.float32)
    np.testing.assert_allclose(m["normals"], expected, atol=1e-6)
    # a cube's smooth vertex normals point along the diagonals
    np.testing.assert_allclose(np.abs(m["normals"]), 1 / math.sqrt(3), atol=1e-5)


def test_mixed_flat_and_smooth_uses_corner_normals(scene, exporter):
    me = cube_mesh()
    me.shade_smooth()
    me.polygons[0].use_smooth = False
    ob = add(scene, "Cube", me)
    m = mesh_of(export(exporter))
    b_mesh = evaluated_mesh(ob)
    assert b_mesh.normals_domain == "CORNER"
    _, loops = blender_triangles(b_mesh)
    np.testing.assert_array_equal(m["normal_indices"], loops)
    corner = np.array([c.vector for c in b_mesh.corner_normals], np.float32)
    np.testing.assert_allclose(m["normals"], corner, atol=1e-6)
    # the flat face's corners carry its face normal
    flat_loops = list(b_mesh.polygons[0].loop_indices)
    np.testing.assert_allclose(m["normals"][flat_loops], np.tile(b_mesh.polygons[0].normal, (4, 1)), atol=1e-6)


def test_custom_split_normals(scene, exporter):
    me = grid_mesh(n=2)
    me.shade_smooth()
    up = (0.0, 0.6, 0.8)
    me.normals_split_custom_set([up] * len(me.loops))
    add(scene, "Grid", me)
    m = mesh_of(export(exporter))
    assert m["normals"].shape == (len(me.loops), 3) and m["normal_indices"].shape == (8, 3)
    shading = m["normals"][m["normal_indices"]]
    np.testing.assert_allclose(shading.reshape(-1, 3), np.tile(up, (24, 1)), atol=1e-3)


def test_uvs_per_corner(scene, exporter):
    me = grid_mesh(n=2)
    uv = me.uv_layers.new(name="UVMap")
    values = np.random.default_rng(1).random((len(me.loops), 2)).astype(np.float32)
    uv.uv.foreach_set("vector", values.ravel())
    other = me.uv_layers.new(name="Other")
    other.uv.foreach_set("vector", np.zeros(2 * len(me.loops), np.float32))
    me.uv_layers["UVMap"].active_render = True
    ob = add(scene, "Grid", me)
    m = mesh_of(export(exporter))
    _, loops = blender_triangles(evaluated_mesh(ob))
    np.testing.assert_array_equal(m["uv_indices"], loops)
    np.testing.assert_array_equal(m["uvs"][m["uv_indices"]], values[loops])


def test_triangle_only_single_slot_mesh_carries_no_copies(scene, exporter):
    """A mesh of triangles only: its triangles are the corner vertices read from Blender (a view,
    not a second array), its corner indices 0, 1, 2, ...; with one material slot it has no
    per-triangle ids (absent means slot 0), and it renders as with explicit zeros (issue 11)."""
    rng = np.random.default_rng(3)
    verts = rng.uniform(-1, 1, (30, 3)).tolist()
    faces = [tuple(int(i) for i in rng.choice(30, 3, replace=False)) for _ in range(40)]
    me = bpy.data.meshes.new("Tris")
    me.from_pydata(verts, [], faces)
    me.uv_layers.new(name="UVMap").uv.foreach_set("vector", rng.random(2 * len(me.loops)).astype(np.float32))
    me.materials.append(bpy.data.materials.new("Only"))
    ob = add(scene, "Tris", me)
    d = export(exporter)
    m = mesh_of(d)
    tris, loops = blender_triangles(evaluated_mesh(ob))
    np.testing.assert_array_equal(m["triangles"], tris)
    np.testing.assert_array_equal(m["uv_indices"], loops)
    np.testing.assert_array_equal(loops.ravel(), np.arange(3 * len(faces)))
    assert m["triangles"].base is not None and m["triangles"].base.shape == (3 * len(faces),)
    assert "material_ids" not in m and m["materials"] == ["Only"]
    explicit = {**d, "meshes": {name: {**mesh, "material_ids": np.zeros(len(faces), np.int32)}
                                for name, mesh in d["meshes"].items()}}
    images = []
    for scene_dict in (d, explicit):
        r = oc.Renderer()
        r.set_scene(scene_dict)
        r.accumulate(2)
        images.append(np.array(r.color))
    np.testing.assert_array_equal(images[0], images[1])


def test_material_slots_give_material_ids(scene, exporter):
    red, blue = bpy.data.materials.new("Red"), bpy.data.materials.new("Blue")
    me = cube_mesh()
    me.materials.append(red)
    me.materials.append(blue)
    me.polygons.foreach_set("material_index", [0, 1, 1, 0, 1, 5])  # 5: beyond the slots, clamped as Blender
    ob = add(scene, "Cube", me)
    d = export(exporter)
    m = mesh_of(d)
    assert m["materials"] == ["Red", "Blue"]
    b_mesh = evaluated_mesh(ob)
    tri_faces = np.array([t.polygon_index for t in b_mesh.loop_triangles])
    np.testing.assert_array_equal(m["material_ids"], np.minimum(np.array([0, 1, 1, 0, 1, 5])[tri_faces], 1))
    assert set(d["materials"]) == {"Red", "Blue"}
    assert only_group(d)["materials"] == ["Red", "Blue"]


def test_object_linked_material_overrides_per_object(scene, exporter):
    red, blue = bpy.data.materials.new("Red"), bpy.data.materials.new("Blue")
    me = cube_mesh()
    me.materials.append(red)
    add(scene, "A", me)
    b = add(scene, "B", me, location=(3, 0, 0))
    b.material_slots[0].link = "OBJECT"
    b.material_slots[0].material = blue
    d = export(exporter)
    assert len(d["meshes"]) == 1
    by_material = {tuple(g["materials"]): len(g["transforms"]) for g in d["instances"]}
    assert by_material == {("Red",): 1, ("Blue",): 1}


def test_object_without_material_uses_default(scene, exporter):
    add(scene, "Cube", cube_mesh())
    d = export(exporter)
    assert mesh_of(d)["materials"] == [] and only_group(d)["materials"] == [] and d["materials"] == {}


def test_empty_slot_is_the_default_material(scene, exporter):
    me = cube_mesh()
    me.materials.append(None)
    add(scene, "Cube", me)
    d = export(exporter)
    assert only_group(d)["materials"] == [None]


def test_pass_index_is_the_object_id(scene, exporter):
    me = cube_mesh()
    add(scene, "A", me).pass_index = 3
    add(scene, "B", me, location=(3, 0, 0)).pass_index = 7
    d = export(exporter)
    g = only_group(d)
    assert sorted(g["object_ids"].tolist()) == [3, 7] and g["object_ids"].dtype == np.int32


def test_shared_mesh_is_stored_once(scene, exporter):
    me = cube_mesh()
    for i in range(5):
        add(scene, f"C{i}", me, location=(2 * i, 0, 0))
    d = export(exporter)
    g = only_group(d)
    assert len(d["meshes"]) == 1 and len(g["transforms"]) == 5
    np.testing.assert_allclose(sorted(g["transforms"][:, 0, 3]), [0, 2, 4, 6, 8])


def test_zero_scale_placement_is_dropped(scene, exporter):
    me = cube_mesh()
    add(scene, "A", me)
    add(scene, "Flat", me, location=(3, 0, 0), scale=(0, 1, 1))  # e.g. a scale-in animation's first frame
    g = only_group(export(exporter))
    assert len(g["transforms"]) == 1 and g["transforms"][0, 0, 3] == 0


def test_last_stats_say_what_happened(scene, exporter):
    me = cube_mesh()
    me.materials.append(bpy.data.materials.new("M"))
    add(scene, "A", me)
    add(scene, "B", me, location=(3, 0, 0))
    light(scene, "POINT")
    export(exporter)
    s = exporter.last_stats
    assert (s["meshes"], s["meshes_converted"], s["meshes_reused"], s["instances"], s["lights"]) == (1, 1, 0, 2, 1)
    assert (s["materials"], s["materials_converted"], s["materials_fallback"]) == (1, 1, 0)
    assert s["seconds"] >= s["seconds_geometry"] >= 0


def test_text_object_is_exported_once(scene, exporter):
    curve = bpy.data.curves.new("Text", "FONT")
    curve.body = "Hi"
    add(scene, "Text", curve)
    d = export(exporter)
    m = mesh_of(d)
    assert len(m["triangles"]) > 10 and len(only_group(d)["transforms"]) == 1
    export(exporter)
    assert exporter.last_stats["meshes_converted"] == 0 and exporter.last_stats["meshes_reused"] == 1


def test_surface_and_metaball_are_exported_once(scene, exporter):
    bpy.ops.surface.primitive_nurbs_surface_sphere_add()
    bpy.ops.object.metaball_add(location=(3, 0, 0))
    d = export(exporter)
    assert len(d["meshes"]) == 2 and all(len(m["triangles"]) > 100 for m in d["meshes"].values())
    assert sorted(len(g["transforms"]) for g in d["instances"]) == [1, 1]
    export(exporter)
    assert exporter.last_stats["meshes_converted"] == 0 and exporter.last_stats["meshes_reused"] == 2


def test_vertex_only_mesh_is_not_rendered(scene, exporter):
    me = bpy.data.meshes.new("Points")
    me.from_pydata([(0, 0, 0), (1, 0, 0)], [], [])
    add(scene, "Points", me)
    d = export(exporter)
    assert d["meshes"] == {} and d["instances"] == []


# ---------------------------------------------------------------------------------------------
# instances


def test_geometry_nodes_instances_share_one_mesh(scene, exporter):
    gn_object(scene, "Scatter", instance_on_points_tree("IOP", 4, 3, 3.0, 0.2))
    d = export(exporter)
    m = mesh_of(d)
    assert m["vertices"].shape == (8, 3)
    g = only_group(d)
    assert g["transforms"].shape == (12, 4, 4)
    xs, ys = np.linspace(-1.5, 1.5, 4), np.linspace(-1.5, 1.5, 3)
    expected = sorted((x, y) for x in xs for y in ys)
    got = sorted(map(tuple, np.round(g["transforms"][:, :2, 3].astype(np.float64), 5)))
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_geometry_nodes_instances_of_an_object(scene, exporter):
    red = bpy.data.materials.new("Red")
    me = cube_mesh()
    me.materials.append(red)
    src = add(scene, "Source", me, location=(0, 0, 5))
    src.hide_viewport = src.hide_render = True  # only its instances are seen
    gn_object(scene, "Scatter", instance_on_points_tree("IOP", 3, 3, 2.0, src))
    d = export(exporter)
    g = only_group(d)
    assert len(d["meshes"]) == 1 and len(g["transforms"]) == 9 and g["materials"] == ["Red"]


def test_collection_instances(scene, exporter):
    col = bpy.data.collections.new("Col")
    member = bpy.data.objects.new("Member", cube_mesh())
    member.location = (0, 0, 1)
    col.objects.link(member)
    for i, x in enumerate((-3.0, 3.0)):
        empty = add(scene, f"Inst{i}", None, location=(x, 0, 0))
        empty.instance_type = "COLLECTION"
        empty.instance_collection = col
    d = export(exporter)
    g = only_group(d)
    assert len(d["meshes"]) == 1 and g["transforms"].shape == (2, 4, 4)
    np.testing.assert_allclose(sorted(map(tuple, g["transforms"][:, :3, 3])), [(-3, 0, 1), (3, 0, 1)], atol=1e-6)


def test_ten_thousand_instances_do_not_copy_the_mesh(scene, exporter):
    gn_object(scene, "Scatter", instance_on_points_tree("IOP", 100, 100, 20.0, 0.05))
    d = export(exporter)
    assert len(d["meshes"]) == 1 and mesh_of(d)["vertices"].shape == (8, 3)
    g = only_group(d)
    assert g["transforms"].shape == (10000, 4, 4) and g["transforms"].dtype == np.float32
    assert exporter.last_stats["instances"] == 10000 and exporter.last_stats["meshes_converted"] == 1
    np.testing.assert_array_equal(g["transforms"][:, 3], np.tile([0, 0, 0, 1], (10000, 1)))


# ---------------------------------------------------------------------------------------------
# point clouds


def point_cloud(scene, name, points):
    me = bpy.data.meshes.new(name)
    me.from_pydata(points, [], [])
    ob = add(scene, name, me)
    for o in bpy.context.view_layer.objects:
        o.select_set(False)
    bpy.context.view_layer.objects.active = ob
    ob.select_set(True)
    bpy.ops.object.convert(target="POINTCLOUD")
    ob = bpy.context.view_layer.objects.active
    assert ob.type == "POINTCLOUD"
    return ob


def test_point_cloud_spheres_with_radii_and_colours(scene, exporter):
    pts = [(0, 0, 0), (1, 0, 0), (0, 1, 0)]
    ob = point_cloud(scene, "Cloud", pts)
    ob.data.attributes.new("radius", "FLOAT", "POINT").data.foreach_set("value", [0.1, 0.2, 0.3])
    ob.data.attributes.new("Cd", "FLOAT_COLOR", "POINT").data.foreach_set(
        "color", [1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1])
    mat = bpy.data.materials.new("Dots")
    ob.data.materials.append(mat)
    d = export(exporter)
    assert d["meshes"] == {} and len(d["spheres"]) == 1
    s = next(iter(d["spheres"].values()))
    np.testing.assert_array_equal(s["centers"], np.array(pts, np.float32))
    np.testing.assert_allclose(s["radii"], [0.1, 0.2, 0.3], rtol=1e-6)
    np.testing.assert_array_equal(s["colors"], np.eye(3, dtype=np.float32))
    assert s["material"] == "Dots"
    assert only_group(d)["geometry"] == next(iter(d["spheres"]))


def test_point_cloud_default_radius_and_no_colour(scene, exporter):
    point_cloud(scene, "Cloud", [(0, 0, 0), (0, 0, 1)])
    s = next(iter(export(exporter)["spheres"].values()))
    np.testing.assert_array_equal(s["radii"], np.float32([0.01, 0.01]))
    assert "colors" not in s and s["material"] is None


# ---------------------------------------------------------------------------------------------
# lights


def light(scene, kind, name=None, **props):
    data = bpy.data.lights.new(name or kind, kind)
    for k, v in props.items():
        setattr(data, k, v)
    return add(scene, name or kind, data, location=(0, 0, 3))


def only_light(d):
    assert len(d["lights"]) == 1, list(d["lights"])
    return next(iter(d["lights"].values()))


def test_point_light_power_with_exposure(scene, exporter):
    light(scene, "POINT", energy=100.0, exposure=1.5, shadow_soft_size=0.3, color=(1.0, 0.5, 0.25))
    L = only_light(export(exporter))
    assert L["type"] == "point"
    assert L["power"] == pytest.approx(100.0 * 2 ** 1.5, rel=1e-6) and L["radius"] == pytest.approx(0.3)
    assert L["color"] == pytest.approx([1.0, 0.5, 0.25])
    np.testing.assert_allclose(L["matrix"][:3, 3], [0, 0, 3])


def test_point_light_without_normalize_scales_by_area(scene, exporter):
    light(scene, "POINT", energy=10.0, shadow_soft_size=0.5, normalize=False)
    L = only_light(export(exporter))
    # Cycles: radiance without the 1/(π r²) → the same radiance as power · π r² normalised
    assert L["power"] == pytest.approx(10.0 * math.pi * 0.25, rel=1e-6)


def test_spot_light_angles(scene, exporter):
    light(scene, "SPOT", energy=50.0, spot_size=math.radians(60), spot_blend=0.3)
    L = only_light(export(exporter))
    assert L["type"] == "spot" and L["power"] == pytest.approx(50.0)
    assert L["spot_size"] == pytest.approx(math.radians(60), rel=1e-6) and L["spot_blend"] == pytest.approx(0.3)


def test_sun_light_strength_and_angle(scene, exporter):
    ob = light(scene, "SUN", energy=3.0, angle=math.radians(10))
    ob.rotation_euler = (0.3, 0.0, 0.0)
    L = only_light(export(exporter))
    assert L["type"] == "sun" and L["strength"] == pytest.approx(3.0) and "power" not in L
    assert L["angle"] == pytest.approx(math.radians(10), rel=1e-6)
    np.testing.assert_allclose(-L["matrix"][:3, 2], -np.array(ob.matrix_world)[:3, 2], atol=1e-6)


@pytest.mark.parametrize("shape,size,size_y,area", [
    ("SQUARE", 2.0, None, 4.0),
    ("RECTANGLE", 2.0, 0.5, 1.0),
    ("DISK", 2.0, None, math.pi),
    ("ELLIPSE", 2.0, 0.5, math.pi / 4),
])
def test_area_light_shapes(scene, exporter, shape, size, size_y, area):
    props = dict(energy=40.0, shape=shape, size=size)
    if size_y is not None:
        props["size_y"] = size_y
    light(scene, "AREA", **props)
    L = only_light(export(exporter))
    assert L["type"] == "area" and L["shape"] == shape.lower() and L["power"] == pytest.approx(40.0)
    assert L["size_x"] == pytest.approx(size)
    if size_y is None:
        assert "size_y" not in L
    else:
        assert L["size_y"] == pytest.approx(size_y)


def test_area_light_without_normalize_scales_by_world_area(scene, exporter):
    ob = light(scene, "AREA", energy=10.0, shape="RECTANGLE", size=2.0, size_y=0.5, normalize=False)
    ob.scale = (3.0, 1.0, 1.0)
    L = only_light(export(exporter))
    assert L["power"] == pytest.approx(10.0 * (2.0 * 3.0) * 0.5, rel=1e-5)
    np.testing.assert_allclose(np.linalg.norm(L["matrix"][:3, 0]), 3.0, rtol=1e-6)  # the core stretches by scale


def test_light_temperature_multiplies_colour(scene, exporter):
    ob = light(scene, "POINT", energy=10.0, color=(0.5, 1.0, 1.0), use_temperature=True, temperature=3000.0)
    L = only_light(export(exporter))
    expected = np.array([0.5, 1.0, 1.0]) * np.array(ob.data.temperature_color)
    assert L["color"] == pytest.approx(expected.tolist(), rel=1e-6)
    assert expected[0] > expected[2]  # warm


def test_area_spread_is_reported_once(scene, exporter, log):
    light(scene, "AREA", energy=10.0, spread=math.radians(90))
    export(exporter)
    export(exporter)
    assert log.count("spread") == 1


def test_instanced_lights_are_placed_each(scene, exporter):
    col = bpy.data.collections.new("Lamps")
    lamp = bpy.data.objects.new("Lamp", bpy.data.lights.new("Lamp", "POINT"))
    col.objects.link(lamp)
    for i in range(3):
        e = add(scene, f"E{i}", None, location=(i, 0, 0))
        e.instance_type, e.instance_collection = "COLLECTION", col
    d = export(exporter)
    assert len(d["lights"]) == 3
    np.testing.assert_allclose(sorted(L["matrix"][0, 3] for L in d["lights"].values()), [0, 1, 2])


# ---------------------------------------------------------------------------------------------
# world


def test_world_background_colour_and_strength(scene, exporter_v1):
    world = bpy.data.worlds.new("World")
    bg = world.node_tree.nodes["Background"]
    bg.inputs["Color"].default_value = (0.2, 0.3, 0.4, 1.0)
    bg.inputs["Strength"].default_value = 2.5
    scene.world = world
    w = export(exporter_v1)["world"]
    assert w["color"] == pytest.approx([0.2, 0.3, 0.4]) and w["strength"] == pytest.approx(2.5)


def test_no_world_is_blenders_default(scene, exporter_v1):
    scene.world = None
    w = export(exporter_v1)["world"]
    assert w["color"] == pytest.approx([0.050876] * 3) and w["strength"] == 1.0


def test_linked_world_colour_falls_back_and_logs_once(scene, exporter_v1, log):
    world = bpy.data.worlds.new("Sky")
    tree = world.node_tree
    bg = tree.nodes["Background"]
    bg.inputs["Color"].default_value = (0.1, 0.2, 0.3, 1.0)
    sky = tree.nodes.new("ShaderNodeTexSky")
    tree.links.new(sky.outputs["Color"], bg.inputs["Color"])
    scene.world = world
    w = export(exporter_v1)["world"]
    export(exporter_v1)
    assert w["color"] == pytest.approx([0.1, 0.2, 0.3])
    assert log.count("World 'Sky'") == 1 and log.count("ShaderNodeTexSky") == 1


# ---------------------------------------------------------------------------------------------
# camera and render settings


def test_perspective_camera(scene, exporter):
    cam_ob = scene.camera
    cam = cam_ob.data
    cam.lens, cam.sensor_width, cam.sensor_height, cam.sensor_fit = 35.0, 32.0, 18.0, "VERTICAL"
    cam.shift_x, cam.shift_y, cam.clip_start, cam.clip_end = 0.1, -0.2, 0.5, 50.0
    cam_ob.scale = (2.0, 2.0, 2.0)
    c = export(exporter)["camera"]
    assert c["type"] == "perspective" and c["lens"] == pytest.approx(35.0)
    assert c["sensor_width"] == pytest.approx(32.0) and c["sensor_height"] == pytest.approx(18.0)
    assert c["sensor_fit"] == "VERTICAL"
    assert (c["shift_x"], c["shift_y"]) == (pytest.approx(0.1), pytest.approx(-0.2))
    assert (c["clip_start"], c["clip_end"]) == (pytest.approx(0.5), pytest.approx(50.0))
    assert "aperture_radius" not in c
    m = np.array(cam_ob.matrix_world)
    np.testing.assert_allclose(c["matrix"][:3, :3], m[:3, :3] / 2.0, atol=1e-6)  # scale removed
    np.testing.assert_allclose(c["matrix"][:3, 3], [0, -10, 0], atol=1e-6)


def test_orthographic_camera_with_dof(scene, exporter):
    cam = scene.camera.data
    cam.type, cam.ortho_scale = "ORTHO", 8.0
    cam.dof.use_dof, cam.dof.aperture_fstop, cam.dof.focus_distance = True, 2.0, 4.0
    c = export(exporter)["camera"]
    assert c["type"] == "orthographic" and c["ortho_scale"] == pytest.approx(8.0)
    assert c["aperture_radius"] == pytest.approx(1.0 / (2 * 2.0))  # Cycles: 1 / (2·fstop) for ortho
    assert c["focus_distance"] == pytest.approx(4.0)


def test_depth_of_field(scene, exporter):
    cam = scene.camera.data
    cam.lens = 50.0
    dof = cam.dof
    dof.use_dof, dof.aperture_fstop, dof.focus_distance = True, 2.8, 7.0
    dof.aperture_blades, dof.aperture_rotation = 6, 0.3
    c = export(exporter)["camera"]
    assert c["aperture_radius"] == pytest.approx(50e-3 / (2 * 2.8), rel=1e-6)
    assert c["focus_distance"] == pytest.approx(7.0)
    assert c["aperture_blades"] == 6 and c["aperture_rotation"] == pytest.approx(0.3)


def test_focus_object_distance_along_view_axis(scene, exporter):
    target = add(scene, "Target", None, location=(1.5, 4.0, 2.0))  # camera at y=-10 looking along +Y
    dof = scene.camera.data.dof
    dof.use_dof, dof.focus_object = True, target
    c = export(exporter)["camera"]
    assert c["focus_distance"] == pytest.approx(14.0, rel=1e-6)


def test_resolution_percentage_and_border_region(scene, exporter):
    r = scene.render
    r.resolution_x, r.resolution_y, r.resolution_percentage = 200, 101, 50
    r.use_border = True
    r.border_min_x, r.border_max_x, r.border_min_y, r.border_max_y = 0.25, 0.75, 0.1, 0.5
    rs = export(exporter)["render"]
    assert (rs["width"], rs["height"]) == (100, 50)  # 101 · 50 // 100
    # x: 25..75; y from the bottom 5..25 → from the top 25..45
    assert rs["region"] == [25, 25, 50, 20]


def test_no_border_no_region(scene, exporter):
    rs = export(exporter)["render"]
    assert "region" not in rs and (rs["width"], rs["height"]) == (64, 48)


def test_render_settings_defaults_without_engine_settings(scene, exporter):
    rs = export(exporter)["render"]
    if not hasattr(scene, "optica"):
        assert rs["max_bounces"] == 12 and rs["seed"] == 0
        # Cycles' Light Paths › Max Bounces defaults.
        assert (rs["max_diffuse_bounces"], rs["max_glossy_bounces"], rs["max_transmission_bounces"],
                rs["max_transparent_bounces"]) == (4, 4, 12, 8)
    assert rs["filter"] == "blackman_harris" and rs["filter_width"] == pytest.approx(1.5)


# ---------------------------------------------------------------------------------------------
# materials and textures


def principled(name):
    mat = bpy.data.materials.new(name)
    return mat, mat.node_tree.nodes["Principled BSDF"]


def cube_with(scene, mat):
    me = cube_mesh()
    me.materials.append(mat)
    return add(scene, "Cube", me)


def test_principled_values(scene, exporter_v1):
    mat, p = principled("Shiny")
    values = {"Base Color": (0.9, 0.2, 0.1, 1.0), "Metallic": 0.7, "Roughness": 0.25, "IOR": 1.33, "Alpha": 0.8,
              "Specular IOR Level": 0.6, "Transmission Weight": 0.4, "Emission Color": (1.0, 0.5, 0.0, 1.0),
              "Emission Strength": 3.0}
    for k, v in values.items():
        p.inputs[k].default_value = v
    cube_with(scene, mat)
    m = export(exporter_v1)["materials"]["Shiny"]
    assert m["base_color"] == pytest.approx([0.9, 0.2, 0.1]) and m["metallic"] == pytest.approx(0.7)
    assert m["roughness"] == pytest.approx(0.25) and m["ior"] == pytest.approx(1.33)
    assert m["alpha"] == pytest.approx(0.8)
    assert m["specular"] == pytest.approx(0.6) and m["transmission"] == pytest.approx(0.4)
    assert m["emission_color"] == pytest.approx([1.0, 0.5, 0.0]) and m["emission_strength"] == pytest.approx(3.0)
    assert "base_color_texture" not in m


def uv_plane(scene, mat):
    me = grid_mesh(n=1)
    uv = me.uv_layers.new(name="UVMap")
    uv.uv.foreach_set("vector", [0, 0, 1, 0, 1, 1, 0, 1])
    me.materials.append(mat)
    return add(scene, "Plane", me)


def test_image_texture_on_base_colour(scene, exporter_v1):
    w, h = 4, 2
    img = bpy.data.images.new("Checker", w, h, float_buffer=True)
    pixels = np.random.default_rng(3).random((h, w, 4)).astype(np.float32)
    img.pixels.foreach_set(pixels.ravel())
    mat, p = principled("Textured")
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image, tex.interpolation, tex.extension = img, "Closest", "EXTEND"
    mat.node_tree.links.new(tex.outputs["Color"], p.inputs["Base Color"])
    uv_plane(scene, mat)
    d = export(exporter_v1)
    name = d["materials"]["Textured"]["base_color_texture"]
    t = d["textures"][name]
    assert t["pixels"].shape == (h, w, 4) and t["pixels"].dtype == np.float32
    np.testing.assert_array_equal(t["pixels"], pixels)
    assert (t["colorspace"], t["interpolation"], t["extension"]) == ("linear", "closest", "extend")


def test_byte_image_is_srgb(scene, exporter_v1):
    img = bpy.data.images.new("Paint", 2, 2)
    values = np.arange(16, dtype=np.float32).reshape(2, 2, 4) * 15 / 255
    img.pixels.foreach_set(values.ravel())
    assert img.colorspace_settings.name == "sRGB"
    mat, p = principled("Painted")
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    mat.node_tree.links.new(tex.outputs["Color"], p.inputs["Base Color"])
    uv_plane(scene, mat)
    d = export(exporter_v1)
    t = d["textures"][d["materials"]["Painted"]["base_color_texture"]]
    assert t["colorspace"] == "srgb" and (t["interpolation"], t["extension"]) == ("linear", "repeat")
    np.testing.assert_allclose(t["pixels"], values, atol=1e-6)
    img.colorspace_settings.name = "Non-Color"
    d = export(exporter_v1)
    assert d["textures"][d["materials"]["Painted"]["base_color_texture"]]["colorspace"] == "linear"


def test_texture_pixels_reused_between_exports(scene, exporter):
    img = bpy.data.images.new("Grid", 8, 8, float_buffer=True)
    img.pixels.foreach_set(np.linspace(0, 1, 256, dtype=np.float32))
    mat, p = principled("T")
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    mat.node_tree.links.new(tex.outputs["Color"], p.inputs["Base Color"])
    uv_plane(scene, mat)
    d1 = export(exporter)
    d2 = export(exporter)
    assert exporter.last_stats["textures_reused"] == 1 and exporter.last_stats["textures_converted"] == 0
    (t1,), (t2,) = d1["textures"].values(), d2["textures"].values()
    assert t1["pixels"] is t2["pixels"]


def test_one_image_sampled_two_ways_shares_its_pixels(scene, exporter_v1):
    img = bpy.data.images.new("Shared", 4, 4, float_buffer=True)
    for name, interpolation in (("Smooth", "Linear"), ("Sharp", "Closest")):
        mat, p = principled(name)
        tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
        tex.image, tex.interpolation = img, interpolation
        mat.node_tree.links.new(tex.outputs["Color"], p.inputs["Base Color"])
        uv_plane(scene, mat).location.x = len(scene.objects)
    d = export(exporter_v1)
    a = d["textures"][d["materials"]["Smooth"]["base_color_texture"]]
    b = d["textures"][d["materials"]["Sharp"]["base_color_texture"]]
    assert (a["interpolation"], b["interpolation"]) == ("linear", "closest") and a["pixels"] is b["pixels"]


@pytest.mark.parametrize("setup", ["diffuse_bsdf", "noise_into_base_color"])
def test_unsupported_nodes_fall_back_and_log_once(scene, exporter_v1, log, setup):
    mat, p = principled("Odd")
    mat.diffuse_color = (0.1, 0.6, 0.3, 1.0)
    tree = mat.node_tree
    if setup == "diffuse_bsdf":
        node = tree.nodes.new("ShaderNodeBsdfDiffuse")
        out = tree.nodes["Material Output"]
        tree.links.new(node.outputs["BSDF"], out.inputs["Surface"])
        expected_type = "ShaderNodeBsdfDiffuse"
    else:
        node = tree.nodes.new("ShaderNodeTexNoise")
        tree.links.new(node.outputs["Color"], p.inputs["Base Color"])
        expected_type = "ShaderNodeTexNoise"
    cube_with(scene, mat)
    d1 = export(exporter_v1)
    d2 = export(exporter_v1)
    for d in (d1, d2):
        assert d["materials"]["Odd"]["base_color"] == pytest.approx([0.1, 0.6, 0.3])
    assert exporter_v1.last_stats["materials_fallback"] == 1
    mentions = [m for _, m in log.messages if "Odd" in m]
    assert len(mentions) == 1 and expected_type in mentions[0], log.messages


def test_emission_shader(scene, exporter_v1):
    mat = bpy.data.materials.new("Glow")
    tree = mat.node_tree
    em = tree.nodes.new("ShaderNodeEmission")
    em.inputs["Color"].default_value = (1.0, 0.9, 0.8, 1.0)
    em.inputs["Strength"].default_value = 5.0
    tree.links.new(em.outputs["Emission"], tree.nodes["Material Output"].inputs["Surface"])
    cube_with(scene, mat)
    m = export(exporter_v1)["materials"]["Glow"]
    assert m["emission_color"] == pytest.approx([1.0, 0.9, 0.8]) and m["emission_strength"] == pytest.approx(5.0)
    assert m["base_color"] == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------------
# caching between exports


def test_moving_object_and_camera_reuses_meshes(scene, exporter):
    me = cube_mesh()
    me.shade_smooth()
    ob = add(scene, "Cube", me)
    ob.modifiers.new("Subdivision", "SUBSURF").levels = 1
    add(scene, "Other", grid_mesh(), location=(0, 0, -1))
    d1 = export(exporter)
    assert exporter.last_stats["meshes_converted"] == 2
    ob.location.x += 1.0
    scene.camera.location.z += 2.0
    d2 = export(exporter)
    assert exporter.last_stats["meshes_converted"] == 0 and exporter.last_stats["meshes_reused"] == 2
    for name, m in d1["meshes"].items():
        for key, value in m.items():
            if isinstance(value, np.ndarray):
                assert d2["meshes"][name][key] is value, (name, key)
    moved = [g for g in d2["instances"] if g["transforms"][0, 0, 3] == pytest.approx(1.0)]
    assert len(moved) == 1


def test_edited_mesh_is_converted_again(scene, exporter):
    me = cube_mesh()
    add(scene, "Cube", me)
    add(scene, "Other", grid_mesh(), location=(0, 0, -1))
    d1 = export(exporter)
    me.vertices[0].co.x -= 0.5
    me.update()
    d2 = export(exporter)
    assert exporter.last_stats["meshes_converted"] == 1 and exporter.last_stats["meshes_reused"] == 1
    # The new content gets its own entry (and name: the old one is dropped after this export).
    (cube,) = [m for name, m in d2["meshes"].items() if name.startswith("Cube")]
    assert cube["vertices"] is not d1["meshes"]["Cube"]["vertices"] and cube["vertices"][0, 0] == pytest.approx(-1.0)
    assert d2["meshes"]["Grid"]["vertices"] is d1["meshes"]["Grid"]["vertices"]
    assert exporter.last_stats["cache_dropped"] == 1


def test_removed_objects_leave_the_cache(scene, exporter):
    add(scene, "Cube", cube_mesh())
    gone = add(scene, "Gone", grid_mesh())
    export(exporter)
    bpy.data.objects.remove(gone)
    d = export(exporter)
    assert list(d["meshes"]) == ["Cube"] and exporter.last_stats["cache_dropped"] == 1


class _Capture:
    exporter = None
    dicts = []
    stats = []


class ExportTestEngine(bpy.types.RenderEngine):
    """Exports the render depsgraph Blender hands to an engine (a new one for every frame
    unless the scene keeps persistent data)."""

    bl_idname = "OPTICA_EXPORT_TEST"
    bl_label = "Optica export test"

    def render(self, depsgraph):
        _Capture.dicts.append(_Capture.exporter.export(depsgraph))
        _Capture.stats.append(dict(_Capture.exporter.last_stats))
        scale = depsgraph.scene.render.resolution_percentage / 100
        r = self.begin_result(0, 0, int(depsgraph.scene.render.resolution_x * scale),
                              int(depsgraph.scene.render.resolution_y * scale))
        self.end_result(r)


@pytest.fixture
def render_export(exporter):
    bpy.utils.register_class(ExportTestEngine)
    _Capture.exporter, _Capture.dicts, _Capture.stats = exporter, [], []

    def run(scene, frames):
        scene.render.engine = ExportTestEngine.bl_idname
        for f in frames:
            scene.frame_set(f)
            bpy.ops.render.render()
        for d in _Capture.dicts:
            oc.validate_scene(d)
        return _Capture.dicts, _Capture.stats

    yield run
    bpy.utils.unregister_class(ExportTestEngine)


@pytest.mark.parametrize("persistent", [False, True])
def test_render_animation_reuses_static_meshes(scene, render_export, persistent):
    scene.render.use_persistent_data = persistent
    mover = add(scene, "Mover", cube_mesh("MoverMesh"))
    mover.location = (0, 0, 0)
    mover.keyframe_insert("location", frame=1)
    mover.location = (0, 0, 2)
    mover.keyframe_insert("location", frame=3)
    still = add(scene, "Still", grid_mesh())
    still.modifiers.new("Subdivision", "SUBSURF").levels = 1
    gn_object(scene, "Scatter", instance_on_points_tree("IOP", 5, 5, 4.0, 0.1))
    dicts, stats = render_export(scene, [1, 2, 3])
    assert stats[0]["meshes_converted"] == 3
    for s in stats[1:]:
        assert s["meshes_converted"] == 0 and s["meshes_reused"] == 3, s
    for d in dicts[1:]:
        for name, m in dicts[0]["meshes"].items():
            assert d["meshes"][name]["vertices"] is m["vertices"] and d["meshes"][name]["triangles"] is m["triangles"]
    z = [next(g for g in d["instances"] if g["geometry"] == "MoverMesh")["transforms"][0, 2, 3] for d in dicts]
    assert z == pytest.approx([0.0, 1.0, 2.0])


def test_light_hidden_from_render_is_skipped(scene, render_export):
    light(scene, "POINT", name="Shown")
    light(scene, "POINT", name="Hidden").hide_render = True
    dicts, _ = render_export(scene, [1])
    assert list(dicts[0]["lights"]) == ["Shown"]


# ---------------------------------------------------------------------------------------------
# end to end


def test_exported_scene_renders_with_the_core(scene, exporter):
    me = cube_mesh()
    me.materials.append(principled("Grey")[0])
    add(scene, "Cube", me)
    add(scene, "Floor", grid_mesh(size=10.0), location=(0, 0, -0.5))
    light(scene, "AREA", energy=200.0, size=2.0)
    gn_object(scene, "Scatter", instance_on_points_tree("IOP", 3, 3, 4.0, 0.3)).location = (0, 3, 0)
    d = export(exporter)
    r = oc.Renderer(threads=0)
    r.set_scene(d)
    assert r.accumulate(1) == 1
    img = np.asarray(r.color)
    assert img.shape == (48, 64, 4) and np.isfinite(img).all() and img[..., :3].max() > 0
    assert (np.asarray(r.object_id) >= 0).any()
    scene.camera.location.x += 0.5
    r.set_scene(export(exporter))
    assert r.geometry_reused == len(d["meshes"])
