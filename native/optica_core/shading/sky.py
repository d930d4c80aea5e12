"""The Sky Texture's host-side precompute: the per-node constants the kernel's sky models
(native/src/kernel/svm/sky.h) evaluate per direction, computed as Cycles' SkyTextureNode does."""

from __future__ import annotations

import math

import numpy as np

PREETHAM = 0.0  # SkyModel in kernel/svm/sky.h
# The sky types the kernel renders; the others are treated as muted by the Blender side.
EVALUATED = ("PREETHAM",)


def _perez(lam, theta: float, gamma: float) -> float:
    return (1.0 + lam[0] * math.exp(lam[1] / math.cos(theta))) * (
        1.0 + lam[2] * math.exp(lam[3] * gamma) + lam[4] * math.cos(gamma) ** 2)


def preetham(sun_direction, turbidity: float) -> np.ndarray:
    """Preetham, Shirley & Smits' daylight for a sun along `sun_direction` (world space, need not
    be unit; a zero vector means the zenith) and the atmosphere's turbidity: the sun's zenith
    angle and azimuth, the zenith's luminance Y and chromaticity x, y, each normalised by its
    Perez distribution towards the zenith, and the three Perez coefficient sets."""
    d = np.asarray(sun_direction, np.float64)
    n = float(np.linalg.norm(d))
    d = d / n if n > 0.0 else np.array([0.0, 0.0, 1.0])
    theta = math.acos(max(-1.0, min(1.0, d[2])))
    phi = math.atan2(d[0], d[1])
    t = float(turbidity)
    t2, th2 = t * t, theta * theta
    th3 = th2 * theta
    chi = (4.0 / 9.0 - t / 120.0) * (math.pi - 2.0 * theta)
    zenith_Y = ((4.0453 * t - 4.9710) * math.tan(chi) - 0.2155 * t + 2.4192) * 0.06
    zenith_x = ((0.00166 * th3 - 0.00375 * th2 + 0.00209 * theta) * t2
                + (-0.02903 * th3 + 0.06377 * th2 - 0.03202 * theta + 0.00394) * t
                + (0.11693 * th3 - 0.21196 * th2 + 0.06052 * theta + 0.25886))
    zenith_y = ((0.00275 * th3 - 0.00610 * th2 + 0.00317 * theta) * t2
                + (-0.04214 * th3 + 0.08970 * th2 - 0.04153 * theta + 0.00516) * t
                + (0.15346 * th3 - 0.26756 * th2 + 0.06670 * theta + 0.26688))
    perez_Y = (0.1787 * t - 1.4630, -0.3554 * t + 0.4275, -0.0227 * t + 5.3251, 0.1206 * t - 2.5771,
               -0.0670 * t + 0.3703)
    perez_x = (-0.0193 * t - 0.2592, -0.0665 * t + 0.0008, -0.0004 * t + 0.2125, -0.0641 * t - 0.8989,
               -0.0033 * t + 0.0452)
    perez_y = (-0.0167 * t - 0.2608, -0.0950 * t + 0.0092, -0.0079 * t + 0.2102, -0.0441 * t - 1.6537,
               -0.0109 * t + 0.0529)
    # The model's zenith values hold at the zenith: divide out what Perez gives there.
    zenith_Y /= _perez(perez_Y, 0.0, theta)
    zenith_x /= _perez(perez_x, 0.0, theta)
    zenith_y /= _perez(perez_y, 0.0, theta)
    return np.array([PREETHAM, theta, phi, zenith_Y, zenith_x, zenith_y, *perez_Y, *perez_x, *perez_y], np.float32)
