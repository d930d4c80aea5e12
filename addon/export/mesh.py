# SPDX-License-Identifier: GPL-3.0-or-later
"""Evaluated meshes → `meshes[name]` of the scene dict (docs/scene-dict.md).

Everything goes through `foreach_get` into numpy; no per-element Python. The mesh is the
evaluated object's own data (modifiers and geometry nodes applied; curves, text, surfaces and
metaballs reach the exporter as instances of their evaluated meshes), triangulated as Blender
does it (`loop_triangles`), with:
- shading normals as Blender computes them: none when every face is flat (`normals_domain`
  'FACE': the core's geometric normals are the same), vertex normals for smooth meshes
  ('POINT'), corner normals indexed by the triangles' corners for mixed, sharp-edged or custom
  split normals ('CORNER');
- the active render UV map, per corner;
- per-triangle material slot indices (the face's `material_index`, clamped to the slots as
  Blender does);
- for scene dict version 2 (`requests` given: what the materials' nodes read), every UV map
  (`uv_maps`), the requested colour and named attributes (`attributes`: point, corner and
  face domains; colours linear — byte colour attributes are sRGB in Blender and read through
  its linear `color`), MikkTSpace tangents of the requested UV maps (`tangents`, only for
  meshes whose materials have a tangent-space Normal Map or a UV Tangent node: they cost
  ~1 µs per corner), and the texture space (`texspace`, Blender's own, auto texture space
  included). A request for "" names the render-active UV map or colour attribute: the mesh
  names them (`active_uv_map`, `active_color_attribute`) and the core resolves "" to them.

Tangents are Blender's (`Mesh.calc_tangents`, the vectors of `MeshLoop.tangent`). Blender
refuses to compute them for meshes with n-gons; for those they are computed on a triangle copy
of the mesh (the loop triangles, with the mesh's corner normals as custom normals, as Cycles
computes MikkTSpace on its triangles), indexed per triangle corner.

Cost, 1M triangles (500k quads) on the 2-core test machine: the attribute arrays (positions,
corner vertices, normals, UVs) are memcpy-fast (1–4 ms each). The triangles' corners are
Blender's own triangulation cache (`Mesh.corner_tris()`, an array of int3 that
`loop_triangles` iterates in place), read in one copy from the address of its first item
(~1 ms) after checking that the items really are consecutive int3s holding the values RNA
reports; otherwise `loop_triangles.foreach_get('loops')`, which takes the per-item path (the
property is read-only, so RNA's raw-array path refuses it: ~130–280 ms). Meshes of triangles
only need neither. (Re-deriving Blender's quad split in numpy was measured at ~340 ms.)

Whether a mesh is one already converted is decided by comparing its inputs (`MeshInputs.content`,
cache.Content) with those of the stored meshes of the same shape, not by hashing them.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np

from .cache import Content

# Attribute data types → (foreach_get property, numpy dtype, components); others are skipped.
_ATTRIBUTE_TYPES = {
    "FLOAT": ("value", np.float32, 1),
    "INT": ("value", np.int32, 1),
    "INT8": ("value", np.int32, 1),
    "BOOLEAN": ("value", bool, 1),
    "FLOAT2": ("vector", np.float32, 2),
    "INT32_2D": ("value", np.int32, 2),
    "FLOAT_VECTOR": ("vector", np.float32, 3),
    "FLOAT_COLOR": ("color", np.float32, 4),
    "BYTE_COLOR": ("color", np.float32, 4),
    "QUATERNION": ("value", np.float32, 4),
}
_DOMAINS = {"POINT": "point", "CORNER": "corner", "FACE": "face"}


def _attribute(b_mesh, name: str, prop: str, count: int, dtype, width: int = 1):
    attr = b_mesh.attributes.get(name)
    if attr is None:
        return None
    out = np.empty(count * width, dtype)
    attr.data.foreach_get(prop, out)
    return out if width == 1 else out.reshape(count, width)


def _render_uv_layer(b_mesh):
    layers = b_mesh.uv_layers
    for layer in layers:
        if layer.active_render:
            return layer
    return layers.active


def finite(a: np.ndarray) -> None:
    """NaN/Inf (geometry nodes can make them) become 0 in place: the scene dict rejects them."""
    if not np.isfinite(a).all():
        np.nan_to_num(a, copy=False, nan=0.0, posinf=0.0, neginf=0.0)


def _fix_normals(n: np.ndarray) -> None:
    """Zero or non-finite normals (degenerate faces, loose vertices) become +Z in place: the
    scene dict needs every shading normal to have a length."""
    squared = np.square(n) @ np.ones(3, n.dtype)  # ~4x faster than einsum("ij,ij->i") on (N, 3) float32
    bad = ~(squared > 1e-20) | ~np.isfinite(squared)
    if bad.any():
        n[bad] = (0.0, 0.0, 1.0)


_INT3_BYTES = 12  # sizeof(blender::int3), one item of Mesh.corner_tris()


def corner_triangles(b_mesh, n_triangles: int) -> np.ndarray:
    """(T, 3) int32: the face corners of each of Blender's triangles (see the module docstring),
    every one a valid corner index."""
    out = np.empty((n_triangles, 3), np.int32)
    if n_triangles and _copy_corner_tris(b_mesh.loop_triangles, out, len(b_mesh.loops)):
        return out
    b_mesh.loop_triangles.foreach_get("loops", out.ravel())
    return out


def _copy_corner_tris(tris, out: np.ndarray, n_corners: int) -> bool:
    """Copies Blender's corner_tris array into `out` when `tris` (Mesh.loop_triangles) is laid
    out as expected: items at consecutive int3 addresses whose values are what RNA's `loops`
    says, all of them corners of the mesh. False (nothing trusted) otherwise."""
    n = len(out)
    first = tris[0].as_pointer()
    probes = sorted({0, 1 % n, n // 2, n - 1})
    if not first or any(tris[i].as_pointer() != first + _INT3_BYTES * i for i in probes):
        return False
    ctypes.memmove(out.ctypes.data, first, out.nbytes)
    return all(tuple(tris[i].loops) == tuple(out[i].tolist()) for i in probes) and _indices_below(out, n_corners)


def _indices_below(indices: np.ndarray, count: int) -> bool:
    # One pass: as unsigned, a negative index is above any count.
    return indices.size == 0 or int(indices.view(np.uint32).max()) < count


def _gather(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """values[indices] for indices known to be in range (Blender's own, or checked): numpy's
    take without its per-element bounds handling, ~3× faster than fancy indexing."""
    return np.take(values, indices, axis=0, mode="clip")


class MeshInputs:
    """The cheap arrays of an evaluated mesh, enough to know its content (`content`)."""

    __slots__ = (
        "positions",
        "corner_verts",
        "tri_faces",
        "face_materials",
        "normals",
        "normals_domain",
        "uvs",
        "n_slots",
        "content",
        "mesh",
        "v2",
    )

    def __init__(self, b_mesh, n_slots: int, requests=None):
        nv, nc, nf = len(b_mesh.vertices), len(b_mesh.loops), len(b_mesh.polygons)
        nt = len(b_mesh.loop_triangles)  # computes the triangulation once (cached by Blender)
        self.mesh = b_mesh
        self.n_slots = n_slots
        self.positions = _attribute(b_mesh, "position", "vector", nv, np.float32, 3)
        if self.positions is None:
            self.positions = np.zeros((0, 3), np.float32)
        self.corner_verts = _attribute(b_mesh, ".corner_vert", "value", nc, np.int32)
        if self.corner_verts is None:  # not reachable through attributes: the slower RNA path
            self.corner_verts = np.empty(nc, np.int32)
            b_mesh.loops.foreach_get("vertex_index", self.corner_verts)
        self.tri_faces = np.empty(nt, np.int32)
        b_mesh.loop_triangle_polygons.foreach_get("value", self.tri_faces)
        self.face_materials = _attribute(b_mesh, "material_index", "value", nf, np.int32) if n_slots > 1 else None
        self.normals_domain = b_mesh.normals_domain
        if self.normals_domain == "POINT":
            self.normals = np.empty((nv, 3), np.float32)
            b_mesh.vertex_normals.foreach_get("vector", self.normals.ravel())
        elif self.normals_domain == "CORNER":
            self.normals = np.empty((nc, 3), np.float32)
            b_mesh.corner_normals.foreach_get("vector", self.normals.ravel())
        else:  # 'FACE': flat shading, the core's geometric normals
            self.normals = None
        if self.normals is not None:
            _fix_normals(self.normals)
        layer = _render_uv_layer(b_mesh)
        self.uvs = None
        if layer is not None and nc:
            self.uvs = np.empty((nc, 2), np.float32)
            layer.uv.foreach_get("vector", self.uvs.ravel())
            finite(self.uvs)
        finite(self.positions)
        self.v2 = None if requests is None else ShadingInputs(b_mesh, layer, self.uvs, requests)
        self.content = Content(
            ("mesh", nv, nc, nf, nt, n_slots, self.normals_domain),
            (self.positions, self.corner_verts, self.tri_faces, self.face_materials, self.normals, self.uvs)
            + (() if self.v2 is None else self.v2.content_parts()),
        )

    @property
    def n_triangles(self) -> int:
        return len(self.tri_faces)


class ShadingInputs:
    """The arrays scene dict v2 adds for the nodes (see the module docstring), read cheaply;
    tangents are computed by `convert_mesh`, for content not seen before."""

    __slots__ = ("uv_maps", "render_uv", "render_color", "attributes", "texspace", "tangent_uvs")

    def __init__(self, b_mesh, render_layer, render_uvs, requests):
        nc = len(b_mesh.loops)
        self.render_uv = render_layer.name if render_layer is not None else None
        self.uv_maps = {}
        for layer in b_mesh.uv_layers:
            if layer.name == self.render_uv and render_uvs is not None:
                self.uv_maps[layer.name] = render_uvs
                continue
            uv = np.empty((nc, 2), np.float32)
            layer.uv.foreach_get("vector", uv.ravel())
            finite(uv)
            self.uv_maps[layer.name] = uv
        render_color = _render_color_attribute(b_mesh)
        self.attributes = {}  # name -> (domain, data)
        for name in sorted(requests.attributes):
            real = render_color if name == "" else name
            if real and real not in self.attributes:
                data = _read_attribute(b_mesh, real)
                if data is not None:
                    self.attributes[real] = data
        self.render_color = render_color if render_color in self.attributes else None
        self.tangent_uvs = tuple(
            sorted(n for n in requests.tangents if (self.render_uv if n == "" else n) in self.uv_maps)
        )
        texspace = [float(v) for v in (*b_mesh.texspace_location, *b_mesh.texspace_size)]
        # Non-finite coordinates (geometry nodes can make them) make it unusable: the core's own.
        self.texspace = texspace if all(math.isfinite(v) for v in texspace) else None

    def content_parts(self) -> tuple:
        parts = [self.render_uv, self.render_color, self.tangent_uvs, self.texspace]
        for name, uv in self.uv_maps.items():
            parts += [name, uv]
        for name, (domain, data) in self.attributes.items():
            parts += [name, domain, data]
        return tuple(parts)


def _render_color_attribute(b_mesh) -> str | None:
    colors = b_mesh.color_attributes
    i = colors.render_color_index
    return colors[i].name if 0 <= i < len(colors) else None


def _read_attribute(b_mesh, name: str):
    """(domain, f32 (N, C)) of attribute `name`, or None (missing or of a type or domain the
    nodes cannot read)."""
    attr = b_mesh.attributes.get(name)
    if attr is None or attr.data_type not in _ATTRIBUTE_TYPES or attr.domain not in _DOMAINS:
        return None
    prop, dtype, width = _ATTRIBUTE_TYPES[attr.data_type]
    raw = np.empty(len(attr.data) * width, dtype)
    attr.data.foreach_get(prop, raw)
    data = raw.astype(np.float32, copy=False).reshape(-1, width)
    finite(data)
    return _DOMAINS[attr.domain], data


def read_mesh(b_mesh, n_slots: int, requests=None) -> tuple[Content, MeshInputs]:
    """The `read` half of a conversion for `ConvertedStore.fetch`; `requests`
    (shader_graph.Requests) for scene dict version 2, None for version 1."""
    inputs = MeshInputs(b_mesh, n_slots, requests)
    return inputs.content, inputs


def convert_mesh(inputs: MeshInputs) -> dict:
    """`meshes[name]` arrays (plus `max_material_id`, not a scene-dict key) from `inputs`.

    Arrays are C-contiguous float32/int32, as the core keeps them (validate_scene shares
    rather than copies them)."""
    b_mesh = inputs.mesh
    nt, nc = inputs.n_triangles, len(inputs.corner_verts)
    if nt == len(b_mesh.polygons) and nc == 3 * nt:
        # Only triangles: Blender's triangle k is face k with its corners in order, so the
        # triangles are the corner vertices themselves (a view: no second 12 MB per 1M triangles)
        # and the corner indices, needed only by per-corner data, are 0, 1, 2, ...
        triangles = inputs.corner_verts.reshape(nt, 3)
        made = []

        def corners():
            if not made:
                made.append(np.arange(nc, dtype=np.int32).reshape(nt, 3))
            return made[0]
    else:
        known = corner_triangles(b_mesh, nt)
        triangles = _gather(inputs.corner_verts, known)

        def corners():
            return known

    out = {"vertices": inputs.positions, "triangles": triangles}
    if inputs.normals is not None:
        out["normals"] = inputs.normals
        if inputs.normals_domain == "CORNER":
            out["normal_indices"] = corners()
    if inputs.uvs is not None:
        out["uvs"] = inputs.uvs
        out["uv_indices"] = corners()
    if inputs.face_materials is not None and nt:
        ids = _gather(inputs.face_materials, inputs.tri_faces)
        np.clip(ids, 0, max(inputs.n_slots - 1, 0), out=ids)
        out["material_ids"] = ids
        out["max_material_id"] = int(ids.max())
    else:  # one slot or none: every triangle uses slot 0, which is what absent ids mean
        out["max_material_id"] = 0
    if inputs.v2 is not None:
        out.update(_shading_data(b_mesh, inputs, corners, triangles))
    inputs.mesh = None  # no bpy reference survives the conversion
    return out


def _shading_data(b_mesh, inputs: MeshInputs, corner_indices, triangles: np.ndarray) -> dict:
    """`corner_indices()`: the (T, 3) corner of each triangle corner (made on first call)."""
    v2 = inputs.v2
    uv_maps = {name: {"uvs": uv, "uv_indices": corner_indices()} for name, uv in v2.uv_maps.items()}
    attributes, made = {}, {}
    for name, read in v2.attributes.items():
        if id(read) not in made:
            domain, data = read
            if domain == "face":
                made[id(read)] = {"domain": domain, "data": _gather(data, inputs.tri_faces)}
            elif domain == "corner":
                made[id(read)] = {"domain": domain, "data": data, "indices": corner_indices()}
            else:
                made[id(read)] = {"domain": domain, "data": data}
        attributes[name] = made[id(read)]
    tangents = {}
    if v2.tangent_uvs:
        real = {n: (v2.render_uv if n == "" else n) for n in v2.tangent_uvs}
        tangents = tangent_space(
            b_mesh, sorted(set(real.values())), corner_indices(), triangles, inputs.positions, v2.uv_maps
        )
    return {
        "uv_maps": uv_maps,
        "attributes": attributes,
        "tangents": tangents,
        "texspace": v2.texspace,
        "active_uv_map": v2.render_uv,
        "active_color_attribute": v2.render_color,
    }


def tangent_space(b_mesh, uv_names, corners, triangles, positions, uv_maps) -> dict:
    """{uv map: {"data": f32 (N, 4) tangent xyz and bitangent sign, "indices": i32 (T, 3)}}
    (see the module docstring)."""
    loop_total = np.empty(len(b_mesh.polygons), np.int32)
    b_mesh.polygons.foreach_get("loop_total", loop_total)
    if len(loop_total) and int(loop_total.max()) > 4:
        return _triangle_copy_tangents(b_mesh, uv_names, corners, triangles, positions, uv_maps)
    out = {}
    for name in uv_names:
        out[name] = {"data": _calc_tangents(b_mesh, name), "indices": corners}
    return out


def _calc_tangents(b_mesh, uv_name: str) -> np.ndarray:
    nc = len(b_mesh.loops)
    data = np.empty((nc, 4), np.float32)
    b_mesh.calc_tangents(uvmap=uv_name)
    try:
        xyz = np.empty(nc * 3, np.float32)
        sign = np.empty(nc, np.float32)
        b_mesh.loops.foreach_get("tangent", xyz)
        b_mesh.loops.foreach_get("bitangent_sign", sign)
        data[:, :3] = xyz.reshape(nc, 3)
        data[:, 3] = sign
    finally:
        b_mesh.free_tangents()
    finite(data)
    return data


def _triangle_copy_tangents(b_mesh, uv_names, corners, triangles, positions, uv_maps) -> dict:
    import bpy

    nt, nc = len(triangles), len(b_mesh.loops)
    normals = np.empty((nc, 3), np.float32)
    b_mesh.corner_normals.foreach_get("vector", normals.ravel())
    tmp = bpy.data.meshes.new("optica tangent space")
    try:
        tmp.vertices.add(len(positions))
        tmp.vertices.foreach_set("co", positions.ravel())
        tmp.loops.add(3 * nt)
        tmp.loops.foreach_set("vertex_index", triangles.ravel())
        tmp.polygons.add(nt)
        tmp.polygons.foreach_set("loop_start", np.arange(0, 3 * nt, 3, dtype=np.int32))
        for name in uv_names:
            tmp.uv_layers.new(name=name).uv.foreach_set("vector", uv_maps[name][corners].ravel())
        tmp.update(calc_edges=True)
        tmp.normals_split_custom_set(normals[corners].reshape(-1, 3))
        indices = np.arange(3 * nt, dtype=np.int32).reshape(nt, 3)
        return {name: {"data": _calc_tangents(tmp, name), "indices": indices} for name in uv_names}
    finally:
        bpy.data.meshes.remove(tmp)


MESH_KEYS = (
    "vertices",
    "triangles",
    "normals",
    "normal_indices",
    "uvs",
    "uv_indices",
    "material_ids",
    "uv_maps",
    "attributes",
    "tangents",
    "texspace",
    "active_uv_map",
    "active_color_attribute",
)


def mesh_dict(data: dict, materials: list) -> dict:
    """The scene-dict entry of converted mesh `data` with slot list `materials`."""
    d = {k: data[k] for k in MESH_KEYS if k in data}
    d["materials"] = list(materials)
    return d
