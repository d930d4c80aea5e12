# SPDX-License-Identifier: GPL-3.0-or-later
"""The exporter's defaults after the switch to scene dict version 2, in real Blender: an
Environment Texture world as a graph the core renders, image colour spaces as the core reads
them ("non_color" for data images), the Film panel's pixel filter and transparency, and the
render's stats counting approximated materials."""

import bpy
import numpy as np
import optica_core as oc
import pytest

from conftest import add_object, export_package, optica_module

pkg = export_package()
SceneExporter = pkg.SceneExporter


@pytest.fixture
def scene(optica_scene):
    s = optica_scene
    s.render.resolution_x, s.render.resolution_y, s.render.resolution_percentage = 32, 24, 100
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    s.collection.objects.link(cam)
    s.camera = cam
    return s


def export(log=None) -> dict:
    bpy.context.scene.update_tag()  # settings set from Python reach the evaluated scene
    ex = SceneExporter(log=log or (lambda *a: None), evaluable=oc.shading.NODE_TYPES)
    d = ex.export(bpy.context.evaluated_depsgraph_get())
    oc.validate_scene(d)  # strict
    return d


def float_image(name, w=8, h=4):
    img = bpy.data.images.new(name, w, h, float_buffer=True)
    img.pixels.foreach_set(np.linspace(0.0, 4.0, w * h * 4, dtype=np.float32))
    return img


def test_environment_world_is_a_graph_the_core_renders(scene):
    world = bpy.data.worlds.new("HDRI")
    tree = world.node_tree
    env = tree.nodes.new("ShaderNodeTexEnvironment")
    env.image = float_image("Sky")
    env.projection = "MIRROR_BALL"
    tree.links.new(env.outputs["Color"], tree.nodes["Background"].inputs["Color"])
    scene.world = world
    d = export()
    assert d["version"] == 2
    node = d["world"]["nodes"]["Environment Texture"]
    assert node["type"] == "ShaderNodeTexEnvironment" and node["params"]["projection"] == "MIRROR_BALL"
    texture = d["textures"][node["params"]["image"]]
    assert texture["pixels"].dtype == np.float32 and texture["colorspace"] == "linear"
    r = oc.Renderer(threads=1)
    r.set_scene(d)
    r.accumulate(1)
    assert np.array(r.color)[..., :3].mean() > 0.1  # the camera sees the texture, not black


def test_float_srgb_file_keeps_its_encoded_values(scene, tmp_path):
    """A float image Cycles reads from its file in the sRGB colour space is exported as the
    file holds it (encoded, colorspace "srgb": the core decodes after interpolation, as Cycles);
    packed, or in a linear colour space, as Blender's decoded buffer ("linear"). One exporter
    serves all three in turn: a changed colour space or packing is not served from the cache."""
    import OpenEXR

    encoded = np.linspace(0.0, 12.0, 8 * 4 * 3, dtype=np.float32).reshape(4, 8, 3)  # top row first
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                      {c: np.ascontiguousarray(encoded[..., i]) for i, c in enumerate("RGB")}) as f:
        f.write(str(tmp_path / "sky.exr"))
    world = bpy.data.worlds.new("HDRI")
    env = world.node_tree.nodes.new("ShaderNodeTexEnvironment")
    env.image = bpy.data.images.load(str(tmp_path / "sky.exr"))
    env.image.colorspace_settings.name = "sRGB"
    world.node_tree.links.new(env.outputs["Color"], world.node_tree.nodes["Background"].inputs["Color"])
    scene.world = world
    exporter = SceneExporter(log=lambda *a: None, evaluable=oc.shading.NODE_TYPES)

    def texture():
        bpy.context.scene.update_tag()
        (t,) = exporter.export(bpy.context.evaluated_depsgraph_get())["textures"].values()
        return t["colorspace"], np.asarray(t["pixels"])[..., :3]

    def blender_pixels():
        w, h = env.image.size
        return np.array(env.image.pixels[:], np.float32).reshape(h, w, 4)[..., :3]

    cs, pixels = texture()
    assert cs == "srgb" and np.allclose(pixels, encoded[::-1], rtol=1e-5, atol=1e-6)
    assert blender_pixels().max() > 100  # Blender holds them decoded: 12 encoded is ~390 linear
    env.image.colorspace_settings.name = "Linear Rec.709"
    cs, pixels = texture()
    assert cs == "linear" and np.allclose(pixels, encoded[::-1], rtol=1e-6)
    env.image.colorspace_settings.name = "sRGB"
    env.image.pack()
    cs, pixels = texture()
    assert cs == "linear" and np.allclose(pixels, blender_pixels(), rtol=1e-6) and pixels.max() > 100
    env.image.colorspace_settings.name = "Linear Rec.709"  # Blender reloads the packed image as it is
    cs, pixels = texture()
    assert cs == "linear" and np.allclose(pixels, encoded[::-1], rtol=1e-6)


def test_data_images_are_non_color(scene):
    img = bpy.data.images.new("Rough", 2, 2)
    mat = bpy.data.materials.new("M")
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    mat.node_tree.links.new(tex.outputs["Color"], mat.node_tree.nodes["Principled BSDF"].inputs["Roughness"])
    me = bpy.data.meshes.new("Plane")
    me.from_pydata([(0, 0, 0), (1, 0, 0), (1, 1, 0)], [], [(0, 1, 2)])
    me.uv_layers.new(name="UVMap")
    me.materials.append(mat)
    add_object(scene, "Plane", me)
    d = export()
    (texture,) = d["textures"].values()
    assert texture["colorspace"] == "srgb" and texture["pixels"].dtype == np.uint8
    img.colorspace_settings.name = "Non-Color"
    (texture,) = export()["textures"].values()
    assert texture["colorspace"] == "non_color"


def test_film_panel_settings(scene):
    r = export()["render"]
    assert (r["filter"], r["filter_width"], r["transparent"]) == ("blackman_harris", 1.5, False)  # Cycles' defaults
    scene.optica.filter_type, scene.optica.filter_width = "GAUSSIAN", 2.5
    scene.render.film_transparent = True
    r = export()["render"]
    assert (r["filter"], r["filter_width"], r["transparent"]) == ("gaussian", 2.5, True)
    scene.optica.filter_type = "BOX"
    assert export()["render"]["filter_width"] == 1.0  # as Blender gives Cycles' box filter


def test_final_render_transparent_film(scene):
    scene.render.film_transparent = True
    scene.optica.samples = 2
    world = bpy.data.worlds.new("W")
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (1.0, 1.0, 1.0, 1.0)
    scene.world = world
    final = optica_module("addon.final")
    output = optica_module("addon.render_result").ArrayResult()
    final.FinalSession(output, status=output).render(bpy.context.evaluated_depsgraph_get())
    image = output.images["Combined"]
    assert np.all(image[..., 3] == 0.0) and np.all(image[..., :3] == 0.0)


def test_render_stats_count_approximated_materials(scene):
    mats = []
    for name in ("Toon A", "Toon B"):
        mat = bpy.data.materials.new(name)
        tree = mat.node_tree
        toon = tree.nodes.new("ShaderNodeBsdfToon")  # not evaluated by Optica: treated as muted
        tree.links.new(toon.outputs["BSDF"], tree.nodes["Material Output"].inputs["Surface"])
        mats.append(mat)
    me = bpy.data.meshes.new("Tri")
    me.from_pydata([(0, 0, -1), (1, 0, -1), (0, 1, -1)], [], [(0, 1, 2)])
    for mat in mats:
        me.materials.append(mat)
    add_object(scene, "Tri", me)
    scene.optica.samples = 1
    final = optica_module("addon.final")
    output = optica_module("addon.render_result").ArrayResult()
    final.FinalSession(output, status=output).render(bpy.context.evaluated_depsgraph_get())
    assert ("INFO", "Optica: 2 materials approximated") in output.messages
    assert output.progress_info.endswith("| 2 materials approximated")
    log = []
    exporter = SceneExporter(log=lambda level, text: log.append(text), evaluable=oc.shading.NODE_TYPES)
    for _ in range(2):
        exporter.export(bpy.context.evaluated_depsgraph_get())
    toon_notes = [t for t in log if "ShaderNodeBsdfToon" in t]
    assert len(toon_notes) == 2  # once per material and node type, not once per export
    assert optica_module("addon.messages").approximated_note({"materials_approximated": 1}) == "1 material approximated"


def test_nodes_reading_the_active_uv_map_and_colour_validate(scene):
    """A Normal Map and a Color Attribute naming no layer read the render-active ones: the
    exported mesh names them and the core accepts it (it has no "" names)."""
    mat = bpy.data.materials.new("Active")
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    normal_map, color = tree.nodes.new("ShaderNodeNormalMap"), tree.nodes.new("ShaderNodeVertexColor")
    tree.links.new(normal_map.outputs["Normal"], bsdf.inputs["Normal"])
    tree.links.new(color.outputs["Color"], bsdf.inputs["Base Color"])
    me = bpy.data.meshes.new("Quad")
    me.from_pydata([(0, 0, -1), (1, 0, -1), (1, 1, -1), (0, 1, -1)], [], [(0, 1, 2, 3)])
    me.uv_layers.new(name="Texture")
    me.color_attributes.new("Paint", "FLOAT_COLOR", "POINT")
    me.materials.append(mat)
    add_object(scene, "Quad", me)
    m = export()["meshes"]["Quad"]
    assert (m["active_uv_map"], m["active_color_attribute"]) == ("Texture", "Paint")
    assert set(m["tangents"]) == {"Texture"} and set(m["attributes"]) == {"Paint"}
