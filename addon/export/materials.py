# SPDX-License-Identifier: GPL-3.0-or-later
"""Materials → `materials[name]`, images → `textures[name]` of the scene dict.

Scene dict version 2 (`material_graph`): the material's node tree as a graph
(shader_graph.py), every node mapped one to one, a node the core cannot evaluate treated as
muted. A material without a node tree is a Diffuse BSDF of its viewport colour, as in Cycles;
a tree without a Material Output renders black. Byte images keep their bytes (uint8 pixels,
decoded by the core); textures carry the image's colour space and alpha mode, and the Image
Texture node its own interpolation, extension and projection.

Version 1 (`convert_material`), what the exporter emits until the core reads version 2:
supported is a Principled BSDF (or an Emission shader) linked to the active Material Output,
its inputs unlinked, except Base Color which may come from an Image Texture (flat projection,
the render UV map). Anything else — another shader, or a modelled input linked to a node the
core cannot evaluate — falls back to the material's viewport display settings (colour,
metallic, roughness) and is reported once per material and node type; a render never fails on
a material. Principled features the core does not model (coat, sheen, subsurface, normal maps,
…) are ignored, with one message per material.

Image pixels come from `Image.pixels.foreach_get` as float32 (H, W, channels), bottom row
first. Byte images keep their encoding (colorspace 'srgb' for an sRGB image, 'linear' for
Non-Color or Linear Rec.709); float images are linear in Blender's memory whatever their
file's colour space, and exported so, except where Cycles keeps them encoded
(`cycles_keeps_srgb_encoded`: a float or 16-bit file in the sRGB colour space, which Cycles
interpolates encoded and decodes after, as it does bytes). Missing images render magenta, as
in Cycles.
"""

from __future__ import annotations

import os

import numpy as np

from .cache import digest
from .shader_graph import Extracted, extract
from .world import active_output, source_node, source_socket

MISSING_COLOR = [1.0, 0.0, 1.0]  # Cycles' colour for a missing image

# Principled inputs the core models: (socket name, scene-dict key, kind).
_PRINCIPLED = (
    ("Base Color", "base_color", "color01"),
    ("Metallic", "metallic", "unit"),
    ("Roughness", "roughness", "unit"),
    ("IOR", "ior", "ior"),
    ("Alpha", "alpha", "unit"),
    ("Specular IOR Level", "specular", "positive"),
    ("Transmission Weight", "transmission", "unit"),
    ("Emission Color", "emission_color", "color"),
    ("Emission Strength", "emission_strength", "positive"),
)
# Inputs the core ignores: reported when linked or when their weight is not zero.
_IGNORED_WEIGHTS = ("Subsurface Weight", "Coat Weight", "Sheen Weight", "Anisotropic", "Thin Film Thickness")
_IGNORED_LINKS = (
    "Normal",
    "Coat Normal",
    "Tangent",
    "Subsurface Weight",
    "Coat Weight",
    "Sheen Weight",
    "Anisotropic",
    "Specular Tint",
    "Diffuse Roughness",
    "Thin Film Thickness",
)

_INTERPOLATION = {"Linear": "linear", "Closest": "closest", "Cubic": "linear", "Smart": "linear"}
_EXTENSION = {"REPEAT": "repeat", "EXTEND": "extend", "CLIP": "clip", "MIRROR": "repeat"}
_LINEAR_SPACES = {"Non-Color", "Linear Rec.709", "scene_linear", "Linear", "Raw", "Linear CIE-XYZ E"}


class Unsupported(Exception):
    """A node setup the core cannot render: (node type, where)."""

    def __init__(self, node_type: str, where: str):
        super().__init__(f"{node_type} ({where})")
        self.node_type = node_type
        self.where = where


def fallback_material(b_mat) -> dict:
    """The material's viewport display settings as a diffuse-ish Principled material."""
    return {
        "base_color": [min(max(float(c), 0.0), 1.0) for c in b_mat.diffuse_color[:3]],
        "metallic": min(max(float(b_mat.metallic), 0.0), 1.0),
        "roughness": min(max(float(b_mat.roughness), 0.0), 1.0),
    }


def convert_material(b_mat, texture, report) -> tuple[dict, bool]:
    """(`materials[name]`, whether the node setup was supported) for evaluated material
    `b_mat`; an unsupported setup gives the viewport-display fallback.

    `texture(image_node, label)` → a texture name in the scene dict, or None when the image
    has no pixels (the caller converts and caches pixels; `label` names the material in its
    messages). `report(level, subject, msg)`.
    """
    name = b_mat.name
    tree = b_mat.node_tree
    output = active_output(tree, "ShaderNodeOutputMaterial") if tree is not None else None
    if output is None:
        return fallback_material(b_mat), False
    try:
        node = source_node(output.inputs["Surface"])
        if node is None:
            return {"base_color": [0.0, 0.0, 0.0]}, True  # nothing linked: black, as Cycles
        if node.bl_idname == "ShaderNodeBsdfPrincipled":
            return _principled(b_mat, node, texture, report), True
        if node.bl_idname == "ShaderNodeEmission":
            return _emission(node), True
        raise Unsupported(node.bl_idname, "Surface")
    except Unsupported as e:
        report(
            "WARNING",
            ("material", name, e.node_type),
            f"Material '{name}': {e.node_type} ({e.where}) is not supported; "
            "using the material's viewport display colour",
        )
        return fallback_material(b_mat), False


def material_graph(b_mat, evaluable, texture, report) -> Extracted:
    """The version-2 graph of evaluated material `b_mat` (`Extracted.finish()` gives
    `materials[name]`). `evaluable`: the node types the core evaluates; `texture(image_node,
    label)` → a texture name or None; `report(level, subject, msg)`."""
    tree = b_mat.node_tree
    if tree is None:
        return viewport_graph(b_mat)
    output = active_output(tree, "ShaderNodeOutputMaterial")
    if output is None:
        return Extracted(
            {"Material Output": {"type": "ShaderNodeOutputMaterial", "params": {}, "inputs": {}}}, [], "Material Output"
        )
    label = f"Material '{b_mat.name}'"
    return extract(output, evaluable, label, lambda node: texture(node, label), report)


def viewport_graph(b_mat) -> Extracted:
    """A Diffuse BSDF of the material's viewport colour: Cycles' material without a node tree,
    and the stand-in for a material whose conversion failed."""
    color = [min(max(float(c), 0.0), 1.0) for c in b_mat.diffuse_color[:3]] + [1.0]
    nodes = {
        "Diffuse BSDF": {"type": "ShaderNodeBsdfDiffuse", "params": {}, "inputs": {"Color": color}},
        "Material Output": {"type": "ShaderNodeOutputMaterial", "params": {}, "inputs": {}},
    }
    return Extracted(nodes, [["Diffuse BSDF", "BSDF", "Material Output", "Surface"]], "Material Output")


def _value(socket, kind: str):
    v = socket.default_value
    if kind in ("color", "color01"):
        rgb = [float(c) for c in v[:3]]
        hi = 1.0 if kind == "color01" else float("inf")
        return [min(max(c, 0.0), hi) for c in rgb]
    v = float(v)
    if kind == "unit":
        return min(max(v, 0.0), 1.0)
    if kind == "ior":
        return max(v, 1.0)
    return max(v, 0.0)


def _principled(b_mat, node, texture, report) -> dict:
    inputs = node.inputs
    out = {}
    for socket_name, key, kind in _PRINCIPLED:
        socket = inputs.get(socket_name)
        if socket is None:
            continue
        src = source_node(socket)
        if src is None:
            out[key] = _value(socket, kind)
        elif key == "base_color" and src.bl_idname == "ShaderNodeTexImage":
            out[key] = _value(socket, kind)
            _check_image_node(src, socket)
            tex = texture(src, f"Material '{b_mat.name}'")
            if tex is None:
                out[key] = list(MISSING_COLOR)
            else:
                out["base_color_texture"] = tex
        else:
            raise Unsupported(src.bl_idname, socket_name)
    ignored = [s for s in _IGNORED_LINKS if s in inputs and source_node(inputs[s]) is not None]
    ignored += [
        s
        for s in _IGNORED_WEIGHTS
        if s in inputs and s not in ignored and source_node(inputs[s]) is None and float(inputs[s].default_value) > 0
    ]
    if ignored:
        report(
            "INFO",
            ("material-ignored", b_mat.name),
            f"Material '{b_mat.name}': ignoring {', '.join(ignored)} (not supported by Optica)",
        )
    return out


def _check_image_node(node, socket) -> None:
    """Raises Unsupported unless `socket` takes the Color of Image Texture `node`, mapped flat
    by the render UV map."""
    if source_socket(socket).identifier != "Color":
        raise Unsupported(f"{node.bl_idname} {source_socket(socket).name} output", socket.name)
    if node.projection != "FLAT":
        raise Unsupported(f"{node.bl_idname} with {node.projection} projection", socket.name)
    vec = source_socket(node.inputs["Vector"])
    if vec is None:
        return
    if vec.node.bl_idname == "ShaderNodeUVMap" or (vec.node.bl_idname == "ShaderNodeTexCoord" and vec.name == "UV"):
        return
    raise Unsupported(vec.node.bl_idname, f"{node.bl_idname} Vector")


def _emission(node) -> dict:
    return {
        "base_color": [0.0, 0.0, 0.0],
        "emission_color": _value(node.inputs["Color"], "color"),
        "emission_strength": _value(node.inputs["Strength"], "positive"),
    }


# ---------------------------------------------------------------------------------------------
# Images


def sampling(node, report, label) -> tuple[str, str]:
    """(interpolation, extension) of an Image Texture node, in version-1 terms."""
    interp = _INTERPOLATION.get(node.interpolation, "linear")
    ext = _EXTENSION.get(node.extension, "repeat")
    if node.extension == "MIRROR":
        report("WARNING", ("texture-mirror", label), f"{label}: mirror extension is not supported; repeating")
    return interp, ext


def cycles_keeps_srgb_encoded(b_image) -> bool:
    """Whether Cycles samples this float image sRGB-encoded. Cycles reads an image that is
    neither packed nor generated from its file (OpenImageIO), and keeps pixels of the sRGB colour
    space encoded whatever their precision (`compress_as_srgb`: a float EXR tagged sRGB, a 16-bit
    PNG), decoding after interpolation; Blender's float buffer holds them decoded, which is what
    Cycles samples for a packed or generated image. Interpolating encoded values loses energy at
    bright hard edges (a 2° sun disk of 400 in an sRGB-tagged EXR: 3-6 % of a floor's light)."""
    return (
        b_image.is_float
        and b_image.colorspace_settings.name == "sRGB"
        and b_image.packed_file is None
        and b_image.source in ("FILE", "SEQUENCE")
    )


def encode_srgb(px: np.ndarray) -> None:
    """Linear → sRGB-encoded in place on the colour channels (alpha left alone): the inverse of
    the decoding the kernel applies after interpolation (kernel/svm/color.h). Negative values stay
    on the linear segment, which decodes them to 0 as Cycles does. Rows go in blocks so an 8K
    HDRI needs no image-sized temporaries."""
    rgb = px[..., :3] if px.shape[-1] >= 3 else px
    for start in range(0, rgb.shape[0], 256):
        block = rgb[start : start + 256]
        low = block < 0.0031308
        encoded = np.power(np.maximum(block, np.float32(0.0031308)), np.float32(1 / 2.4))
        encoded = encoded * np.float32(1.055) - np.float32(0.055)
        np.copyto(block, np.where(low, block * np.float32(12.92), encoded))


def colorspace(b_image, report) -> str:
    if b_image.is_float:
        return "srgb" if cycles_keeps_srgb_encoded(b_image) else "linear"
    name = b_image.colorspace_settings.name
    if name == "sRGB":
        return "srgb"
    if name not in _LINEAR_SPACES:
        report(
            "WARNING",
            ("image-colorspace", b_image.name, name),
            f"Image '{b_image.name}': colour space '{name}' is not supported; read as "
            f"{'sRGB' if 'sRGB' in name else 'linear'}",
        )
        return "srgb" if "sRGB" in name else "linear"
    return "linear"


def image_key(b_image):
    """A key that names the image's pixels as long as they cannot have changed, or None when
    they may have (edited in memory: `is_dirty`)."""
    if b_image.is_dirty:
        return None
    path = b_image.filepath_raw
    mtime = None
    if b_image.source in ("FILE", "SEQUENCE", "TILED") and b_image.packed_file is None:
        try:
            import bpy

            mtime = os.path.getmtime(bpy.path.abspath(path, library=b_image.library))
        except (OSError, ValueError):
            mtime = None
    packed = b_image.packed_file.size if b_image.packed_file is not None else None
    gen = (
        (
            b_image.generated_type,
            b_image.generated_width,
            b_image.generated_height,
            tuple(b_image.generated_color),
            b_image.use_generated_float,
        )
        if b_image.source == "GENERATED"
        else None
    )
    return (
        "image",
        b_image.as_pointer(),
        b_image.session_uid,
        b_image.source,
        path,
        mtime,
        packed,
        gen,
        tuple(b_image.size),
        b_image.channels,
        b_image.is_float,
        b_image.colorspace_settings.name,  # Blender reloads a float image in its new colour space
    )


def texture_fields(b_image, node, version: int, report, label) -> dict:
    """The sampling fields of `textures[name]` besides `pixels`: version 1 samples in the
    texture (interpolation, extension), version 2 in the node (alpha mode here instead)."""
    cs = colorspace(b_image, report)
    if version >= 2:
        # Data images (Non-Color) are never decoded and their alpha never associated (Cycles).
        if getattr(b_image.colorspace_settings, "is_data", False):
            cs = "non_color"
        return {"colorspace": cs, "alpha_mode": b_image.alpha_mode}
    interp, ext = sampling(node, report, label)
    return {"interpolation": interp, "extension": ext, "colorspace": cs}


class ImageInputs:
    """An image's pixels (f32 (H, W, C), bottom row first; uint8 for a byte image when
    `as_bytes`) and their digest."""

    __slots__ = ("pixels", "digest")

    def __init__(self, b_image, as_bytes: bool = False):
        w, h = b_image.size
        c = b_image.channels
        n = w * h * c
        if n == 0 or len(b_image.pixels) != n:
            self.pixels = None
            self.digest = digest("image-missing", b_image.as_pointer())
            return
        px = np.empty(n, np.float32)
        b_image.pixels.foreach_get(px)
        px = px.reshape(h, w, c)
        if c == 2:  # grey + alpha: keep the grey
            px = np.ascontiguousarray(px[..., :1])
        elif c > 4:
            px = np.ascontiguousarray(px[..., :4])
        np.nan_to_num(px, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        if cycles_keeps_srgb_encoded(b_image):
            encode_srgb(px)
        if as_bytes and not b_image.is_float:  # Blender's floats of a byte image are byte / 255
            px = np.rint(np.clip(px, 0.0, 1.0) * 255.0).astype(np.uint8)
        self.pixels = px
        self.digest = digest("image", px)


def read_image(b_image, as_bytes: bool = False) -> tuple[bytes, ImageInputs]:
    inputs = ImageInputs(b_image, as_bytes)
    return inputs.digest, inputs


def convert_image(inputs: ImageInputs) -> dict:
    return {"pixels": inputs.pixels}
