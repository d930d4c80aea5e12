"""Denoising a rendered frame with Intel Open Image Denoise through `pyoidn`, without Blender.

`pyoidn.denoise` keeps one OIDN device and filter per process, so a farm worker or the
standalone renderer pays OIDN's set-up once. The albedo and normal AOVs guide the filter; they
are averaged over the same noisy samples, so OIDN prefilters them (`clean_aux` off).
"""

from __future__ import annotations

import numpy as np


class DenoiserUnavailable(RuntimeError):
    """OIDN cannot be used here; the message says why and what to install."""


def require_oidn():
    """The `pyoidn` module with its library loadable, or DenoiserUnavailable."""
    try:
        import pyoidn

        pyoidn.Device.is_cpu_available()  # loads libOpenImageDenoise
    except Exception as error:  # noqa: BLE001 - ImportError, or a broken install (OSError, ...)
        raise DenoiserUnavailable(
            "--denoise needs Intel Open Image Denoise: `pip install pyoidn` "
            f"(it could not be loaded: {type(error).__name__}: {error})") from error
    return pyoidn


def denoise(color: np.ndarray, albedo: np.ndarray, normal: np.ndarray, quality: str = "high") -> np.ndarray:
    """(h, w, 4) linear RGBA → a new (h, w, 4) array, RGB denoised, alpha kept. `quality`:
    OIDN's "high", "balanced" or "fast"."""
    pyoidn = require_oidn()
    rgb = pyoidn.denoise(np.ascontiguousarray(color[..., :3], dtype=np.float32),
                         np.ascontiguousarray(albedo, dtype=np.float32),
                         np.ascontiguousarray(normal, dtype=np.float32), hdr=True, quality=quality)
    out = np.array(color, dtype=np.float32, copy=True)
    out[..., :3] = rgb
    return out
