# SPDX-License-Identifier: GPL-3.0-or-later
"""The Blender side of the one sampling loop (`optica_core.sampling`: `Limits`, `SampleLoop`,
`RendererSlot`): the limits a scene asks for (`Limits.from_scene`, `Limits.viewport`, which read
`scene.optica`) and the denoiser a session keeps (`DenoiserSlot`, the one denoiser factory,
which needs the add-on's self-contained OIDN loader in addon/denoise.py) — used by the final
render, the viewport worker and the video export alike.

    loop = SampleLoop(renderer, Limits.from_scene(scene), batch_seconds=0.2)
    reason = loop.run(stopping)        # 'samples', 'time', 'noise' or 'cancelled' (a thread's body)
"""

from __future__ import annotations

import threading

from optica_core import sampling
from optica_core.sampling import RendererSlot, SampleLoop

__all__ = ["PREVIEW_SAMPLES", "Limits", "SampleLoop", "RendererSlot", "DenoiserSlot", "denoiser_problem"]

PREVIEW_SAMPLES = 32  # most samples of a material / light / world preview


class Limits(sampling.Limits):
    """The core's `Limits`, made from a scene's settings."""

    @classmethod
    def from_scene(cls, scene, is_preview: bool = False) -> Limits:
        """A final render's (or a material preview's) limits."""
        s = scene.optica
        samples = min(s.viewport_samples, PREVIEW_SAMPLES) if is_preview else s.samples
        return cls(
            max(1, samples), max(0.0, s.time_limit), max(0.0, s.noise_threshold), max(0, s.threads), device_of(scene)
        )

    @classmethod
    def viewport(cls, scene) -> Limits:
        """The viewport's: its sample count, no time limit or noise threshold (it rests)."""
        s = scene.optica
        return cls(max(1, int(s.viewport_samples)), threads=max(0, int(s.threads)), device=device_of(scene))


def device_of(scene) -> str:
    """The core's device for the render panel's Device: GPU Compute is OptiX where it runs, else
    the CPU with one line in the render's report (optica_core.device.select: AUTO)."""
    return "AUTO" if getattr(scene.optica, "device", "CPU") == "GPU" else "CPU"


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
