# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a Plan: `Export` steps it (a modal operator calls step() from a timer; `run()` loops)
and returns a `Result`. (Methods that make their output themselves — scene files, a farm that
encodes the video — get no sink: see methods/.)

The frame path is straight: the method (methods/) renders or reads each frame and writes it to
the export's sink — a `QueuedSink` (its own thread) around a `VideoSink`, which colour-manages
the frame (its scene's view, Blender's OCIO configuration) and hands it to the `VideoWriter`:
core → passes → colour → writer, one copy of the image on the way. The video is written to a
hidden file next to the target and renamed when complete. A cancelled or failed export removes
it, or with `keep_partial` finalizes the frames done into a playable file at the target (and
says so); the method removes its temporary files (or keeps them for `resume`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from optica_core.sinks import QueuedSink, video

from . import colour as blender_colour
from .frames import Cancelled
from .methods import METHODS
from .plan import ExportError, Plan


@dataclass
class Progress:
    phase: str  # 'render', 'encode'
    done: int  # frames of this phase done
    total: int
    fraction: float  # of the whole export
    elapsed: float  # seconds
    text: str


@dataclass
class Result:
    path: Path | None  # the video, None when nothing was kept
    frames: int  # frames in the video
    total: int  # frames asked for
    encoder: str  # e.g. 'H.264 (libx264, CPU)'
    encoder_note: str
    method: str
    seconds: float
    size: tuple[int, int]
    fps: Fraction
    rendered: int = 0  # frames rendered by this run (PARALLEL resume: fewer than total)
    resumed: int = 0  # frames found on disk (PARALLEL resume)
    cancelled: bool = False
    error: str = ""
    partial: bool = False  # a playable file of the frames done was kept
    kept_frames: Path | None = None  # where the frames (or scene files) done wait for a re-run
    kept_note: str = ""  # what kept_frames holds and how to continue
    scene_files: bool = False  # the output is a folder of scene files, not a video
    notes: list[str] = field(default_factory=list)
    render_seconds: float = 0.0
    encode_seconds: float = 0.0

    def summary(self) -> str:
        if self.path is not None and not (self.cancelled or self.error) and self.scene_files:
            head = (
                f"wrote {self.path} — {self.frames} scene files ({self.rendered} written, {self.resumed} "
                f"unchanged), {self.size[0]}×{self.size[1]} at {float(self.fps):.3f} fps, in {_time_text(self.seconds)}"
            )
        elif self.path is not None and not (self.cancelled or self.error):
            head = (
                f"wrote {self.path} — {self.frames} frames, {self.size[0]}×{self.size[1]} at "
                f"{float(self.fps):.3f} fps, {self.encoder}, in {_time_text(self.seconds)}"
            )
            if self.resumed:
                head += f" ({self.resumed} frames resumed from disk)"
        else:
            why = "cancelled" if self.cancelled else f"failed: {self.error}"
            head = f"export {why} after {_time_text(self.seconds)}; "
            if self.partial and self.path is not None:
                head += f"kept a playable {self.path.name} with the first {self.frames} of {self.total} frames"
            else:
                head += "no video was written"
            if self.kept_note:
                head += f"; {self.kept_note}"
        return head


def _time_text(seconds: float) -> str:
    m, s = divmod(seconds, 60.0)
    return f"{int(m)} min {s:.1f} s" if m else f"{s:.1f} s"


class Export:
    """Runs a Plan one step at a time. progress(Progress) is called after each step and may
    raise (KeyboardInterrupt) to stop; should_cancel() returning True cancels at the next step
    (and the frame being rendered, within half a second, for STREAM)."""

    def __init__(self, plan: Plan, progress=None, should_cancel=None):
        self.plan = plan
        self.progress_cb = progress
        self.should_cancel = should_cancel or (lambda: False)
        self.t0 = time.perf_counter()
        self.writer: video.VideoWriter | None = None
        self.sink: QueuedSink | None = None
        self.method = METHODS[plan.options.method](self)
        self.messages: list[str] = []
        self.started = False
        self.finished = False

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def note(self, level: str, text: str) -> None:
        """A message of the renders worth showing at the end (warnings and errors, once)."""
        if level in ("WARNING", "ERROR") and text not in self.messages:
            self.messages.append(text)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Opens the video file and starts the method (workers for PARALLEL)."""
        p = self.plan
        try:
            if self.method.encodes:
                self.writer = video.VideoWriter(
                    p.target, *p.size, p.fps, p.settings, p.choice, keep_partial=p.options.keep_partial
                )
                processors = blender_colour.processors()
                self.sink = QueuedSink(video.VideoSink(self.writer, processors), name="optica-encode")
            self.method.start()
        except BaseException as e:
            self.abort(e)
            if isinstance(e, (video.EncoderError, ValueError, OSError, RuntimeError)):
                raise ExportError(str(e)) from e
            raise
        self.started = True
        self._report()

    def step(self) -> bool:
        """Does one unit of work (renders one frame, polls the workers, or queues one frame
        for encoding). True once the video is complete (then call finish()): work that is done
        wins over a cancel request, which is honoured after any other step (STREAM's render
        answers it within the frame)."""
        if self.method.step():
            self.finished = True
        elif self.should_cancel():
            raise Cancelled()
        self._report()
        return self.finished

    def finish(self) -> Result:
        """After step() returned True: the video is finalized and temporary files removed."""
        if self.sink is not None:
            self.sink.close()
        self.method.cleanup(success=True)
        return self._result()

    def abort(self, error: BaseException | None = None) -> Result:
        """Stops everything and removes what is temporary (see the module docstring). A method
        whose output was complete by the time it stopped (a farm that finished on its own
        thread as the cancel came) is finished instead: the export did not fail."""
        self.method.stop()
        if getattr(self.method, "completed", False) and self.sink is None:
            self.finished = True
            return self.finish()
        if self.sink is not None:
            self.sink.abort()
        elif self.writer is not None:
            self.writer.abort()
        kept = self.writer.kept if self.writer is not None else None
        kept_frames = self.method.cleanup(success=False)
        result = self._result()
        result.path = kept
        result.partial = kept is not None
        result.kept_frames = kept_frames
        result.kept_note = self.method.kept_note(kept_frames) if kept_frames is not None else ""
        result.cancelled = error is None or isinstance(error, (Cancelled, KeyboardInterrupt))
        result.error = "" if result.cancelled else (str(error) or type(error).__name__)
        return result

    # -- bookkeeping -------------------------------------------------------------------------

    def _result(self) -> Result:
        p, w, m = self.plan, self.writer, self.method
        return Result(
            path=p.target if m.needs_video_path else p.scene_folder,
            frames=w.frames if w else getattr(m, "output_frames", 0),
            total=len(p.items),
            encoder=p.choice.label,
            encoder_note=p.choice.note,
            method=p.options.method,
            seconds=self.elapsed,
            size=p.video_size,
            fps=p.fps,
            rendered=m.rendered,
            resumed=m.resumed,
            notes=list(p.notes) + self.messages,
            render_seconds=m.render_seconds,
            encode_seconds=self.sink.seconds if self.sink else 0.0,
            scene_files=not m.needs_video_path,
        )

    def _report(self) -> None:
        if self.progress_cb is None:
            return
        n = len(self.plan.items)
        elapsed = self.elapsed
        status = self.method.progress()
        text = status.text
        if 0 < status.fraction < 1:
            eta = elapsed / status.fraction * (1 - status.fraction)
            text += f" | Elapsed {_time_text(elapsed)} | Remaining ~{_time_text(eta)}"
        self.progress_cb(Progress(status.phase, status.done, n, min(1.0, status.fraction), elapsed, text))


def run(plan: Plan, progress=None, should_cancel=None) -> Result:
    """Runs the whole export in this thread and returns its Result; also when cancelled through
    should_cancel (`result.cancelled`). A failure cleans up, then raises ExportError (its
    `result` says what was kept); a KeyboardInterrupt (Ctrl-C, or raised by `progress`) cleans
    up and propagates."""
    job = Export(plan, progress, should_cancel)
    try:
        job.start()
        while not job.step():
            pass
        return job.finish()
    except Cancelled:
        return job.abort()
    except KeyboardInterrupt:
        job.abort()
        raise
    except Exception as e:  # noqa: BLE001 - cleaned up, then raised as an ExportError
        result = job.abort(e)
        if isinstance(e, ExportError) and getattr(e, "result", None) is None and not job.started:
            raise
        error = ExportError(result.summary())
        error.result = result
        raise error from e
