"""Where rendered frames go, in order: the frame-sink interface, the reorder buffer, image sequences.

    sink = ImageSequenceSink(folder, ImageOutput("x.exr"))
    todo = sink.pending(keys)                  # frames not already written with the same key
    buffer = ReorderBuffer(sink, order=todo, capacity=16)
    buffer.push(frame)                         # any order in; the sink sees `order`
    sink.close()                               # or sink.abort() after an error or a cancel

A sink receives frames strictly in order (a video writer needs that; an image sequence does not
mind) and may be finalised (`close`) or abandoned (`abort`); neither leaves a half-written file.
Producers that finish frames out of order (a farm) hand them to a `ReorderBuffer`, whose
capacity bounds the memory held: the producer keeps no more frames in flight than that.

An image sequence remembers, in an append-only log beside the frames, which key (a digest of the
frame's scene and of the render settings) each file was rendered for, so a run after an
interruption, a crash or a changed frame renders exactly the frames that are missing or stale.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Protocol

from .imagefile import ImageOutput
from .render import RenderedFrame

DONE_LOG = ".optica-done.jsonl"


class FrameSink(Protocol):
    def write(self, frame: RenderedFrame) -> None:
        """The next frame, in order."""

    def close(self) -> None:
        """After the last frame: finalise the output."""

    def abort(self) -> None:
        """After an error or a cancel: leave nothing half-written (complete frames may stay)."""


class ReorderBuffer:
    """Delivers frames to `sink` in `order` whatever order they arrive in, holding at most
    `capacity` early frames."""

    def __init__(self, sink: FrameSink, order: Iterable[int], capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity: expected >= 1, got {capacity}")
        self.sink = sink
        self.order = list(order)
        self._position = {n: i for i, n in enumerate(self.order)}
        self.capacity = capacity
        self.delivered = 0
        self._waiting: dict[int, RenderedFrame] = {}

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def complete(self) -> bool:
        return self.delivered == len(self.order)

    def push(self, frame: RenderedFrame) -> int:
        """Accepts one frame; returns how many frames went to the sink."""
        position = self._position.get(frame.frame, -1)
        if frame.frame in self._waiting or position < self.delivered:
            raise ValueError(f"frame {frame.frame} was not expected (already delivered, or not in the order)")
        if position > self.delivered and len(self._waiting) >= self.capacity:
            raise RuntimeError(f"reorder buffer full ({self.capacity} frames wait for frame "
                               f"{self.order[self.delivered]}): the producer ran too far ahead")
        self._waiting[frame.frame] = frame
        sent = 0
        while self.delivered < len(self.order) and self.order[self.delivered] in self._waiting:
            self.sink.write(self._waiting.pop(self.order[self.delivered]))
            self.delivered += 1
            sent += 1
        return sent


class ImageSequenceSink:
    """One image file per frame in `folder` (`frame_<n>.<ext>`), each written atomically."""

    def __init__(self, folder, output: ImageOutput, keys: dict[int, str] | None = None):
        self.folder = Path(folder)
        self.output = output
        self.keys = dict(keys or {})
        self.suffix = {"EXR": ".exr", "PNG": ".png", "JPEG": ".jpg"}[output.format]
        self.written: list[int] = []

    def path(self, frame: int) -> Path:
        return self.folder / f"frame_{frame:06d}{self.suffix}"

    def pending(self, frames: Iterable[int]) -> list[int]:
        """The frames whose file is missing or was rendered for another key."""
        done = self._done_keys()
        return [n for n in frames if done.get(n) != self.keys.get(n) or not self.path(n).is_file()]

    def write(self, frame: RenderedFrame) -> None:
        self.output.write(self.path(frame.frame), frame)
        with open(self.folder / DONE_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"frame": frame.frame, "key": self.keys.get(frame.frame)}) + "\n")
            log.flush()
            os.fsync(log.fileno())
        self.written.append(frame.frame)

    def close(self) -> None:
        pass  # every frame is complete once written

    def abort(self) -> None:
        pass  # the same: no file is ever half-written, the log lists complete frames only

    def _done_keys(self) -> dict[int, str]:
        try:
            lines = (self.folder / DONE_LOG).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
        done = {}
        for line in lines:
            try:
                entry = json.loads(line)
                done[int(entry["frame"])] = entry["key"]
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash: that frame is simply rendered again
        return done
