"""Validation and normalisation of the scene dictionary (docs/scene-dict.md, version 1).

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
  are `None`.

The input is never modified. Every problem raises `ValueError` whose message starts with the
key path, e.g. ``meshes['Cube'].triangles: index 12 out of range for 8 vertices``. Checks of
large arrays are vectorised (a few passes of numpy reductions), so a million-triangle mesh
validates in milliseconds.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

SCENE_VERSION = 1

_INT32 = np.iinfo(np.int32)
# The largest arrays the core takes (files are held to the same by optica_core.io.LoadLimits):
# it indexes with int32, and no array may pass 16 GiB.
MAX_DIMENSION = (1 << 31) - 1
MAX_ARRAY_BYTES = 16 << 30
# A matrix is singular when |det| <= this · (product of its column lengths). The ratio is 1
# for any rotation-and-scale matrix (Blender's matrix_world has orthogonal columns), so only
# degenerate or nearly degenerate shears are rejected, whatever the scale of the object.
_SINGULAR_RATIO = 1e-6
_AFFINE_TOLERANCE = 1e-6


class SceneWarning(UserWarning):
    """An unknown key that `validate_scene(d, strict=False)` dropped."""


def validate_scene(d: dict, strict: bool = True) -> dict:
    """Check a scene dictionary and return a new, normalised copy (see the module docstring).

    strict=False turns unknown keys into `SceneWarning`s (the keys are dropped) instead of
    errors; every other problem is an error either way.
    """
    validator = _Validator(strict)
    scene = validator.scene(d)
    for message in validator.warnings:
        warnings.warn(message, SceneWarning, stacklevel=2)
    return scene


# --------------------------------------------------------------------------------------------
# Errors and formatting


def _fail(path: str, message: str):
    raise ValueError(f"{path}: {message}")


def _show(value: Any) -> str:
    """A short repr for messages (numpy scalars shown as plain numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    try:
        text = repr(value)
    except RecursionError:  # a hostile value nested deeper than repr goes
        return f"a {type(value).__name__} nested too deeply to show"
    return text if len(text) <= 80 else text[:77] + "..."


def _shape_text(spec: tuple) -> str:
    inner = ", ".join(str(s) for s in spec)
    return f"({inner},)" if len(spec) == 1 else f"({inner})"


@dataclass(frozen=True)
class _Range:
    """A closed (or left-open) interval of allowed values, which also words itself for messages."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False

    def contains(self, x) -> bool:
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        return self.hi is None or x <= self.hi

    def describe(self) -> str:
        if self.lo is None:
            return "" if self.hi is None else f" <= {self.hi:g}"
        if self.hi is None:
            return f" {'>' if self.lo_open else '>='} {self.lo:g}"
        return f" in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}]"


_ANY = _Range()
_NON_NEGATIVE = _Range(0)
_POSITIVE = _Range(0, lo_open=True)
_UNIT = _Range(0, 1)


# --------------------------------------------------------------------------------------------
# Scalars, short tuples, enums and names


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _read_int(value, path: str, allowed: _Range = _ANY) -> int:
    if not _is_int(value) or not allowed.contains(value):
        _fail(path, f"expected an int{allowed.describe()}, got {_show(value)}")
    if not _INT32.min <= value <= _INT32.max:
        _fail(path, f"{_show(value)} does not fit in int32")
    return int(value)


def _read_float(value, path: str, allowed: _Range = _ANY) -> float:
    if not _is_real(value) or not _finite(value) or not allowed.contains(value):
        _fail(path, f"expected a float{allowed.describe()}, got {_show(value)}")
    return float(value)


def _finite(value) -> bool:
    """math.isfinite, also False for an int too large for a float (isfinite raises there)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _read_floats(value, path: str, n: int, allowed: _Range = _ANY) -> tuple[float, ...]:
    """n real numbers (a list, tuple or array) as a tuple of Python floats."""
    expected = f"expected {n} floats{allowed.describe()}, got {_show(value)}"
    if isinstance(value, (str, bytes, dict)):
        _fail(path, expected)
    try:
        values = np.asarray(value)
    except (ValueError, TypeError):
        _fail(path, expected)
    if values.shape != (n,) or values.dtype.kind not in "iuf":
        _fail(path, expected)
    out = tuple(float(x) for x in values)
    if not all(math.isfinite(x) and allowed.contains(x) for x in out):
        _fail(path, expected)
    return out


def _read_ints(value, path: str, n: int) -> tuple[int, ...]:
    """n ints (a list, tuple or array) as a tuple of Python ints."""
    sequence = (isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim >= 1)) \
        and len(value) == n
    items = list(value) if sequence else None  # the length first: list() of a huge array never ends
    if items is None or len(items) != n or not all(_is_int(x) for x in items):
        _fail(path, f"expected {n} ints, got {_show(value)}")
    return tuple(_read_int(x, path) for x in items)


def _read_choice(value, path: str, noun: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        _fail(path, f"expected a string, got {_show(value)}")
    if value not in choices:
        _fail(path, f"unknown {noun} {value!r} (expected one of {', '.join(map(repr, choices))})")
    return value


def _read_name(value, path: str, names, noun: str) -> str | None:
    """A reference to a named datablock, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        _fail(path, f"expected a {noun} name or None, got {_show(value)}")
    if value not in names:
        _fail(path, f"no {noun} named {value!r}")
    return value


def _read_names(value, path: str, names, noun: str) -> list[str | None]:
    if not isinstance(value, (list, tuple)):
        _fail(path, f"expected a list of {noun} names, got {_show(value)}")
    return [_read_name(item, f"{path}[{i}]", names, noun) for i, item in enumerate(value)]


# --------------------------------------------------------------------------------------------
# Arrays


def _as_array(value, path: str, expected: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (str, bytes, dict)) or value is None:
        _fail(path, f"expected {expected}, got {_show(value)}")
    try:
        return np.asarray(value)
    except (ValueError, TypeError):
        _fail(path, f"expected {expected}, got a {type(value).__name__} numpy cannot convert (ragged?)")


def _check_shape(array: np.ndarray, path: str, spec: tuple, rows: int | None = None, rows_from: str = ""):
    """spec: fixed sizes as ints, free sizes as letters, e.g. ("V", 3); rows fixes the first one.
    Sizes beyond what the core can index or hold are refused before any pass over the data (a
    zero-stride array may declare 10^11 rows in a few bytes)."""
    if any(n > MAX_DIMENSION for n in array.shape) or array.size * 4 > MAX_ARRAY_BYTES:
        _fail(path, f"shape {array.shape} is larger than the core accepts (each dimension at most "
                    f"{MAX_DIMENSION}, at most {MAX_ARRAY_BYTES >> 30} GiB per array as float32/int32)")
    fits = array.ndim == len(spec) and all(
        isinstance(want, str) or got == want for got, want in zip(array.shape, spec))
    if not fits:
        _fail(path, f"expected shape {_shape_text(spec)}, got {array.shape}")
    if rows is not None and array.shape[0] != rows:
        _fail(path, f"expected shape {_shape_text(spec)} with {spec[0]} = {rows}{rows_from}, got {array.shape}")


def _read_float_array(value, path: str, spec: tuple, rows: int | None = None, rows_from: str = "") -> np.ndarray:
    """Any real array → C-contiguous float32, with no NaN or Inf."""
    array = _as_array(value, path, f"a float array of shape {_shape_text(spec)}")
    if array.dtype.kind not in "iuf":
        _fail(path, f"expected a float array, got dtype {array.dtype}")
    _check_shape(array, path, spec, rows, rows_from)
    with np.errstate(over="ignore", invalid="ignore"):  # float64 beyond float32 → inf, reported below
        out = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(out).all():
        if array.dtype.kind == "f" and np.isfinite(array).all():
            _fail(path, "contains values beyond the float32 range")
        _fail(path, "contains NaN or Inf")
    return out


def _read_int_array(value, path: str, spec: tuple, rows: int | None = None, rows_from: str = ""):
    """Any integer array, checked for shape only; returns (array, lowest, highest) before the cast
    to int32, so range checks can speak of the caller's values (None, None when empty)."""
    array = _as_array(value, path, f"an integer array of shape {_shape_text(spec)}")
    if array.dtype.kind not in "iu":
        _fail(path, f"expected an integer array, got dtype {array.dtype}")
    _check_shape(array, path, spec, rows, rows_from)
    if array.size == 0:
        return array, None, None
    return array, array.min().item(), array.max().item()


def _to_int32(array: np.ndarray, path: str, lowest, highest) -> np.ndarray:
    if lowest is not None and (lowest < _INT32.min or highest > _INT32.max):
        _fail(path, f"value {lowest if lowest < _INT32.min else highest} does not fit in int32")
    return np.ascontiguousarray(array, dtype=np.int32)


def _read_index_array(value, path: str, spec: tuple, count: int, noun: str,
                      rows: int | None = None, rows_from: str = "") -> np.ndarray:
    """Indices into `count` items of `noun` → int32; every index in [0, count)."""
    array, lowest, highest = _read_int_array(value, path, spec, rows, rows_from)
    if lowest is not None and (lowest < 0 or highest >= count):
        _fail(path, f"index {lowest if lowest < 0 else highest} out of range for {count} {noun}")
    return _to_int32(array, path, lowest, highest)


def _read_matrices(value, path: str, element_path: Callable[[int], str], spec=("N", 4, 4)) -> np.ndarray:
    """(N, 4, 4) affine, invertible, finite matrices → float32."""
    matrices = _read_float_array(value, path, spec)
    stack = matrices.reshape(-1, 4, 4)
    if stack.shape[0] == 0:
        return matrices
    bottom_error = np.abs(stack[:, 3, :] - np.array([0, 0, 0, 1], np.float32)).max(axis=1)
    bad = np.flatnonzero(bottom_error > _AFFINE_TOLERANCE)
    if bad.size:
        row = tuple(float(x) for x in stack[bad[0], 3])
        _fail(element_path(bad[0]), f"not affine: the bottom row must be (0, 0, 0, 1), got {row}")
    linear = stack[:, :3, :3].astype(np.float64)
    det = _determinants(linear)
    column_lengths = np.sqrt(np.prod(np.einsum("nij,nij->nj", linear, linear), axis=1))
    bad = np.flatnonzero(~(np.abs(det) > _SINGULAR_RATIO * column_lengths))
    if bad.size:
        _fail(element_path(bad[0]), f"not invertible (determinant {det[bad[0]]:.3g})")
    return matrices


def _determinants(m: np.ndarray) -> np.ndarray:
    """Determinants of (N, 3, 3) matrices, written out (several times faster than np.linalg.det)."""
    return (m[:, 0, 0] * (m[:, 1, 1] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 1])
            - m[:, 0, 1] * (m[:, 1, 0] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 0])
            + m[:, 0, 2] * (m[:, 1, 0] * m[:, 2, 1] - m[:, 1, 1] * m[:, 2, 0]))


def _read_matrix(value, path: str) -> np.ndarray:
    return _read_matrices(value, path, lambda i: path, spec=(4, 4))


# --------------------------------------------------------------------------------------------
# Field tables: one entry per key of a simple section, mirroring the tables of the doc


_REQUIRED = object()  # the key has no default
_DERIVED = object()  # the default depends on other keys; the section's code fills it in


@dataclass(frozen=True)
class _Field:
    read: Callable[[Any, str, "_Validator"], Any]
    default: Any = _REQUIRED


def _int_field(allowed=_ANY, default=_REQUIRED) -> _Field:
    return _Field(lambda v, p, _: _read_int(v, p, allowed), default)


def _float_field(allowed=_ANY, default=_REQUIRED) -> _Field:
    return _Field(lambda v, p, _: _read_float(v, p, allowed), default)


def _color_field(allowed, default) -> _Field:
    return _Field(lambda v, p, _: _read_floats(v, p, 3, allowed), default)


def _choice_field(noun, choices, default=_REQUIRED) -> _Field:
    return _Field(lambda v, p, _: _read_choice(v, p, noun, choices), default)


def _matrix_field() -> _Field:
    return _Field(lambda v, p, _: _read_matrix(v, p))


def _blades(value, path, _):
    blades = _read_int(value, path, _NON_NEGATIVE)
    if blades in (1, 2):
        _fail(path, f"expected 0 (round) or an int >= 3, got {blades}")
    return blades


_TOP_KEYS = ("version", "render", "camera", "world", "materials", "textures", "meshes", "spheres",
             "instances", "lights")

_RENDER_FIELDS = {
    "width": _int_field(_POSITIVE),
    "height": _int_field(_POSITIVE),
    "region": _Field(lambda v, p, _: _read_ints(v, p, 4), _DERIVED),
    "max_bounces": _int_field(_NON_NEGATIVE, 12),
    "seed": _int_field(_NON_NEGATIVE, 0),
    "filter": _choice_field("filter", ("box", "gaussian", "blackman_harris"), "blackman_harris"),
    "filter_width": _float_field(_POSITIVE, 1.5),
    "clamp_direct": _float_field(_NON_NEGATIVE, 0.0),
    "clamp_indirect": _float_field(_NON_NEGATIVE, 0.0),
}

_CAMERA_FIELDS = {
    "type": _choice_field("camera type", ("perspective", "orthographic"), "perspective"),
    "matrix": _matrix_field(),
    "lens": _float_field(_POSITIVE, 50.0),
    "sensor_width": _float_field(_POSITIVE, 36.0),
    "sensor_height": _float_field(_POSITIVE, 24.0),
    "sensor_fit": _choice_field("sensor fit", ("AUTO", "HORIZONTAL", "VERTICAL"), "AUTO"),
    "ortho_scale": _float_field(_POSITIVE, 6.0),
    "shift_x": _float_field(_ANY, 0.0),
    "shift_y": _float_field(_ANY, 0.0),
    "clip_start": _float_field(_NON_NEGATIVE, 0.1),
    "clip_end": _float_field(_NON_NEGATIVE, 100.0),
    "aperture_radius": _float_field(_NON_NEGATIVE, 0.0),
    "focus_distance": _float_field(_POSITIVE, 10.0),
    "aperture_blades": _Field(_blades, 0),
    "aperture_rotation": _float_field(_ANY, 0.0),
}

_WORLD_FIELDS = {
    "color": _color_field(_NON_NEGATIVE, (0.0, 0.0, 0.0)),
    "strength": _float_field(_NON_NEGATIVE, 1.0),
}

_MATERIAL_FIELDS = {
    "base_color": _color_field(_UNIT, (0.8, 0.8, 0.8)),
    "base_color_texture": _Field(lambda v, p, ctx: _read_name(v, p, ctx.textures, "texture"), None),
    "metallic": _float_field(_UNIT, 0.0),
    "roughness": _float_field(_UNIT, 0.5),
    "ior": _float_field(_Range(1), 1.5),
    "specular": _float_field(_NON_NEGATIVE, 0.5),
    "transmission": _float_field(_UNIT, 0.0),
    "emission_color": _color_field(_NON_NEGATIVE, (1.0, 1.0, 1.0)),
    "emission_strength": _float_field(_NON_NEGATIVE, 0.0),
    "alpha": _float_field(_UNIT, 1.0),
}

_TEXTURE_FIELDS = {
    "pixels": _Field(lambda v, p, _: _read_pixels(v, p)),
    "colorspace": _choice_field("colorspace", ("linear", "srgb"), _DERIVED),
    "interpolation": _choice_field("interpolation", ("linear", "closest"), "linear"),
    "extension": _choice_field("extension", ("repeat", "extend", "clip"), "repeat"),
}

_MESH_KEYS = ("vertices", "triangles", "normals", "normal_indices", "uvs", "uv_indices",
              "material_ids", "materials")
_SPHERE_KEYS = ("centers", "radii", "colors", "material")
_INSTANCE_KEYS = ("geometry", "transforms", "object_ids", "materials")

_LIGHT_TYPES = ("point", "spot", "sun", "area")
_AREA_SHAPES = ("square", "rectangle", "disk", "ellipse")
_LIGHT_COMMON_FIELDS = {
    "type": _choice_field("light type", _LIGHT_TYPES),
    "color": _color_field(_NON_NEGATIVE, (1.0, 1.0, 1.0)),
    "matrix": _matrix_field(),
}
_POINT_FIELDS = {
    "power": _float_field(_NON_NEGATIVE),
    "radius": _float_field(_NON_NEGATIVE, 0.0),
}
_LIGHT_FIELDS = {
    "point": {**_LIGHT_COMMON_FIELDS, **_POINT_FIELDS},
    "spot": {**_LIGHT_COMMON_FIELDS, **_POINT_FIELDS,
             # Blender's defaults: a 45° cone with a 0.15 blend.
             "spot_size": _float_field(_Range(0, math.pi, lo_open=True), math.pi / 4),
             "spot_blend": _float_field(_UNIT, 0.15)},
    "sun": {**_LIGHT_COMMON_FIELDS,
            "strength": _float_field(_NON_NEGATIVE),
            "angle": _float_field(_Range(0, math.pi), 0.0)},
    "area": {**_LIGHT_COMMON_FIELDS,
             "power": _float_field(_NON_NEGATIVE),
             "shape": _choice_field("area light shape", _AREA_SHAPES, "square"),
             "size_x": _float_field(_POSITIVE),
             "size_y": _float_field(_POSITIVE, _DERIVED)},
}


def _read_pixels(value, path: str) -> np.ndarray:
    """(H, W, C) uint8 (kept) or real (→ float32) pixels, C in {1, 3, 4}."""
    array = _as_array(value, path, "pixels of shape (H, W, C)")
    if array.dtype == np.uint8:
        _check_shape(array, path, ("H", "W", "C"))
        pixels = np.ascontiguousarray(array)
    elif array.dtype.kind == "f":
        pixels = _read_float_array(array, path, ("H", "W", "C"))
    else:
        _fail(path, f"expected float or uint8 pixels, got dtype {array.dtype}")
    height, width, channels = pixels.shape
    if channels not in (1, 3, 4):
        _fail(path, f"expected 1, 3 or 4 channels, got shape {pixels.shape}")
    if height == 0 or width == 0:
        _fail(path, f"expected at least one pixel, got shape {pixels.shape}")
    return pixels


# --------------------------------------------------------------------------------------------
# The validator: one method per section, in the order names are defined before they are used


@dataclass
class _GeometryInfo:
    """What an instance needs to know about the geometry it places."""

    kind: str  # "mesh" or "spheres"
    materials: list  # the geometry's own material slots
    highest_material_id: int  # the highest slot index its primitives use


class _Validator:
    def __init__(self, strict: bool):
        self.strict = strict
        self.warnings: list[str] = []
        self.textures: dict = {}
        self.materials: dict = {}
        self.geometry: dict[str, _GeometryInfo] = {}
        self.next_object_id = 0

    # -- keys

    def check_keys(self, d, path: str, allowed, required=(), kind: str = ""):
        """d must be a dict with the required keys; unknown keys are errors (strict) or warnings.
        Sections copy only known keys, so unknown ones are dropped from the result."""
        if not isinstance(d, dict):
            _fail(path, f"expected a dict, got {type(d).__name__}")
        for key in d:
            if key not in allowed:
                message = f"{path}: unknown key {key!r}{kind}"
                if self.strict:
                    raise ValueError(message)
                self.warnings.append(message)
        for key in required:
            if key not in d:
                _fail(path, f"missing required key {key!r}")

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
            _fail(path, f"expected a dict of name -> dict, got {type(d).__name__}")
        out = {}
        for name, item in d.items():
            item_path = f"{path}[{name!r}]"
            if not isinstance(name, str) or not name:
                _fail(item_path, "names must be non-empty strings")
            out[name] = read_one(item, item_path, name)
        return out

    # -- top level

    def scene(self, d) -> dict:
        if not isinstance(d, dict):
            _fail("scene", f"expected a dict, got {type(d).__name__}")
        if "version" not in d:
            _fail("scene", "missing required key 'version'")
        version = d["version"]
        if not _is_int(version):
            _fail("version", f"expected an int, got {_show(version)}")
        if version != SCENE_VERSION:
            _fail("version", f"unsupported scene version {version} (this core reads {SCENE_VERSION})")
        self.check_keys(d, "scene", _TOP_KEYS, required=("render", "camera"))

        render = self.render(d["render"])
        camera = self.camera(d["camera"])
        world = self.fields(d.get("world", {}), "world", _WORLD_FIELDS)
        self.textures = self.named(d.get("textures", {}), "textures", self.texture)
        self.materials = self.named(d.get("materials", {}), "materials",
                                    lambda item, path, _: self.fields(item, path, _MATERIAL_FIELDS))
        meshes = self.named(d.get("meshes", {}), "meshes", self.mesh)
        spheres = self.named(d.get("spheres", {}), "spheres", self.spheres)
        instances = self.instances(d.get("instances", []))
        lights = self.named(d.get("lights", {}), "lights", lambda item, path, _: self.light(item, path))
        return {"version": SCENE_VERSION, "render": render, "camera": camera, "world": world,
                "materials": self.materials, "textures": self.textures, "meshes": meshes,
                "spheres": spheres, "instances": instances, "lights": lights}

    # -- render and camera

    def render(self, d) -> dict:
        out = self.fields(d, "render", _RENDER_FIELDS)
        width, height = out["width"], out["height"]
        region = out.get("region", (0, 0, width, height))
        x, y, w, h = region
        if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > width or y + h > height:
            _fail("render.region", f"{region} is not a non-empty part of the {width} x {height} frame")
        return {"width": width, "height": height, "region": region,
                **{k: v for k, v in out.items() if k not in ("width", "height", "region")}}

    def camera(self, d) -> dict:
        out = self.fields(d, "camera", _CAMERA_FIELDS)
        if out["clip_end"] <= out["clip_start"]:
            _fail("camera.clip_end", f"expected more than clip_start ({out['clip_start']:g}), got {out['clip_end']:g}")
        return out

    # -- textures

    def texture(self, d, path: str, _name: str) -> dict:
        out = self.fields(d, path, _TEXTURE_FIELDS)
        if "colorspace" not in out:  # 8-bit images are sRGB-encoded, float ones linear (Blender)
            out["colorspace"] = "srgb" if out["pixels"].dtype == np.uint8 else "linear"
        return {key: out[key] for key in _TEXTURE_FIELDS}

    # -- geometry

    def mesh(self, d, path: str, name: str) -> dict:
        self.check_keys(d, path, _MESH_KEYS, required=("vertices", "triangles"))
        vertices = _read_float_array(d["vertices"], f"{path}.vertices", ("V", 3))
        triangles = _read_index_array(d["triangles"], f"{path}.triangles", ("T", 3), len(vertices), "vertices")
        normals, normal_indices = self.indexed_attribute(d, path, "normals", "normal_indices", "N", 3,
                                                         triangles, len(vertices))
        if normals is not None:
            _check_normal_lengths(normals, f"{path}.normals")
        uvs, uv_indices = self.indexed_attribute(d, path, "uvs", "uv_indices", "U", 2, triangles, len(vertices))
        materials = _read_names(d.get("materials", []), f"{path}.materials", self.materials, "material")
        material_ids, highest = self.material_ids(d.get("material_ids"), f"{path}.material_ids", len(triangles),
                                                  materials)
        self.geometry[name] = _GeometryInfo("mesh", materials, highest)
        return {"vertices": vertices, "triangles": triangles, "normals": normals, "normal_indices": normal_indices,
                "uvs": uvs, "uv_indices": uv_indices, "material_ids": material_ids, "materials": materials}

    @staticmethod
    def indexed_attribute(d, path, values_key, indices_key, letter, columns, triangles, n_vertices):
        """Per-corner data stored as values plus (T, 3) indices; without indices the values are
        per vertex and the triangles index them (the normalised form then shares `triangles`)."""
        values, indices = d.get(values_key), d.get(indices_key)
        if values is None:
            if indices is not None:
                _fail(f"{path}.{indices_key}", f"given without {values_key}")
            return None, None
        values = _read_float_array(values, f"{path}.{values_key}", (letter, columns))
        if indices is None:
            if len(values) != n_vertices:
                _fail(f"{path}.{values_key}", f"expected {n_vertices} rows, one per vertex (there are no "
                                              f"{indices_key}), got {len(values)}")
            return values, triangles
        indices = _read_index_array(indices, f"{path}.{indices_key}", ("T", 3), len(values), values_key,
                                    rows=len(triangles), rows_from=" (as triangles)")
        return values, indices

    @staticmethod
    def material_ids(value, path: str, n_triangles: int, materials: list):
        """(T,) slot indices into `materials` (all 0 when it is empty); returns (ids, highest id).

        Absent ids stay None (meaning all 0) rather than a fresh zeros array, so the same mesh
        validated twice has the same arrays and the core can reuse its BVH."""
        if value is None:
            return None, 0
        ids, lowest, highest = _read_int_array(value, path, ("T",), rows=n_triangles, rows_from=" (as triangles)")
        if lowest is None:
            return _to_int32(ids, path, None, None), 0
        if not materials and (lowest != 0 or highest != 0):
            _fail(path, f"index {lowest or highest} but the mesh has no materials (only 0 is allowed)")
        if materials and (lowest < 0 or highest >= len(materials)):
            _fail(path, f"index {lowest if lowest < 0 else highest} out of range for {len(materials)} materials")
        return _to_int32(ids, path, lowest, highest), highest

    def spheres(self, d, path: str, name: str) -> dict:
        if name in self.geometry:
            _fail(path, "name already used by a mesh (meshes and spheres share one namespace)")
        self.check_keys(d, path, _SPHERE_KEYS, required=("centers", "radii"))
        centers = _read_float_array(d["centers"], f"{path}.centers", ("N", 3))
        radii = _read_float_array(d["radii"], f"{path}.radii", ("N",), rows=len(centers), rows_from=" (as centers)")
        if radii.size and radii.min() <= 0:
            _fail(f"{path}.radii", f"expected radii > 0, got {radii.min():g}")
        colors = d.get("colors")
        if colors is not None:
            colors = _read_float_array(colors, f"{path}.colors", ("N", 3), rows=len(centers), rows_from=" (as centers)")
            if colors.size and (colors.min() < 0 or colors.max() > 1):
                _fail(f"{path}.colors", "expected values in [0, 1]")
        material = _read_name(d.get("material"), f"{path}.material", self.materials, "material")
        self.geometry[name] = _GeometryInfo("spheres", [material], 0)
        return {"centers": centers, "radii": radii, "colors": colors, "material": material}

    # -- instances

    def instances(self, groups) -> list:
        if not isinstance(groups, (list, tuple)):
            _fail("instances", f"expected a list of dicts, got {type(groups).__name__}")
        return [self.instance_group(group, f"instances[{i}]") for i, group in enumerate(groups)]

    def instance_group(self, d, path: str) -> dict:
        self.check_keys(d, path, _INSTANCE_KEYS, required=("geometry", "transforms"))
        name = d["geometry"]
        if not isinstance(name, str):
            _fail(f"{path}.geometry", f"expected a mesh or sphere set name, got {_show(name)}")
        if name not in self.geometry:
            _fail(f"{path}.geometry", f"no mesh or sphere set named {name!r}")
        info = self.geometry[name]
        transforms = _read_matrices(d["transforms"], f"{path}.transforms", lambda i: f"{path}.transforms[{i}]")
        count = len(transforms)
        object_ids = self.object_ids(d.get("object_ids"), f"{path}.object_ids", count)
        if "materials" in d:
            materials = _read_names(d["materials"], f"{path}.materials", self.materials, "material")
            if info.highest_material_id >= max(len(materials), 1):
                _fail(f"{path}.materials", f"{len(materials)} materials, but {info.kind} {name!r} uses "
                                           f"material index {info.highest_material_id}")
        else:
            materials = list(info.materials)
        return {"geometry": name, "transforms": transforms, "object_ids": object_ids, "materials": materials}

    def object_ids(self, value, path: str, count: int) -> np.ndarray:
        """(N,) ids >= 0; by default the running index of the placement over all groups."""
        first = self.next_object_id
        self.next_object_id += count
        if value is None:
            return np.arange(first, first + count, dtype=np.int32)
        ids, lowest, highest = _read_int_array(value, path, ("N",), rows=count, rows_from=" (as transforms)")
        if lowest is not None and lowest < 0:
            _fail(path, f"expected ids >= 0 (-1 means 'no hit'), got {lowest}")
        return _to_int32(ids, path, lowest, highest)

    # -- lights

    def light(self, d, path: str) -> dict:
        if not isinstance(d, dict):
            _fail(path, f"expected a dict, got {type(d).__name__}")
        if "type" not in d:
            _fail(path, "missing required key 'type'")
        kind = _read_choice(d["type"], f"{path}.type", "light type", _LIGHT_TYPES)
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
                _fail(path, f"missing required key 'size_y' (a {shape} area light needs it)")
            return
        if "size_y" in out and out["size_y"] != out["size_x"]:
            _fail(f"{path}.size_y", f"a {shape} area light has size_y = size_x = {out['size_x']:g}, got "
                                    f"{out['size_y']:g} (use shape 'rectangle' or 'ellipse')")
        out["size_y"] = out["size_x"]


def _check_normal_lengths(normals: np.ndarray, path: str):
    """Shading normals are normalised by the core, so each needs a length."""
    squared = np.einsum("ij,ij->i", normals, normals)
    bad = np.flatnonzero(~(squared > 1e-20))
    if bad.size:
        _fail(path, f"row {bad[0]} has zero length")
