"""What Cycles derives from a curve set's control points for the Hair Info / Curves Info node:
per-point intercept, per-curve length and per-curve random (docs/scene-dict.md, `curves`).

All of it vectorised: a million curves take a few numpy passes, no Python loop per curve.
"""

from __future__ import annotations

import numpy as np

_U32 = np.uint32


def _rot(x: np.ndarray, k: int) -> np.ndarray:
    return (x << _U32(k)) | (x >> _U32(32 - k))


def hash_uint2(kx: np.ndarray, ky: int = 0) -> np.ndarray:
    """Cycles' `hash_uint2` (lookup3's final mix) of uint32 words `kx` with one `ky`."""
    with np.errstate(over="ignore"):
        a = np.full(kx.shape, 0xDEADBEEF + (2 << 2) + 13, dtype=_U32)
        b = a + _U32(ky)
        c = a.copy()
        a = a + kx.astype(_U32)
        c ^= b
        c -= _rot(b, 14)
        a ^= c
        a -= _rot(c, 11)
        b ^= a
        b -= _rot(a, 25)
        c ^= b
        c -= _rot(b, 16)
        a ^= c
        a -= _rot(c, 4)
        b ^= a
        b -= _rot(a, 14)
        c ^= b
        c -= _rot(b, 24)
    return c


def curve_random(n_curves: int) -> np.ndarray:
    """Cycles' Hair Info › Random: `hash_uint2_to_float(curve index, 0)` per curve."""
    h = hash_uint2(np.arange(n_curves, dtype=_U32), 0)
    return (h.astype(np.float64) / 0xFFFFFFFF).astype(np.float32)


def intercept_and_length(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point the distance along its curve's control polygon divided by the curve's length
    (0 at the root, 1 at the tip; 0 everywhere on a curve of zero length), and per curve that
    length: what Cycles computes when it syncs a Curves object."""
    n_points, n_curves = len(points), len(offsets) - 1
    if n_points == 0:
        return np.zeros(0, np.float32), np.zeros(n_curves, np.float32)
    step = np.zeros(n_points, np.float64)
    step[1:] = np.linalg.norm(np.diff(points.astype(np.float64), axis=0), axis=1)
    starts = offsets[:-1]
    step[starts[starts < n_points]] = 0.0  # no step across curves
    along = np.cumsum(step)
    base = along[starts]  # cumulative distance at each curve's first point
    counts = np.diff(offsets)
    curve_of_point = np.repeat(np.arange(n_curves), counts)
    along -= base[curve_of_point]
    ends = offsets[1:] - 1
    length = along[ends]
    denom = length[curve_of_point]
    intercept = np.divide(along, denom, out=np.zeros_like(along), where=denom > 0)
    return intercept.astype(np.float32), length.astype(np.float32)
