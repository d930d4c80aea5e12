"""Rendering an animation folder on a Dask cluster: chunks of frames as tasks, frames back in order.

    result = run_farm(FarmJob(folder, out="frames/", workers=2, chunk=4, retries=2))

The client (this process) reads the folder's manifest, asks the sink which frames are still to
render (a re-run skips frames done for the same scene and settings), cuts them into chunks of
consecutive frames and submits one task per chunk to Dask distributed: a `LocalCluster` bound
to 127.0.0.1 by default, or the scheduler at `scheduler` (docs/farm.md). A worker reads the
frames from the same folder path (a shared filesystem), renders them with the core and returns
the pass images; the client puts them back in order through a bounded `ReorderBuffer` into the
frame sink. It keeps at most `window` frames in flight, so memory stays bounded however long
the animation.

Each worker process keeps one `Sequence` per folder and one `Renderer` between tasks
(`_WorkerCache`): arrays unchanged since the frame it rendered last are the same objects, so the
core keeps their BVHs, within a chunk and across chunks. A task that raises is retried
(`retries`); the frames of a worker that dies are rescheduled by Dask; a task that still fails
stops the farm with the worker's error, and the frames already written stay for a re-run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

from .framesink import ImageSequenceSink, ReorderBuffer
from .imagefile import ImageOutput, View
from .render import RenderedFrame, Sampling, check_passes, render_frame
from .sequence import Sequence, SequenceError


class FarmError(RuntimeError):
    """The farm stopped; the message says why and that a re-run resumes."""


@dataclass(frozen=True)
class FarmJob:
    folder: str
    out: str
    format: str = "exr"  # exr, png, jpeg: the frame files written into `out`
    scheduler: str | None = None  # None: a LocalCluster on 127.0.0.1
    workers: int = 0  # LocalCluster workers; 0 = one per two cores (at least one)
    threads: int = 0  # render threads per worker; 0 = the worker machine's cores / its task slots
    chunk: int = 0  # frames per task; 0 = chosen from the number of frames and workers
    retries: int = 2
    sampling: dict = field(default_factory=dict)  # overrides of the manifest's render settings
    passes: tuple = ("combined",)
    ocio: str | None = None  # overrides the manifest's OCIO configuration (PNG/JPEG)
    timeout: float | None = None  # seconds to wait for a LocalCluster or a scheduler
    max_seconds: float | None = None  # the whole run; None = no limit

    def __post_init__(self):
        for name in ("workers", "threads", "chunk", "retries"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name}: expected an int >= 0, got {getattr(self, name)!r}")


@dataclass
class FarmResult:
    rendered: list[int]
    skipped: int
    seconds: float
    per_worker: dict[str, int]

    @property
    def frames_per_second(self) -> float:
        return len(self.rendered) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        workers = ", ".join(f"{w}: {n}" for w, n in sorted(self.per_worker.items())) or "none"
        return (f"rendered {len(self.rendered)} frames ({self.skipped} already done) in {self.seconds:.1f} s, "
                f"{self.frames_per_second:.2f} frames/s; per worker: {workers}")


def sampling_for(sequence: Sequence, overrides: dict) -> Sampling:
    """The manifest's render settings with the command line's overrides (None = not given)."""
    settings = {k: v for k, v in sequence.manifest.render.items() if k in Sampling.__dataclass_fields__}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return Sampling(**settings)


def frame_keys(sequence: Sequence, frames, sampling: Sampling, passes, output: ImageOutput) -> dict[int, str]:
    """Per frame, a digest of everything its output depends on: a changed frame or setting
    makes a re-run render it again."""
    settings = json.dumps([asdict(sampling), list(passes), output.format, asdict(output.view)], sort_keys=True)
    return {n: hashlib.sha256((sequence.frame_digest(n) + settings).encode()).hexdigest() for n in frames}


# --------------------------------------------------------------------------------------------
# The client


def run_farm(job: FarmJob, progress: Callable[[RenderedFrame, "FarmProgress"], None] | None = None,
             client=None) -> FarmResult:
    """Renders the folder's missing frames into `job.out` (see the module docstring).
    `client`: an existing distributed.Client to use instead of creating one."""
    sequence = Sequence(job.folder)
    missing = sequence.missing_frames()
    if missing:
        raise FarmError(f"{job.folder}: frames {_ranges(missing)} have not been written yet (an interrupted "
                        "export? write them again to resume)")
    sampling = sampling_for(sequence, job.sampling)
    passes = check_passes(job.passes)
    if sampling.denoise:
        from .denoise import require_oidn

        require_oidn()  # here, before any worker starts: the workers need it too
    output = _output(job, sequence)
    os.makedirs(job.out, exist_ok=True)
    output.check(passes, job.out)
    sink = ImageSequenceSink(job.out, output, frame_keys(sequence, sequence.frames, sampling, passes, output))
    todo = sink.pending(sequence.frames)
    t0 = time.perf_counter()
    tracker = FarmProgress(len(todo), len(sequence.frames) - len(todo))
    if not todo:
        return FarmResult([], tracker.skipped, 0.0, {})
    with _connected(job, client) as dask_client:
        try:
            _drive(dask_client, job, sampling, passes, todo, sink, tracker, progress)
        except BaseException:
            sink.abort()
            raise
    sink.close()
    return FarmResult(list(sink.written), tracker.skipped, time.perf_counter() - t0, dict(tracker.per_worker))


def _output(job: FarmJob, sequence: Sequence) -> ImageOutput:
    fmt = job.format.lower().lstrip(".")
    if os.path.splitext(job.out)[1]:
        raise FarmError(f"--out {job.out}: give a folder for the frames (video output comes with the "
                        "encoder in the core; it is not available here yet)")
    view = View.from_manifest(sequence.manifest.color, job.ocio or sequence.ocio_config())
    return ImageOutput(f"x.{fmt}", view)


@contextlib.contextmanager
def _connected(job: FarmJob, client):
    """The given client, a client of the given scheduler, or a LocalCluster on 127.0.0.1 shut
    down on exit (however the block ends)."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    timeout = job.timeout or 60
    if job.scheduler:
        with Client(job.scheduler, timeout=timeout) as c:
            yield c
        return
    workers = job.workers or max(1, (os.cpu_count() or 1) // 2)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, scheduler_port=0, silence_logs=logging.ERROR,
                      timeout=timeout) as cluster, Client(cluster, timeout=timeout) as c:
        yield c


def _drive(client, job: FarmJob, sampling: Sampling, passes, todo: list[int], sink, tracker, progress) -> None:
    from distributed import as_completed

    workers = max(1, len(client.scheduler_info()["workers"]))
    chunk = job.chunk or max(1, min(8, math.ceil(len(todo) / (3 * workers))))
    chunks = [todo[i:i + chunk] for i in range(0, len(todo), chunk)]
    window = max(2 * chunk, 2 * workers * chunk)  # frames in flight: bounds the reorder buffer
    buffer = ReorderBuffer(sink, todo, capacity=window)
    threads = job.threads or (max(1, (os.cpu_count() or 1) // workers) if not job.scheduler else 0)
    folder = os.path.abspath(job.folder)
    position = {n: i for i, n in enumerate(todo)}
    pending = as_completed(timeout=job.max_seconds)
    submitted = 0

    def submit_ahead():
        nonlocal submitted
        while submitted < len(chunks) and position[chunks[submitted][-1]] < buffer.delivered + window:
            frames = chunks[submitted]
            pending.add(client.submit(render_chunk, folder, frames, sampling, passes, threads, pure=False,
                                      retries=job.retries, key=f"optica-frames-{frames[0]}-{frames[-1]}-"
                                      f"{os.urandom(4).hex()}"))
            submitted += 1

    submit_ahead()
    try:
        for future in _until_deadline(pending, job.max_seconds, sink):
            try:
                frames = future.result()
            except Exception as error:  # noqa: BLE001 - the worker's error, after the retries
                raise FarmError(f"rendering failed after {job.retries} retries: {_worker_error(error)}; "
                                f"{len(sink.written)} frames were written: run again to resume") from error
            for frame in frames:
                buffer.push(frame)
                tracker.done(frame)
                if progress is not None:
                    progress(frame, tracker)
            submit_ahead()
    except BaseException:
        for future in list(pending.futures):
            future.cancel()
        raise


def _until_deadline(pending, max_seconds, sink):
    from distributed import TimeoutError as DaskTimeout

    try:
        yield from pending
    except DaskTimeout:
        raise FarmError(f"the farm did not finish within {max_seconds:g} s; {len(sink.written)} frames were "
                        "written: run again to resume") from None


def _worker_error(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    if type(error).__name__ == "KilledWorker":
        text += " (its workers kept dying: out of memory?)"
    return text


def _ranges(frames: list[int]) -> str:
    return ", ".join(map(str, frames[:10])) + (f" and {len(frames) - 10} more" if len(frames) > 10 else "")


class FarmProgress:
    """Frames done, frames/s, ETA and frames per worker, for a progress display."""

    def __init__(self, total: int, skipped: int):
        self.total = total
        self.skipped = skipped
        self.count = 0
        self.per_worker: dict[str, int] = {}
        self.started = time.perf_counter()

    def done(self, frame: RenderedFrame) -> None:
        self.count += 1
        self.per_worker[frame.worker] = self.per_worker.get(frame.worker, 0) + 1

    @property
    def frames_per_second(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.count / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        rate = self.frames_per_second
        return (self.total - self.count) / rate if rate > 0 else None


# --------------------------------------------------------------------------------------------
# The workers


class _WorkerCache:
    """What a worker process keeps between tasks: one Sequence per folder (its arrays), one
    Renderer (its BVHs). Tasks of one worker run one at a time through the lock."""

    lock = threading.Lock()
    sequences: dict[str, Sequence] = {}
    renderer = None
    renderer_threads = None

    @classmethod
    def renderer_for(cls, threads: int):
        from . import Renderer

        if cls.renderer is None or cls.renderer_threads != threads:
            cls.renderer, cls.renderer_threads = Renderer(threads=threads), threads
        return cls.renderer

    @classmethod
    def sequence(cls, folder: str) -> Sequence:
        known = cls.sequences.get(folder)
        cls.sequences[folder] = Sequence(folder) if known is None else known.refresh()
        return cls.sequences[folder]


def render_chunk(folder: str, frames: list[int], sampling: Sampling, passes, threads: int) -> list[RenderedFrame]:
    """A Dask task: renders `frames` of the folder on this worker and returns them."""
    address, slots = _worker_identity()
    if threads <= 0:
        threads = max(1, (os.cpu_count() or 1) // slots)
    with _WorkerCache.lock:
        try:
            sequence = _WorkerCache.sequence(folder)
        except SequenceError as error:
            raise SequenceError(f"worker {address}: {error} (every worker must see the folder at the same "
                                "path: docs/farm.md)") from None
        renderer = _WorkerCache.renderer_for(threads)
        out = []
        for n in frames:
            read_before = sequence.arrays_read
            frame = render_frame(renderer, sequence.load_frame(n), sampling, passes, frame=n)
            out.append(replace(frame, worker=address, stats={
                "arrays_read": sequence.arrays_read - read_before, "geometry_reused": renderer.geometry_reused}))
        return out


def _worker_identity() -> tuple[str, int]:
    try:
        from distributed import get_worker

        worker = get_worker()
        return worker.address, max(1, worker.state.nthreads)
    except (ImportError, ValueError):
        return "local", 1
