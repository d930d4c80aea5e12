# SPDX-License-Identifier: GPL-3.0-or-later
"""The one sampling loop of every session: when sampling stops (`Limits`), how many samples one
`accumulate()` call takes (`SampleLoop`), and the renderer and denoiser a session keeps
(`RendererSlot`, `DenoiserSlot`, the one denoiser factory) — used by the final render, the
viewport worker and the video export alike.

    loop = SampleLoop(renderer, Limits.from_scene(scene), batch_seconds=0.2)
    reason = loop.run(stopping)        # 'samples', 'time', 'noise' or 'cancelled' (a thread's body)
    # or one batch at a time (the viewport): while loop.stop_reason() is None: loop.step()

A batch is sized from the measured time per sample so that one call takes about
`batch_seconds` (the first batch is one sample), never past the sample count or the time limit.
Nothing here reads bpy but `Limits.from_scene` / `Limits.viewport`, which read `scene.optica`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

CONVERGED_FRACTION = 0.999  # noise threshold reached when this fraction of pixels is below it
PREVIEW_SAMPLES = 32  # most samples of a material / light / world preview


@dataclass(frozen=True)
class Limits:
    """When sampling stops."""

    samples: int  # samples per pixel
    time_limit: float = 0.0  # seconds of sampling; 0 = none
    noise_threshold: float = 0.0  # 0 = off
    threads: int = 0  # 0 = all cores

    @classmethod
    def from_scene(cls, scene, is_preview: bool = False) -> Limits:
        """A final render's (or a material preview's) limits."""
        s = scene.optica
        samples = min(s.viewport_samples, PREVIEW_SAMPLES) if is_preview else s.samples
        return cls(max(1, samples), max(0.0, s.time_limit), max(0.0, s.noise_threshold), max(0, s.threads))

    @classmethod
    def viewport(cls, scene) -> Limits:
        """The viewport's: its sample count, no time limit or noise threshold (it rests)."""
        s = scene.optica
        return cls(max(1, int(s.viewport_samples)), threads=max(0, int(s.threads)))

    @property
    def noise_min_samples(self) -> int:
        """Samples before the noise estimate is trusted."""
        return min(self.samples, max(16, math.isqrt(self.samples)))

    def set_adaptive(self, renderer) -> None:
        """The core's adaptive sampling (per tile) for these limits."""
        threshold = self.noise_threshold
        renderer.set_adaptive(threshold, self.noise_min_samples if threshold > 0 else 16)


class SampleLoop:
    """Adds samples to `renderer` in batches of about `batch_seconds` until `limits` say stop
    (see the module docstring). `limits` may be replaced between steps (more samples asked)."""

    def __init__(self, renderer, limits: Limits, batch_seconds: float):
        self.renderer = renderer
        self.limits = limits
        self.batch_seconds = batch_seconds
        self.started = time.perf_counter()
        self.per_sample: float | None = None  # seconds per sample of the last batch

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def stop_reason(self) -> str | None:
        """'samples', 'time' or 'noise' once a limit is reached, else None."""
        lim, r = self.limits, self.renderer
        if r.samples >= lim.samples:
            return "samples"
        if lim.time_limit > 0 and self.elapsed >= lim.time_limit:
            return "time"
        if lim.noise_threshold > 0 and r.samples >= lim.noise_min_samples and _noise_reached(r, lim):
            return "noise"
        return None

    def next_batch(self) -> int:
        """Samples the next accumulate() takes."""
        if self.per_sample is None:
            return 1
        remaining = self.limits.samples - self.renderer.samples
        per_sample = max(self.per_sample, 1e-9)
        k = max(1, int(self.batch_seconds / per_sample))
        if self.limits.time_limit > 0:
            k = min(k, max(1, int((self.limits.time_limit - self.elapsed) / per_sample)))
        return max(1, min(k, remaining))

    def step(self) -> int:
        """One batch; returns the samples added (fewer when cancelled, 0 when adaptive sampling
        stopped every tile)."""
        t0 = time.perf_counter()
        done = self.renderer.accumulate(self.next_batch())
        if done > 0:
            self.per_sample = (time.perf_counter() - t0) / done
        return done

    def run(self, stopping: threading.Event) -> str:
        """Steps until a limit is reached or `stopping` is set; returns why it stopped."""
        while True:
            if stopping.is_set():
                return "cancelled"
            reason = self.stop_reason()
            if reason is not None:
                return reason
            if self.step() == 0 and not stopping.is_set():
                return "noise"  # the core's adaptive sampling stopped every tile


def _noise_reached(renderer, limits: Limits) -> bool:
    """True once adaptive sampling stopped every tile, or (almost) every pixel's noise
    estimate is below the threshold."""
    return renderer.converged or renderer.converged_fraction(limits.noise_threshold) >= CONVERGED_FRACTION


class RendererSlot:
    """The renderer a session keeps between images: made on first use, made again only when
    the thread count changes (so unchanged geometry keeps its BVH)."""

    def __init__(self):
        self.renderer = None
        self._threads: int | None = None

    def get(self, threads: int):
        import optica_core

        if self.renderer is None or self._threads != threads:
            self.renderer = optica_core.Renderer(threads)
            self._threads = threads
        return self.renderer

    def drop(self) -> None:
        self.renderer = None
        self._threads = None


class DenoiserSlot:
    """The denoiser a session keeps (OIDN sets a filter up once per image size): made on first
    use, made again when the quality changes, closed by close(). The one place a Denoiser is
    made. get() raises denoise.DenoiserError when OIDN is unavailable.

    One denoise at a time: a render cancelled while denoising leaves OIDN running on its helper
    thread (it cannot be interrupted), and the next render of the same job must wait for it
    rather than drive the same filter from a second thread (found by the cancel storms,
    tests/stress/test_blender_load.py)."""

    def __init__(self):
        self.denoiser = None
        self._busy = threading.RLock()  # reentrant: denoise() → get() → close()

    def get(self, quality: str, threads: int):
        from . import denoise

        d = self.denoiser
        if d is None or d.quality != quality:
            self.close()
            self.denoiser = denoise.Denoiser(quality, threads=threads)
        return self.denoiser

    def denoise(self, renderer, quality: str, threads: int):
        """The renderer's image denoised with its albedo and normal AOVs, (h, w, 4) float32."""
        from . import denoise

        with self._busy:
            return denoise.denoise_renderer(self.get(quality, threads), renderer)

    def close(self) -> None:
        with self._busy:
            if self.denoiser is not None:
                self.denoiser.close()
                self.denoiser = None


def denoiser_problem(error: Exception) -> str:
    """What to tell the user about a failed denoise."""
    from . import denoise

    if isinstance(error, denoise.DenoiserError):
        return str(error)
    return f"Denoising failed: {type(error).__name__}: {error}"
