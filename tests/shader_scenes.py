# SPDX-License-Identifier: GPL-3.0-or-later
"""Shader graphs rendered by Cycles and by Optica side by side, for per-node tests.

A test writes its material as a scene-dictionary graph (docs/scene-dict.md, version 2: node
types are `bl_idname`s, sockets Blender's identifiers, parameters RNA property names). This
module builds the same graph as a Blender node tree for Cycles and hands it unchanged to
optica_core, so both engines render one description:

- `TileScene`: a grid of tiles, one object (a square plane or a UV sphere) and one material
  each, seen from above by an orthographic camera; `render_cycles()` / `render_optica()` render
  it, and `tile_pixels()` cuts a rendered image into the tiles' interior pixels.
- `emission_graph(nodes, links, source)`: wraps nodes under test so that `source` (a node
  output) drives an Emission shader. With zero bounces and a tiny (0.01-pixel Gaussian) filter,
  each pixel is then the node's value at the pixel centre in both engines, so images match per
  pixel. (Blender gives Cycles' Box filter a width of one pixel whatever is asked, hence the
  Gaussian.)

Cycles runs with the settings of bpy_scenes.configure_cycles; Optica renders with
optica_core.Renderer directly (not through the add-on, whose exporter writes version 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import bpy
import optica_core as oc
from mathutils import Matrix

from conftest import read_image_file

TILE_SIZE = 1.0  # metres; tiles sit on a grid with this pitch


# ---- graphs ------------------------------------------------------------------------------------

def emission_graph(nodes: dict, links: list, source: tuple, strength: float = 1.0) -> dict:
    """`nodes` and `links` plus an Emission shader whose Color is `source` (node, output)."""
    nodes = dict(nodes)
    nodes["Emission"] = {"type": "ShaderNodeEmission", "inputs": {"Strength": strength}}
    nodes["Material Output"] = {"type": "ShaderNodeOutputMaterial"}
    links = [*links, [source[0], source[1], "Emission", "Color"], ["Emission", "Emission", "Material Output", "Surface"]]
    return {"nodes": nodes, "links": links, "output": "Material Output"}


def shader_graph(node_type: str, inputs=None, params=None, extra_nodes=None, extra_links=()) -> dict:
    """One shader node (plus helpers) into a Material Output."""
    nodes = dict(extra_nodes or {})
    nodes["Shader"] = {"type": node_type, "inputs": dict(inputs or {}), "params": dict(params or {})}
    nodes["Material Output"] = {"type": "ShaderNodeOutputMaterial"}
    out = next(iter(oc.shading.NODE_TYPES[node_type]["outputs"]))
    return {"nodes": nodes, "links": [*extra_links, ["Shader", out, "Material Output", "Surface"]],
            "output": "Material Output"}


# ---- Blender side ------------------------------------------------------------------------------

def _socket(sockets, identifier):
    for s in sockets:
        if s.identifier == identifier:
            return s
    raise KeyError(identifier)


# Parameters Blender keeps in an output socket rather than a property.
_OUTPUT_VALUE_PARAMS = {("ShaderNodeValue", "value"): "Value", ("ShaderNodeRGB", "color"): "Color",
                        ("ShaderNodeNormal", "direction"): "Normal"}


def blender_image(name: str, texture: dict):
    """A Blender image holding a scene-dict texture's pixels (bytes stay bytes)."""
    pixels = np.asarray(texture["pixels"])
    h, w, c = pixels.shape
    floats = pixels.dtype != np.uint8
    image = bpy.data.images.new(name, w, h, alpha=True, float_buffer=floats)
    rgba = np.ones((h, w, 4), np.float32)
    values = pixels.astype(np.float32) / (1.0 if floats else 255.0)
    if c == 1:
        rgba[..., :3] = values
    else:
        rgba[..., :c] = values
    image.pixels.foreach_set(rgba.reshape(-1))
    image.pack()  # Cycles reads generated images from their packed data
    colorspace = texture.get("colorspace", "linear" if floats else "srgb")
    image.colorspace_settings.name = {"srgb": "sRGB", "linear": "Linear Rec.709", "non_color": "Non-Color"}[colorspace]
    image.alpha_mode = texture.get("alpha_mode", "STRAIGHT")
    return image


def blender_material(name: str, graph: dict, images: dict):
    """The node tree of `graph` (scene-dict form) in a new Blender material."""
    mat = bpy.data.materials.new(name)
    mat.node_tree.nodes.clear()
    made = _fill_tree(mat.node_tree, graph, images)
    made[graph["output"]].is_active_output = True
    return mat


# ---- geometry ----------------------------------------------------------------------------------

def plane_geometry():
    """A unit square at z = 0 (two triangles), UVs spanning it, and per-vertex test data."""
    h = TILE_SIZE / 2
    vertices = np.array([[-h, -h, 0], [h, -h, 0], [h, h, 0], [-h, h, 0]], np.float32)
    triangles = np.array([[0, 1, 2], [0, 2, 3]], np.int32)
    uvs = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    return vertices, triangles, uvs, None


def sphere_geometry(segments=24, rings=12, radius=0.45):
    """A smooth UV sphere (triangles only) with Blender's sphere UV layout."""
    verts, uvs, normals = [], [], []
    for i in range(rings + 1):
        theta = math.pi * i / rings
        for j in range(segments + 1):
            phi = 2 * math.pi * j / segments
            n = (math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta))
            normals.append(n)
            verts.append([radius * c for c in n])
            uvs.append((j / segments, 1.0 - i / rings))
    tris = []
    for i in range(rings):
        for j in range(segments):
            a, b = i * (segments + 1) + j, i * (segments + 1) + j + 1
            c, d = a + segments + 1, b + segments + 1
            if i != 0:
                tris.append((a, c, b))
            if i != rings - 1:
                tris.append((b, c, d))
    return (np.asarray(verts, np.float32), np.asarray(tris, np.int32), np.asarray(uvs, np.float32),
            np.asarray(normals, np.float32))


@dataclass
class Tile:
    graph: dict
    shape: str = "plane"  # or "sphere"
    matrix: np.ndarray | None = None  # object transform relative to the tile centre
    color: tuple = (1.0, 1.0, 1.0, 1.0)  # Object Info colour
    pass_index: int = 0
    point_colors: np.ndarray | None = None  # (V, 4) 'Col' colour attribute (point domain)
    weights: np.ndarray | None = None  # (V,) 'weight' float attribute (point domain)


@dataclass
class TileScene:
    """Tiles in a grid of `cols` columns, `tile_px` pixels each, under an orthographic camera."""

    tiles: list
    tile_px: int = 16
    cols: int = 8
    textures: dict = field(default_factory=dict)
    world: dict | None = None  # world graph (default black)
    sun: tuple | None = None  # (rotation about x, about z in radians, strength, angular diameter)
    _mesh_extra: dict = field(default_factory=dict)  # per tile: what Blender computed (build_blender)

    def sun_matrix(self) -> np.ndarray:
        rx, rz = self.sun[0], self.sun[1]
        cx, sx, cz, sz = np.cos(rx), np.sin(rx), np.cos(rz), np.sin(rz)
        m = np.eye(4)
        m[:3, :3] = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
        m[2, 3] = 10.0
        return m.astype(np.float32)

    @property
    def rows(self) -> int:
        return (len(self.tiles) + self.cols - 1) // self.cols

    def centre(self, k: int):
        r, c = divmod(k, self.cols)
        return ((c + 0.5 - self.cols / 2) * TILE_SIZE, ((self.rows / 2) - r - 0.5) * TILE_SIZE)

    def object_matrix(self, k: int) -> np.ndarray:
        x, y = self.centre(k)
        m = np.eye(4)
        m[:2, 3] = (x, y)
        if self.tiles[k].matrix is not None:
            m = m @ np.asarray(self.tiles[k].matrix, np.float64)
        return m.astype(np.float32)

    def camera_matrix(self) -> np.ndarray:
        m = np.eye(4, dtype=np.float32)
        m[2, 3] = 5.0
        return m

    @property
    def size(self):
        return self.cols * self.tile_px, self.rows * self.tile_px

    def geometry(self, k: int):
        return plane_geometry() if self.tiles[k].shape == "plane" else sphere_geometry()

    # -- Optica

    def optica_dict(self) -> dict:
        w, h = self.size
        d = {"version": 2,
             "render": {"width": w, "height": h, "max_bounces": 0, "filter": "gaussian", "filter_width": 0.01,
                        "seed": 1},
             "camera": {"type": "orthographic", "matrix": self.camera_matrix(), "ortho_scale": self.cols * TILE_SIZE,
                        "clip_start": 0.1, "clip_end": 100.0},
             "textures": self.textures, "materials": {}, "meshes": {}, "instances": []}
        if self.world is not None:
            d["world"] = self.world
        if self.sun is not None:
            d["lights"] = {"sun": {"type": "sun", "strength": self.sun[2], "angle": self.sun[3],
                                   "matrix": self.sun_matrix()}}
        for k, tile in enumerate(self.tiles):
            name = f"tile{k}"
            vertices, triangles, uvs, normals = self.geometry(k)
            mesh = {"vertices": vertices, "triangles": triangles, "uvs": uvs, "materials": [name],
                    "active_uv_map": "UVMap",
                    "uv_maps": {"UVMap": {"uvs": uvs}, "Alt": {"uvs": 1.0 - uvs[:, ::-1]}}}
            mesh.update(self._mesh_extra.get(k, {}))
            if tile.point_colors is not None:
                mesh["attributes"] = {"Col": {"domain": "point", "data": tile.point_colors}}
                mesh["active_color_attribute"] = "Col"
            if tile.weights is not None:
                mesh.setdefault("attributes", {})["weight"] = {"domain": "point", "data": tile.weights}
            d["meshes"][name] = mesh
            d["materials"][name] = tile.graph
            d["instances"].append({"geometry": name, "transforms": self.object_matrix(k)[None],
                                   "object_info": {"color": np.asarray([tile.color], np.float32),
                                                   "pass_index": np.asarray([tile.pass_index], np.int32),
                                                   "random": np.zeros(1, np.float32)}})
        return d

    # -- Blender

    def build_blender(self, scene):
        """Objects, materials, images and the camera in `scene` (an emptied scene)."""
        images = {name: blender_image(name, t) for name, t in self.textures.items()}
        self._mesh_extra = {}
        for k, tile in enumerate(self.tiles):
            vertices, triangles, uvs, normals = self.geometry(k)
            me = bpy.data.meshes.new(f"tile{k}")
            me.from_pydata(vertices.tolist(), [], triangles.tolist())
            loops = triangles.reshape(-1)
            for layer_name, layer_uvs in (("UVMap", uvs), ("Alt", 1.0 - uvs[:, ::-1])):
                layer = me.uv_layers.new(name=layer_name)
                layer.data.foreach_set("uv", layer_uvs[loops].reshape(-1))
            me.uv_layers["UVMap"].active_render = True
            if normals is not None:
                me.shade_smooth()
            if tile.point_colors is not None:
                col = me.color_attributes.new("Col", "FLOAT_COLOR", "POINT")
                col.data.foreach_set("color", np.asarray(tile.point_colors, np.float32).reshape(-1))
                me.color_attributes.active_color = col
                me.color_attributes.render_color_index = me.color_attributes.active_color_index
            if tile.weights is not None:
                attr = me.attributes.new("weight", "FLOAT", "POINT")
                attr.data.foreach_set("value", np.asarray(tile.weights, np.float32))
            me.update()
            me.materials.append(blender_material(f"tile{k}", tile.graph, images))
            # What Blender computes from the mesh, handed to Optica as a converter would.
            self._mesh_extra[k] = {"tangents": _mikktspace_tangents(me, triangles)}
            if normals is not None:
                corner = np.zeros((len(me.loops), 3), np.float32)
                me.corner_normals.foreach_get("vector", corner.reshape(-1))
                self._mesh_extra[k].update(normals=corner,
                                           normal_indices=np.arange(len(corner), dtype=np.int32).reshape(-1, 3))
            ob = bpy.data.objects.new(f"tile{k}", me)
            ob.matrix_world = Matrix(self.object_matrix(k).tolist())
            ob.color = tile.color
            ob.pass_index = tile.pass_index
            scene.collection.objects.link(ob)
        cam = bpy.data.cameras.new("Camera")
        cam.type = "ORTHO"
        cam.ortho_scale = self.cols * TILE_SIZE
        cam.clip_start, cam.clip_end = 0.1, 100.0
        cam_ob = bpy.data.objects.new("Camera", cam)
        cam_ob.matrix_world = Matrix(self.camera_matrix().tolist())
        scene.collection.objects.link(cam_ob)
        scene.camera = cam_ob
        world = bpy.data.worlds.new("World")
        if self.world is not None:
            world.node_tree.nodes.clear()
            _fill_tree(world.node_tree, self.world, images)
        else:
            world.node_tree.nodes["Background"].inputs["Color"].default_value = (0, 0, 0, 1)
        scene.world = world
        if self.sun is not None:
            light = bpy.data.lights.new("Sun", "SUN")
            light.energy, light.angle = self.sun[2], self.sun[3]
            sun = bpy.data.objects.new("Sun", light)
            sun.matrix_world = Matrix(self.sun_matrix().tolist())
            scene.collection.objects.link(sun)
        w, h = self.size
        scene.render.resolution_x, scene.render.resolution_y = w, h
        scene.render.resolution_percentage = 100


def _fill_tree(tree, graph, images) -> dict:
    """Adds the nodes and links of `graph` (scene-dict form) to `tree`; returns {key: bpy node}."""
    made = {}
    for key, node in graph["nodes"].items():
        b = tree.nodes.new(node["type"])
        b.name = key
        for ident, value in node.get("inputs", {}).items():
            socket = _socket(b.inputs, ident)
            socket.default_value = (*value[:3], 1.0) if socket.type == "RGBA" else value
        for prop, value in node.get("params", {}).items():
            if (node["type"], prop) in _OUTPUT_VALUE_PARAMS:
                socket = _socket(b.outputs, _OUTPUT_VALUE_PARAMS[(node["type"], prop)])
                socket.default_value = (*value[:3], 1.0) if socket.type == "RGBA" else value
            elif prop == "image":
                b.image = images[value] if value is not None else None
            elif prop == "ramp":
                _fill_ramp(b.color_ramp, value)
            elif prop in ("object", "curve"):
                continue  # set by the test when it needs one
            else:
                setattr(b, prop, value)
        made[key] = b
    for src, src_socket, dst, dst_socket in graph["links"]:
        tree.links.new(_socket(made[src].outputs, src_socket), _socket(made[dst].inputs, dst_socket))
    return made


def _fill_ramp(color_ramp, ramp: dict):
    """A Blender ColorRamp holding a scene-dict `ramp` (its stops and modes)."""
    color_ramp.interpolation = ramp.get("interpolation", "LINEAR")
    color_ramp.color_mode = ramp.get("color_mode", "RGB")
    color_ramp.hue_interpolation = ramp.get("hue_interpolation", "NEAR")
    elements = color_ramp.elements
    while len(elements) > 1:
        elements.remove(elements[-1])
    for i, (position, color) in enumerate(zip(ramp["positions"], ramp["colors"], strict=True)):
        element = elements[0] if i == 0 else elements.new(float(position))
        element.position = float(position)
        element.color = tuple(float(c) for c in color)


def _mikktspace_tangents(me, triangles) -> dict:
    """Blender's MikkTSpace tangents of the render UV map, as the contract's `tangents`."""
    me.calc_tangents(uvmap="UVMap")
    n = len(me.loops)
    tangents = np.zeros((n, 3), np.float32)
    signs = np.zeros(n, np.float32)
    me.loops.foreach_get("tangent", tangents.reshape(-1))
    me.loops.foreach_get("bitangent_sign", signs)
    data = np.concatenate([tangents, signs[:, None]], axis=1)
    # from_pydata made one loop per triangle corner, in order: corner k of triangle t is loop 3t + k.
    return {"UVMap": {"data": data, "indices": np.arange(3 * len(triangles), dtype=np.int32).reshape(-1, 3)}}


# ---- rendering ---------------------------------------------------------------------------------

def configure_cycles(scene, spp: int, seed: int = 1, bounces: int = 0):
    import bpy_scenes as bs

    bs.configure_cycles(scene, spp, seed)
    c = scene.cycles
    c.max_bounces = c.diffuse_bounces = c.glossy_bounces = c.transmission_bounces = bounces
    # Blender always gives Cycles' box filter a width of one pixel: a narrow Gaussian it is.
    c.pixel_filter_type = "GAUSSIAN"
    c.filter_width = 0.01


def render_cycles(scene, path: Path, spp: int = 1, bounces: int = 0, seed: int = 1) -> np.ndarray:
    """The scene rendered by Cycles: (h, w, 4) float, top row first."""
    import bpy_scenes as bs

    configure_cycles(scene, spp, seed=seed, bounces=bounces)
    settings = scene.render.image_settings
    settings.media_type = "IMAGE"  # a test before may have left MULTI_LAYER_IMAGE, where OPEN_EXR is no choice
    settings.file_format = "OPEN_EXR"
    settings.color_depth = "32"
    settings.color_mode = "RGBA"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    del bs
    return read_image_file(path)[""].astype(np.float64)


def render_optica(d: dict, spp: int = 1, bounces: int = 0, seed: int = 1) -> np.ndarray:
    # configure_cycles' Light Paths: every limit at `bounces`, 64 transparent passes.
    limits = {k: bounces for k in ("max_bounces", "max_diffuse_bounces", "max_glossy_bounces", "max_transmission_bounces")}
    d = dict(d, render=dict(d["render"], **limits, max_transparent_bounces=64, seed=seed))
    r = oc.Renderer()
    r.set_scene(d)
    r.accumulate(spp)
    return np.array(r.color, dtype=np.float64)


def tile_pixels(image: np.ndarray, scene: TileScene, k: int, margin: int = 1) -> np.ndarray:
    """Tile k's pixels, without `margin` pixels along its edges (they straddle neighbours)."""
    r, c = divmod(k, scene.cols)
    t = scene.tile_px
    return image[r * t + margin:(r + 1) * t - margin, c * t + margin:(c + 1) * t - margin]


def tile_means(image: np.ndarray, scene: TileScene, n: int) -> np.ndarray:
    """The mean of each of the first n tiles (whole tiles, colour channels)."""
    return np.array([tile_pixels(image, scene, k, 0)[..., :3].mean() for k in range(n)])


def tile_noise(a: np.ndarray, b: np.ndarray, scene: TileScene, n: int) -> np.ndarray:
    """Each tile's relative noise — the standard deviation of one render's tile mean over that
    mean — from two renders of one engine with different seeds: pixels are independent, so a
    pixel's variance is half its squared difference, a tile mean's their mean over the count."""
    noise = []
    for k in range(n):
        d = (tile_pixels(a, scene, k, 0) - tile_pixels(b, scene, k, 0))[..., :3].mean(axis=-1)
        mean = 0.5 * (tile_pixels(a, scene, k, 0) + tile_pixels(b, scene, k, 0))[..., :3].mean()
        noise.append(np.sqrt((d**2).mean() / 2.0 / d.size) / max(mean, 1e-12))
    return np.array(noise)
