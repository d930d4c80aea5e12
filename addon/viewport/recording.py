# SPDX-License-Identifier: GPL-3.0-or-later
"""Recording a viewport session to a video file in real time: `Recording`, a frame sink the
session feeds, and `start` / `stop`, which attach and detach one per session.

    rec = start(session, RecordOptions(path="/tmp/v.mp4", rate="CFR", fps=30), config_path)
    ...                                        # the user works; the viewport refines
    rec = stop(session)                        # the file is complete; rec.summary() says what
                                               # was written, repeated and dropped

What is recorded is what the 3D view draws: each image colour-managed with the scene's view
transform, look, exposure and gamma at the time (the frame's `view`, Blender's OCIO
configuration), a reduced-resolution image stretched over its rectangle (bilinear, as the
display's texture), at the size the region had when the recording started. A region resized
later is scaled to fit that size, keeping its shape, with black bars (letterbox).

Never in the source's way: `write()` (the viewport's worker thread) only replaces the one frame
waiting for the encoder — the encoder runs on its own thread, and an image it had no time for is
dropped and counted, never waited for. Rates:
- CFR: a frame every 1/fps of wall-clock time from the first image — the newest image at each
  tick; a tick without a new image repeats the previous one (`repeated`), images superseded
  between two ticks are `dropped`, ticks the encoder was too busy for are skipped (`late`: the
  video holds the previous frame there, its timing stays true).
- VFR: every image at the time it was published (`time_base` 1 ms), the last held until the stop.

The file is a live VideoWriter (fragmented MP4 / Matroska): playable whenever the recording
stops — detach, an error, Blender's exit or a crash.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from optica_core.sinks.colour import Processors, ViewSettings
from optica_core.sinks.video import CONTAINERS, EncoderError, EncoderSettings, VideoWriter, choose_encoder, import_av

log = logging.getLogger(__name__)

RATE_CHOICES = (  # (key, label, description), the shape of Blender's enum items
    (
        "CFR",
        "Constant",
        "A frame every 1/fps seconds of wall-clock time: the newest image at each tick, repeated while "
        "nothing changes, skipped when images come faster",
    ),
    ("VFR", "Variable", "Every image the viewport draws, at the time it was drawn (true timestamps)"),
)
RATE_MODES = tuple(key for key, _label, _text in RATE_CHOICES)
VFR_TIME_BASE = Fraction(1, 1000)  # Matroska's own resolution; plenty for a viewport
MAX_FPS = 240


class RecordError(Exception):
    """A recording cannot start as asked; the message says what to change."""


@dataclass(frozen=True)
class RecordOptions:
    """What one recording does: the file (a free name next to it is used when it exists), the
    rate ('CFR' at `fps`, or 'VFR') and the encoder's settings."""

    path: str
    rate: str = "CFR"
    fps: int = 30
    encoder: EncoderSettings = field(default_factory=lambda: EncoderSettings(preset="FASTEST"))


@dataclass
class RecordingStats:
    frames: int = 0  # video frames written
    images: int = 0  # distinct viewport images among them
    repeated: int = 0  # frames repeating the previous image (CFR ticks with nothing new; VFR: the hold at stop)
    dropped: int = 0  # viewport images never encoded (superseded before the encoder took them)
    late: int = 0  # CFR ticks skipped while the encoder was behind
    seconds: float = 0.0  # the video's length: wall clock from the first image to the stop
    busy_seconds: float = 0.0  # spent colour-managing, scaling and encoding


class Recording:
    """The sink (see the module docstring). `write` from the source's thread; `close` / `abort`
    from any other; neither raises (an encoder error is kept in `error`, the file kept, and said
    through `on_error(text)`)."""

    def __init__(
        self,
        writer: VideoWriter,
        processors: Processors,
        *,
        size=None,
        rate="CFR",
        on_error=None,
    ):
        if rate not in RATE_MODES:
            raise RecordError(f"unknown rate mode {rate!r} (CFR or VFR)")
        self.writer = writer
        self.processors = processors
        self.size = tuple(size) if size is not None else (writer.width, writer.height)  # (w, h) composed
        self.rate = rate
        self.stats = RecordingStats()
        self.error: BaseException | None = None
        self._clock = time.monotonic
        self._on_error = on_error
        self._cond = threading.Condition()
        self._pending: tuple | None = None  # (frame, arrival time)
        self._closing = False
        self._stop_time = 0.0
        self._t0: float | None = None
        self._scaler = None
        self._thread = threading.Thread(target=self._run, name="optica-recording", daemon=True)
        self._thread.start()

    # ---- the sink -----------------------------------------------------------------------------

    def write(self, frame) -> None:
        with self._cond:
            if self._closing:
                return
            if self.error is not None:
                raise self.error  # the session detaches a failed sink
            if self._pending is not None:
                self.stats.dropped += 1
            self._pending = (frame, self._clock())
            self._cond.notify()

    def close(self) -> None:
        """Ends the recording now: the ticks up to now are written, the file finalized."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._stop_time = self._clock()
            self._cond.notify()
        self._thread.join()
        self._finish()

    def abort(self) -> None:
        """As close(): a recording keeps what it has (the file is playable)."""
        self.close()

    @property
    def closed(self) -> bool:
        return self._closing

    @property
    def started(self) -> float | None:
        """When the first image arrived (time.monotonic): the video's time 0; None before."""
        return self._t0

    @property
    def path(self) -> Path:
        return self.writer.target

    # ---- the encoder's thread -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            first = self._take(wait=True)
            if first is None:
                return
            frame, self._t0 = first
            self._encode(frame, 0)
            (self._run_cfr if self.rate == "CFR" else self._run_vfr)()
        except BaseException as e:  # noqa: BLE001 - kept for write()/summary(); the file stays playable
            log.exception("Optica viewport recording failed")
            self.error = e
            if self._on_error is not None:
                self._on_error(f"Recording stopped: {type(e).__name__}: {e} (the file so far is kept: {self.path})")

    def _take(self, wait: bool) -> tuple | None:
        """The waiting (frame, time), if any; with `wait`, waits for one or the stop."""
        with self._cond:
            while wait and self._pending is None and not self._closing:
                self._cond.wait()
            item, self._pending = self._pending, None
            return item

    def _run_cfr(self) -> None:
        fps = self.writer.fps
        t0 = self._t0
        assert t0 is not None
        tick = 1
        while True:
            due = t0 + float(tick / fps)
            with self._cond:
                while not self._closing and self._clock() < due:
                    self._cond.wait(due - self._clock())
                closing, stop = self._closing, self._stop_time
            if closing and due >= stop:
                return
            now = min(self._clock(), stop) if closing else self._clock()
            behind = int((now - t0) * fps) - tick
            if behind > 0:
                self.stats.late += behind
                tick += behind
            item = self._take(wait=False)
            if item is not None:
                self._encode(item[0], tick)
            else:
                self._repeat(tick)
            tick += 1

    def _run_vfr(self) -> None:
        t0 = self._t0
        assert t0 is not None
        last = 0
        while True:
            item = self._take(wait=True)
            if item is None:  # stopped: hold the last image until the stop
                end = self._pts(self._stop_time - t0)
                if end > last:
                    self._repeat(end)
                return
            last = max(last + 1, self._pts(item[1] - t0))
            self._encode(item[0], last)

    def _pts(self, seconds: float) -> int:
        return round(seconds / float(self.writer.time_base))

    def _encode(self, frame, pts: int) -> None:
        t = time.perf_counter()
        self.writer.write(self._image(frame), pts)
        self.stats.images += 1
        self.stats.busy_seconds += time.perf_counter() - t

    def _repeat(self, pts: int) -> None:
        t = time.perf_counter()
        self.writer.repeat(pts)
        self.stats.repeated += 1
        self.stats.busy_seconds += time.perf_counter() - t

    # ---- what the view shows ------------------------------------------------------------------

    def _image(self, frame) -> np.ndarray:
        """The frame as drawn: display RGB (h, w, 3) uint8 of the recording's size."""
        rgb = self.processors.get(frame.view).to_uint8(frame.pixels)
        region, rect = getattr(frame, "region", None), getattr(frame, "rect", None)
        if not region or not rect:  # a plain Frame: the film is the whole picture
            region, rect = (rgb.shape[1], rgb.shape[0]), (0, 0, rgb.shape[1], rgb.shape[0])
        x, y, w, h = placement(region, rect, self.size)
        W, H = self.size
        if (x, y, w, h) == (0, 0, W, H) and rgb.shape[:2] == (H, W):
            return rgb
        if rgb.shape[:2] != (h, w):
            rgb = self._scale(rgb, w, h)
        canvas = np.zeros((H, W, 3), np.uint8)
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
        if x1 > x0 and y1 > y0:
            canvas[y0:y1, x0:x1] = rgb[y0 - y : y1 - y, x0 - x : x1 - x]
        return canvas

    def _scale(self, rgb: np.ndarray, w: int, h: int) -> np.ndarray:
        av = import_av()
        if self._scaler is None:
            from av.video.reformatter import VideoReformatter

            self._scaler = VideoReformatter()
        src = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        return self._scaler.reformat(src, width=w, height=h, interpolation="BILINEAR").to_ndarray()

    # ---- the end ------------------------------------------------------------------------------

    def _finish(self) -> None:
        if self._t0 is not None:
            self.stats.seconds = max(0.0, self._stop_time - self._t0)
        self.stats.frames = self.writer.frames
        try:
            if self.error is not None or self.writer.frames == 0:
                self.writer.abort()  # keeps a playable file; removes an empty one
            else:
                self.writer.close()
        except Exception as e:  # noqa: BLE001 - said by summary()
            self.error = self.error or e
        log.info("Optica: %s", self.summary())

    def summary(self) -> str:
        """What was recorded, for the user (after the stop)."""
        s = self.stats
        if s.frames == 0:
            text = "nothing recorded: no viewport image was drawn while recording"
        else:
            rate = f"{self.writer.fps} fps constant" if self.rate == "CFR" else "variable frame rate"
            text = (
                f"recorded {s.seconds:.1f} s to {self.path} ({self.writer.choice.label}, {rate}): {s.frames} frames, "
                f"{s.images} viewport images, {s.repeated} repeated, {s.dropped} dropped"
            )
            if self.rate == "CFR":
                text += f", {s.late} skipped while the encoder was behind"
        if self.error is not None:
            text += f"; stopped by an error: {type(self.error).__name__}: {self.error}"
        return text


def placement(region, rect, size) -> tuple[int, int, int, int]:
    """Where `rect` (x, y from the bottom-left, w, h) of a `region` (w, h) lands in a picture of
    `size` (w, h) that shows the whole region scaled to fit, centred (letterbox): (x, y from the
    top-left, w, h) in picture pixels."""
    RW, RH = max(1, region[0]), max(1, region[1])
    W, H = size
    scale = min(W / RW, H / RH)
    ox, oy = (W - RW * scale) / 2, (H - RH * scale) / 2
    x, y, w, h = rect
    top = RH - (y + h)
    return (
        round(ox + x * scale),
        round(oy + top * scale),
        max(1, round(w * scale)),
        max(1, round(h * scale)),
    )


# ---------------------------------------------------------------------------------------------
# one recording per session


_active: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # session → Recording


def recording_of(session) -> Recording | None:
    """The session's recording while it runs."""
    rec = _active.get(session)
    return rec if rec is not None and not rec.closed else None


def start(session, options: RecordOptions, config_path: str | None) -> Recording:
    """Checks everything, opens the file and attaches a Recording to `session`; RecordError
    when anything is wrong (nothing is attached or left behind then)."""
    if recording_of(session) is not None:
        raise RecordError(f"this viewport is already recording to {recording_of(session).path}")
    view = session.view
    if view is None or session.stopping:
        raise RecordError("the viewport is not rendering: switch the 3D view to Rendered shading first")
    if options.rate not in RATE_MODES:
        raise RecordError(f"unknown rate mode {options.rate!r} (CFR or VFR)")
    if not 1 <= options.fps <= MAX_FPS:
        raise RecordError(f"frame rate {options.fps} is out of range (1-{MAX_FPS})")
    path = _target(options.path)
    settings = options.encoder
    if not settings.keyframe_interval:  # a keyframe a second: shorter fragments, quick seeking
        settings = dataclasses.replace(settings, keyframe_interval=options.fps)
    try:
        settings.validate(path.suffix)
        choice = choose_encoder(settings)
    except EncoderError as e:
        raise RecordError(str(e)) from e
    processors = Processors(config_path, default=ViewSettings())
    try:
        processors.get(session.colour_view)  # an unknown view transform fails here, not later
    except Exception as e:
        raise RecordError(f"cannot colour-manage the recording: {e}") from e
    size = (max(2, view.width), max(2, view.height))
    writer = _open(path, size, options, settings, choice)
    rec = Recording(writer, processors, size=size, rate=options.rate, on_error=_status_line(session))
    _active[session] = rec
    session.attach(rec)
    return rec


def _status_line(session):
    ref = weakref.ref(session)

    def say(text: str) -> None:
        s = ref()
        if s is not None:
            s.message = text  # the viewport's status line

    return say


def stop(session) -> Recording | None:
    """Detaches the session's recording (the file is finalized); None when it had none."""
    rec = _active.pop(session, None)
    if rec is None:
        return None
    session.detach(rec)
    rec.close()  # already closed by detach, unless the session had dropped it after an error
    return rec


def _target(path: str) -> Path:
    if not path or not path.strip():
        raise RecordError("no output file for the recording: choose a .mp4 or .mkv file")
    target = Path(path).expanduser().absolute()
    if target.suffix.lower() not in CONTAINERS:
        raise RecordError(f"'{target.name}' is not a video file Optica records: use a .mp4, .mkv or .mov extension")
    return free_path(target)


def free_path(target: Path) -> Path:
    """`target`, or the first free `<stem>_001<ext>`, `_002`, ... next to it: a recording never
    replaces a file."""
    candidate, n = target, 0
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.stem}_{n:03d}{target.suffix}")
    return candidate


def _open(path: Path, size, options: RecordOptions, settings: EncoderSettings, choice) -> VideoWriter:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        time_base = VFR_TIME_BASE if options.rate == "VFR" else None  # None: frame numbers
        return VideoWriter(
            path, size[0], size[1], Fraction(options.fps), settings, choice, live=True, time_base=time_base
        )
    except EncoderError as e:
        raise RecordError(str(e)) from e
    except OSError as e:  # PyAV's errors are OSErrors too
        reason = e.strerror or str(e)
        raise RecordError(f"cannot write the recording to {path}: {reason}") from e
