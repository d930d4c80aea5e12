"""Rendering one scene to a frame without Blender: the shared sampling loop, optional denoising,
and the pass images, as a frame sink's `Frame`.

    settings = RenderSettings(Limits(samples=128, noise_threshold=0.01), denoise=True, passes=("depth",))
    frame = render_frame(renderer, scene, settings, index=12)
    frame.pixels                     # (h, w, 4) float32 linear RGBA, top row first (Combined)
    frame.passes["depth"]            # the other passes, by the names of PASSES

Sampling is `optica_core.sampling.SampleLoop` (batches of about a quarter second, so a time
limit or a Ctrl-C is honoured that quickly), the very loop Blender's final render runs: for a
given scene, seed and sample count the passes are bit-identical to Blender's Render Result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from .sampling import Limits, SampleLoop
from .sinks.base import Frame

# Pass name → the Renderer image it copies.
PASSES = {
    "combined": "color",
    "albedo": "albedo",
    "normal": "normal",
    "depth": "depth",
    "object_id": "object_id",
    "noisy": "color",  # before denoising
}
BATCH_SECONDS = 0.25
DENOISE_QUALITIES = ("high", "balanced", "fast")


def check_passes(names) -> tuple[str, ...]:
    """Pass names in a stable order, "combined" always first; a ValueError for unknown ones."""
    names = tuple(dict.fromkeys(["combined", *names]))
    unknown = [n for n in names if n not in PASSES]
    if unknown:
        raise ValueError(f"unknown pass {unknown[0]!r} (expected some of {', '.join(PASSES)})")
    return tuple(n for n in PASSES if n in names)


@dataclass(frozen=True)
class RenderSettings:
    """Everything a frame's image depends on besides its scene: when sampling stops, whether it
    is denoised (OIDN guided by albedo and normal, at `denoise_quality`), which passes it keeps."""

    limits: Limits = field(default_factory=lambda: Limits(64))
    denoise: bool = False
    denoise_quality: str = "high"
    passes: tuple[str, ...] = ("combined",)

    def __post_init__(self):
        if self.denoise_quality not in DENOISE_QUALITIES:
            raise ValueError(f"denoise_quality: expected one of {', '.join(DENOISE_QUALITIES)}, "
                             f"got {self.denoise_quality!r}")
        object.__setattr__(self, "passes", check_passes(self.passes))

    @classmethod
    def from_dict(cls, render: Mapping, passes=("combined",)) -> RenderSettings:
        """From a manifest's `render` section: samples, time_limit, noise_threshold, denoise,
        denoise_quality (other keys are ignored; samples defaults to 64)."""
        return cls(Limits.from_dict(render, samples=64), bool(render.get("denoise", False)),
                   str(render.get("denoise_quality", "high")), tuple(passes))

    def key(self) -> str:
        """A stable text of the settings (part of a frame's resume key)."""
        return json.dumps(asdict(self), sort_keys=True)


def render_frame(renderer, scene: dict, settings: RenderSettings, index: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> Frame:
    """Sets `scene`, samples it and returns its frame (`index`). `progress(samples_done,
    samples)` is called after every batch. KeyboardInterrupt stops within one batch and
    propagates."""
    t0 = time.perf_counter()
    renderer.set_scene(scene)
    t1 = time.perf_counter()
    settings.limits.set_adaptive(renderer)
    SampleLoop(renderer, settings.limits, BATCH_SECONDS).run(progress=progress)
    images = {name: np.array(getattr(renderer, PASSES[name]), copy=True) for name in settings.passes}
    t2 = time.perf_counter()
    if settings.denoise:
        from .denoise import denoise

        images["noisy"] = images["combined"]
        images["combined"] = denoise(images["combined"], renderer.albedo, renderer.normal,
                                     settings.denoise_quality)
        if "noisy" not in settings.passes:
            del images["noisy"]
    combined = images.pop("combined")
    t3 = time.perf_counter()
    # where the time went (a farm's timeline, bench/farm.py): set_scene, sampling, denoising
    return Frame(combined, index=index, passes=images, samples=renderer.samples,
                 info={"seconds": t3 - t0, "set_scene": t1 - t0, "sampling": t2 - t1, "denoise": t3 - t2})
