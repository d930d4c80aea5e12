# SPDX-License-Identifier: GPL-3.0-or-later
"""The final-render session: export the scene, sample it, hand the frame to a sink.

    FinalSession(sink, test_break, job, status=..., passes=..., progressive=True).render(depsgraph) -> Outcome

- `sink` receives the frames (optica_core.sinks: write / close / abort): Blender's Render Result
  (`render_result.RenderResultSink`), numpy arrays (`render_result.ArrayResult`), or the video
  export's frame renderer. With `progressive`, a refinement (Combined only, `final=False`) every
  ~0.3 s while sampling; always one final frame with every pass in `passes`.
- `status` gets progress and the exporter's messages (`progress(fraction, info)`,
  `message(level, text)`); `test_break` is any callable returning True once the render should
  stop (the engine's `test_break`, i.e. Esc): the session answers within half a second and
  keeps what it has.
- `job` (`render_job.RenderJob`) is what renders of one scene keep between frames.

Sampling is the shared loop (`sampling.SampleLoop`) on a worker thread (`accumulate` releases
the GIL) in batches of ~0.2 s, while the calling thread polls `test_break`, refreshes the sink
and reports progress. It stops at `scene.optica.samples`, at `time_limit` seconds of sampling,
or once the noise estimate of (almost) every pixel is below `noise_threshold`.

With `scene.optica.use_denoiser` the finished image is denoised (OIDN through the job's
`DenoiserSlot`, quality `denoiser_quality`): Combined is the denoised image and the "Noisy
Image" pass keeps the raw one. A cancelled render is not denoised; a denoiser that is missing or
fails is reported and the render keeps the noisy image. Material previews (`is_preview`) take
at most PREVIEW_SAMPLES samples, not denoised.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np

from optica_core.scene import NOT_RENDERED_NOTE, SceneWarning
from optica_core.sinks import Frame

from . import passes as render_passes
from .messages import approximated_note
from .render_job import RenderJob, job_for
from .render_result import EngineStatus, RenderResultSink, apply_frame
from .sampling import PREVIEW_SAMPLES, Limits, SampleLoop, denoiser_problem

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05  # how often test_break is asked
BATCH_SECONDS = 0.2  # target duration of one accumulate() call
UPDATE_SECONDS = 0.3  # shortest interval between refreshes of the visible result

__all__ = ["FinalSession", "Outcome", "Limits", "PREVIEW_SAMPLES", "render", "update_render_passes"]


@dataclass
class Outcome:
    samples: int = 0
    seconds: float = 0.0  # sampling time
    reason: str = ""  # 'samples', 'time', 'noise', 'cancelled'
    denoised: bool = False
    denoise_seconds: float = 0.0

    @property
    def cancelled(self) -> bool:
        return self.reason == "cancelled"


class _NoStatus:
    def progress(self, fraction: float, info: str) -> None:
        pass

    def message(self, level: str, text: str) -> None:
        pass


class Sampler(threading.Thread):
    """The sampling thread of one render: runs the shared SampleLoop until a limit or cancel()."""

    def __init__(self, renderer, limits: Limits):
        super().__init__(name="optica-accumulate", daemon=True)
        self.loop = SampleLoop(renderer, limits, BATCH_SECONDS)
        self.renderer = renderer
        self.finished = threading.Event()
        self.reason: str | None = None
        self.error: BaseException | None = None
        self._stopping = threading.Event()

    def cancel(self) -> None:
        self._stopping.set()
        self.renderer.cancel()

    def run(self) -> None:
        try:
            self.reason = self.loop.run(self._stopping)
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread
            self.error = e
        finally:
            self.finished.set()

    def stop_and_join(self) -> None:
        """Cancels and waits (an accumulate() that began just after the cancel is cancelled again)."""
        self.cancel()
        while not self.finished.wait(POLL_SECONDS):
            self.renderer.cancel()
        self.join()


def _interruptible(fn, test_break):
    """fn() on a helper thread while test_break is polled; None once test_break said stop (fn
    then finishes on its own: OIDN cannot be interrupted through pyoidn). Re-raises fn's errors."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["error"] = e

    t = threading.Thread(target=run, name="optica-denoise", daemon=True)
    t.start()
    while t.is_alive():
        t.join(POLL_SECONDS)
        if t.is_alive() and test_break():
            return None
    if "error" in box:
        raise box["error"]
    return box["value"]


def _format_time(seconds: float) -> str:
    m, s = divmod(seconds, 60.0)
    return f"{int(m):02d}:{s:05.2f}"


class FinalSession:
    """One final render of one view layer (see the module docstring)."""

    def __init__(
        self,
        sink,
        test_break=lambda: False,
        job: RenderJob | None = None,
        *,
        status=None,
        passes=(render_passes.COMBINED,),
        progressive: bool = False,
        is_preview: bool = False,
        frame_set=None,
    ):
        self.sink = sink
        self.status = status if status is not None else _NoStatus()
        self.test_break = test_break
        self.job = job if job is not None else RenderJob()
        self.passes = list(passes)
        self.progressive = progressive
        self.is_preview = is_preview
        self.frame_set = frame_set  # the engine's frame_set, for motion blur's sub-frames
        self.approximated = ""  # what the stats say about approximated materials

    def render(self, depsgraph) -> Outcome:
        scene = depsgraph.scene
        limits = Limits.from_scene(scene, self.is_preview)
        self.job.status = self.status
        try:
            return self._render(depsgraph, scene, limits)
        finally:
            self.job.status = None

    def _render(self, depsgraph, scene, limits: Limits) -> Outcome:
        self.status.progress(0.0, "Exporting scene")
        d = apply_frame(self.job.export(depsgraph, frame_set=self.frame_set), scene.render)
        stats = getattr(self.job.exporter, "last_stats", None) or {}
        log.debug("export: %s", stats)
        self.approximated = approximated_note(stats)
        if self.approximated:
            self.status.message("INFO", f"Optica: {self.approximated}")
        if self.test_break():
            return Outcome(reason="cancelled")
        self.status.progress(0.0, "Building BVH")
        renderer = self.job.renderers.get(limits.threads, limits.device)
        if renderer.device_note:
            self.status.message("INFO", renderer.device_note)
        # Only the film buffers this render reads (a 720p film without them is 40 MB smaller).
        renderer.set_film_aovs(self._film_aovs(scene, limits))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SceneWarning)  # said below, in Blender's report
            renderer.set_scene(d)
        if renderer.not_rendered:
            self.status.message(
                "WARNING", f"Optica: {NOT_RENDERED_NOTE} (left out: {' and '.join(renderer.not_rendered)})"
            )
        limits.set_adaptive(renderer)
        _x, _y, w, h = d["render"]["region"]
        try:
            outcome = self._sample(renderer, limits, w * h)
            denoised = None
            if self._wants_denoising(scene) and not outcome.cancelled:
                denoised = self._denoise(scene, renderer, limits, outcome)
            frame = self._final_frame(renderer, denoised, outcome)
            self.sink.write(frame)
        except BaseException:
            self.sink.abort()
            raise
        self.sink.close()
        return outcome

    def _film_aovs(self, scene, limits: Limits) -> set[str]:
        """The film buffers besides colour that the passes, the denoiser and adaptive sampling read."""
        aovs = {p.aov for p in self.passes} - {"color"}
        if self._wants_denoising(scene):
            aovs |= {"albedo", "normal"}
        if limits.noise_threshold > 0:
            aovs.add("noise")
        return aovs

    def _wants_denoising(self, scene) -> bool:
        return not self.is_preview and bool(getattr(scene.optica, "use_denoiser", False))

    def _image(self, p, renderer) -> np.ndarray:
        # A sink that takes rows bottom first (Blender's Render Result) gets images whose memory
        # is laid out that way: one copy of each image instead of two.
        return render_passes.image(p, renderer, bottom_up=getattr(self.sink, "bottom_up", False))

    def _final_frame(self, renderer, denoised: np.ndarray | None, outcome: Outcome) -> Frame:
        combined = denoised if denoised is not None else self._image(render_passes.COMBINED, renderer)
        others = {p.name: self._image(p, renderer) for p in self.passes if p is not render_passes.COMBINED}
        return Frame(combined, passes=others, samples=outcome.samples)

    def _denoise(self, scene, renderer, limits: Limits, outcome: Outcome) -> np.ndarray | None:
        """The denoised image, or None when cancelled meanwhile or the denoiser is unavailable or
        failed (said in the render's report; the noisy image stays)."""
        quality = str(getattr(scene.optica, "denoiser_quality", "HIGH")).lower()
        self.status.progress(1.0, f"Denoising ({quality})")
        t0 = time.perf_counter()
        try:
            image = _interruptible(
                lambda: self.job.denoisers.denoise(renderer, quality, limits.threads), self.test_break
            )
        except Exception as e:  # noqa: BLE001 - a denoiser problem never fails the render
            text = denoiser_problem(e)
            log.warning("%s", text)
            self.status.message("WARNING", f"Optica: {text}; the image is not denoised")
            return None
        if image is None:
            outcome.reason = "cancelled"
            return None
        outcome.denoised = True
        outcome.denoise_seconds = time.perf_counter() - t0
        return image

    def _sample(self, renderer, limits: Limits, pixels: int) -> Outcome:
        sampler = Sampler(renderer, limits)
        sampler.start()
        last_update, update_cost, cancelled = 0.0, 0.0, False
        try:
            while not sampler.finished.wait(POLL_SECONDS):
                if cancelled:
                    renderer.cancel()  # an accumulate() that began just after the first cancel
                elif self.test_break():
                    cancelled = True
                    sampler.cancel()
                elif time.perf_counter() - last_update >= max(UPDATE_SECONDS, 10 * update_cost):
                    t0 = time.perf_counter()
                    self._refresh(renderer)
                    self._progress(renderer, limits, sampler.loop.elapsed, pixels)
                    last_update = time.perf_counter()
                    update_cost = last_update - t0
        except BaseException:
            # Ctrl-C or a sink error: the sampling thread must not outlive the render.
            sampler.stop_and_join()
            raise
        sampler.join()
        if sampler.error is not None:
            raise sampler.error
        self._progress(renderer, limits, sampler.loop.elapsed, pixels)
        return Outcome(samples=renderer.samples, seconds=sampler.loop.elapsed, reason=sampler.reason or "")

    def _refresh(self, renderer) -> None:
        """A progressive frame for sinks that show the render while it samples (no copy otherwise)."""
        if self.progressive:
            image = self._image(render_passes.COMBINED, renderer)
            self.sink.write(Frame(image, samples=renderer.samples, final=False))

    def _progress(self, renderer, limits: Limits, elapsed: float, pixels: int) -> None:
        n = renderer.samples
        fraction = n / limits.samples
        if limits.time_limit > 0:
            fraction = max(fraction, elapsed / limits.time_limit)
        rate = n * pixels / max(elapsed, 1e-6) / 1e6
        info = f"Sample {n}/{limits.samples} | Time {_format_time(elapsed)} | {rate:.2f} M samples/s"
        if self.approximated:
            info += f" | {self.approximated}"
        self.status.progress(fraction, info)


# ---------------------------------------------------------------------------------------------
# RenderEngine entry points


def render(engine, depsgraph, test_break=None) -> None:
    """RenderEngine.render: one view layer of a final (or material preview) render.

    test_break: what says "stop" (default: the engine's test_break, i.e. Esc). A Python
    override of RenderEngine.test_break is not seen through `engine.test_break` (bpy finds
    the RNA function first), hence the argument."""
    scene, view_layer = depsgraph.scene, depsgraph.view_layer
    job = RenderJob() if engine.is_preview else job_for(scene, view_layer)
    session = FinalSession(
        RenderResultSink(engine, view_layer),
        test_break or engine.test_break,
        job,
        status=EngineStatus(engine),
        passes=render_passes.enabled_passes(view_layer, scene),
        progressive=True,
        is_preview=engine.is_preview,
        frame_set=engine.frame_set,
    )
    try:
        outcome = session.render(depsgraph)
    except Exception as e:  # a bad scene is the user's to fix, not a crash
        log.exception("Optica render failed")
        engine.report({'ERROR'}, f"Optica: {e}")
        engine.error_set(f"Optica: {e}")
        return
    log.info("rendered %d samples in %.2f s (%s)", outcome.samples, outcome.seconds, outcome.reason)


def update_render_passes(engine, scene, view_layer) -> None:
    render_passes.register_passes(engine, scene, view_layer)
