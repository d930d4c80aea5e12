"""Colour ramps and curve tables: the `ramp` and `curve` parameter kinds (their validation) and
the Color Ramp baked into the 256-entry RGBA table Cycles looks up, evaluated at each entry as
Blender evaluates a ColorBand (every interpolation; RGB, HSV and HSL blending with the four
hue interpolations)."""

from __future__ import annotations

import bisect

import numpy as np

from .. import values as v
from .graph import PARAM_KINDS

RAMP_TABLE_SIZE = 256  # Cycles' RAMP_TABLE_SIZE: the Color Ramp's table
CURVE_TABLE_SIZE = 257  # curves: RAMP_TABLE_SIZE + 1 samples over the x range
RAMP_INTERPOLATIONS = ("EASE", "CARDINAL", "LINEAR", "B_SPLINE", "CONSTANT")
RAMP_COLOR_MODES = ("RGB", "HSV", "HSL")
RAMP_HUE_INTERPOLATIONS = ("NEAR", "FAR", "CW", "CCW")
_MAX_STOPS = 32  # Blender's MAXCOLORBAND


def read_ramp(value, path: str, param, _textures) -> dict:
    if not isinstance(value, dict):
        v.fail(path, f"expected a colour ramp dict (interpolation, color_mode, hue_interpolation, positions, "
                     f"colors), got {v.show(value)}")
    unknown = set(value) - {"interpolation", "color_mode", "hue_interpolation", "positions", "colors"}
    if unknown:
        v.fail(path, f"unknown keys {sorted(unknown)}")
    positions = v.read_float_array(value.get("positions"), f"{path}.positions", ("N",))
    if not 1 <= len(positions) <= _MAX_STOPS:
        v.fail(f"{path}.positions", f"a colour ramp has 1 to {_MAX_STOPS} stops, got {len(positions)}")
    colors = v.read_float_array(value.get("colors"), f"{path}.colors", ("N", 4), rows=len(positions),
                                rows_from=" (one per position)")
    order = np.argsort(positions, kind="stable")  # Blender keeps its stops sorted
    return {
        "interpolation": v.read_choice(value.get("interpolation", "LINEAR"), f"{path}.interpolation",
                                       "interpolation", RAMP_INTERPOLATIONS),
        "color_mode": v.read_choice(value.get("color_mode", "RGB"), f"{path}.color_mode", "colour mode",
                                    RAMP_COLOR_MODES),
        "hue_interpolation": v.read_choice(value.get("hue_interpolation", "NEAR"), f"{path}.hue_interpolation",
                                           "hue interpolation", RAMP_HUE_INTERPOLATIONS),
        "positions": positions[order],
        "colors": colors[order],
    }


def read_curve(value, path: str, param, _textures) -> dict:
    if not isinstance(value, dict):
        v.fail(path, f"expected a curve dict (table, range, extrapolate), got {v.show(value)}")
    unknown = set(value) - {"table", "range", "extrapolate"}
    if unknown:
        v.fail(path, f"unknown keys {sorted(unknown)}")
    channels = param.values[0] if param.values else 3
    table = v.read_float_array(value.get("table"), f"{path}.table", (CURVE_TABLE_SIZE, channels))
    lo, hi = v.read_floats(value.get("range"), f"{path}.range", 2)
    if not hi > lo:
        v.fail(f"{path}.range", f"expected x_min < x_max, got [{lo}, {hi}]")
    extrapolate = value.get("extrapolate", False)
    if not isinstance(extrapolate, (bool, np.bool_)):
        v.fail(f"{path}.extrapolate", f"expected a bool, got {v.show(extrapolate)}")
    return {"table": table, "range": (lo, hi), "extrapolate": bool(extrapolate)}


PARAM_KINDS["ramp"] = read_ramp
PARAM_KINDS["curve"] = read_curve


# ---- Blender's colour models (BLI_math_color), in the form ColorBand uses

def _rgb_to_hsv(r, g, b):
    k = 0.0
    if g < b:
        g, b = b, g
        k = -1.0
    min_gb = b
    if r < g:
        r, g = g, r
        k = -2.0 / 6.0 - k
        min_gb = min(g, b)
    chroma = r - min_gb
    return abs(k + (g - b) / (6.0 * chroma + 1e-20)), chroma / (r + 1e-20), r


def _hsv_to_rgb(h, s, val):
    nr, ng, nb = _hue_weights(h)
    return tuple(((n - 1.0) * s + 1.0) * val for n in (nr, ng, nb))


def _rgb_to_hsl(r, g, b):
    cmax, cmin = max(r, g, b), min(r, g, b)
    lightness = min(1.0, (cmax + cmin) / 2.0)
    if cmax == cmin:
        return 0.0, 0.0, lightness
    d = cmax - cmin
    s = d / (2.0 - cmax - cmin) if lightness > 0.5 else d / (cmax + cmin)
    if cmax == r:
        h = (g - b) / d + (6.0 if g < b else 0.0)
    elif cmax == g:
        h = (b - r) / d + 2.0
    else:
        h = (r - g) / d + 4.0
    return h / 6.0, s, lightness


def _hsl_to_rgb(h, s, lightness):
    chroma = (1.0 - abs(2.0 * lightness - 1.0)) * s
    return tuple((n - 0.5) * chroma + lightness for n in _hue_weights(h))


def _hue_weights(h):
    clamp = lambda x: min(max(x, 0.0), 1.0)  # noqa: E731
    return clamp(abs(h * 6.0 - 3.0) - 1.0), clamp(2.0 - abs(h * 6.0 - 2.0)), clamp(2.0 - abs(h * 6.0 - 4.0))


def _hue_mix(mode: str, mfac: float, fac: float, h1: float, h2: float) -> float:
    """Hue between h1 (weight mfac) and h2 (weight fac) the way `mode` goes round the circle."""
    wrap = lambda h: h if h < 1.0 else h - 1.0  # noqa: E731
    h1, h2 = wrap(h1), wrap(h2)
    shift = 0  # 1: h1 goes up a turn, 2: h2 does
    if mode == "NEAR":
        shift = 1 if h1 < h2 and h2 - h1 > 0.5 else 2 if h1 > h2 and h2 - h1 < -0.5 else 0
    elif mode == "FAR":
        shift = 1 if h1 == h2 or (h1 < h2 and h2 - h1 < 0.5) else 2 if h1 > h2 and h2 - h1 > -0.5 else 0
    elif mode == "CCW":
        shift = 2 if h1 > h2 else 0
    elif mode == "CW":
        shift = 1 if h1 < h2 else 0
    h = mfac * (h1 + (shift == 1)) + fac * (h2 + (shift == 2))
    return wrap(h) if shift else h


def _spline_weights(t: float, cardinal: bool):
    t2, t3 = t * t, t * t * t
    if cardinal:
        fc = 0.71
        return (-fc * t3 + 2.0 * fc * t2 - fc * t, (2.0 - fc) * t3 + (fc - 3.0) * t2 + 1.0,
                (fc - 2.0) * t3 + (3.0 - 2.0 * fc) * t2 + fc * t, fc * t3 - fc * t2)
    return (-0.16666666 * t3 + 0.5 * t2 - 0.5 * t + 0.16666666, 0.5 * t3 - t2 + 0.66666666,
            -0.5 * t3 + 0.5 * t2 + 0.5 * t + 0.16666666, 0.16666666 * t3)


def evaluate_ramp(ramp: dict, x: float) -> list:
    """The ramp's RGBA at x, as Blender's ColorBand evaluation gives it."""
    return _evaluate(_Stops.of(ramp), x)


class _Stops:
    """A ramp's stops as plain floats (the per-sample evaluation runs 256 times per ramp)."""

    __slots__ = ("positions", "colors", "mode", "kind", "hue")

    @classmethod
    def of(cls, ramp: dict) -> "_Stops":
        stops = cls()
        stops.positions = [float(p) for p in ramp["positions"]]
        stops.colors = [[float(c) for c in row] for row in ramp["colors"]]
        stops.mode = ramp["color_mode"]
        stops.kind = ramp["interpolation"] if stops.mode == "RGB" else "LINEAR"
        stops.hue = ramp["hue_interpolation"]
        return stops


def _evaluate(stops: _Stops, x: float) -> list:
    positions, colors, kind = stops.positions, stops.colors, stops.kind
    n = len(positions)
    simple = kind in ("LINEAR", "EASE", "CONSTANT")
    if n == 1 or (x <= positions[0] and simple):
        return colors[0]
    right = bisect.bisect_right(positions, x)  # first stop with position > x
    if right == n:
        if simple:
            return colors[n - 1]
        left_i, right_i, right_pos, left_pos = n - 1, n - 1, 1.0, positions[n - 1]
    elif right == 0:
        left_i, right_i, right_pos, left_pos = 0, 0, positions[0], 0.0
    else:
        left_i, right_i, right_pos, left_pos = right - 1, right, positions[right], positions[right - 1]
    if kind == "CONSTANT":
        return colors[left_i]
    # `fac` is the weight of the left stop (Blender measures from the right one).
    fac = (x - right_pos) / (left_pos - right_pos) if left_pos != right_pos else (0.0 if right != n else 1.0)
    if kind in ("B_SPLINE", "CARDINAL"):
        after = right_i if right >= n - 1 else right_i + 1
        before = left_i if right < 2 else left_i - 1
        t = _spline_weights(min(max(fac, 0.0), 1.0), kind == "CARDINAL")
        quad = (colors[after], colors[right_i], colors[left_i], colors[before])
        return [min(max(sum(w * c[k] for w, c in zip(t, quad, strict=True)), 0.0), 1.0) for k in range(4)]
    if kind == "EASE":
        fac = 3.0 * fac * fac - 2.0 * fac * fac * fac
    mfac = 1.0 - fac
    c_right, c_left = colors[right_i], colors[left_i]
    if stops.mode == "RGB":
        return [mfac * a + fac * b for a, b in zip(c_right, c_left, strict=True)]
    to_model, from_model = (_rgb_to_hsv, _hsv_to_rgb) if stops.mode == "HSV" else (_rgb_to_hsl, _hsl_to_rgb)
    a, b = to_model(*c_right[:3]), to_model(*c_left[:3])
    h = _hue_mix(stops.hue, mfac, fac, a[0], b[0])
    rgb = from_model(h, mfac * a[1] + fac * b[1], mfac * a[2] + fac * b[2])
    return [*rgb, mfac * c_right[3] + fac * c_left[3]]


def ramp_table(ramp: dict) -> np.ndarray:
    """(RAMP_TABLE_SIZE, 4) float32: the ramp at i / (RAMP_TABLE_SIZE − 1), as Cycles bakes it."""
    key = (ramp["interpolation"], ramp["color_mode"], ramp["hue_interpolation"],
           np.asarray(ramp["positions"], np.float32).tobytes(), np.asarray(ramp["colors"], np.float32).tobytes())
    return _cached_table(key, ramp)


_TABLES: dict = {}
_MAX_CACHED = 256


def _cached_table(key, ramp: dict) -> np.ndarray:
    """Tables by content: a viewport edit recompiles every material, its ramps unchanged."""
    table = _TABLES.get(key)
    if table is None:
        stops = _Stops.of(ramp)
        xs = (np.arange(RAMP_TABLE_SIZE, dtype=np.float32) / np.float32(RAMP_TABLE_SIZE - 1)).tolist()
        table = np.array([_evaluate(stops, x) for x in xs], np.float32)
        table.flags.writeable = False
        if len(_TABLES) >= _MAX_CACHED:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = table
    return table
