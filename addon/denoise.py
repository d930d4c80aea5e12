# SPDX-License-Identifier: GPL-3.0-or-later
"""Denoising with Intel Open Image Denoise (OIDN) through `pyoidn`, guided by albedo and normals.

    denoiser = Denoiser(quality="balanced", threads=0)   # raises DenoiserError when OIDN is missing
    rgba = denoiser.denoise(color, albedo, normal)      # (h, w, 4) float32, a new array
    denoiser.device_type                                 # "CUDA" or "CPU"
    denoiser.close()                                     # also on garbage collection; idempotent

- One OIDN device and one "RT" filter per Denoiser, kept for every image; the images live in
  OIDN buffers that are allocated again only when the image size changes, so a viewport or an
  animation pays the filter set-up once (OIDN's first execute is ~0.5 s slower, FACTS.md).
- The device is CUDA where OIDN finds a CUDA GPU, the CPU otherwise (this project's machines
  have no GPU: the CPU path is the one tested). Buffers rather than shared numpy memory, so the
  same code feeds a GPU device.
- Inputs are the core's AOVs: `color` (h, w, 4) or (h, w, 3) linear HDR radiance, `albedo`
  (h, w, 3) first-hit albedo in [0, 1], `normal` (h, w, 3) world-space first-hit normal. Albedo
  and normals are averaged over the same noisy samples, so they are not "clean" (OIDN
  prefilters them). Alpha passes through unchanged.
- Quality (OIDN's): "fast" and "balanced" for the viewport, "high" for final renders. On 2 CPU
  threads, 1080p colour + albedo + normal takes ~7.6 s at high and ~3.3 s at balanced (FACTS.md;
  bench/viewport.py measures time per megapixel).
- Every failure is a `DenoiserError` whose message says what went wrong (pyoidn not installed,
  OIDN library not loadable, OIDN's own error text); callers report it and keep the noisy image.
- pyoidn comes with the extension: `python build.py` bundles a trimmed pyoidn wheel (with cffi
  and pycparser) that Blender installs with it. Blender itself links an older OIDN whose
  libraries export the same C++ symbols, so pyoidn's libraries are loaded self-contained first
  (`_load_self_contained`).
"""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from pathlib import Path

import numpy as np

QUALITIES = ("fast", "balanced", "high")


class DenoiserError(RuntimeError):
    """OIDN is unavailable or failed; the message is meant for the user."""


_self_contained: list = []  # the handles _load_self_contained() opened (kept: never unloaded)


def _load_self_contained(pyoidn) -> None:
    """Loads pyoidn's OIDN libraries (core, the CPU and CUDA devices, then the C API that pyoidn
    opens itself) so that each resolves symbols in its own group first (RTLD_DEEPBIND). Blender
    links its own OIDN (2.3 in Blender 5.0) into the process's global scope, with the same
    unversioned C++ symbols: without this, pyoidn's core and devices would bind partly to
    Blender's copy and run a mix of two versions. A library that cannot load here (the CUDA
    device without NVIDIA's driver) is left to OIDN, which then reports that device missing."""
    if _self_contained or not hasattr(os, "RTLD_DEEPBIND"):
        return
    lib = Path(pyoidn.__file__).parent / "oidn" / "lib"
    parts = ("core", "device_cpu", "device_cuda")
    order = [path for part in parts for path in sorted(lib.glob(f"libOpenImageDenoise_{part}.so.*"))]
    for path in [*order, lib / "libOpenImageDenoise.so"]:
        try:
            _self_contained.append(ctypes.CDLL(str(path), mode=os.RTLD_NOW | os.RTLD_LOCAL | os.RTLD_DEEPBIND))
        except OSError:
            pass


def load_oidn():
    """The `pyoidn` module with its OIDN library loaded, or DenoiserError saying why not."""
    try:
        import pyoidn
    except Exception as e:  # noqa: BLE001 - ImportError, or a broken install (OSError, ...)
        raise DenoiserError(
            f"Intel Open Image Denoise is not available: the pyoidn package could not be imported "
            f"({type(e).__name__}: {e})"
        ) from e
    try:
        _load_self_contained(pyoidn)
        pyoidn.Device.is_cpu_available()  # pyoidn loads libOpenImageDenoise on first use
    except Exception as e:  # noqa: BLE001
        raise DenoiserError(
            f"Intel Open Image Denoise is not available: its library could not be loaded ({type(e).__name__}: {e})"
        ) from e
    return pyoidn


def _quality_constant(oidn, quality: str) -> int:
    try:
        return {"fast": oidn.OIDN_QUALITY_FAST, "balanced": oidn.OIDN_QUALITY_BALANCED, "high": oidn.OIDN_QUALITY_HIGH}[
            quality
        ]
    except KeyError:
        raise ValueError(f"denoiser quality must be one of {QUALITIES}, got {quality!r}") from None


class Denoiser:
    """One OIDN device + RT filter (see the module docstring). Not thread-safe: one caller at a
    time (a session's worker thread, or a final render's thread)."""

    def __init__(self, quality: str = "balanced", threads: int = 0, prefer_gpu: bool = True):
        self._oidn = oidn = load_oidn()
        self.quality = quality
        self._quality = _quality_constant(oidn, quality)
        self._lock = threading.Lock()
        self._device = None
        self._filter = None
        self._buffers: dict[str, object] = {}
        self._size = None  # (width, height, with albedo, with normal) the filter is set up for
        self.device_type = "CPU"
        self.executions = 0
        use_cuda = False
        if prefer_gpu:
            try:
                use_cuda = bool(oidn.Device.is_cuda_available(0))
            except Exception:  # noqa: BLE001 - no CUDA runtime: the CPU it is
                use_cuda = False
        kind = oidn.OIDN_DEVICE_TYPE_CUDA if use_cuda else oidn.OIDN_DEVICE_TYPE_CPU
        self.device_type = "CUDA" if use_cuda else "CPU"
        self._device = oidn.Device(kind)
        self._check("creating the OIDN device")
        if not use_cuda:
            # 0 = every core; no thread pinning, the renderer's threads share the cores.
            self._device.set_int("numThreads", max(0, int(threads)))
            self._device.set_bool("setAffinity", False)
        self._device.commit()
        self._check("committing the OIDN device")
        self._filter = oidn.Filter(self._device, oidn.OIDN_FILTER_TYPE_RT)
        self._check("creating the OIDN filter")
        # Released on close() or when the Denoiser is collected (no bpy, no threads involved).
        self._finalizer = weakref.finalize(self, _release, self._filter, self._buffers, self._device)

    # -----------------------------------------------------------------------------------------

    def _check(self, what: str) -> None:
        message = self._device.get_error() if self._device is not None else None
        if message is not None:
            raise DenoiserError(f"Denoising failed while {what}: {message}")

    def _buffer(self, name: str, nbytes: int):
        buf = self._buffers.get(name)
        if buf is not None and buf.size == nbytes:
            return buf
        if buf is not None:
            buf.release()
        buf = self._buffers[name] = self._oidn.Buffer(self._device, nbytes)
        self._check(f"allocating the {name} buffer")
        return buf

    def _set_up(self, w: int, h: int, has_albedo: bool, has_normal: bool) -> None:
        """Binds buffers of this size to the filter and commits it (only when the size changed)."""
        key = (w, h, has_albedo, has_normal)
        if self._size == key:
            return
        oidn, f = self._oidn, self._filter
        float3 = oidn.OIDN_FORMAT_FLOAT3
        f.set_image("color", self._buffer("color", w * h * 16), float3, w, h, 0, 16, 16 * w)
        f.set_image("output", self._buffer("output", w * h * 12), float3, w, h)
        for name, present in (("albedo", has_albedo), ("normal", has_normal)):
            if present:
                f.set_image(name, self._buffer(name, w * h * 12), float3, w, h)
            else:
                f.unset_image(name)
        f.set_bool("hdr", True)
        f.set_bool("cleanAux", False)
        f.set_int("quality", self._quality)
        f.commit()
        self._check("setting up the OIDN filter")
        self._size = key

    def denoise(self, color, albedo=None, normal=None) -> np.ndarray:
        """The denoised image, (h, w, 4) float32 (a new array; alpha copied from `color`)."""
        with self._lock:
            if self._filter is None:
                raise DenoiserError("Denoising failed: the denoiser was closed")
            color = np.asarray(color, dtype=np.float32)
            if color.ndim != 3 or color.shape[2] not in (3, 4) or min(color.shape[:2]) < 1:
                raise ValueError(f"color: expected (h, w, 3|4), got {color.shape}")
            h, w = color.shape[:2]
            rgba = np.empty((h, w, 4), np.float32)
            rgba[..., : color.shape[2]] = color
            if color.shape[2] == 3:
                rgba[..., 3] = 1.0
            aux = {}
            for name, img in (("albedo", albedo), ("normal", normal)):
                if img is not None:
                    img = np.ascontiguousarray(img, dtype=np.float32)
                    if img.shape != (h, w, 3):
                        raise ValueError(f"{name}: expected {(h, w, 3)}, got {img.shape}")
                    aux[name] = img
            self._set_up(w, h, "albedo" in aux, "normal" in aux)
            self._buffers["color"].write(0, rgba.nbytes, rgba)
            for name, img in aux.items():
                self._buffers[name].write(0, img.nbytes, img)
            self._filter.execute()
            self._check("denoising")
            rgb = np.empty((h, w, 3), np.float32)
            self._buffers["output"].read(0, rgb.nbytes, rgb)
            self.executions += 1
            rgba[..., :3] = rgb
            return rgba

    def close(self) -> None:
        """Releases the filter, buffers and device (in that order); idempotent."""
        with self._lock:
            if self._filter is not None:
                self._finalizer()
            self._filter = self._device = None
            self._size = None

    def __enter__(self) -> Denoiser:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _release(flt, buffers: dict, device) -> None:
    flt.release()
    for buf in buffers.values():
        buf.release()
    buffers.clear()
    device.release()


def denoise_renderer(denoiser: Denoiser, renderer) -> np.ndarray:
    """Denoises a renderer's current image with its albedo and normal AOVs."""
    return denoiser.denoise(renderer.color, renderer.albedo, renderer.normal)


_summary = None


def device_summary() -> tuple[bool, str]:
    """(available, text) for the UI: the OIDN device denoising would use, or why there is none
    (asked once per session: loading OIDN and probing CUDA costs a little)."""
    global _summary
    if _summary is None:
        try:
            oidn = load_oidn()
            try:
                cuda = bool(oidn.Device.is_cuda_available(0))
            except Exception:  # noqa: BLE001
                cuda = False
            _summary = (True, "Intel Open Image Denoise on the " + ("CUDA GPU" if cuda else "CPU"))
        except DenoiserError as e:
            _summary = (False, str(e))
    return _summary
