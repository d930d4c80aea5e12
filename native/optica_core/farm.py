"""Rendering an animation folder on a Dask cluster: chunks of frames as tasks, frames back in order.

    result = run_farm(FarmJob(folder, out="frames/", workers=2, chunk=4, retries=2))
    result = run_farm(FarmJob(folder, out="shot.mp4"), progress=show, stop=threading.Event())

The client (this process) reads the folder's manifest, asks the output (`farm_output`: a folder
of image files, or a video encoded in frame order) which frames are still to render (a re-run
skips frames done for the same scene and settings), cuts them into chunks of consecutive frames
and submits one task per chunk to Dask distributed: a `LocalCluster` bound to 127.0.0.1 by
default (`farm_cluster`: each worker in a session of its own, as PARALLEL's), or the
scheduler at `scheduler` (docs/farm.md). A worker reads the frames from the same
folder path (a shared filesystem), renders them with the core (`render.render_frame`, the shared
sampling loop) and returns them as frame-sink `Frame`s; the client puts them back in order
(`ReorderingSink`) and hands them to the output on a thread of their own (`QueuedSink`: encoding
overlaps the wait for the next frames). It keeps at most `window` frames in flight, so memory
stays bounded however long the animation.

Each worker process keeps one `Sequence` per folder and one renderer between tasks
(`_WorkerCache`): arrays unchanged since the frame it rendered last are the same objects, so the
core keeps their BVHs, within a chunk and across chunks. A task that raises is retried
(`retries`); the frames of a worker that dies are rescheduled by Dask; a task that still fails
stops the farm with the worker's error, and the frames already done stay for a re-run. Setting
`stop` (another thread: Blender's Esc) stops the farm within a quarter second as a Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from .farm_output import open_output
from .render import RenderSettings, render_frame
from .sampling import RendererSlot
from .sequence import Sequence, SequenceError
from .sinks import Frame, QueuedSink, ReorderingSink

POLL_SECONDS = 0.25  # how often a waiting client looks at `stop` and the deadline


class FarmError(RuntimeError):
    """The farm stopped; the message says why and that a re-run resumes."""


class FarmCancelled(FarmError):
    """The farm was stopped through `stop` (a cancel); what is done stays for a re-run."""


@dataclass(frozen=True)
class FarmJob:
    folder: str
    out: str  # a folder for image files, or a video file (.mp4, .mkv, .mov)
    format: str = "exr"  # exr, png, jpeg: the frame files written into an `out` folder
    scheduler: str | None = None  # None: a LocalCluster on 127.0.0.1
    workers: int = 0  # LocalCluster workers; 0 = one per core, as the PARALLEL export (bench/farm.py)
    threads: int = 0  # render threads per worker; 0 = the worker machine's cores / its task slots
    chunk: int = 0  # frames per task; 0 = chosen from the number of frames and workers
    retries: int = 2
    sampling: dict = field(default_factory=dict)  # overrides of the manifest's render settings (None: not given)
    passes: tuple = ("combined",)
    ocio: str | None = None  # overrides the manifest's OCIO configuration (PNG/JPEG, video)
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
    path: str = ""  # the folder or the video

    @property
    def frames_per_second(self) -> float:
        return len(self.rendered) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        workers = ", ".join(f"{w}: {n}" for w, n in sorted(self.per_worker.items())) or "none"
        return (f"rendered {len(self.rendered)} frames ({self.skipped} already done) in {self.seconds:.1f} s, "
                f"{self.frames_per_second:.2f} frames/s; per worker: {workers}")


def settings_for(sequence: Sequence, overrides: dict, passes) -> RenderSettings:
    """The manifest's render settings with the command line's overrides (None = not given)."""
    render = dict(sequence.manifest.render)
    render.update({k: v for k, v in overrides.items() if v is not None})
    return RenderSettings.from_dict(render, passes)


# --------------------------------------------------------------------------------------------
# The client


def run_farm(job: FarmJob, progress: Callable[[Frame, FarmProgress], None] | None = None,
             client=None, stop: threading.Event | None = None) -> FarmResult:
    """Renders the folder's missing frames into `job.out` (see the module docstring).
    `client`: an existing distributed.Client to use instead of creating one. Errors are
    FarmError (FarmCancelled after `stop`) saying what was kept; a KeyboardInterrupt propagates
    after the same clean-up."""
    sequence = Sequence(job.folder)
    missing = sequence.missing_frames()
    if missing:
        raise FarmError(f"{job.folder}: frames {_ranges(missing)} have not been written yet (an interrupted "
                        "export? write them again to resume)")
    settings = settings_for(sequence, job.sampling, job.passes)
    if settings.denoise:
        from .denoise import require_oidn

        require_oidn()  # here, before any worker starts: the workers need it too
    output = open_output(job.out, sequence, settings, job.format, job.ocio)
    output.check()
    todo = output.pending()
    tracker = FarmProgress(len(todo), len(sequence.frames) - len(todo))
    t0 = time.perf_counter()
    sink = output.open(todo)
    try:
        if todo:
            with _connected(job, client) as dask_client:
                _drive(dask_client, job, settings, todo, output, sink, tracker, progress, stop)  # closes `sink`
        else:
            sink.close()  # a video whose frames were all rendered before is encoded now
    except KeyboardInterrupt:
        sink.abort()
        raise
    except FarmError as error:
        sink.abort()
        raise type(error)(f"{error}; {output.resume_note()}") from error
    except Exception as error:  # noqa: BLE001 - the output's own failure (a full disk, the encoder)
        sink.abort()
        raise FarmError(f"{type(error).__name__}: {error}; {output.resume_note()}") from error
    return FarmResult(output.written, tracker.skipped, time.perf_counter() - t0, dict(tracker.per_worker),
                      str(output.path))


@contextlib.contextmanager
def _connected(job: FarmJob, client):
    """The given client, a client of the given scheduler, or a LocalCluster on 127.0.0.1 shut
    down on exit (however the block ends)."""
    if client is not None:
        yield client
        return
    from distributed import Client

    timeout = job.timeout or 60
    if job.scheduler:
        with Client(job.scheduler, timeout=timeout) as c:
            yield c
        return
    from .farm_cluster import local_client

    with local_client(job.workers or (os.cpu_count() or 1), timeout) as c:
        yield c


def _drive(client, job: FarmJob, settings: RenderSettings, todo: list[int], output, output_sink, tracker,
           progress, stop) -> None:
    """Submits the chunks (at most `window` frames ahead of the oldest frame not yet handed on)
    and hands the frames that come back to the output in order. When it stops early, every
    frame that came back is kept by the output for a re-run, in order or not."""
    workers = max(1, len(client.scheduler_info()["workers"]))
    chunks = chunk_frames(todo, workers, job.chunk)
    chunk = max(map(len, chunks))
    window = max(2 * chunk, 2 * workers * chunk)  # frames in flight: bounds the reorder buffer
    queued = QueuedSink(output_sink, name="optica-farm-output")
    ordered = ReorderingSink(queued, todo, capacity=window)
    threads = job.threads or (max(1, (os.cpu_count() or 1) // workers) if not job.scheduler else 0)
    folder = os.path.abspath(job.folder)
    position = {n: i for i, n in enumerate(todo)}
    deadline = None if job.max_seconds is None else time.monotonic() + job.max_seconds
    pending: list = []
    submitted = 0

    def submit_ahead():
        nonlocal submitted
        while submitted < len(chunks) and position[chunks[submitted][-1]] < ordered.delivered + window:
            frames = chunks[submitted]
            pending.append(client.submit(render_chunk, folder, frames, settings, threads, pure=False,
                                         retries=job.retries, key=f"optica-frames-{frames[0]}-{frames[-1]}-"
                                         f"{os.urandom(4).hex()}"))
            submitted += 1

    try:
        submit_ahead()
        while pending:
            for future in _finished(pending, stop, deadline, job.max_seconds):
                pending.remove(future)
                for frame in _result(future, job):
                    ordered.write(frame)
                    tracker.done(frame)
                    if progress is not None:
                        progress(frame, tracker)
            submit_ahead()
        ordered.close()
    except BaseException:
        for future in pending:
            future.cancel()
        queued.abort(drain=True)
        for frame in ordered.take_waiting():
            output.keep(frame)
        raise


def chunk_frames(todo: list[int], workers: int, chunk: int = 0) -> list[list[int]]:
    """`todo` cut into runs of consecutive frames: of `chunk` frames each when given; else
    tapering, as a guided schedule does: each chunk about the frames left / (2 × workers), at
    most 8 (a task returns its frames together, and the client encodes them as they come), so
    the last tasks are single frames and the workers finish together instead of one idling
    while the other renders a whole chunk."""
    if chunk:
        return [todo[i:i + chunk] for i in range(0, len(todo), chunk)]
    first = max(1, min(8, math.ceil(len(todo) / (3 * workers))))
    chunks, i = [], 0
    while i < len(todo):
        size = min(first, math.ceil((len(todo) - i) / (2 * workers)))
        chunks.append(todo[i:i + size])
        i += size
    return chunks


def _finished(pending: list, stop, deadline, max_seconds) -> list:
    """The futures of `pending` that are done, waiting up to POLL_SECONDS at a time until one
    is; FarmCancelled once `stop` is set, FarmError past the deadline."""
    from distributed import wait

    while True:
        if stop is not None and stop.is_set():
            raise FarmCancelled("the farm was cancelled")
        if deadline is not None and time.monotonic() >= deadline:
            raise FarmError(f"the farm did not finish within {max_seconds:g} s")
        done = [f for f in pending if f.done()]
        if done:
            return done
        with contextlib.suppress(TimeoutError):
            wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")


def _result(future, job: FarmJob) -> list[Frame]:
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - the worker's error, after the retries
        raise FarmError(f"rendering failed after {job.retries} retries: {_worker_error(error)}") from error


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

    def done(self, frame: Frame) -> None:
        self.count += 1
        worker = str(frame.info.get("worker", ""))
        self.per_worker[worker] = self.per_worker.get(worker, 0) + 1

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
    renderer (its BVHs). Tasks of one worker run one at a time through the lock."""

    lock = threading.Lock()
    sequences: dict[str, Sequence] = {}
    renderers = RendererSlot()

    @classmethod
    def sequence(cls, folder: str) -> Sequence:
        known = cls.sequences.get(folder)
        cls.sequences[folder] = Sequence(folder) if known is None else known.refresh()
        return cls.sequences[folder]


def render_chunk(folder: str, frames: list[int], settings: RenderSettings, threads: int) -> list[Frame]:
    """A Dask task: renders `frames` of the folder on this worker and returns them."""
    address, slots = _worker_identity()
    if threads <= 0:
        threads = max(1, (os.cpu_count() or 1) // slots)
    if settings.denoise:  # before OIDN's device exists (the first denoise in this process)
        # OIDN's CPU device would start a thread per core in every worker process and pin its
        # threads to cores the other workers render on; a worker's denoiser gets its render threads.
        os.environ.setdefault("OIDN_NUM_THREADS", str(threads))
        os.environ.setdefault("OIDN_SET_AFFINITY", "0")
    with _WorkerCache.lock:
        try:
            sequence = _WorkerCache.sequence(folder)
        except SequenceError as error:
            raise SequenceError(f"worker {address}: {error} (every worker must see the folder at the same "
                                "path: docs/farm.md)") from None
        renderer = _WorkerCache.renderers.get(threads)
        out = []
        for n in frames:
            read_before = sequence.arrays_read
            started = time.time()  # wall clock: comparable between processes (a timeline)
            scene = sequence.load_frame(n)
            loaded = time.time()
            frame = render_frame(renderer, scene, settings, index=n)
            out.append(replace(frame, info={**frame.info, "worker": address, "started": started,
                                            "load": loaded - started, "finished": time.time(),
                                            "arrays_read": sequence.arrays_read - read_before,
                                            "geometry_reused": renderer.geometry_reused}))
        return out


def _worker_identity() -> tuple[str, int]:
    try:
        from distributed import get_worker

        worker = get_worker()
        return worker.address, max(1, worker.state.nthreads)
    except (ImportError, ValueError):
        return "local", 1
