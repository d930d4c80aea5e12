# SPDX-License-Identifier: GPL-3.0-or-later
"""Structured mutations of scene dictionaries, as replayable recipes (the structured fuzzer's data).

A recipe is plain JSON — ``{"base": "cornell_box", "mutations": [{"path": [...], "op": ..., "arg":
...}, ...]}`` — so a failing case is saved and replayed exactly (`build(recipe)`), whatever
numpy layout it produced. Nothing here knows the scene dictionary's keys: the base scenes are every
builder of `optica_core.scenes` (called small), the paths are found by walking their nested
dicts, lists and arrays, and the operation is chosen by the kind of value at the path. A key or
section added to the dictionary (version 2's node graphs) is fuzzed as soon as a built-in scene
holds it.

Operations: on any value, replacement by junk (wrong types, boundary numbers, NaN/Inf, huge
strings, deep nesting); on dicts, unknown, dropped and renamed keys; on lists, dropped,
repeated and junk items; on arrays, other dtypes (byte-swapped, float16/64, int8/64, unsigned,
bool, complex, object, str, structured), NaN/Inf/huge/negative values, other shapes (transposed,
flattened, extra axes, missing or extra rows, empty), layouts (Fortran order, negative strides,
zero strides, non-contiguous, misaligned, read-only) and huge declared sizes that cost no memory
(zero-stride broadcasts of 2^31 and more rows).
"""

from __future__ import annotations

import inspect
import math
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st

from optica_core import scenes

# --------------------------------------------------------------------------------------------
# Base scenes: every public builder of optica_core.scenes, small


SMALL = {"width": 8, "height": 6, "n_triangles": 200}


@lru_cache(maxsize=None)
def base_names() -> tuple[str, ...]:
    """The builders of optica_core.scenes that return a scene dict and need no argument."""
    names = []
    for name, fn in inspect.getmembers(scenes, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != scenes.__name__:
            continue
        params = inspect.signature(fn).parameters.values()
        if all(p.default is not p.empty or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params):
            if {"width", "height"} <= {p.name for p in params}:
                names.append(name)
    return tuple(sorted(names))


def base_scene(name: str) -> dict:
    fn = getattr(scenes, name)
    params = inspect.signature(fn).parameters
    return fn(**{k: v for k, v in SMALL.items() if k in params})


@lru_cache(maxsize=None)
def base_paths(name: str) -> tuple[tuple, ...]:
    """Every path (tuple of keys / indices) in the base scene, the root `()` included."""
    out: list[tuple] = []
    _walk(base_scene(name), (), out)
    return tuple(out)


def _walk(value, path: tuple, out: list) -> None:
    out.append(path)
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, path + (key,), out)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _walk(item, path + (i,), out)


# --------------------------------------------------------------------------------------------
# Junk values (by index, so recipes stay JSON)


def _deep_list(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _deep_dict(depth: int):
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


JUNK = (
    lambda: None, lambda: True, lambda: False, lambda: 0, lambda: -1, lambda: 1, lambda: 2**31 - 1, lambda: 2**31,
    lambda: -(2**31) - 1, lambda: 2**63, lambda: -(2**64), lambda: 10**400, lambda: 0.0, lambda: -0.0,
    lambda: 1e-45, lambda: 3.5e38, lambda: 1e308, lambda: float("nan"), lambda: float("inf"), lambda: -float("inf"),
    lambda: np.float64("nan"), lambda: np.int64(2**40), lambda: np.uint64(2**64 - 1), lambda: np.float16(1),
    lambda: np.bool_(True), lambda: complex(1, 1), lambda: "", lambda: "x" * 100_000, lambda: "\udcff\u0000",
    lambda: "../../etc/passwd", lambda: b"bytes", lambda: bytearray(b"ab"), lambda: [], lambda: (), lambda: {},
    lambda: {1, 2}, lambda: [1, 2, 3], lambda: [[1, 2], [3]], lambda: [float("nan")] * 3, lambda: {"": None},
    lambda: {None: 1}, lambda: {(1, 2): 3}, lambda: object(), lambda: range(3), lambda: _deep_list(50),
    lambda: _deep_list(100_000), lambda: _deep_dict(50), lambda: _deep_dict(100_000),
    lambda: np.zeros(0), lambda: np.array(5.0), lambda: np.array([[1.0]], dtype=object),
    lambda: np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]), lambda: np.matrix(np.eye(4)),
    lambda: np.broadcast_to(np.float32(1), (2**33, 3)), lambda: np.eye(4)[None].repeat(3, 0),
)

# --------------------------------------------------------------------------------------------
# Array operations: op name -> fn(array, arg, rng) -> new value

_DTYPES = ("float16", "float32", "float64", "longdouble", ">f4", ">f8", "<i4", ">i4", "int8", "int16", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "object", "U8", "S4", "V4",
           "datetime64[s]", "f4,f4")


def _cast(a: np.ndarray, dtype: str, _rng) -> np.ndarray:
    if a.dtype.kind not in "iufb":
        # Only numbers are cast: numpy 1.26 itself segfaults casting bytes to datetime64.
        raise TypeError("not cast again")
    if type(a) is np.matrix and a.ndim != 2:
        # numpy 1.26 lets `matrix[..., None]` make a 3-D matrix; casting one to strings writes
        # past its buffer (a SIGSEGV in the fuzzer itself: intersect-crash-1f29df0d6a74).
        raise TypeError("not cast: a matrix numpy cannot cast safely")
    try:
        with np.errstate(all="ignore"):
            return a.astype(np.dtype(dtype))
    except (TypeError, ValueError):
        return np.zeros(a.shape, np.dtype(dtype))


def _poke(a: np.ndarray, value, rng) -> np.ndarray:
    """A copy with a few random elements set to `value` (cast as numpy would: floats into ints wrap)."""
    out = np.array(a, copy=True)
    if out.size == 0:
        return out
    flat = out.reshape(-1)
    idx = rng.integers(0, flat.size, size=min(flat.size, 1 + int(rng.integers(0, 4))))
    with np.errstate(all="ignore"):
        try:
            flat[idx] = value
        except (ValueError, OverflowError, TypeError):
            flat[idx] = 0
    return out


_VALUES = (float("nan"), float("inf"), -float("inf"), 3.4e38, -3.4e38, 1e30, -1e30, 1e-40, -0.0, -1.0, 0.0,
           2.0**24, 1e7, -1e7, 2**31 - 1, -(2**31), 2**31, -1, 255, 0.5)


def _values_op(a, arg, rng):
    value = _VALUES[arg % len(_VALUES)]
    if a.dtype.kind in "iu" and isinstance(value, float) and not math.isfinite(value):
        value = np.iinfo(a.dtype).max
    return _poke(a, value, rng)


def _shape_op(a, arg, rng):
    k = arg % 12
    if k == 0:
        return a.reshape(-1)
    if k == 1:
        return a[None]
    if k == 2:
        return a[..., None]
    if k == 3:
        return a.T
    if k == 4:
        return a[:0]
    if k == 5:
        return a[:1]
    if k == 6:
        return a[:-1] if len(a.shape) else a
    if k == 7:
        return np.concatenate([a, a[:1]]) if a.ndim and len(a) else a
    if k == 8:
        return np.concatenate([a, a[..., :1]], axis=-1) if a.ndim and a.shape[-1] else a
    if k == 9:
        return a[..., :-1] if a.ndim else a
    if k == 10:
        return np.zeros((0,) * max(1, a.ndim), a.dtype)
    return np.asarray(a.reshape(-1)[0] if a.size else 0)


def _layout_op(a, arg, rng):
    k = arg % 9
    if k == 0:
        return np.asfortranarray(a)
    if k == 1:
        return a[::-1][::-1] if a.ndim else a  # negative strides twice: same values
    if k == 2:
        doubled = np.repeat(a, 2, axis=0) if a.ndim else a
        return doubled[::2] if a.ndim else a  # non-contiguous, same values
    if k == 3:
        return np.broadcast_to(a[:1], a.shape) if a.ndim and len(a) else a  # zero stride
    if k == 4:
        b = a.copy()
        b.flags.writeable = False
        return b
    if k == 5:
        raw = np.zeros(a.nbytes + 1, np.uint8)  # misaligned
        view = raw[1:].view(a.dtype).reshape(a.shape) if a.dtype.itemsize and a.size else a
        if view is not a:
            view[...] = a
        return view
    if k == 6:
        return a.byteswap().view(a.dtype.newbyteorder())  # same values, other byte order
    if k == 7:
        return a[::-1]  # negative strides, rows reversed
    return a.tolist()


def _huge_op(a, arg, _rng):
    """A zero-stride broadcast declaring far more rows than memory holds: no allocation."""
    rows = (2**31 - 1, 2**31, 2**32 + 1, 10**11)[arg % 4]
    if a.ndim == 0:
        return np.broadcast_to(a, (rows,))
    return np.broadcast_to(a[:1] if len(a) else np.zeros((1,) + a.shape[1:], a.dtype), (rows,) + a.shape[1:])


ARRAY_OPS = {
    "dtype": lambda a, arg, rng: _cast(a, _DTYPES[arg % len(_DTYPES)], rng),
    "values": _values_op,
    "shape": _shape_op,
    "layout": _layout_op,
    "huge": _huge_op,
}

# --------------------------------------------------------------------------------------------
# Container and scalar operations


def _dict_op(d: dict, arg, rng):
    out = dict(d)
    k = arg % 4
    keys = list(out)
    if k == 0:
        out[f"unknown_{arg}"] = JUNK[arg % len(JUNK)]()
    elif k == 1 and keys:
        del out[keys[int(rng.integers(len(keys)))]]
    elif k == 2 and keys:
        key = keys[int(rng.integers(len(keys)))]
        out[key + "_renamed" if isinstance(key, str) else "renamed"] = out.pop(key)
    elif k == 3 and keys:
        key = keys[int(rng.integers(len(keys)))]
        out[key] = [out[key]] * 2
    return out


REPEATED_ITEMS = 2000


def _list_op(items, arg, rng):
    out = list(items)
    k = arg % 5
    if k == 0 and out:
        del out[int(rng.integers(len(out)))]
    elif k == 1 and out:
        # Repeated items, up to REPEATED_ITEMS: twice ×51 made 10,000–18,000 instance groups, a
        # load test's size (linear, 0.17 ms a group to validate) that ran over the hang limit.
        out = (out * 51)[:max(len(out), REPEATED_ITEMS)]
    elif k == 2:
        out.append(JUNK[arg % len(JUNK)]())
    elif k == 3:
        out = []
    else:
        return tuple(out) if isinstance(items, list) else out
    return out if isinstance(items, list) else tuple(out)


def _number_op(x, arg, _rng):
    edge = (0, -1, 1, 2, 3, 2**31 - 1, 2**31, -(2**31), 2**63, 1e-45, 1e-7, 0.5, 1.0000001, math.pi,
            1e7, 3.5e38, 1e308, -1e308, float("nan"), float("inf"), -float("inf"), -0.0)
    value = edge[arg % len(edge)]
    if isinstance(x, bool):
        return not x
    return type(x)(value) if isinstance(x, int) and isinstance(value, int) else value


def _string_op(s, arg, _rng):
    options = ("", s.upper(), s + " ", "\0", (s * 1000)[:100_000], "é" + s, s[:-1], "none", "None", "\udcff")
    return options[arg % len(options)]


# --------------------------------------------------------------------------------------------
# Recipes


def operations_for(value) -> tuple[str, ...]:
    """The operations that make sense on `value` (junk replacement always does)."""
    if isinstance(value, np.ndarray):
        return ("junk", *ARRAY_OPS)
    if isinstance(value, dict):
        return ("junk", "dict", "deep")
    if isinstance(value, (list, tuple)):
        return ("junk", "list", "deep", "array")
    if isinstance(value, str):
        return ("junk", "string")
    if isinstance(value, (int, float, np.number)):
        return ("junk", "number")
    return ("junk",)


def _get(value, path):
    for key in path:
        if isinstance(value, dict):
            if key not in value:
                return _MISSING
            value = value[key]
        elif isinstance(value, (list, tuple)) and isinstance(key, int) and -len(value) <= key < len(value):
            value = value[key]
        else:
            return _MISSING
    return value


_MISSING = object()


def _set(root, path, new):
    """`root` with the value at `path` replaced; containers on the way are copied (the base
    scene's arrays are shared with nothing else, but dicts and lists may be reused)."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(root, dict):
        out = dict(root)
        out[key] = _set(root[key], rest, new)
        return out
    out = list(root)
    out[key] = _set(root[key], rest, new)
    return out if isinstance(root, list) else tuple(out)


def apply(scene, mutation: dict):
    """`scene` with one mutation applied; unchanged when the mutation does not apply (its path is
    gone, or numpy refuses the operation on this value)."""
    path, op, arg = tuple(mutation["path"]), mutation["op"], int(mutation["arg"])
    value = _get(scene, path)
    if value is _MISSING:
        return scene  # an earlier mutation removed it: nothing to do
    try:
        new = _mutated(value, op, arg)
    except Exception:  # noqa: BLE001 - numpy refusing an odd cast or reshape is not a finding
        return scene
    return scene if new is _MISSING else _set(scene, path, new)


def _mutated(value, op: str, arg: int):
    rng = np.random.default_rng(arg)
    if op == "junk":
        new = JUNK[arg % len(JUNK)]()
    elif op in ARRAY_OPS:
        if not isinstance(value, np.ndarray) or value.size > 1 << 20:
            return _MISSING  # a huge zero-stride array of an earlier mutation stays as it is
        new = ARRAY_OPS[op](value, arg, rng)
    elif op == "dict" and isinstance(value, dict):
        new = _dict_op(value, arg, rng)
    elif op == "list" and isinstance(value, (list, tuple)):
        new = _list_op(value, arg, rng)
    elif op == "array" and isinstance(value, (list, tuple)):
        try:
            new = np.asarray(value)
        except (ValueError, TypeError, RecursionError):
            return _MISSING  # ragged or deep: stays a list
    elif op == "deep":
        new = value
        for _ in range((10, 200, 5000)[arg % 3]):
            new = [new] if arg % 2 else {"k": new}
    elif op == "number" and isinstance(value, (int, float, np.number)):
        new = _number_op(value, arg, rng)
    elif op == "string" and isinstance(value, str):
        new = _string_op(value, arg, rng)
    else:
        return _MISSING
    return new


def build(recipe: dict):
    """The mutated scene of `recipe` (deterministic)."""
    scene = base_scene(recipe["base"])
    for mutation in recipe["mutations"]:
        scene = apply(scene, mutation)
    return scene


@st.composite
def recipes(draw, max_mutations: int = 4) -> dict:
    """A recipe: a base scene and 0..max_mutations operations at paths of that scene."""
    base = draw(st.sampled_from(base_names()))
    paths = base_paths(base)
    scene = base_scene(base)
    mutations = []
    for _ in range(draw(st.integers(0, max_mutations))):
        path = draw(st.sampled_from(paths))
        value = _get(scene, path)
        op = draw(st.sampled_from(operations_for(value) if value is not _MISSING else ("junk",)))
        mutations.append({"path": list(path), "op": op, "arg": draw(st.integers(0, 2**16))})
    return {"base": base, "mutations": mutations}


# --------------------------------------------------------------------------------------------
# Rays for Renderer.intersect


@st.composite
def ray_recipes(draw) -> dict:
    """Origins and directions: a few valid rays, then the array operations above on either."""
    n = draw(st.sampled_from((0, 1, 3, 17, 4097)))
    mutations = []
    for _ in range(draw(st.integers(0, 3))):
        which = draw(st.sampled_from(("origins", "directions")))
        op = draw(st.sampled_from(("junk", *ARRAY_OPS)))
        mutations.append({"path": [which], "op": op, "arg": draw(st.integers(0, 2**16))})
    return {"base": draw(st.sampled_from(base_names())), "rays": n, "mutations": mutations}


def build_rays(recipe: dict) -> dict:
    rng = np.random.default_rng(recipe["rays"])
    n = recipe["rays"]
    rays = {"origins": rng.normal(0, 3, (n, 3)).astype(np.float32),
            "directions": rng.normal(0, 1, (n, 3)).astype(np.float32)}
    for mutation in recipe["mutations"]:
        rays = apply(rays, mutation)
    return rays


def declared_bytes(value) -> int:
    """The largest logical size (bytes) of any array in `value`: what a copy would allocate.
    Iterative, and only 64 levels deep: the inputs nest deliberately deeper than Python recurses."""
    largest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, np.ndarray):
            largest = max(largest, item.size * max(item.dtype.itemsize, 1))
        elif depth < 64 and isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif depth < 64 and isinstance(item, (list, tuple)) and len(item) < 10_000:
            stack.extend((v, depth + 1) for v in item)
    return largest
