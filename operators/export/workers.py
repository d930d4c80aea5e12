# SPDX-License-Identifier: GPL-3.0-or-later
"""The parallel export's worker processes and the folder they render into.

    store = FrameStore(folder, key, fmt)        # the temporary image sequence (+ job.json, snapshot)
    store.prepare(resume)                       # fresh, or keep the frames of the same job
    pool = WorkerPool(store, items, workers=N, module=..., size=None)   # N processes, contiguous ranges
    while not pool.poll(): ...                  # progress from the workers' stdout
    store.remove()                              # on success, cancel and error (not when resuming)

Workers are separate Blender processes (`bpy` as a module: this Python; a Blender build: its
binary in background mode). Each opens a snapshot of the current file (saved into the
temporary folder, so unsaved changes are exported), enables the Optica extension, renders its
frames with `frames.FrameRenderer` on cores/N threads into the store's image sequence
(optica_core.sinks.images: each file written atomically, so a frame on disk is always complete,
which is what makes `resume` safe after a crash or a kill). EXR frames are scene-linear half
floats; PNG frames are colour-managed by the worker (8 bits: the very values the encoder gets).

Protocol: a worker prints `@optica <json>` lines on stdout ({"ready"}, {"done": index,
"seconds": s}, {"error": text}); everything else it prints goes to `worker-<k>.log`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from optica_core.sinks import images

SEQUENCE_FORMATS = ("EXR", "PNG")  # temporary frames: half-float EXR or 8-bit PNG
JOB_FILE = "job.json"
BLEND_FILE = "export.blend"
PREFIX = "@optica "
TERMINATE_SECONDS = 3.0


class WorkerError(RuntimeError):
    """A worker process failed; the message carries its error and the end of its log."""


# ---------------------------------------------------------------------------------------------
# the temporary image sequence


class FrameStore:
    """The folder of one parallel export: job description, file snapshot, frames, worker logs.

    key: what must be equal for frames on disk to belong to this export (scenes, frames, size,
    render settings); `prepare(resume=True)` keeps the frames of a job with the same key."""

    def __init__(self, folder, key: dict, fmt: str = "EXR", processors=None):
        if fmt not in SEQUENCE_FORMATS:
            raise ValueError(f"unknown frame format {fmt!r} ({', '.join(SEQUENCE_FORMATS)})")
        self.folder = Path(folder)
        self.key = dict(key, format=fmt)
        self.format = fmt
        self.frames = images.ImageSequence(self.folder, images.ImageWriter(fmt, processors, half=True))
        self.resumed = 0  # frames found on disk by prepare()

    @property
    def blend(self) -> Path:
        return self.folder / BLEND_FILE

    def prepare(self, resume: bool) -> list[int]:
        """Creates the folder; keeps the frames already rendered when `resume` and the job on
        disk is this one, else starts empty. Returns the indices that exist."""
        job = self.folder / JOB_FILE
        same = False
        if resume and job.is_file():
            try:
                same = json.loads(job.read_text()).get("key") == json.loads(json.dumps(self.key))
            except (OSError, ValueError):
                same = False
        if self.folder.exists() and not same:
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for p in self.folder.glob("*.tmp*"):  # a frame whose writer was killed
            p.unlink(missing_ok=True)
        tmp = job.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": 1, "key": self.key}, indent=1))
        tmp.replace(job)
        done = self.existing(len(self.key.get("items", ())))
        self.resumed = len(done)
        return done

    def existing(self, count: int) -> list[int]:
        return self.frames.existing(range(count))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# the worker processes


@dataclass
class Item:
    index: int  # position in the video
    scene: str
    frame: int


def split(items: list[Item], n: int) -> list[list[Item]]:
    """n contiguous, nearly equal ranges (contiguous frames share the exporter's caches)."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, at = [], 0
    for k in range(n):
        m = size + (1 if k < extra else 0)
        out.append(items[at : at + m])
        at += m
    return [chunk for chunk in out if chunk]


def blender_command(boot: str, args_path: str) -> list[str]:
    """How to start a Python with Blender: this interpreter when bpy is a module, else the
    Blender binary in background mode."""
    import bpy

    binary = bpy.app.binary_path  # "" when bpy is a Python module
    if binary and os.path.isfile(binary):
        return [binary, "--background", "--python-exit-code", "1", "--python-expr", boot, "--", args_path]
    return [sys.executable, "-c", boot, args_path]


_BOOT = (
    "import sys, importlib, json\n"
    "import bpy, addon_utils\n"
    "args = json.load(open(sys.argv[-1]))\n"
    "addon_utils.enable(args['module'], default_set=False)\n"
    "importlib.import_module(args['module'] + '.operators.export.workers').worker_main(args)\n"
)


class _Worker:
    def __init__(self, k: int, items: list[Item], proc: subprocess.Popen, log_path: Path):
        self.k = k
        self.items = items
        self.proc = proc
        self.log_path = log_path
        self.done: list[int] = []
        self.error: str | None = None
        self.events: list[dict] = []
        self._lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name=f"optica-worker-{k}", daemon=True)
        self.reader.start()

    def _read(self):
        with open(self.log_path, "a", encoding="utf-8", errors="replace") as log:
            for line in self.proc.stdout:
                if line.startswith(PREFIX):
                    try:
                        msg = json.loads(line[len(PREFIX) :])
                    except ValueError:
                        log.write(line)
                        continue
                    with self._lock:
                        self.events.append(msg)
                else:
                    log.write(line)

    def take_events(self) -> list[dict]:
        with self._lock:
            events, self.events = self.events, []
        return events

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


class WorkerPool:
    """Renders `items` into `store` with up to `workers` processes (see the module docstring).

    module: the add-on's package name (e.g. 'bl_ext.user_default.optica'), enabled in each
    worker. Call poll() until it returns True; terminate() stops every worker."""

    def __init__(
        self,
        store: FrameStore,
        items: list[Item],
        workers: int,
        module: str,
        size: tuple[int, int] | None,
        threads_total: int | None = None,
    ):
        self.store = store
        self.items = items
        self.total = len(items)
        self.done = 0
        self.started = time.perf_counter()
        cores = threads_total or os.cpu_count() or 1
        chunks = split(items, workers)
        self.threads = max(1, cores // max(1, len(chunks)))
        self.workers: list[_Worker] = []
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        try:
            for k, chunk in enumerate(chunks):
                args = {
                    "module": module,
                    "blend": str(store.blend),
                    "folder": str(store.folder),
                    "key": store.key,
                    "format": store.format,
                    "size": list(size) if size else None,
                    "threads": self.threads,
                    "parent": os.getpid(),
                    "items": [[it.index, it.scene, it.frame] for it in chunk],
                }
                args_path = store.folder / f"worker-{k}.json"
                args_path.write_text(json.dumps(args))
                log_path = store.folder / f"worker-{k}.log"
                proc = subprocess.Popen(
                    blender_command(_BOOT, str(args_path)),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env=env,
                    start_new_session=True,  # Ctrl-C reaches the parent only; it stops the workers
                )
                self.workers.append(_Worker(k, chunk, proc, log_path))
        except BaseException:
            self.terminate()
            raise

    def poll(self, timeout: float = 0.1) -> bool:
        """Collects progress; True once every worker has finished. Raises WorkerError if one
        failed (after stopping the others)."""
        deadline = time.perf_counter() + timeout
        while True:
            finished = True
            for w in self.workers:
                for msg in w.take_events():
                    if "done" in msg:
                        w.done.append(int(msg["done"]))
                        self.done += 1
                    elif "error" in msg:
                        w.error = str(msg["error"])
                code = w.proc.poll()
                if code is None:
                    finished = False
                    continue
                w.reader.join(timeout=1.0)
                for msg in w.take_events():  # the last lines
                    if "done" in msg:
                        w.done.append(int(msg["done"]))
                        self.done += 1
                    elif "error" in msg:
                        w.error = str(msg["error"])
                if code != 0 or w.error or len(w.done) < len(w.items):
                    self.terminate()
                    why = w.error or f"exited with code {code} after {len(w.done)} of {len(w.items)} frames"
                    tail = w.log_tail()
                    raise WorkerError(f"render worker {w.k} failed: {why}" + (f"\n{tail}" if tail else ""))
            if finished:
                return True
            if time.perf_counter() >= deadline:
                return False
            time.sleep(0.02)

    def terminate(self) -> None:
        """Stops every worker that still runs (SIGTERM, then SIGKILL) and waits for it."""
        for w in self.workers:
            if w.proc.poll() is None:
                w.proc.terminate()
        deadline = time.perf_counter() + TERMINATE_SECONDS
        for w in self.workers:
            try:
                w.proc.wait(timeout=max(0.0, deadline - time.perf_counter()))
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait()
            w.reader.join(timeout=1.0)
            if w.proc.stdout is not None:
                w.proc.stdout.close()


# ---------------------------------------------------------------------------------------------
# inside a worker process


def _say(**msg):
    sys.stdout.write(PREFIX + json.dumps(msg) + "\n")
    sys.stdout.flush()


def worker_main(args: dict) -> None:
    """Entry point of a worker process (see _BOOT): open the snapshot, render the items."""
    try:
        _worker(args)
    except BaseException as e:  # noqa: BLE001 - reported to the parent, then a non-zero exit
        import traceback

        traceback.print_exc(file=sys.stdout)
        _say(error=f"{type(e).__name__}: {e}")
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()


def _worker(args: dict) -> None:
    import bpy

    from . import colour
    from .frames import FrameRenderer, render_overrides

    parent = int(args["parent"])
    bpy.ops.wm.open_mainfile(filepath=args["blend"], load_ui=False)
    store = FrameStore(args["folder"], args["key"], args["format"], colour.processors())
    size = tuple(args["size"]) if args["size"] else None
    _say(ready=True)

    def orphaned():  # the parent died: stop instead of rendering for nobody
        return os.getppid() != parent

    renderers: dict[str, FrameRenderer] = {}
    items = [Item(*it) for it in args["items"]]
    with contextlib.ExitStack() as restore:
        for it in items:
            if orphaned():
                raise RuntimeError("the exporting process has gone")
            scene = bpy.data.scenes[it.scene]
            if it.scene not in renderers:
                restore.enter_context(render_overrides(scene, size, threads=int(args["threads"])))
                renderers[it.scene] = FrameRenderer(scene, test_break=orphaned)
            t0 = time.perf_counter()
            view, _notes = colour.view_settings(scene)
            store.frames.write(renderers[it.scene].render(it.frame, index=it.index, view=view))
            _say(done=it.index, seconds=round(time.perf_counter() - t0, 4))
