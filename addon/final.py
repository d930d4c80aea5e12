# SPDX-License-Identifier: GPL-3.0-or-later
"""The final-render session: export the scene, accumulate samples, hand the image over.

    FinalSession(output, test_break, job).render(depsgraph) -> Outcome

- `output` receives the images: `BlenderOutput` writes Blender's render result through a
  RenderEngine; `ArrayOutput` keeps numpy arrays (scripts, tests). The session does not know
  which.
- `test_break` is any callable returning True once the render should stop (the engine's
  `test_break`, i.e. Esc). The session answers within half a second and keeps what it has.
- `job` (a `RenderJob`) is what renders of one scene keep between frames: the exporter, so a
  frame of an animation re-converts only what changed, and the renderer, so unchanged
  geometry keeps its BVH. `job_for()` keeps one per scene and view layer until the render
  job ends (`release_jobs`, on `render_complete` / `render_cancel`).

Sampling runs on a worker thread (`optica_core.Renderer.accumulate` releases the GIL) in
batches of ~0.2 s, while the calling thread polls `test_break`, refreshes the visible result
and reports progress. It stops at `scene.optica.samples`, at `time_limit` seconds of sampling,
or once the noise estimate of (almost) every pixel is below `noise_threshold`.

With `scene.optica.use_denoiser` the finished image is denoised (OIDN, `denoise.py`, quality
`denoiser_quality`, guided by albedo and normals; the job keeps the denoiser between frames):
Combined is the denoised image and the "Noisy Image" pass keeps the raw one. A cancelled render
is not denoised; a denoiser that is missing or fails is reported and the render keeps the noisy
image. Material previews (`is_preview`) take at most PREVIEW_SAMPLES samples, not denoised.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import passes as render_passes

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05  # how often test_break is asked
BATCH_SECONDS = 0.2  # target duration of one accumulate() call
UPDATE_SECONDS = 0.3  # shortest interval between refreshes of the visible result
CONVERGED_FRACTION = 0.999  # noise threshold reached when this fraction of pixels is below it
PREVIEW_SAMPLES = 32  # most samples of a material / light / world preview


# ---------------------------------------------------------------------------------------------
# settings


@dataclass(frozen=True)
class Limits:
    """When sampling stops."""

    samples: int  # samples per pixel
    time_limit: float = 0.0  # seconds of sampling; 0 = none
    noise_threshold: float = 0.0  # 0 = off
    threads: int = 0  # 0 = all cores

    @classmethod
    def from_scene(cls, scene, is_preview: bool = False) -> "Limits":
        s = scene.optica
        samples = min(s.viewport_samples, PREVIEW_SAMPLES) if is_preview else s.samples
        return cls(max(1, samples), max(0.0, s.time_limit), max(0.0, s.noise_threshold), max(0, s.threads))

    @property
    def noise_min_samples(self) -> int:
        """Samples before the noise estimate is trusted."""
        return min(self.samples, max(16, math.isqrt(self.samples)))


def frame_region(render) -> tuple[int, int, int, int, int, int]:
    """(width, height, x, y, w, h): the frame after resolution percentage and the part of it
    Blender's render result covers (render border), x/y from the top-left corner.

    Blender truncates border × size computed in float32 (`re_init_resolution`); so do we, or a
    one-pixel difference makes the film and the render result disagree.
    """
    width = render.resolution_x * render.resolution_percentage // 100
    height = render.resolution_y * render.resolution_percentage // 100
    if not render.use_border:
        return width, height, 0, 0, width, height
    f32 = np.float32
    xmin = int(f32(render.border_min_x) * f32(width))
    xmax = int(f32(render.border_max_x) * f32(width))
    ymin = int(f32(render.border_min_y) * f32(height))  # from the bottom
    ymax = int(f32(render.border_max_y) * f32(height))
    return width, height, xmin, height - ymax, xmax - xmin, ymax - ymin


def apply_frame(d: dict, render) -> dict:
    """Sets the scene dict's frame size and region to what Blender's render result expects."""
    width, height, x, y, w, h = frame_region(render)
    if w < 1 or h < 1:
        raise ValueError(f"the render region is empty ({w}×{h} pixels)")
    r = d.setdefault("render", {})
    want = {"width": width, "height": height, "region": [x, y, w, h]}
    for key, value in want.items():
        have = r.get(key)
        if have is not None and list(np.atleast_1d(have)) != list(np.atleast_1d(value)):
            log.warning("render.%s: exporter wrote %r, Blender renders %r", key, have, value)
        r[key] = value
    return d


# ---------------------------------------------------------------------------------------------
# outputs: where images go


class ArrayOutput:
    """Keeps the result as numpy arrays: `images[pass name]` is (h, w, channels) float32, top
    row first. For scripts and tests; also records messages and progress."""

    def __init__(self, passes=(render_passes.COMBINED,)):
        self.passes = list(passes)
        self.images: dict[str, np.ndarray] = {}
        self.messages: list[tuple[str, str]] = []
        self.updates = 0
        self.progress_info = ""
        self.size = None

    def begin(self, width, height):
        self.size = (width, height)

    def update(self, renderer):
        self.images[render_passes.COMBINED.name] = render_passes.image(render_passes.COMBINED, renderer)
        self.updates += 1

    def end(self, renderer, images=None):
        """images: pass name → (h, w, c) array replacing the renderer's (the denoised Combined)."""
        for p in self.passes:
            given = (images or {}).get(p.name)
            self.images[p.name] = render_passes.image(p, renderer) if given is None else np.array(given, np.float32)

    def abort(self):
        pass

    def progress(self, fraction, info):
        self.progress_info = info

    def message(self, level, text):
        self.messages.append((level, text))


class BlenderOutput:
    """Writes Blender's render result through a RenderEngine (one view layer)."""

    def __init__(self, engine, view_layer, scene=None):
        self.engine = engine
        self.layer_name = view_layer.name
        self.passes = render_passes.enabled_passes(view_layer, scene)
        self._result = None

    def begin(self, width, height):
        # Coordinates are relative to the region Blender renders (the border, if any), from
        # its bottom-left corner; Blender pastes it into the full frame unless cropping.
        result = self.engine.begin_result(0, 0, width, height, layer=self.layer_name)
        if (result.resolution_x, result.resolution_y) != (width, height):
            self.engine.end_result(result, cancel=True)
            raise RuntimeError(f"Blender's render result is {result.resolution_x}×{result.resolution_y} "
                               f"pixels, the film {width}×{height}")
        self._result = result

    def _write(self, p, renderer, image=None):
        rows = render_passes.blender_rows(render_passes.image(p, renderer) if image is None else image)
        for rp in self._result.layers[0].passes:  # one per view (stereo: the same image)
            if rp.name == p.name:
                rp.rect = rows

    def update(self, renderer):
        self._write(render_passes.COMBINED, renderer)
        self.engine.update_result(self._result)

    def end(self, renderer, images=None):
        for p in self.passes:
            self._write(p, renderer, (images or {}).get(p.name))
        self.engine.end_result(self._result)
        self._result = None

    def abort(self):
        if self._result is not None:
            self.engine.end_result(self._result, cancel=True)
            self._result = None

    def progress(self, fraction, info):
        self.engine.update_progress(min(1.0, max(0.0, fraction)))
        self.engine.update_stats("", info)

    def message(self, level, text):
        self.engine.report({level}, text)


# ---------------------------------------------------------------------------------------------
# what renders of one scene keep between frames


class RenderJob:
    """The exporter and the renderer of one scene's view layer, kept across the frames of a
    render job (never any bpy data: the exporter returns plain dicts)."""

    def __init__(self):
        self.exporter = None
        self.renderer = None
        self._threads = None
        self.output = None  # the current render's output, for the exporter's messages
        self.denoiser = None  # kept between frames: OIDN sets a filter up once per image size

    def _message(self, level: str, text: str):
        """The exporter's log(level, message), level 'WARNING' / 'INFO' / 'ERROR': to the
        current render's report (Blender's info log) and to Python logging."""
        level = level.upper() if level.upper() in ("INFO", "WARNING", "ERROR") else "WARNING"
        log.log(logging.getLevelName(level), "%s", text)
        if self.output is not None:
            self.output.message(level, str(text))

    def export(self, depsgraph) -> dict:
        if self.exporter is None:
            from .export import SceneExporter

            self.exporter = SceneExporter(log=self._message)
        return self.exporter.export(depsgraph)

    def denoiser_for(self, quality: str, threads: int):
        """The job's Denoiser (made on first use, again when the quality changes); raises
        denoise.DenoiserError when OIDN is unavailable."""
        from . import denoise

        d = self.denoiser
        if d is None or d.quality != quality:
            if d is not None:
                d.close()
            self.denoiser = None
            self.denoiser = denoise.Denoiser(quality, threads=threads)
        return self.denoiser

    def renderer_for(self, threads: int):
        import optica_core

        if self.renderer is None or self._threads != threads:
            self.renderer = optica_core.Renderer(threads)
            self._threads = threads
        return self.renderer


_jobs: dict[tuple[str, str], RenderJob] = {}


def job_for(scene, view_layer) -> RenderJob:
    return _jobs.setdefault((scene.name, view_layer.name), RenderJob())


def release_jobs(scene=None, keep_persistent: bool = True) -> None:
    """Drops the jobs of `scene` (all scenes when None), unless the scene keeps its render
    data (Render > Performance > Persistent Data). A render_complete / render_cancel handler."""
    name = getattr(scene, "name", None)
    if keep_persistent and scene is not None and getattr(scene.render, "use_persistent_data", False):
        return
    for key in [k for k in _jobs if name is None or k[0] == name]:
        del _jobs[key]


# ---------------------------------------------------------------------------------------------
# sampling


class _Accumulator(threading.Thread):
    """Calls renderer.accumulate() in batches of ~BATCH_SECONDS until a limit is reached or
    cancel() is called. `reason` says why it stopped."""

    def __init__(self, renderer, limits: Limits):
        super().__init__(name="optica-accumulate", daemon=True)
        self.renderer = renderer
        self.limits = limits
        self.finished = threading.Event()
        self.reason = None  # 'samples', 'time', 'noise', 'cancelled'
        self.error = None
        self.started = time.perf_counter()
        self._stopping = threading.Event()

    def cancel(self):
        self._stopping.set()
        self.renderer.cancel()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def run(self):
        try:
            self._loop()
        except BaseException as e:  # handed to the calling thread
            self.error = e
        finally:
            self.finished.set()

    def _loop(self):
        per_sample = None
        while (reason := self._stop_reason()) is None:
            k = self._batch(per_sample)
            t0 = time.perf_counter()
            done = self.renderer.accumulate(k)
            if done > 0:
                per_sample = (time.perf_counter() - t0) / done
            elif not self._stopping.is_set():
                reason = "noise"  # the core's adaptive sampling stopped every tile
                break
        self.reason = reason

    def _stop_reason(self):
        lim, r = self.limits, self.renderer
        if self._stopping.is_set():
            return "cancelled"
        if r.samples >= lim.samples:
            return "samples"
        if lim.time_limit > 0 and self.elapsed >= lim.time_limit:
            return "time"
        if lim.noise_threshold > 0 and r.samples >= lim.noise_min_samples and _noise_reached(r, lim):
            return "noise"
        return None

    def _batch(self, per_sample) -> int:
        remaining = self.limits.samples - self.renderer.samples
        if per_sample is None:
            return 1
        k = max(1, int(BATCH_SECONDS / max(per_sample, 1e-9)))
        if self.limits.time_limit > 0:
            k = min(k, max(1, int((self.limits.time_limit - self.elapsed) / max(per_sample, 1e-9))))
        return max(1, min(k, remaining))


def _noise_reached(renderer, limits: Limits) -> bool:
    """True once adaptive sampling stopped every tile, or (almost) every pixel's noise
    estimate is below the threshold."""
    return renderer.converged or renderer.converged_fraction(limits.noise_threshold) >= CONVERGED_FRACTION


def _use_adaptive(renderer, limits: Limits) -> None:
    threshold = limits.noise_threshold
    renderer.set_adaptive(threshold, limits.noise_min_samples if threshold > 0 else 16)


# ---------------------------------------------------------------------------------------------
# the session


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


def _wants_denoising(scene, is_preview: bool) -> bool:
    return not is_preview and bool(getattr(scene.optica, "use_denoiser", False))


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

    def __init__(self, output, test_break=lambda: False, job: RenderJob | None = None, is_preview=False):
        self.output = output
        self.test_break = test_break
        self.job = job if job is not None else RenderJob()
        self.is_preview = is_preview

    def render(self, depsgraph) -> Outcome:
        scene = depsgraph.scene
        limits = Limits.from_scene(scene, self.is_preview)
        self.job.output = self.output
        try:
            return self._render(depsgraph, scene, limits)
        finally:
            self.job.output = None

    def _render(self, depsgraph, scene, limits) -> Outcome:
        self.output.progress(0.0, "Exporting scene")
        d = apply_frame(self.job.export(depsgraph), scene.render)
        log.debug("export: %s", getattr(self.job.exporter, "last_stats", None))
        if self.test_break():
            return Outcome(reason="cancelled")
        self.output.progress(0.0, "Building BVH")
        renderer = self.job.renderer_for(limits.threads)
        renderer.set_scene(d)
        _use_adaptive(renderer, limits)
        _x, _y, w, h = d["render"]["region"]
        self.output.begin(w, h)
        try:
            outcome = self._sample(renderer, limits, w * h)
            images = None
            if _wants_denoising(scene, self.is_preview) and not outcome.cancelled:
                images = self._denoise(scene, renderer, limits, outcome)
        except BaseException:
            self.output.abort()
            raise
        self.output.end(renderer, images)
        return outcome

    def _denoise(self, scene, renderer, limits: Limits, outcome: "Outcome") -> dict | None:
        """{'Combined': denoised image}, or None when cancelled meanwhile or the denoiser is
        unavailable or failed (said in the render's report; the noisy image stays)."""
        from . import denoise

        quality = str(getattr(scene.optica, "denoiser_quality", "HIGH")).lower()
        self.output.progress(1.0, f"Denoising ({quality})")
        t0 = time.perf_counter()
        try:
            denoiser = self.job.denoiser_for(quality, limits.threads)
            image = _interruptible(lambda: denoise.denoise_renderer(denoiser, renderer), self.test_break)
        except Exception as e:  # noqa: BLE001 - a denoiser problem never fails the render
            text = str(e) if isinstance(e, denoise.DenoiserError) else f"Denoising failed: {type(e).__name__}: {e}"
            log.warning("%s", text)
            self.output.message("WARNING", f"Optica: {text}; the image is not denoised")
            return None
        if image is None:
            outcome.reason = "cancelled"
            return None
        outcome.denoised = True
        outcome.denoise_seconds = time.perf_counter() - t0
        return {render_passes.COMBINED.name: image}

    def _sample(self, renderer, limits: Limits, pixels: int) -> Outcome:
        acc = _Accumulator(renderer, limits)
        acc.start()
        last_update, update_cost, cancelled = 0.0, 0.0, False
        try:
            while not acc.finished.wait(POLL_SECONDS):
                if cancelled:
                    renderer.cancel()  # an accumulate() that began just after the first cancel
                elif self.test_break():
                    cancelled = True
                    acc.cancel()
                elif time.perf_counter() - last_update >= max(UPDATE_SECONDS, 10 * update_cost):
                    t0 = time.perf_counter()
                    self.output.update(renderer)
                    self._progress(renderer, limits, acc.elapsed, pixels)
                    last_update = time.perf_counter()
                    update_cost = last_update - t0
        except BaseException:
            # Ctrl-C or an output error: the sampling thread must not outlive the render.
            acc.cancel()
            while not acc.finished.wait(POLL_SECONDS):
                renderer.cancel()
            acc.join()
            raise
        acc.join()
        if acc.error is not None:
            raise acc.error
        self._progress(renderer, limits, acc.elapsed, pixels)
        return Outcome(samples=renderer.samples, seconds=acc.elapsed, reason=acc.reason)

    def _progress(self, renderer, limits: Limits, elapsed: float, pixels: int):
        n = renderer.samples
        fraction = n / limits.samples
        if limits.time_limit > 0:
            fraction = max(fraction, elapsed / limits.time_limit)
        rate = n * pixels / max(elapsed, 1e-6) / 1e6
        info = f"Sample {n}/{limits.samples} | Time {_format_time(elapsed)} | {rate:.2f} M samples/s"
        self.output.progress(fraction, info)


# ---------------------------------------------------------------------------------------------
# RenderEngine entry points


def render(engine, depsgraph, test_break=None) -> None:
    """RenderEngine.render: one view layer of a final (or material preview) render.

    test_break: what says "stop" (default: the engine's test_break, i.e. Esc). A Python
    override of RenderEngine.test_break is not seen through `engine.test_break` (bpy finds
    the RNA function first), hence the argument."""
    scene, view_layer = depsgraph.scene, depsgraph.view_layer
    output = BlenderOutput(engine, view_layer, scene)
    job = RenderJob() if engine.is_preview else job_for(scene, view_layer)
    session = FinalSession(output, test_break or engine.test_break, job, is_preview=engine.is_preview)
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
