"""Validation and normalisation of the scene dictionary (docs/scene-dict.md, version 2).

`validate_scene(d)` checks every key of a scene dictionary and returns a new, normalised dict
that the native core reads without defaults of its own (the "Normalised form" section of
docs/scene-dict.md states it exactly):

- every optional key is present and holds its value or its default;
- float arrays are C-contiguous float32, index and id arrays C-contiguous int32, texture
  pixels float32 or uint8; an array that already has its dtype and layout is shared with the
  input, not copied;
- scalars are Python `int` / `float` / `str`; colours and the render region are tuples of
  Python floats / ints; matrices are float32 arrays;
- optional arrays that are absent (normals, uvs, sphere colours) and empty name references
  are `None`;
- materials and the world are shader node graphs, normalised by shading.graph (every node
  with all its inputs and parameters).

A version-1 dictionary is checked by the version-1 rules and returned in version-2 form
(upgrade.py): a flat material becomes a Principled BSDF node, the world colour a Background.

The input is never modified. Every problem raises `ValueError` whose message starts with the
key path, e.g. ``meshes['Cube'].triangles: index 12 out of range for 8 vertices``. Checks of
large arrays are vectorised (a few passes of numpy reductions), so a million-triangle mesh
validates in milliseconds.

The result is a `NormalisedScene`: its dicts and lists refuse changes, and its arrays, as
every array of a scene, are never to be changed once handed over (docs/core-api.md). `Renderer.set_scene` and the
native reader take it as it is, without checking it again; a copy (`dict(scene)`, `copy`,
`pickle`) is a plain dict again and is validated again. `CheckedArrays` lets repeated
validations (the viewport sends whole scenes after every edit) skip the checks of arrays that are
the very objects an earlier validation checked.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import curves as curve_data
from . import upgrade
from .shading import validate_graph
from .values import (ANY, MAX_ARRAY_BYTES, MAX_DIMENSION, NON_NEGATIVE, POSITIVE, UNIT, Range, as_array, check_shape, fail, is_int,
                     read_choice, read_float, read_float_array, read_floats, read_index_array, read_int,
                     read_int_array, read_ints, read_matrices, read_matrix, read_name, read_names, show,
                     to_int32)

SCENE_VERSION = 2


class SceneWarning(UserWarning):
    """An unknown key that `validate_scene(d, strict=False)` dropped."""


def validate_scene(d: dict, strict: bool = True, *, checked: CheckedArrays | None = None) -> NormalisedScene:
    """Check a scene dictionary and return a new, normalised copy (see the module docstring).

    strict=False turns unknown keys into `SceneWarning`s (the keys are dropped) instead of
    errors; every other problem is an error either way. `checked`: arrays checked by earlier
    validations, reused and updated (one per renderer).
    """
    validator = _Validator(strict, checked)
    if checked is not None:
        checked.begin()
    scene = validator.scene(d)
    if checked is not None:
        checked.end()
    for message in validator.warnings:
        warnings.warn(message, SceneWarning, stacklevel=2)
    return NormalisedScene(_frozen(scene), _MARK)


def with_view(scene: NormalisedScene, camera: dict, render: dict) -> NormalisedScene:
    """Normalised `scene` with another camera and render settings (both validated), everything
    else shared as it is: one validated scene rendered at several film sizes (the viewport's
    reduced-resolution start) is checked once."""
    if not is_normalised(scene):
        raise TypeError("with_view: expected validate_scene's result")
    validator = _Validator(strict=True)
    out = dict(scene)
    out["render"] = _frozen(validator.render(render))
    out["camera"] = _frozen(validator.camera(camera))
    return NormalisedScene(out, _MARK)


NOT_RENDERED_NOTE = "curves are exported but not rendered yet"


def not_rendered(scene: NormalisedScene) -> list[str]:
    """What a validated scene holds that the core leaves out of the image. Empty: motion blur
    and curves are drawn (docs/scene-dict.md, *Not rendered yet*)."""
    del scene
    return []


def drawn_part(scene: NormalisedScene) -> NormalisedScene:
    """The validated scene as the core draws it (everything, since curves are drawn)."""
    return scene


def shutter_interval(motion: dict) -> tuple[float, float]:
    """(open, close) in frames relative to the frame rendered, from a normalised `motion`."""
    shutter = motion["shutter"]
    start = {"START": 0.0, "CENTER": -0.5 * shutter, "END": -shutter}[motion["position"]]
    return start, start + shutter


def is_normalised(d) -> bool:
    """Whether `d` is validate_scene's own result (not a copy of one)."""
    return type(d) is NormalisedScene


# --------------------------------------------------------------------------------------------
# The normalised form: read-only containers, marked


_MARK = object()  # only validate_scene makes NormalisedScenes


def _refuse(self, *args, **kwargs):
    raise TypeError("a normalised scene is read-only: change a copy (dict(scene)), which is validated again")


class _ReadOnlyDict(dict):
    """A dict that refuses changes; copies of it (dict(), copy, pickle) are plain dicts."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):
        return dict, (dict(self),)

    def __copy__(self):
        return dict(self)


class _ReadOnlyList(list):
    """A list that refuses changes; copies of it are plain lists."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __reduce__(self):
        return list, (list(self),)

    def __copy__(self):
        return list(self)


class NormalisedScene(_ReadOnlyDict):
    """validate_scene's result (see the module docstring): the only dict the core reads as it is."""

    __slots__ = ()

    def __init__(self, scene: dict, mark):
        if mark is not _MARK:
            raise TypeError("NormalisedScene is made by validate_scene only")
        dict.__init__(self, scene)


def _frozen(value):
    """`value` with every dict and list made read-only (arrays and other values as they are)."""
    kind = type(value)
    if kind is np.ndarray or value is None:  # most leaves: skip the isinstance checks
        return value
    if isinstance(value, dict):
        return _ReadOnlyDict({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return _ReadOnlyList([_frozen(v) for v in value])
    return value


class CheckedArrays:
    """Results of the array checks of the last validation, by the identity of the array checked
    and the check's arguments. A check's result is reused only for the very same array object
    (kept referenced here, so its id cannot be taken by another array): arrays are never changed
    once handed to the core. Entries the last validation did not use are dropped."""

    def __init__(self):
        self._last: dict = {}
        self._now: dict = {}
        self.reused = 0  # checks the last validation skipped

    def begin(self) -> None:
        self._now, self.reused = {}, 0

    def end(self) -> None:
        self._last, self._now = self._now, {}

    def run(self, value: np.ndarray, key: tuple, check: Callable[[], Any]):
        k = (id(value),) + key
        hit = self._now.get(k) or self._last.get(k)
        if hit is not None and hit[0] is value:
            self.reused += 1
        else:
            hit = (value, check())
        self._now[k] = hit
        return hit[1]


# --------------------------------------------------------------------------------------------
# Field tables: one entry per key of a simple section, mirroring the tables of the doc


_REQUIRED = object()  # the key has no default
_DERIVED = object()  # the default depends on other keys; the section's code fills it in


@dataclass(frozen=True)
class _Field:
    read: Callable[[Any, str, "_Validator"], Any]
    default: Any = _REQUIRED


def _int_field(allowed=ANY, default=_REQUIRED) -> _Field:
    return _Field(lambda v, p, _: read_int(v, p, allowed), default)


def _float_field(allowed=ANY, default=_REQUIRED) -> _Field:
    return _Field(lambda v, p, _: read_float(v, p, allowed), default)


def _color_field(allowed, default) -> _Field:
    return _Field(lambda v, p, _: read_floats(v, p, 3, allowed), default)


def _choice_field(noun, choices, default=_REQUIRED) -> _Field:
    return _Field(lambda v, p, _: read_choice(v, p, noun, choices), default)


def _read_bool(value, path, _):
    if not isinstance(value, (bool, np.bool_)):
        fail(path, f"expected True or False, got {show(value)}")
    return bool(value)


def _matrix_field() -> _Field:
    return _Field(lambda v, p, _: read_matrix(v, p))


def _blades(value, path, _):
    blades = read_int(value, path, NON_NEGATIVE)
    if blades in (1, 2):
        fail(path, f"expected 0 (round) or an int >= 3, got {blades}")
    return blades


_TOP_KEYS = ("version", "render", "camera", "world", "materials", "textures", "meshes", "spheres",
             "curves", "instances", "lights", "motion")

_RENDER_FIELDS = {
    "width": _int_field(POSITIVE),
    "height": _int_field(POSITIVE),
    "region": _Field(lambda v, p, _: read_ints(v, p, 4), _DERIVED),
    "max_bounces": _int_field(NON_NEGATIVE, 12),
    # Light Paths › Max Bounces by type; absent (files written before them): no limit by type
    # and 64 transparent passes, as those files rendered (see render()).
    "max_diffuse_bounces": _int_field(NON_NEGATIVE, _DERIVED),
    "max_glossy_bounces": _int_field(NON_NEGATIVE, _DERIVED),
    "max_transmission_bounces": _int_field(NON_NEGATIVE, _DERIVED),
    "max_transparent_bounces": _int_field(NON_NEGATIVE, _DERIVED),
    "seed": _int_field(NON_NEGATIVE, 0),
    "filter": _choice_field("filter", ("box", "gaussian", "blackman_harris"), "blackman_harris"),
    "filter_width": _float_field(POSITIVE, 1.5),
    "clamp_direct": _float_field(NON_NEGATIVE, 0.0),
    "clamp_indirect": _float_field(NON_NEGATIVE, 0.0),
    "transparent": _Field(_read_bool, False),
}

_TYPED_BOUNCES = ("max_diffuse_bounces", "max_glossy_bounces", "max_transmission_bounces")
# Transparent passes a path (and a shadow ray) made before max_transparent_bounces existed.
LEGACY_TRANSPARENT_BOUNCES = 64

_CAMERA_FIELDS = {
    "type": _choice_field("camera type", ("perspective", "orthographic"), "perspective"),
    "matrix": _matrix_field(),
    "lens": _float_field(POSITIVE, 50.0),
    "sensor_width": _float_field(POSITIVE, 36.0),
    "sensor_height": _float_field(POSITIVE, 24.0),
    "sensor_fit": _choice_field("sensor fit", ("AUTO", "HORIZONTAL", "VERTICAL"), "AUTO"),
    "ortho_scale": _float_field(POSITIVE, 6.0),
    "shift_x": _float_field(ANY, 0.0),
    "shift_y": _float_field(ANY, 0.0),
    "clip_start": _float_field(NON_NEGATIVE, 0.1),
    "clip_end": _float_field(NON_NEGATIVE, 100.0),
    "aperture_radius": _float_field(NON_NEGATIVE, 0.0),
    "focus_distance": _float_field(POSITIVE, 10.0),
    "aperture_blades": _Field(_blades, 0),
    "aperture_rotation": _float_field(ANY, 0.0),
    "motion": _Field(lambda v, p, ctx: ctx.camera_motion(v, p), None),
}

# Version 1: the world colour, the flat Principled material and textures with their filtering.
_WORLD_V1_FIELDS = {
    "color": _color_field(NON_NEGATIVE, (0.0, 0.0, 0.0)),
    "strength": _float_field(NON_NEGATIVE, 1.0),
}

_MATERIAL_V1_FIELDS = {
    "base_color": _color_field(UNIT, (0.8, 0.8, 0.8)),
    "base_color_texture": _Field(lambda v, p, ctx: read_name(v, p, ctx.textures, "texture"), None),
    "metallic": _float_field(UNIT, 0.0),
    "roughness": _float_field(UNIT, 0.5),
    "ior": _float_field(Range(1), 1.5),
    "specular": _float_field(NON_NEGATIVE, 0.5),
    "transmission": _float_field(UNIT, 0.0),
    "emission_color": _color_field(NON_NEGATIVE, (1.0, 1.0, 1.0)),
    "emission_strength": _float_field(NON_NEGATIVE, 0.0),
    "alpha": _float_field(UNIT, 1.0),
}

_TEXTURE_V1_FIELDS = {
    "pixels": _Field(lambda v, p, ctx: ctx.array(_read_pixels, v, p)),
    "colorspace": _choice_field("colorspace", ("linear", "srgb"), _DERIVED),
    "interpolation": _choice_field("interpolation", ("linear", "closest"), "linear"),
    "extension": _choice_field("extension", ("repeat", "extend", "clip"), "repeat"),
}

_TEXTURE_FIELDS = {
    "pixels": _Field(lambda v, p, ctx: ctx.array(_read_pixels, v, p)),
    "colorspace": _choice_field("colorspace", ("srgb", "linear", "non_color"), _DERIVED),
    "alpha_mode": _choice_field("alpha mode", ("STRAIGHT", "PREMUL", "CHANNEL_PACKED", "NONE"), "STRAIGHT"),
}

_MESH_V1_KEYS = ("vertices", "triangles", "normals", "normal_indices", "uvs", "uv_indices",
                 "material_ids", "materials")
_MESH_KEYS = _MESH_V1_KEYS + ("uv_maps", "attributes", "tangents", "texspace", "active_uv_map",
                              "active_color_attribute", "motion")
_SPHERE_KEYS = ("centers", "radii", "colors", "material")
_INSTANCE_V1_KEYS = ("geometry", "transforms", "object_ids", "materials")
_INSTANCE_KEYS = _INSTANCE_V1_KEYS + ("object_info", "shadow_terminator", "motion")
_ATTRIBUTE_DOMAINS = ("point", "corner", "face")

_LIGHT_TYPES = ("point", "spot", "sun", "area")
_AREA_SHAPES = ("square", "rectangle", "disk", "ellipse")
_LIGHT_COMMON_FIELDS = {
    "type": _choice_field("light type", _LIGHT_TYPES),
    "color": _color_field(NON_NEGATIVE, (1.0, 1.0, 1.0)),
    "matrix": _matrix_field(),
}
_POINT_FIELDS = {
    "power": _float_field(NON_NEGATIVE),
    "radius": _float_field(NON_NEGATIVE, 0.0),
}
_LIGHT_FIELDS = {
    "point": {**_LIGHT_COMMON_FIELDS, **_POINT_FIELDS},
    "spot": {**_LIGHT_COMMON_FIELDS, **_POINT_FIELDS,
             # Blender's defaults: a 45° cone with a 0.15 blend.
             "spot_size": _float_field(Range(0, math.pi, lo_open=True), math.pi / 4),
             "spot_blend": _float_field(UNIT, 0.15)},
    "sun": {**_LIGHT_COMMON_FIELDS,
            "strength": _float_field(NON_NEGATIVE),
            "angle": _float_field(Range(0, math.pi), 0.0)},
    "area": {**_LIGHT_COMMON_FIELDS,
             "power": _float_field(NON_NEGATIVE),
             "shape": _choice_field("area light shape", _AREA_SHAPES, "square"),
             "size_x": _float_field(POSITIVE),
             "size_y": _float_field(POSITIVE, _DERIVED)},
}


def _read_pixels(value, path: str) -> np.ndarray:
    """(H, W, C) uint8 (kept) or real (→ float32) pixels, C in {1, 3, 4}."""
    array = as_array(value, path, "pixels of shape (H, W, C)")
    if array.dtype == np.uint8:
        check_shape(array, path, ("H", "W", "C"))
        pixels = np.ascontiguousarray(array)
    elif array.dtype.kind == "f":
        pixels = read_float_array(array, path, ("H", "W", "C"))
    else:
        fail(path, f"expected float or uint8 pixels, got dtype {array.dtype}")
    height, width, channels = pixels.shape
    if channels not in (1, 3, 4):
        fail(path, f"expected 1, 3 or 4 channels, got shape {pixels.shape}")
    if height == 0 or width == 0:
        fail(path, f"expected at least one pixel, got shape {pixels.shape}")
    return pixels


# --------------------------------------------------------------------------------------------
# The validator: one method per section, in the order names are defined before they are used


@dataclass
class _GeometryInfo:
    """What an instance needs to know about the geometry it places."""

    kind: str  # "mesh", "spheres" or "curves"
    materials: list  # the geometry's own material slots
    highest_material_id: int  # the highest slot index its primitives use


class _Validator:
    def __init__(self, strict: bool, checked: CheckedArrays | None = None):
        self.strict = strict
        self.checked = checked
        self.warnings: list[str] = []
        self.textures: dict = {}
        self.materials: dict = {}
        self.geometry: dict[str, _GeometryInfo] = {}
        self.next_object_id = 0
        self.version = SCENE_VERSION
        self.first_motion_path: str | None = None  # the first motion steps met (they need `motion`)

    # -- arrays

    def array(self, check: Callable, value, path: str, *args, **kwargs):
        """check(value, path, *args, **kwargs), a pure check of an array, or its result from an
        earlier validation of the very same array with the same arguments (CheckedArrays).
        Callable arguments (message helpers) do not take part in the key."""
        if self.checked is None or not isinstance(value, np.ndarray):
            return check(value, path, *args, **kwargs)
        key = (check, path, tuple(a for a in args if not callable(a)),
               tuple((k, v) for k, v in kwargs.items() if not callable(v)))
        return self.checked.run(value, key, lambda: check(value, path, *args, **kwargs))

    # -- keys

    def check_keys(self, d, path: str, allowed, required=(), kind: str = ""):
        """d must be a dict with the required keys; unknown keys are errors (strict) or warnings.
        Sections copy only known keys, so unknown ones are dropped from the result."""
        if not isinstance(d, dict):
            fail(path, f"expected a dict, got {type(d).__name__}")
        for key in d:
            if key not in allowed:
                message = f"{path}: unknown key {key!r}{kind}"
                if self.strict:
                    raise ValueError(message)
                self.warnings.append(message)
        for key in required:
            if key not in d:
                fail(path, f"missing required key {key!r}")

    def fields(self, d, path: str, fields: dict, kind: str = "") -> dict:
        """Read a section described by a field table; _DERIVED defaults are left out."""
        required = [key for key, field in fields.items() if field.default is _REQUIRED]
        self.check_keys(d, path, fields, required, kind)
        out = {}
        for key, field in fields.items():
            if key in d:
                value = d[key]
            elif field.default is _DERIVED:
                continue
            else:
                value = field.default  # read like a given value, so defaults are normalised too
            out[key] = field.read(value, f"{path}.{key}", self)
        return out

    def named(self, d, path: str, read_one: Callable[[Any, str, str], dict]) -> dict:
        """A section mapping names to dicts."""
        if not isinstance(d, dict):
            fail(path, f"expected a dict of name -> dict, got {type(d).__name__}")
        out = {}
        for name, item in d.items():
            item_path = f"{path}[{name!r}]"
            if not isinstance(name, str) or not name:
                fail(item_path, "names must be non-empty strings")
            out[name] = read_one(item, item_path, name)
        return out

    # -- top level

    def scene(self, d) -> dict:
        if not isinstance(d, dict):
            fail("scene", f"expected a dict, got {type(d).__name__}")
        if "version" not in d:
            fail("scene", "missing required key 'version'")
        version = d["version"]
        if not is_int(version):
            fail("version", f"expected an int, got {show(version)}")
        if version not in (1, SCENE_VERSION):
            fail("version", f"unsupported scene version {version} (this core reads 1 and {SCENE_VERSION})")
        self.version = int(version)
        self.check_keys(d, "scene", _TOP_KEYS, required=("render", "camera"))

        render = self.render(d["render"])
        camera = self.camera(d["camera"])
        if self.version == 1:
            world = self.shading_v1(d)
        else:
            self.textures = self.named(d.get("textures", {}), "textures", self.texture)
            self.materials = self.named(d.get("materials", {}), "materials",
                                        lambda item, path, _: self.graph(item, path, "material"))
            world = self.world(d.get("world"))
        meshes = self.named(d.get("meshes", {}), "meshes", self.mesh)
        spheres = self.named(d.get("spheres", {}), "spheres", self.spheres)
        curves = self.named(d.get("curves", {}), "curves", self.curves) if self.version > 1 else {}
        instances = self.instances(d.get("instances", []))
        lights = self.named(d.get("lights", {}), "lights", lambda item, path, _: self.light(item, path))
        motion = self.motion(d.get("motion")) if self.version > 1 else None
        if motion is None and self.first_motion_path is not None:
            fail(self.first_motion_path, "motion steps given, but the scene has no 'motion' section (the shutter)")
        if self.version == 1:
            self.point_colors_v1(spheres, instances)
        return {"version": SCENE_VERSION, "render": render, "camera": camera, "world": world,
                "materials": self.materials, "textures": self.textures, "meshes": meshes,
                "spheres": spheres, "curves": curves, "instances": instances, "lights": lights, "motion": motion}

    # -- shading: node graphs (version 2), flat materials (version 1, upgraded)

    def graph(self, d, path: str, kind: str) -> dict:
        return validate_graph(d, path, kind, self.textures, self.check_keys)

    def world(self, d) -> dict:
        """The world graph; none means black (an empty graph with only the output)."""
        if d is None:
            d = {"nodes": {"World Output": {"type": "ShaderNodeOutputWorld"}}, "output": "World Output"}
        return self.graph(d, "world", "world")

    def shading_v1(self, d) -> dict:
        """Version 1: checks world, textures and materials by the version-1 rules, keeps them in
        version-2 form (self.textures, self.materials) and returns the world graph."""
        world_v1 = self.fields(d.get("world", {}), "world", _WORLD_V1_FIELDS)
        textures_v1 = self.named(d.get("textures", {}), "textures", self.texture_v1)
        self.textures = {name: upgrade.texture(t) for name, t in textures_v1.items()}
        materials_v1 = self.named(d.get("materials", {}), "materials",
                                  lambda item, path, _: self.fields(item, path, _MATERIAL_V1_FIELDS))
        self.materials = {name: self.graph(upgrade.material_graph(m, textures_v1), f"materials[{name!r}]", "material")
                          for name, m in materials_v1.items()}
        return self.graph(upgrade.world_graph(world_v1), "world", "world")

    def point_colors_v1(self, spheres: dict, instances: list):
        """Version 1: sphere colours replaced the material's base colour; in version 2 a copy
        of the material reads them (upgrade.point_color_graph)."""
        variants: dict = {}

        def variant(name):
            if name not in variants:
                new = upgrade.point_color_name(name, self.materials)
                source = self.materials[name] if name is not None else None
                self.materials[new] = self.graph(upgrade.point_color_graph(source), f"materials[{new!r}]", "material")
                variants[name] = new
            return variants[name]

        colored = {name for name, s in spheres.items() if s["colors"] is not None}
        for name in colored:
            spheres[name]["material"] = variant(spheres[name]["material"])
        for group in instances:
            if group["geometry"] in colored:
                group["materials"] = [variant(m) for m in group["materials"]]

    # -- render and camera

    def render(self, d) -> dict:
        out = self.fields(d, "render", _RENDER_FIELDS)
        width, height = out["width"], out["height"]
        region = out.get("region", (0, 0, width, height))
        x, y, w, h = region
        if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > width or y + h > height:
            fail("render.region", f"{region} is not a non-empty part of the {width} x {height} frame")
        for key in _TYPED_BOUNCES:
            # A limit by type at the total never binds: the path stops at the total first.
            out.setdefault(key, out["max_bounces"])
        out.setdefault("max_transparent_bounces", LEGACY_TRANSPARENT_BOUNCES)
        out["region"] = region
        return {k: out[k] for k in _RENDER_FIELDS}  # the table's order: validating again changes nothing

    def camera(self, d) -> dict:
        out = self.fields(d, "camera", _CAMERA_FIELDS)
        if out["clip_end"] <= out["clip_start"]:
            fail("camera.clip_end", f"expected more than clip_start ({out['clip_start']:g}), got {out['clip_end']:g}")
        return out

    # -- textures

    def texture(self, d, path: str, _name: str) -> dict:
        out = self.fields(d, path, _TEXTURE_FIELDS)
        if "colorspace" not in out:  # 8-bit images are sRGB-encoded, float ones linear (Blender)
            out["colorspace"] = "srgb" if out["pixels"].dtype == np.uint8 else "linear"
        return {key: out[key] for key in _TEXTURE_FIELDS}

    def texture_v1(self, d, path: str, _name: str) -> dict:
        out = self.fields(d, path, _TEXTURE_V1_FIELDS)
        if "colorspace" not in out:
            out["colorspace"] = "srgb" if out["pixels"].dtype == np.uint8 else "linear"
        return out

    # -- geometry

    def mesh(self, d, path: str, name: str) -> dict:
        self.check_keys(d, path, _MESH_KEYS if self.version > 1 else _MESH_V1_KEYS,
                        required=("vertices", "triangles"))
        vertices = self.array(read_float_array, d["vertices"], f"{path}.vertices", ("V", 3))
        triangles = self.array(read_index_array, d["triangles"], f"{path}.triangles", ("T", 3), len(vertices),
                               "vertices")
        normals, normal_indices = self.indexed_attribute(d, path, "normals", "normal_indices", "N", 3,
                                                         triangles, len(vertices))
        if normals is not None:
            self.array(_check_normal_lengths, normals, f"{path}.normals")
        uvs, uv_indices = self.indexed_attribute(d, path, "uvs", "uv_indices", "U", 2, triangles, len(vertices))
        materials = read_names(d.get("materials", []), f"{path}.materials", self.materials, "material")
        material_ids, highest = self.material_ids(d.get("material_ids"), f"{path}.material_ids", len(triangles),
                                                  materials)
        self.geometry[name] = _GeometryInfo("mesh", materials, highest)
        out = {"vertices": vertices, "triangles": triangles, "normals": normals, "normal_indices": normal_indices,
               "uvs": uvs, "uv_indices": uv_indices, "material_ids": material_ids, "materials": materials}
        out.update(self.mesh_shading_data(d, path, triangles, len(vertices)))
        out["motion"] = self.deformation(d.get("motion"), f"{path}.motion", "vertices", len(vertices)) \
            if self.version > 1 else None
        return out

    def mesh_shading_data(self, d, path: str, triangles: np.ndarray, n_vertices: int) -> dict:
        """UV maps, attributes, tangents and the texture space the shader nodes read."""
        def named_dicts(key, read_one):
            value = d.get(key, {})
            if not isinstance(value, dict):
                fail(f"{path}.{key}", f"expected a dict of name -> dict, got {type(value).__name__}")
            out = {}
            for item_name, item in value.items():
                item_path = f"{path}.{key}[{item_name!r}]"
                if not isinstance(item_name, str) or not item_name:
                    fail(item_path, "names must be non-empty strings")
                out[item_name] = read_one(item, item_path)
            return out

        def uv_map(item, item_path):
            self.check_keys(item, item_path, ("uvs", "uv_indices"), required=("uvs",))
            uvs, indices = self.indexed_attribute(item, item_path, "uvs", "uv_indices", "U", 2, triangles, n_vertices)
            return {"uvs": uvs, "uv_indices": indices}

        def tangent_set(item, item_path):
            self.check_keys(item, item_path, ("data", "indices"), required=("data", "indices"))
            data = self.array(read_float_array, item["data"], f"{item_path}.data", ("N", 4))
            indices = self.array(read_index_array, item["indices"], f"{item_path}.indices", ("T", 3), len(data),
                                 "tangents", rows=len(triangles), rows_from=" (as triangles)")
            return {"data": data, "indices": indices}

        uv_maps = named_dicts("uv_maps", uv_map)
        attributes = named_dicts("attributes", lambda item, p: self.attribute(item, p, triangles, n_vertices))
        tangents = named_dicts("tangents", tangent_set)
        texspace = d.get("texspace")
        if texspace is not None:
            texspace = read_floats(texspace, f"{path}.texspace", 6)
        active_uv = self.optional_string(d.get("active_uv_map"), f"{path}.active_uv_map")
        active_color = read_name(d.get("active_color_attribute"), f"{path}.active_color_attribute", attributes,
                                 "attribute")
        return {"uv_maps": uv_maps, "attributes": attributes, "tangents": tangents, "texspace": texspace,
                "active_uv_map": active_uv, "active_color_attribute": active_color}

    def attribute(self, d, path: str, triangles: np.ndarray, n_vertices: int) -> dict:
        """{"domain", "data" (N, C) or (N,), "indices" (corner domain)} -> data as f32 (N, C)."""
        self.check_keys(d, path, ("domain", "data", "indices"), required=("domain", "data"))
        domain = read_choice(d["domain"], f"{path}.domain", "attribute domain", _ATTRIBUTE_DOMAINS)
        data = self.array(_read_attribute_data, d["data"], f"{path}.data")
        if not 1 <= data.shape[1] <= 4:
            fail(f"{path}.data", f"expected 1 to 4 channels, got shape {data.shape}")
        indices = None
        if domain == "corner":
            if d.get("indices") is None:
                fail(path, "missing required key 'indices' (corner data is indexed per triangle corner)")
            indices = self.array(read_index_array, d["indices"], f"{path}.indices", ("T", 3), len(data),
                                 "rows of data", rows=len(triangles), rows_from=" (as triangles)")
        elif d.get("indices") is not None:
            fail(f"{path}.indices", f"only corner attributes have indices (this one is per {domain})")
        rows = {"point": n_vertices, "face": len(triangles)}.get(domain)
        if rows is not None and len(data) != rows:
            fail(f"{path}.data", f"expected {rows} rows for a {domain} attribute, got {len(data)}")
        return {"domain": domain, "data": data, "indices": indices}

    @staticmethod
    def optional_string(value, path: str):
        if value is not None and not isinstance(value, str):
            fail(path, f"expected a string or None, got {show(value)}")
        return value

    def indexed_attribute(self, d, path, values_key, indices_key, letter, columns, triangles, n_vertices):
        """Per-corner data stored as values plus (T, 3) indices; without indices the values are
        per vertex and the triangles index them (the normalised form then shares `triangles`)."""
        values, indices = d.get(values_key), d.get(indices_key)
        if values is None:
            if indices is not None:
                fail(f"{path}.{indices_key}", f"given without {values_key}")
            return None, None
        values = self.array(read_float_array, values, f"{path}.{values_key}", (letter, columns))
        if indices is None:
            if len(values) != n_vertices:
                fail(f"{path}.{values_key}", f"expected {n_vertices} rows, one per vertex (there are no "
                                              f"{indices_key}), got {len(values)}")
            return values, triangles
        indices = self.array(read_index_array, indices, f"{path}.{indices_key}", ("T", 3), len(values), values_key,
                             rows=len(triangles), rows_from=" (as triangles)")
        return values, indices

    def material_ids(self, value, path: str, n_triangles: int, materials: list):
        """(T,) slot indices into `materials` (all 0 when it is empty); returns (ids, highest id).

        Absent ids stay None (meaning all 0) rather than a fresh zeros array, so the same mesh
        validated twice has the same arrays and the core can reuse its BVH."""
        if value is None:
            return None, 0
        ids, lowest, highest = self.array(read_int_array, value, path, ("T",), rows=n_triangles,
                                          rows_from=" (as triangles)")
        if lowest is None:
            return self.array(to_int32, ids, path, None, None), 0
        if not materials and (lowest != 0 or highest != 0):
            fail(path, f"index {lowest or highest} but the mesh has no materials (only 0 is allowed)")
        if materials and (lowest < 0 or highest >= len(materials)):
            fail(path, f"index {lowest if lowest < 0 else highest} out of range for {len(materials)} materials")
        return self.array(to_int32, ids, path, lowest, highest), highest

    def spheres(self, d, path: str, name: str) -> dict:
        if name in self.geometry:
            fail(path, "name already used by a mesh (meshes, spheres and curves share one namespace)")
        self.check_keys(d, path, _SPHERE_KEYS, required=("centers", "radii"))
        centers = self.array(read_float_array, d["centers"], f"{path}.centers", ("N", 3))
        radii = self.array(_read_radii, d["radii"], f"{path}.radii", len(centers))
        colors = d.get("colors")
        if colors is not None:
            colors = self.array(_read_sphere_colors, colors, f"{path}.colors", len(centers))
        material = read_name(d.get("material"), f"{path}.material", self.materials, "material")
        self.geometry[name] = _GeometryInfo("spheres", [material], 0)
        return {"centers": centers, "radii": radii, "colors": colors, "material": material}

    # -- instances

    def instances(self, groups) -> list:
        if not isinstance(groups, (list, tuple)):
            fail("instances", f"expected a list of dicts, got {type(groups).__name__}")
        return [self.instance_group(group, f"instances[{i}]") for i, group in enumerate(groups)]

    def instance_group(self, d, path: str) -> dict:
        self.check_keys(d, path, _INSTANCE_KEYS if self.version > 1 else _INSTANCE_V1_KEYS,
                        required=("geometry", "transforms"))
        name = d["geometry"]
        if not isinstance(name, str):
            fail(f"{path}.geometry", f"expected a mesh, sphere set or curve set name, got {show(name)}")
        if name not in self.geometry:
            fail(f"{path}.geometry", f"no mesh, sphere set or curve set named {name!r}")
        info = self.geometry[name]
        transforms = self.array(read_matrices, d["transforms"], f"{path}.transforms",
                                lambda i: f"{path}.transforms[{i}]")
        count = len(transforms)
        object_ids = self.object_ids(d.get("object_ids"), f"{path}.object_ids", count)
        if "materials" in d:
            materials = read_names(d["materials"], f"{path}.materials", self.materials, "material")
            if info.highest_material_id >= max(len(materials), 1):
                fail(f"{path}.materials", f"{len(materials)} materials, but {info.kind} {name!r} uses "
                                           f"material index {info.highest_material_id}")
        else:
            materials = list(info.materials)
        object_info = self.object_info(d.get("object_info"), f"{path}.object_info", count)
        terminator = self.shadow_terminator(d.get("shadow_terminator"), f"{path}.shadow_terminator", count)
        motion = d.get("motion")
        if motion is not None:
            motion = self.array(_read_transform_steps, motion, f"{path}.motion", count)
            self.note_motion(f"{path}.motion")
        return {"geometry": name, "transforms": transforms, "object_ids": object_ids, "materials": materials,
                "object_info": object_info, "shadow_terminator": terminator, "motion": motion}

    def shadow_terminator(self, value, path: str, count: int):
        """Object › Shading › Shadow Terminator per placement: geometry offset (N,) and shading
        offset (N,), each in [0, 1]; keys left out take Blender's defaults (0.1, 0). None: all
        defaults."""
        if value is None:
            return None
        self.check_keys(value, path, ("geometry_offset", "shading_offset"))
        out = {}
        for key, default in (("geometry_offset", 0.1), ("shading_offset", 0.0)):
            given = value.get(key)
            if given is None:
                out[key] = np.full(count, default, np.float32)
                continue
            offsets = self.array(read_float_array, given, f"{path}.{key}", ("N",), rows=count,
                                 rows_from=" (as transforms)")
            if offsets.size and not (float(offsets.min()) >= 0.0 and float(offsets.max()) <= 1.0):
                bad = offsets[(offsets < 0) | (offsets > 1)][0]
                fail(f"{path}.{key}", f"expected values in [0, 1], got {float(bad):g}")
            out[key] = offsets
        return out

    def object_info(self, value, path: str, count: int):
        """What the Object Info node reads per placement: colour (N, 4), pass index (N,),
        random (N,); keys left out take Blender's defaults (white, 0, 0). None: all defaults."""
        if value is None:
            return None
        self.check_keys(value, path, ("color", "pass_index", "random"))
        color = value.get("color")
        color = (np.ones((count, 4), np.float32) if color is None else
                 self.array(read_float_array, color, f"{path}.color", ("N", 4), rows=count,
                            rows_from=" (as transforms)"))
        index = value.get("pass_index")
        if index is None:
            index = np.zeros(count, np.int32)
        else:
            ids, lowest, highest = self.array(read_int_array, index, f"{path}.pass_index", ("N",), rows=count,
                                              rows_from=" (as transforms)")
            index = self.array(to_int32, ids, f"{path}.pass_index", lowest, highest)
        random = value.get("random")
        random = (np.zeros(count, np.float32) if random is None else
                  self.array(read_float_array, random, f"{path}.random", ("N",), rows=count,
                             rows_from=" (as transforms)"))
        return {"color": color, "pass_index": index, "random": random}

    def object_ids(self, value, path: str, count: int) -> np.ndarray:
        """(N,) ids >= 0; by default the running index of the placement over all groups."""
        first = self.next_object_id
        self.next_object_id += count
        if value is None:
            return np.arange(first, first + count, dtype=np.int32)
        ids, lowest, highest = self.array(read_int_array, value, path, ("N",), rows=count,
                                          rows_from=" (as transforms)")
        if lowest is not None and lowest < 0:
            fail(path, f"expected ids >= 0 (-1 means 'no hit'), got {lowest}")
        return self.array(to_int32, ids, path, lowest, highest)

    # -- curves (docs/scene-dict.md, `curves`)

    def curves(self, d, path: str, name: str) -> dict:
        if name in self.geometry:
            fail(path, f"name already used by a {self.geometry[name].kind} geometry (meshes, spheres and curves "
                       "share one namespace)")
        self.check_keys(d, path, _CURVE_KEYS, required=("points", "radii", "offsets"))
        points = self.array(read_float_array, d["points"], f"{path}.points", ("P", 3))
        n_points = len(points)
        radii = self.array(_read_curve_radii, d["radii"], f"{path}.radii", n_points)
        offsets = self.array(_read_offsets, d["offsets"], f"{path}.offsets", n_points)
        n_curves = len(offsets) - 1
        shape = read_choice(d.get("shape", "round"), f"{path}.shape", "curve shape", CURVE_SHAPES)
        segments = read_choice(d.get("segments", "catmull_rom"), f"{path}.segments", "curve segment type",
                               CURVE_SEGMENTS)
        materials = read_names(d.get("materials", []), f"{path}.materials", self.materials, "material")
        material_ids, highest = self.material_ids(d.get("material_ids"), f"{path}.material_ids", n_curves, materials)
        self.geometry[name] = _GeometryInfo("curves", materials, highest)
        given = [d.get(key) for key in ("intercept", "length", "random")]
        derived = (None,) * 3
        if any(v is None for v in given):  # computed once per pair of arrays (CheckedArrays)
            derived = self.array(_derived_curve_data, points, path, _Same(offsets))
        intercept = d.get("intercept")
        intercept = derived[0] if intercept is None else self.array(
            _read_unit_floats, intercept, f"{path}.intercept", n_points, " (as points)")
        length = d.get("length")
        length = derived[1] if length is None else self.array(
            _read_lengths, length, f"{path}.length", n_curves)
        random = d.get("random")
        random = derived[2] if random is None else self.array(
            _read_unit_floats, random, f"{path}.random", n_curves, " (as curves)")
        attributes = self.curve_attributes(d.get("attributes", {}), f"{path}.attributes", n_points, n_curves)
        motion = self.deformation(d.get("motion"), f"{path}.motion", "points", n_points)
        return {"points": points, "radii": radii, "offsets": offsets, "shape": shape, "segments": segments,
                "material_ids": material_ids, "materials": materials, "intercept": intercept, "length": length,
                "random": random, "attributes": attributes, "motion": motion}

    def curve_attributes(self, value, path: str, n_points: int, n_curves: int) -> dict:
        """Named attributes per point or per curve (Attribute node), data as f32 (N, C)."""
        if not isinstance(value, dict):
            fail(path, f"expected a dict of name -> dict, got {type(value).__name__}")
        out = {}
        for item_name, item in value.items():
            item_path = f"{path}[{item_name!r}]"
            if not isinstance(item_name, str) or not item_name:
                fail(item_path, "names must be non-empty strings")
            self.check_keys(item, item_path, ("domain", "data"), required=("domain", "data"))
            domain = read_choice(item["domain"], f"{item_path}.domain", "curve attribute domain", ("point", "curve"))
            data = self.array(_read_attribute_data, item["data"], f"{item_path}.data")
            if not 1 <= data.shape[1] <= 4:
                fail(f"{item_path}.data", f"expected 1 to 4 channels, got shape {data.shape}")
            rows = n_points if domain == "point" else n_curves
            if len(data) != rows:
                fail(f"{item_path}.data", f"expected {rows} rows for a {domain} attribute, got {len(data)}")
            out[item_name] = {"domain": domain, "data": data}
        return out

    # -- motion blur (docs/scene-dict.md, *Motion blur*)

    def note_motion(self, path: str) -> None:
        if self.first_motion_path is None:
            self.first_motion_path = path

    def motion(self, d):
        """The shutter; None: no motion blur (then no motion steps may be given)."""
        if d is None:
            return None
        out = self.fields(d, "motion", _MOTION_FIELDS)
        curve = out["shutter_curve"]
        if curve is not None and not float(curve.sum()) > 0:
            fail("motion.shutter_curve", "expected at least one value > 0 (it is a density over the shutter time)")
        return out

    def camera_motion(self, value, path: str):
        if value is None:
            return None
        steps = self.array(_read_camera_steps, value, path)
        self.note_motion(path)
        return steps

    def deformation(self, value, path: str, key: str, count: int):
        """{key: f32 (S, count, 3)} positions at S shutter steps, or {"velocities": f32 (count, 3)}."""
        if value is None:
            return None
        self.check_keys(value, path, (key, "velocities"))
        given = [k for k in (key, "velocities") if value.get(k) is not None]
        if len(given) != 1:
            fail(path, f"expected exactly one of {key!r} (positions per step, same topology) or 'velocities' "
                       f"(topology changes), got {len(given)}")
        self.note_motion(path)
        if given[0] == key:
            return {key: self.array(_read_position_steps, value[key], f"{path}.{key}", count), "velocities": None}
        velocities = self.array(read_float_array, value["velocities"], f"{path}.velocities", ("V", 3), rows=count,
                                rows_from=f" (as {key})")
        return {key: None, "velocities": velocities}

    # -- lights

    def light(self, d, path: str) -> dict:
        if not isinstance(d, dict):
            fail(path, f"expected a dict, got {type(d).__name__}")
        if "type" not in d:
            fail(path, "missing required key 'type'")
        kind = read_choice(d["type"], f"{path}.type", "light type", _LIGHT_TYPES)
        out = self.fields(d, path, _LIGHT_FIELDS[kind], kind=f" for a {kind} light")
        if kind == "area":
            self.area_size_y(out, path)
        return out

    @staticmethod
    def area_size_y(out: dict, path: str):
        """size_y is given for rectangles and ellipses; square and disk lights get size_x."""
        shape = out["shape"]
        if shape in ("rectangle", "ellipse"):
            if "size_y" not in out:
                fail(path, f"missing required key 'size_y' (a {shape} area light needs it)")
            return
        if "size_y" in out and out["size_y"] != out["size_x"]:
            fail(f"{path}.size_y", f"a {shape} area light has size_y = size_x = {out['size_x']:g}, got "
                                    f"{out['size_y']:g} (use shape 'rectangle' or 'ellipse')")
        out["size_y"] = out["size_x"]


def _read_attribute_data(value, path: str) -> np.ndarray:
    """(N,) or (N, C) real data → C-contiguous float32 (N, C)."""
    data = as_array(value, path, "a float array of shape (N, C)")
    return read_float_array(data.reshape(-1, 1) if data.ndim == 1 else data, path, ("N", "C"))


def _read_radii(value, path: str, count: int) -> np.ndarray:
    radii = read_float_array(value, path, ("N",), rows=count, rows_from=" (as centers)")
    if radii.size and radii.min() <= 0:
        fail(path, f"expected radii > 0, got {radii.min():g}")
    return radii


def _read_sphere_colors(value, path: str, count: int) -> np.ndarray:
    colors = read_float_array(value, path, ("N", 3), rows=count, rows_from=" (as centers)")
    if colors.size and (colors.min() < 0 or colors.max() > 1):
        fail(path, "expected values in [0, 1]")
    return colors


def _check_normal_lengths(normals: np.ndarray, path: str):
    """Shading normals are normalised by the core, so each needs a length."""
    squared = np.einsum("ij,ij->i", normals, normals)
    bad = np.flatnonzero(~(squared > 1e-20))
    if bad.size:
        fail(path, f"row {bad[0]} has zero length")


# --------------------------------------------------------------------------------------------
# Motion blur and curves (docs/scene-dict.md: *Motion blur*, `curves`)

MAX_MOTION_STEPS = 129  # Cycles' most: Object › Motion Blur › Steps 7 → 2^7 + 1
MAX_SHUTTER_CURVE = 4096
CURVE_SHAPES = ("round", "ribbon")
CURVE_SEGMENTS = ("catmull_rom", "b_spline", "linear")
_CURVE_KEYS = ("points", "radii", "offsets", "shape", "segments", "material_ids", "materials", "intercept",
               "length", "random", "attributes", "motion")


def _read_shutter_curve(value, path: str, _ctx):
    if value is None:
        return None
    curve = read_float_array(value, path, ("K",))
    if not 2 <= len(curve) <= MAX_SHUTTER_CURVE:
        fail(path, f"expected 2 to {MAX_SHUTTER_CURVE} values, got {len(curve)}")
    if curve.min() < 0:
        fail(path, f"expected values >= 0, got {curve.min():g}")
    return curve


_MOTION_FIELDS = {
    "shutter": _float_field(Range(0, 2 * MAX_MOTION_STEPS, lo_open=True), 0.5),
    "position": _choice_field("shutter position", ("START", "CENTER", "END"), "CENTER"),
    "shutter_curve": _Field(_read_shutter_curve, None),
    "rolling_shutter": _choice_field("rolling shutter type", ("NONE", "TOP"), "NONE"),
    "rolling_shutter_duration": _float_field(UNIT, 0.1),
}


def _check_steps(array: np.ndarray, path: str) -> None:
    if not 2 <= array.shape[0] <= MAX_MOTION_STEPS:
        fail(path, f"expected 2 to {MAX_MOTION_STEPS} motion steps (the first dimension), got {array.shape[0]}")


def _read_transform_steps(value, path: str, count: int) -> np.ndarray:
    """(S, N, 4, 4) placements at S shutter steps, each affine and invertible."""
    array = as_array(value, path, "a float array of shape (S, N, 4, 4)")
    check_shape(array, path, ("S", "N", 4, 4))
    if array.shape[1] != count:
        fail(path, f"expected shape (S, N, 4, 4) with N = {count} (as transforms), got {array.shape}")
    _check_steps(array, path)
    return read_matrices(array, path, lambda i: f"{path}[{i // max(count, 1)}][{i % max(count, 1)}]",
                         spec=("S", "N", 4, 4))


def _read_camera_steps(value, path: str) -> np.ndarray:
    array = as_array(value, path, "a float array of shape (S, 4, 4)")
    check_shape(array, path, ("S", 4, 4))
    _check_steps(array, path)
    return read_matrices(array, path, lambda i: f"{path}[{i}]", spec=("S", 4, 4))


def _read_position_steps(value, path: str, count: int) -> np.ndarray:
    array = as_array(value, path, "a float array of shape (S, N, 3)")
    check_shape(array, path, ("S", "N", 3))
    if array.shape[1] != count:
        fail(path, f"expected shape (S, N, 3) with N = {count} (the same topology at every step), got {array.shape}")
    _check_steps(array, path)
    return read_float_array(array, path, ("S", "N", 3))


def _read_curve_radii(value, path: str, count: int) -> np.ndarray:
    radii = read_float_array(value, path, ("P",), rows=count, rows_from=" (as points)")
    if radii.size and radii.min() < 0:
        fail(path, f"expected radii >= 0, got {radii.min():g}")
    return radii


def _read_offsets(value, path: str, n_points: int) -> np.ndarray:
    """(C + 1,) first point of each curve, then the number of points: 0 first, strictly increasing."""
    array, lowest, _highest = read_int_array(value, path, ("C+1",))
    if len(array) == 0:
        fail(path, "expected at least one value (0 for no curves)")
    if array[0] != 0:
        fail(path, f"expected 0 first, got {array[0]}")
    if array[-1] != n_points:
        fail(path, f"expected {n_points} last (the number of points), got {array[-1]}")
    steps = np.diff(array.astype(np.int64))  # unsigned differences would wrap past a decrease
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        fail(path, f"curve {bad[0]} has no points (offsets must increase strictly)")
    return to_int32(array, path, lowest, n_points)


def _read_unit_floats(value, path: str, count: int, rows_from: str) -> np.ndarray:
    data = read_float_array(value, path, ("N",), rows=count, rows_from=rows_from)
    if data.size and (data.min() < 0 or data.max() > 1):
        fail(path, "expected values in [0, 1]")
    return data


def _read_lengths(value, path: str, count: int) -> np.ndarray:
    data = read_float_array(value, path, ("C",), rows=count, rows_from=" (as curves)")
    if data.size and data.min() < 0:
        fail(path, f"expected lengths >= 0, got {data.min():g}")
    return data


class _Same:
    """An array as part of a CheckedArrays key: equal only to the very same array (and holding
    it, so its id is not reused while the key lives)."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray):
        self.array = array

    def __hash__(self) -> int:
        return id(self.array)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Same) and other.array is self.array


def _derived_curve_data(points: np.ndarray, _path: str, offsets: _Same):
    """Intercept, length and random of a curve set (optica_core.curves), as Cycles derives them."""
    intercept, length = curve_data.intercept_and_length(points, offsets.array)
    return intercept, length, curve_data.curve_random(len(offsets.array) - 1)
