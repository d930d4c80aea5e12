"""Readers of scene-dictionary values: scalars, short tuples, enums, names, arrays and
matrices, each checking one value and raising `ValueError("<key path>: <problem>")`.

Shared by the scene validation (scene.py) and the shader-graph validation
(shading/graph.py). Checks of large arrays are vectorised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

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


# --------------------------------------------------------------------------------------------
# Errors and formatting


def fail(path: str, message: str):
    raise ValueError(f"{path}: {message}")


def show(value: Any) -> str:
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


def shape_text(spec: tuple) -> str:
    inner = ", ".join(str(s) for s in spec)
    return f"({inner},)" if len(spec) == 1 else f"({inner})"


@dataclass(frozen=True)
class Range:
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


ANY = Range()
NON_NEGATIVE = Range(0)
POSITIVE = Range(0, lo_open=True)
UNIT = Range(0, 1)


# --------------------------------------------------------------------------------------------
# Scalars, short tuples, enums and names


def is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def read_int(value, path: str, allowed: Range = ANY) -> int:
    if not is_int(value) or not allowed.contains(value):
        fail(path, f"expected an int{allowed.describe()}, got {show(value)}")
    if not _INT32.min <= value <= _INT32.max:
        fail(path, f"{show(value)} does not fit in int32")
    return int(value)


def read_float(value, path: str, allowed: Range = ANY) -> float:
    if not is_real(value) or not finite(value) or not allowed.contains(value):
        fail(path, f"expected a float{allowed.describe()}, got {show(value)}")
    return float(value)


def finite(value) -> bool:
    """math.isfinite, also False for an int too large for a float (isfinite raises there)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def read_floats(value, path: str, n: int, allowed: Range = ANY) -> tuple[float, ...]:
    """n real numbers (a list, tuple or array) as a tuple of Python floats."""
    expected = f"expected {n} floats{allowed.describe()}, got {show(value)}"
    if isinstance(value, (str, bytes, dict)):
        fail(path, expected)
    try:
        values = np.asarray(value)
    except (ValueError, TypeError):
        fail(path, expected)
    if values.shape != (n,) or values.dtype.kind not in "iuf":
        fail(path, expected)
    out = tuple(float(x) for x in values)
    if not all(math.isfinite(x) and allowed.contains(x) for x in out):
        fail(path, expected)
    return out


def read_ints(value, path: str, n: int) -> tuple[int, ...]:
    """n ints (a list, tuple or array) as a tuple of Python ints."""
    sequence = (isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim >= 1)) \
        and len(value) == n
    items = list(value) if sequence else None  # the length first: list() of a huge array never ends
    if items is None or len(items) != n or not all(is_int(x) for x in items):
        fail(path, f"expected {n} ints, got {show(value)}")
    return tuple(read_int(x, path) for x in items)


def read_choice(value, path: str, noun: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        fail(path, f"expected a string, got {show(value)}")
    if value not in choices:
        fail(path, f"unknown {noun} {value!r} (expected one of {', '.join(map(repr, choices))})")
    return value


def read_name(value, path: str, names, noun: str) -> str | None:
    """A reference to a named datablock, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        fail(path, f"expected a {noun} name or None, got {show(value)}")
    if value not in names:
        fail(path, f"no {noun} named {value!r}")
    return value


def read_names(value, path: str, names, noun: str) -> list[str | None]:
    if not isinstance(value, (list, tuple)):
        fail(path, f"expected a list of {noun} names, got {show(value)}")
    return [read_name(item, f"{path}[{i}]", names, noun) for i, item in enumerate(value)]


# --------------------------------------------------------------------------------------------
# Arrays


def as_array(value, path: str, expected: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (str, bytes, dict)) or value is None:
        fail(path, f"expected {expected}, got {show(value)}")
    try:
        return np.asarray(value)
    except (ValueError, TypeError):
        fail(path, f"expected {expected}, got a {type(value).__name__} numpy cannot convert (ragged?)")


def check_shape(array: np.ndarray, path: str, spec: tuple, rows: int | None = None, rows_from: str = ""):
    """spec: fixed sizes as ints, free sizes as letters, e.g. ("V", 3); rows fixes the first one.
    Sizes beyond what the core can index or hold are refused before any pass over the data (a
    zero-stride array may declare 10^11 rows in a few bytes)."""
    if any(n > MAX_DIMENSION for n in array.shape) or array.size * 4 > MAX_ARRAY_BYTES:
        fail(path, f"shape {array.shape} is larger than the core accepts (each dimension at most "
                   f"{MAX_DIMENSION}, at most {MAX_ARRAY_BYTES >> 30} GiB per array as float32/int32)")
    fits = array.ndim == len(spec) and all(
        isinstance(want, str) or got == want for got, want in zip(array.shape, spec))
    if not fits:
        fail(path, f"expected shape {shape_text(spec)}, got {array.shape}")
    if rows is not None and array.shape[0] != rows:
        fail(path, f"expected shape {shape_text(spec)} with {spec[0]} = {rows}{rows_from}, got {array.shape}")


def read_float_array(value, path: str, spec: tuple, rows: int | None = None, rows_from: str = "") -> np.ndarray:
    """Any real array → C-contiguous float32, with no NaN or Inf."""
    array = value if type(value) is np.ndarray else as_array(value, path, f"a float array of shape {shape_text(spec)}")
    if array.dtype.kind not in "iuf":
        fail(path, f"expected a float array, got dtype {array.dtype}")
    check_shape(array, path, spec, rows, rows_from)
    if array.dtype.kind == "f" and array.dtype.itemsize > 4:
        with np.errstate(over="ignore", invalid="ignore"):  # float64 beyond float32 → inf, reported below
            out = np.ascontiguousarray(array, dtype=np.float32)
    else:  # nothing to overflow; np.errstate costs more than the conversion of a small array
        out = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(out).all():
        if array.dtype.kind == "f" and np.isfinite(array).all():
            fail(path, "contains values beyond the float32 range")
        fail(path, "contains NaN or Inf")
    return out


def read_int_array(value, path: str, spec: tuple, rows: int | None = None, rows_from: str = ""):
    """Any integer array, checked for shape only; returns (array, lowest, highest) before the cast
    to int32, so range checks can speak of the caller's values (None, None when empty)."""
    array = value if type(value) is np.ndarray else as_array(value, path, f"an integer array of shape {shape_text(spec)}")
    if array.dtype.kind not in "iu":
        fail(path, f"expected an integer array, got dtype {array.dtype}")
    check_shape(array, path, spec, rows, rows_from)
    if array.size == 0:
        return array, None, None
    return array, array.min().item(), array.max().item()


def to_int32(array: np.ndarray, path: str, lowest, highest) -> np.ndarray:
    if lowest is not None and (lowest < _INT32.min or highest > _INT32.max):
        fail(path, f"value {lowest if lowest < _INT32.min else highest} does not fit in int32")
    return np.ascontiguousarray(array, dtype=np.int32)


def read_index_array(value, path: str, spec: tuple, count: int, noun: str,
                      rows: int | None = None, rows_from: str = "") -> np.ndarray:
    """Indices into `count` items of `noun` → int32; every index in [0, count)."""
    array, lowest, highest = read_int_array(value, path, spec, rows, rows_from)
    if lowest is not None and (lowest < 0 or highest >= count):
        fail(path, f"index {lowest if lowest < 0 else highest} out of range for {count} {noun}")
    return to_int32(array, path, lowest, highest)


def read_matrices(value, path: str, element_path: Callable[[int], str], spec=("N", 4, 4)) -> np.ndarray:
    """(N, 4, 4) affine, invertible, finite matrices → float32."""
    matrices = read_float_array(value, path, spec)
    stack = matrices.reshape(-1, 4, 4)
    if stack.shape[0] == 0:
        return matrices
    # Each check is one pass over the stack; the offending element is looked for only on failure
    # (a scene of many separate objects validates thousands of one-matrix stacks).
    bottom_error = np.abs(stack[:, 3, :] - _AFFINE_BOTTOM).max(axis=1)
    if not (bottom_error <= _AFFINE_TOLERANCE).all():
        first = int(np.flatnonzero(~(bottom_error <= _AFFINE_TOLERANCE))[0])
        row = tuple(float(x) for x in stack[first, 3])
        fail(element_path(first), f"not affine: the bottom row must be (0, 0, 0, 1), got {row}")
    linear = stack[:, :3, :3].astype(np.float64)
    det = determinants(linear)
    column_lengths = np.sqrt(np.prod(np.einsum("nij,nij->nj", linear, linear), axis=1))
    invertible = np.abs(det) > _SINGULAR_RATIO * column_lengths
    if not invertible.all():
        first = int(np.flatnonzero(~invertible)[0])
        fail(element_path(first), f"not invertible (determinant {det[first]:.3g})")
    return matrices


_AFFINE_BOTTOM = np.array([0, 0, 0, 1], np.float32)


def determinants(m: np.ndarray) -> np.ndarray:
    """Determinants of (N, 3, 3) matrices, written out (several times faster than np.linalg.det)."""
    return (m[:, 0, 0] * (m[:, 1, 1] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 1])
            - m[:, 0, 1] * (m[:, 1, 0] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 0])
            + m[:, 0, 2] * (m[:, 1, 0] * m[:, 2, 1] - m[:, 1, 1] * m[:, 2, 0]))


def read_matrix(value, path: str) -> np.ndarray:
    return read_matrices(value, path, lambda i: path, spec=(4, 4))
