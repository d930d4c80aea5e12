# SPDX-License-Identifier: GPL-3.0-or-later
"""The viewport's sampling thread: one per session; the only code that touches its renderer
and denoiser, never bpy. It takes the newest job, publishes images, and rests when done.

After every change, one sample at 4× the pixel size (more when the scene is heavy, see
`start_pixel_size`), one at half that, …, then progressive batches at full resolution (Cycles'
reduced-resolution start; batches of the shared `sampling.SampleLoop`) up to the viewport's
sample count. The job's scene is validated once; each film size only replaces its camera and
render settings (`optica_core.scene.with_view`). With the denoiser on, the image is denoised (OIDN through
the shared `DenoiserSlot`, quality `viewport_denoiser_quality`) from `denoiser_start` samples
on, as often as the denoiser's cost allows, and at the end. Every image is a `DrawFrame` (an
optica_core.sinks Frame) published through the session (`ViewportSession.publish`: stamped with
the scene's colour view, handed to its sinks: the display, a video writer).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

from optica_core.scene import CheckedArrays, validate_scene, with_view
from optica_core.sinks import Frame

from ..sampling import DenoiserSlot, Limits, RendererSlot, SampleLoop, denoiser_problem
from .framing import ViewFrame

log = logging.getLogger(__name__)

PIXEL_STEPS = (4, 2, 1)  # reduced-resolution start after every change, as Cycles does
# A heavier scene starts coarser, as Cycles' viewport does (RenderScheduler: the start divider
# from the measured time per sample, the long side kept at its Start Resolution, 64 pixels by
# default, or more): the first image after a change is one sample that should take at most
# this long (issue 11: first new pixels within 20 ms of a change).
FIRST_SAMPLE_SECONDS = 0.006
MIN_LONG_SIDE = 64
BATCH_SECONDS = 0.1  # target duration of one full-resolution accumulate() batch
DENOISE_INTERVAL = 0.5  # seconds between viewport denoises (at least 2× their cost)
JOIN_SECONDS = 5.0  # how long stop() waits for the worker
ALIVE_POLL = 0.5  # how often a resting worker checks that its engine still exists


def pixel_sizes(base: int, start: int = PIXEL_STEPS[0]) -> tuple[int, ...]:
    """The pixel sizes of one job, times Blender's viewport pixel size `base`: `start`, then
    halved down to 1 (4, 2, 1 by default)."""
    steps = [max(1, start)]
    while steps[-1] > 1:
        steps.append(steps[-1] // 2)
    return tuple(step * max(1, base) for step in steps)


def start_pixel_size(seconds_per_pixel: float | None, size: tuple[int, int], base: int = 1) -> int:
    """The first step of `pixel_sizes` for a film of `size` region pixels: PIXEL_STEPS[0], or
    the coarser step whose one sample is predicted (from the measured seconds per film pixel and
    sample) to take FIRST_SAMPLE_SECONDS, as long as the long side keeps MIN_LONG_SIDE pixels."""
    first = PIXEL_STEPS[0]
    if not seconds_per_pixel or seconds_per_pixel <= 0:
        return first
    base = max(1, base)
    pixels = max(1, size[0]) * max(1, size[1]) / (base * base)
    coarsest = max(first, max(size) // (MIN_LONG_SIDE * base))
    step = first
    while step < coarsest and seconds_per_pixel * pixels / (step * step) > FIRST_SAMPLE_SECONDS:
        step += 1
    return step


@dataclass(frozen=True)
class Settings:
    """What the worker reads from scene.optica (through the session)."""

    samples: int = 64
    threads: int = 0
    device: str = "CPU"  # the core's device for the render panel's Device (addon/sampling.py)
    denoise: bool = False
    denoise_start: int = 1
    denoise_quality: str = "balanced"

    @classmethod
    def from_scene(cls, scene) -> Settings:
        s = getattr(scene, "optica", None)
        if s is None:
            return cls()
        limits = Limits.viewport(scene)
        quality = str(getattr(s, "viewport_denoiser_quality", "BALANCED")).lower()
        return cls(
            samples=limits.samples,
            threads=limits.threads,
            device=limits.device,
            denoise=bool(s.use_denoiser),
            denoise_start=max(1, int(s.denoiser_start)),
            denoise_quality=quality if quality in ("fast", "balanced", "high") else "balanced",
        )


@dataclass(frozen=True, eq=False)
class DrawFrame(Frame):
    """One viewport image: `pixels` (h, w, 4) float32 linear RGBA, top row first, to be drawn
    over region rectangle `rect` (x, y from the bottom-left, w, h) — `pixel_size` region pixels
    per film pixel, in a region of `region` (w, h) pixels. `index` counts the session's images;
    `view`: the scene's colour view when it was published (optica_core.sinks.colour)."""

    pixel_size: int = 1
    rect: tuple = (0, 0, 1, 1)
    region: tuple = ()  # () when not known: the film is the whole picture
    target: int = 0
    denoised: bool = False
    generation: int = 0

    @property
    def serial(self) -> int:
        return self.index


@dataclass
class Job:
    generation: int
    scene: dict  # exported scene (its camera and frame size are replaced per pixel size)
    frame: ViewFrame
    threads: int
    posted: float  # perf_counter when update() began
    base_pixel_size: int = 1
    device: str = "CPU"


@dataclass
class JobStats:
    """What the worker did for one generation (tests and bench/viewport.py read it)."""

    generation: int
    posted: float = 0.0  # perf_counter when update() began
    taken: float | None = None  # when the worker took the job (after the running batch returned)
    first_pixels: float | None = None  # when the first image was published
    first_accumulate: float | None = None  # seconds of the first (reduced-resolution) accumulate
    set_scene_seconds: list = field(default_factory=list)
    geometry_reused: int | None = None  # Renderer.geometry_reused after the job's first set_scene
    geometries: int = 0
    pixel_sizes: list = field(default_factory=list)  # of the published images, in order
    samples: int = 0
    denoised: int = 0
    done: bool = False


@dataclass
class _Progress:
    """Where the worker is in one job."""

    sizes: tuple = PIXEL_STEPS
    index: int = 0  # into sizes
    scene: dict | None = None  # the job's scene, validated once (an optica_core NormalisedScene)
    scene_set: bool = False
    rect: tuple = (0, 0, 1, 1)
    loop: SampleLoop | None = None  # the full-resolution sampling
    denoised_at: int = -1  # sample count of the last denoised image
    denoised_time: float = 0.0
    denoise_cost: float = 0.0
    finished: bool = False

    @property
    def pixel_size(self) -> int:
        return self.sizes[self.index]

    @property
    def at_full(self) -> bool:
        return self.index == len(self.sizes) - 1


class Worker(threading.Thread):
    """The sampling thread (see the module docstring). `post`, `nudge`, `wake` and `stop` are
    called from other threads."""

    def __init__(self, session, on_redraw, alive):
        super().__init__(name="optica-viewport", daemon=True)
        self._session = weakref.ref(session)  # the session may be dropped without stop()
        self._on_redraw = on_redraw
        self._alive = alive
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.published = threading.Event()
        self._pending: Job | None = None
        self._posted_at = 0.0
        self._renderers = RendererSlot()
        self._checked = CheckedArrays()  # the arrays of the last job's scene, checked once
        self._seconds_per_pixel = None  # one sample of one film pixel, measured at a reduced size
        self._denoisers = DenoiserSlot()
        self._denoiser_failed = False
        self.frame: DrawFrame | None = None
        self.stats: dict[int, JobStats] = {}
        self.samples = 0  # samples of the image being refined (the drawn one may be older)
        self.error = ""
        self.message = ""
        self.busy = False
        self._serial = 0

    # ---- called from other threads ----------------------------------------------------------

    def post(self, job: Job) -> None:
        with self._lock:
            self._pending = job
            self._posted_at = time.perf_counter()
            self.busy = True
            self.error = ""
            self.stats[job.generation] = JobStats(job.generation, posted=job.posted)
            for old in [g for g in self.stats if g < job.generation - 8]:
                del self.stats[old]
        self._cancel()
        self._wake.set()

    def nudge(self) -> None:
        """Cancels again while a posted job waits: a cancel that reached the renderer just
        before an accumulate() began is cleared by it (the core resets its flag on entry)."""
        if self._pending is not None and time.perf_counter() - self._posted_at > 0.005:
            self._cancel()

    def wake(self) -> None:
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self, wait: bool = True) -> None:
        """Asks the thread to stop; with `wait`, waits up to JOIN_SECONDS for it. Without, it
        finishes what cannot be interrupted (a scene build) on its own, then ends."""
        self._stopping.set()
        self._cancel()
        self._wake.set()
        if wait and self.is_alive() and threading.current_thread() is not self:
            self.join(JOIN_SECONDS)
            if self.is_alive():
                log.error("Optica viewport thread did not stop within %.0f s", JOIN_SECONDS)

    def _cancel(self) -> None:
        r = self._renderers.renderer
        if r is not None:
            r.cancel()

    # ---- the thread ---------------------------------------------------------------------------

    def run(self):
        try:
            self._loop()
        except BaseException as e:  # noqa: BLE001 - reported in the viewport, never raised into Blender
            log.exception("Optica viewport thread failed")
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.busy = False
            self._denoisers.close()
            self._renderers.drop()
            self.published.set()

    def _should_stop(self) -> bool:
        if self._stopping.is_set() or self._session() is None:
            return True
        if self._alive is not None and not self._alive():
            log.info("Optica viewport: the render engine is gone, stopping")
            return True
        return False

    def _take(self) -> Job | None:
        with self._lock:
            job, self._pending = self._pending, None
            return job

    def _loop(self):
        job, state = None, None
        while not self._should_stop():
            new = self._take()
            if new is not None:
                start = start_pixel_size(self._seconds_per_pixel, new.frame.rect[2:], new.base_pixel_size)
                job, state = new, _Progress(sizes=pixel_sizes(new.base_pixel_size, start))
                st = self.stats.get(job.generation)
                if st is not None:
                    st.taken = time.perf_counter()
            if job is None or state is None or state.finished:
                with self._lock:
                    self.busy = self._pending is not None
                self._wake.wait(ALIVE_POLL)
                self._wake.clear()
                if state is not None and state.finished and self._pending is None:
                    state.finished = not self._more_to_do(state)
                continue
            try:
                self._step(job, state)
            except Exception as e:  # noqa: BLE001 - a bad scene: say so, wait for the next change
                log.exception("Optica viewport render failed")
                self.error = f"{type(e).__name__}: {e}"
                state.finished = True
                self.published.set()
                self._redraw()

    def _settings(self) -> Settings:
        session = self._session()
        return session.settings if session is not None else Settings()

    def _more_to_do(self, state: _Progress) -> bool:
        """A finished job goes on when the settings now ask for more samples, for a denoised
        image, or for the noisy one again."""
        s, r = self._settings(), self._renderers.renderer
        if r is None or not state.at_full:
            return False
        if r.samples < s.samples:
            return True
        if self._denoising(s, r):
            return state.denoised_at != r.samples
        return self.frame is not None and self.frame.denoised

    def _denoising(self, settings: Settings, r) -> bool:
        return settings.denoise and not self._denoiser_failed and r.samples >= settings.denoise_start

    def _job_stats(self, job: Job) -> JobStats:
        st = self.stats.get(job.generation)
        if st is None:
            st = self.stats[job.generation] = JobStats(job.generation)
        return st

    def _step(self, job: Job, state: _Progress) -> None:
        """One unit of work: the scene for the next pixel size, one reduced-resolution sample,
        one full-resolution batch, or one denoise; each publishes what it produced."""
        r = self._renderers.get(job.threads, job.device)
        st = self._job_stats(job)
        settings = self._settings()
        if not state.scene_set:
            self._set_scene(r, job, st, state)
            return
        if self._pending is not None:
            return
        if not state.at_full:
            self._reduced_sample(r, job, st, state, settings)
            return
        self._full_batch(r, job, st, state, settings)

    def _reduced_sample(self, r, job: Job, st: JobStats, state: _Progress, settings: Settings) -> None:
        t = time.perf_counter()
        r.accumulate(1)
        seconds = time.perf_counter() - t
        if st.first_accumulate is None:
            st.first_accumulate = seconds
        if r.samples >= 1 and state.index == 0:  # a whole sample: what the next job's start is chosen by
            fw, fh = job.frame.at(state.pixel_size)[1]
            self._seconds_per_pixel = seconds / (fw * fh)
        if self._pending is None and r.samples >= 1:
            self._publish(job, st, state, r.color, denoised=False, target=settings.samples)
            state.index += 1
            state.scene_set = False

    def _full_batch(self, r, job: Job, st: JobStats, state: _Progress, settings: Settings) -> None:
        loop = state.loop
        if loop is None:
            loop = state.loop = SampleLoop(r, Limits(settings.samples), BATCH_SECONDS)
        if loop.limits.samples != settings.samples:
            loop.limits = Limits(settings.samples)
        if loop.stop_reason() is None:
            loop.step()
            self.samples = r.samples
            if self._pending is not None:
                return
            if not self._denoising(settings, r):
                self._publish(job, st, state, r.color, denoised=False, target=settings.samples)
        denoising = self._denoising(settings, r)
        if denoising and state.denoised_at != r.samples:
            last = r.samples >= settings.samples
            due = time.perf_counter() - state.denoised_time >= max(DENOISE_INTERVAL, 2.0 * state.denoise_cost)
            if last or due or state.denoised_at < 0:
                self._denoise(job, st, state, r, settings)
                denoising = self._denoising(settings, r)
        elif not denoising and self.frame is not None and self.frame.denoised:
            self._publish(job, st, state, r.color, denoised=False, target=settings.samples)
        if r.samples >= settings.samples and (not denoising or state.denoised_at == r.samples):
            state.finished = True
            st.done = True
            st.samples = r.samples
            self.published.set()

    def _set_scene(self, r, job: Job, st: JobStats, state: _Progress) -> None:
        t = time.perf_counter()
        if state.scene is None:
            state.scene = validate_scene(job.scene, checked=self._checked)
        cam, (fw, fh), state.rect = job.frame.at(state.pixel_size)
        render = {k: v for k, v in state.scene["render"].items() if k != "region"}
        render.update(width=fw, height=fh)
        r.set_scene(with_view(state.scene, cam, render))
        st.set_scene_seconds.append(time.perf_counter() - t)
        if st.geometry_reused is None:
            st.geometry_reused = r.geometry_reused
            st.geometries = len(job.scene.get("meshes") or {}) + len(job.scene.get("spheres") or {})
        self.error = ""
        self.samples = 0
        state.scene_set = True
        state.loop = None

    def _denoise(self, job: Job, st: JobStats, state: _Progress, r, settings: Settings) -> None:
        t = time.perf_counter()
        try:
            image = self._denoisers.denoise(r, settings.denoise_quality, job.threads)
        except Exception as e:  # noqa: BLE001 - keep showing the noisy image
            self._denoiser_failed = True
            self.message = denoiser_problem(e)
            log.warning("Optica viewport: %s", self.message)
            self._publish(job, st, state, r.color, denoised=False, target=settings.samples)
            return
        state.denoise_cost = time.perf_counter() - t
        state.denoised_time = time.perf_counter()
        state.denoised_at = r.samples
        st.denoised += 1
        self._publish(job, st, state, image, denoised=True, target=settings.samples)

    def _publish(self, job: Job, st: JobStats, state: _Progress, image, *, denoised: bool, target: int) -> None:
        pixels = np.array(image, dtype=np.float32, copy=True)
        self._serial += 1
        r = self._renderers.renderer
        samples = r.samples if r is not None else 0
        frame = DrawFrame(
            pixels,
            index=self._serial,
            samples=samples,
            final=False,
            pixel_size=state.pixel_size,
            rect=state.rect,
            target=target,
            denoised=denoised,
            generation=job.generation,
            region=job.frame.region,
        )
        if st.first_pixels is None:
            st.first_pixels = time.perf_counter()
        st.pixel_sizes.append(state.pixel_size)
        st.samples = samples
        session = self._session()
        if session is not None:
            session.publish(frame)  # sets self.frame
        else:
            self.frame = frame
        self.published.set()
        self._redraw()

    def _redraw(self) -> None:
        if self._on_redraw is not None:
            try:
                self._on_redraw()
            except Exception:  # noqa: BLE001 - the engine may be going away
                pass
