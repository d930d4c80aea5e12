# SPDX-License-Identifier: GPL-3.0-or-later
"""The one sampling loop of every session — Blender's final render, viewport and video export,
the standalone renderer and the farm's workers: when sampling stops (`Limits`), how many samples
one `accumulate()` call takes (`SampleLoop`), and the renderer a session keeps (`RendererSlot`).

    loop = SampleLoop(renderer, Limits(samples=128, noise_threshold=0.01), batch_seconds=0.2)
    reason = loop.run(stopping)        # 'samples', 'time', 'noise' or 'cancelled' (a thread's body)
    # or one batch at a time (the viewport): while loop.stop_reason() is None: loop.step()

A batch is sized from the measured time per sample so that one call takes about
`batch_seconds` (the first batch is one sample), never past the sample count or the time limit.
For a scene, a seed and a sample count the image is bit-identical however the batches fall and
however many threads run (the core's determinism): a frame rendered on a farm equals the same
frame rendered by Blender's Render Result. No bpy here: the add-on builds `Limits` from
`scene.optica` (addon/sampling.py).
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields

CONVERGED_FRACTION = 0.999  # noise threshold reached when this fraction of pixels is below it


@dataclass(frozen=True)
class Limits:
    """When sampling stops: `samples` per pixel, `time_limit` seconds of sampling (0 = none),
    `noise_threshold` (Cycles' noise metric; 0 = off). `threads`: render threads, 0 = all cores;
    `device`: the renderer's device ("CPU", "OPTIX" or "AUTO", optica_core.device)."""

    samples: int
    time_limit: float = 0.0
    noise_threshold: float = 0.0
    threads: int = 0
    device: str = "CPU"

    def __post_init__(self):
        for name, low in (("samples", 1), ("threads", 0)):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")
        for name in ("time_limit", "noise_threshold"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                    and value >= 0):
                raise ValueError(f"{name}: expected a number >= 0, got {value!r}")
        from .device import DEVICES

        if self.device not in DEVICES:
            raise ValueError(f"device: expected one of {', '.join(DEVICES)}, got {self.device!r}")

    @classmethod
    def from_dict(cls, values: Mapping, **defaults) -> Limits:
        """The limits named in `values` (other keys are ignored), else `defaults`."""
        names = {f.name for f in fields(cls)}
        return cls(**{**defaults, **{k: v for k, v in values.items() if k in names}})

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
        done = _accumulate_interruptibly(self.renderer, self.next_batch())
        if done > 0:
            self.per_sample = (time.perf_counter() - t0) / done
        return done

    def run(self, stopping: threading.Event | None = None,
            progress: Callable[[int, int], None] | None = None) -> str:
        """Steps until a limit is reached or `stopping` is set; returns why it stopped.
        `progress(samples_done, samples)` after every batch. A KeyboardInterrupt in the calling
        thread cancels the running batch at once and propagates."""
        while True:
            if stopping is not None and stopping.is_set():
                return "cancelled"
            reason = self.stop_reason()
            if reason is not None:
                return reason
            if self.step() == 0 and not (stopping is not None and stopping.is_set()):
                return "noise"  # the core's adaptive sampling stopped every tile
            if progress is not None:
                progress(self.renderer.samples, self.limits.samples)


def _accumulate_interruptibly(renderer, samples: int) -> int:
    """renderer.accumulate(samples); on the main thread the batch runs on a helper thread so that
    Ctrl-C is seen at once: Python delivers KeyboardInterrupt only between bytecodes of the main
    thread, which a native call holding it for a whole batch (minutes on a loaded machine)
    would delay. The interrupt cancels the batch (the core stops within a tile), waits for it to
    end and propagates: a batch left running would meet the interpreter's shutdown."""
    if threading.current_thread() is not threading.main_thread():
        return renderer.accumulate(samples)
    with _ctrl_c_cancels(renderer) as interrupted:
        done = _batch_on_a_thread(renderer, samples)
    if interrupted:
        raise KeyboardInterrupt
    return done


@contextmanager
def _ctrl_c_cancels(renderer) -> Iterator[list]:
    """While the batch runs, Ctrl-C cancels it and is noted (the list it yields) instead of raising.
    A KeyboardInterrupt raised inside threading's primitives can leave their lock held or
    released twice (Event.wait, Thread.start: a hang or "release unlocked lock", seen once in CI
    after SIGINT), so none is raised while they run. Only Python's own SIGINT handler is replaced:
    one that an embedding program installed is left alone."""
    interrupted: list = []
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield interrupted
        return

    def cancel(_signum, _frame) -> None:
        interrupted.append(True)
        renderer.cancel()

    signal.signal(signal.SIGINT, cancel)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _batch_on_a_thread(renderer, samples: int) -> int:
    outcome: list = []
    finished = threading.Event()  # not Thread.join: an interrupted join may return early (3.11)

    def batch():
        try:
            outcome.append(renderer.accumulate(samples))
        except BaseException as error:  # handed to the caller's thread below
            outcome.append(error)
        finally:
            finished.set()

    worker = threading.Thread(target=batch, name="optica-batch", daemon=True)
    try:
        worker.start()
        while not finished.wait(0.05):
            pass
    except KeyboardInterrupt:  # raised by an embedding program's own handler
        renderer.cancel()
        _wait_for_cancelled_batch(worker, finished)
        raise
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _wait_for_cancelled_batch(worker: threading.Thread, finished: threading.Event) -> None:
    """Waits for a cancelled batch; an interrupt inside start() may leave the thread starting."""
    deadline = time.monotonic() + 1.0
    while worker.ident is None and time.monotonic() < deadline:
        time.sleep(0.001)
    if worker.ident is not None:
        finished.wait()


def _noise_reached(renderer, limits: Limits) -> bool:
    """True once adaptive sampling stopped every tile, or (almost) every pixel's noise
    estimate is below the threshold."""
    return renderer.converged or renderer.converged_fraction(limits.noise_threshold) >= CONVERGED_FRACTION


class RendererSlot:
    """The renderer a session keeps between images: made on first use, made again only when
    the thread count or the device asked for changes (so unchanged geometry keeps its BVH)."""

    def __init__(self):
        self.renderer = None
        self._made_for: tuple[int, str] | None = None

    def get(self, threads: int, device: str = "CPU"):
        from . import Renderer

        if self.renderer is None or self._made_for != (threads, device):
            self.renderer = Renderer(threads, device=device)
            self._made_for = (threads, device)
        return self.renderer

    def drop(self) -> None:
        self.renderer = None
        self._made_for = None
