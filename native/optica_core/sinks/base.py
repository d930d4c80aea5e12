# SPDX-License-Identifier: GPL-3.0-or-later
"""The frame-sink interface: a `Frame`, the `Sink` protocol, the `SinkSet` a running source
feeds (sinks attach and detach while it runs), `QueuedSink`, which writes on its own thread, and
`ReorderingSink`, which puts frames that arrive in any order (a farm's) back in order.

    sinks = SinkSet()
    sinks.attach(sink)               # any thread, while the source runs
    sinks.publish(frame)             # the source: every attached sink gets the frame
    sinks.detach(sink)               # closes it: a video writer finalizes its file

    queued = QueuedSink(sink, depth=2)   # write() returns once the frame is queued
    queued.write(frame); queued.close()  # close() waits for the queue, then closes `sink`

    ordered = ReorderingSink(sink, order=[3, 4, 5], capacity=8)
    ordered.write(frame_5); ordered.write(frame_3)   # `sink` gets 3 now, 5 after 4 arrived

Contract of a sink (as GIFT-Grab's writers attach to a source of frames):
- `write(frame)`: takes one frame, in order; it may keep a reference to `frame.pixels` (sources
  hand over arrays they no longer change) and raise when it cannot take it;
- `close()`: the sequence is complete (finalize a file); called once, after the last write;
- `abort()`: the sequence stopped early (cancel, error): leave nothing half-written behind.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


class MissingDependency(RuntimeError):
    """A Python package a sink needs is not importable; the message names it."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One image from a source of frames.

    pixels: (h, w, 3|4), top row first — scene-linear float RGB(A), or, when `display_referred`,
    display values (uint8, or float in [0, 1]) that need no colour management.
    view: how scene-linear pixels are to be shown (a `colour.ViewSettings`), None: the sink's own.
    passes: other images of the frame by Blender pass name ("Depth", "Normal", ...).
    index: position in its sequence (a video's frame from 0, or an animation's frame number);
    samples: samples per pixel; final: False for a progressive refinement that a later frame of
    the same index replaces; info: how it was made (render seconds, the farm worker, ...)."""

    pixels: np.ndarray
    index: int = 0
    view: Any = None
    display_referred: bool = False
    passes: Mapping[str, np.ndarray] = field(default_factory=dict)
    samples: int = 0
    final: bool = True
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])


class Sink(Protocol):
    """What every consumer of frames implements (see the module docstring)."""

    def write(self, frame: Frame) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class SinkSet:
    """The sinks a running source feeds. Thread-safe: attach and detach from any thread.

    A sink whose write() raises is detached and aborted, and its error kept in `errors`: one
    consumer's failure never stops the source or the other sinks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sinks: list[Sink] = []
        self.errors: list[tuple[Sink, BaseException]] = []

    def attach(self, sink: Sink) -> None:
        with self._lock:
            if sink not in self._sinks:
                self._sinks.append(sink)

    def detach(self, sink: Sink, *, close: bool = True) -> None:
        """Stops feeding `sink`; closes it (or aborts it with close=False). Idempotent."""
        with self._lock:
            if sink not in self._sinks:
                return
            self._sinks.remove(sink)
        sink.close() if close else sink.abort()

    def __contains__(self, sink) -> bool:
        with self._lock:
            return sink in self._sinks

    def __len__(self) -> int:
        with self._lock:
            return len(self._sinks)

    def publish(self, frame: Frame) -> None:
        with self._lock:
            sinks = list(self._sinks)
        for sink in sinks:
            try:
                sink.write(frame)
            except Exception as e:  # noqa: BLE001 - the failing sink goes, the source goes on
                self.errors.append((sink, e))
                self.detach(sink, close=False)

    def close_all(self) -> None:
        with self._lock:
            sinks, self._sinks = self._sinks, []
        for sink in sinks:
            sink.close()

    def abort_all(self) -> None:
        with self._lock:
            sinks, self._sinks = self._sinks, []
        for sink in sinks:
            with contextlib.suppress(Exception):
                sink.abort()


_STOP = object()


class QueuedSink:
    """Writes frames to `sink` on a thread of its own, in order, through a queue of at most
    `depth` frames: the caller produces frame k+1 while frame k is written (colour management
    and encoding release the GIL). Memory stays flat however long the sequence is.

    An error raised by `sink` comes back from the next write() or from close(); the frames
    still queued then are dropped. `seconds`: time spent in `sink.write`; `waited`: time write()
    spent blocked on a full queue (the sink is the bottleneck)."""

    def __init__(self, sink: Sink, depth: int = 2, name: str = "optica-sink"):
        self.sink = sink
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self.error: BaseException | None = None
        self.frames = 0
        self.seconds = 0.0
        self.waited = 0.0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def write(self, frame: Frame) -> None:
        t0 = time.perf_counter()
        while True:
            self._raise()
            try:
                self._queue.put(frame, timeout=0.1)
                break
            except queue.Full:
                continue
        self.waited += time.perf_counter() - t0

    def close(self) -> None:
        """Waits until every frame written so far reached the sink, then closes it; raises the
        sink's error (the sink is then aborted instead)."""
        self._stop_thread()
        if self.error is not None:
            with contextlib.suppress(Exception):
                self.sink.abort()
            raise self.error
        self.sink.close()

    def abort(self, drain: bool = False) -> None:
        """Drops the frames still waiting (with `drain`, writes them first: a farm keeps every
        frame it rendered), ends the thread and aborts the sink."""
        if not drain:
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
        self._stop_thread()
        self.sink.abort()

    def _stop_thread(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self.error is not None:
                continue  # drain until stopped
            t0 = time.perf_counter()
            try:
                self.sink.write(item)
                self.frames += 1
            except BaseException as e:  # noqa: BLE001 - handed to the thread calling write()/close()
                self.error = e
            self.seconds += time.perf_counter() - t0


class ReorderingSink:
    """Hands frames to `sink` in `order` (frame indices) whatever order they are written in,
    holding at most `capacity` early frames: a producer that finishes frames out of order (a
    farm) keeps no more than that in flight, so memory stays bounded.

    Writing a frame that is not in `order`, or was delivered already, is a ValueError; one more
    early frame than `capacity` a RuntimeError. close() raises unless every frame of `order` was
    delivered (then closes `sink`); abort() drops the waiting frames and aborts `sink`."""

    def __init__(self, sink: Sink, order, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity: expected >= 1, got {capacity}")
        self.sink = sink
        self.order = list(order)
        self.capacity = capacity
        self.delivered = 0
        self._position = {n: i for i, n in enumerate(self.order)}
        self._waiting: dict[int, Frame] = {}

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def complete(self) -> bool:
        return self.delivered == len(self.order)

    def write(self, frame: Frame) -> None:
        position = self._position.get(frame.index, -1)
        if frame.index in self._waiting or position < self.delivered:
            raise ValueError(f"frame {frame.index} was not expected (already delivered, or not in the order)")
        if position > self.delivered and len(self._waiting) >= self.capacity:
            raise RuntimeError(
                f"reorder buffer full ({self.capacity} frames wait for frame {self.order[self.delivered]}): "
                "the producer ran too far ahead"
            )
        self._waiting[frame.index] = frame
        while self.delivered < len(self.order) and self.order[self.delivered] in self._waiting:
            self.sink.write(self._waiting.pop(self.order[self.delivered]))
            self.delivered += 1

    def close(self) -> None:
        if not self.complete:
            missing = len(self.order) - self.delivered
            raise RuntimeError(f"{missing} frames never arrived (from frame {self.order[self.delivered]} on)")
        self.sink.close()

    def abort(self) -> None:
        self._waiting.clear()
        self.sink.abort()

    def take_waiting(self) -> list[Frame]:
        """The early frames still waiting for an earlier one, in order (they are forgotten)."""
        frames = [self._waiting[n] for n in self.order if n in self._waiting]
        self._waiting.clear()
        return frames
