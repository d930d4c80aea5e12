"""Rendering one scene to its passes without Blender: when sampling stops, denoising, the pass images.

    settings = Sampling(samples=128, time_limit=0, noise_threshold=0.01, denoise=True)
    frame = render_frame(renderer, scene, settings, passes=("combined", "depth"), frame=12)
    frame.passes["combined"]        # (h, w, 4) float32 linear RGBA, top row first

Sampling stops at `samples` per pixel, after `time_limit` seconds, or once adaptive sampling
(Cycles' noise metric, `Renderer.set_adaptive`) has stopped every tile. Samples are added in
batches of about a quarter second, so a time limit or a Ctrl-C is honoured that quickly. For a
given scene, seed and sample count the passes are bit-identical however the batches fall and
however many threads run (the core's determinism), which is what lets a farm's frames equal
the same frames rendered in one process.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

# Pass name → (the Renderer image it copies, its channel names in an EXR file).
PASSES = {
    "combined": ("color", ("R", "G", "B", "A")),
    "albedo": ("albedo", ("Albedo.R", "Albedo.G", "Albedo.B")),
    "normal": ("normal", ("Normal.X", "Normal.Y", "Normal.Z")),
    "depth": ("depth", ("Depth.Z",)),
    "object_id": ("object_id", ("ObjectID.X",)),
    "noisy": ("color", ("Noisy.R", "Noisy.G", "Noisy.B", "Noisy.A")),  # before denoising
}
BATCH_SECONDS = 0.25


@dataclass(frozen=True)
class Sampling:
    """When sampling stops, and whether the result is denoised (OIDN, guided by albedo/normal)."""

    samples: int = 64
    time_limit: float = 0.0  # seconds; 0 = none
    noise_threshold: float = 0.0  # 0 = off
    denoise: bool = False

    def __post_init__(self):
        if not (isinstance(self.samples, int) and self.samples >= 1):
            raise ValueError(f"samples: expected an int >= 1, got {self.samples!r}")
        for name in ("time_limit", "noise_threshold"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: expected a number >= 0, got {value!r}")

    @property
    def min_samples(self) -> int:
        """Samples before the noise estimate is trusted."""
        return min(self.samples, max(16, math.isqrt(self.samples)))


@dataclass
class RenderedFrame:
    """One frame's pass images (copies) and how it was made."""

    frame: int
    passes: dict[str, np.ndarray]
    samples: int = 0
    seconds: float = 0.0
    worker: str = ""
    stats: dict = field(default_factory=dict)


def check_passes(names) -> tuple[str, ...]:
    """Pass names in a stable order, "combined" always first; a ValueError for unknown ones."""
    names = tuple(dict.fromkeys(["combined", *names]))
    unknown = [n for n in names if n not in PASSES]
    if unknown:
        raise ValueError(f"unknown pass {unknown[0]!r} (expected some of {', '.join(PASSES)})")
    return tuple(n for n in PASSES if n in names)


def render_frame(renderer, scene: dict, settings: Sampling, passes=("combined",), frame: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> RenderedFrame:
    """Sets `scene`, samples it and returns the passes. `progress(samples_done, samples)` is
    called after every batch. KeyboardInterrupt stops within one batch and propagates."""
    names = check_passes(passes)
    t0 = time.perf_counter()
    renderer.set_scene(scene)
    renderer.set_adaptive(settings.noise_threshold, settings.min_samples if settings.noise_threshold > 0 else 16)
    sample(renderer, settings, progress)
    images = {name: np.array(getattr(renderer, PASSES[name][0]), copy=True) for name in names}
    if settings.denoise:
        from .denoise import denoise

        images["noisy"] = images["combined"]
        images["combined"] = denoise(images["combined"], renderer.albedo, renderer.normal)
        if "noisy" not in names:
            del images["noisy"]
    return RenderedFrame(frame, images, renderer.samples, time.perf_counter() - t0)


def sample(renderer, settings: Sampling, progress=None) -> str:
    """Accumulates until a limit is reached; returns why it stopped: samples, time or noise."""
    started = time.perf_counter()
    per_sample = None
    while renderer.samples < settings.samples:
        elapsed = time.perf_counter() - started
        if settings.time_limit > 0 and elapsed >= settings.time_limit:
            return "time"
        if settings.noise_threshold > 0 and renderer.converged:
            return "noise"
        batch = _batch_size(settings, renderer.samples, per_sample, settings.time_limit - elapsed)
        t0 = time.perf_counter()
        added = renderer.accumulate(batch)
        if added == 0:
            return "noise"  # adaptive sampling stopped every tile
        per_sample = (time.perf_counter() - t0) / added
        if progress is not None:
            progress(renderer.samples, settings.samples)
    return "samples"


def _batch_size(settings: Sampling, done: int, per_sample: float | None, time_left: float) -> int:
    if per_sample is None:
        return 1
    batch = int(BATCH_SECONDS / max(per_sample, 1e-9))
    if settings.time_limit > 0:
        batch = min(batch, int(time_left / max(per_sample, 1e-9)))
    return max(1, min(batch, settings.samples - done))
