# SPDX-License-Identifier: GPL-3.0-or-later
"""Render → colour-manage → encode, frame by frame, with encoding overlapped with rendering.

    renderer = FrameRenderer(scene)                    # one RenderJob for all of the scene's frames
    encoder = EncodeThread(convert, writer, depth=2)   # convert: image -> (h, w, 3) uint8
    for f in frames:
        encoder.put(renderer.render(f))                # blocks while `depth` frames wait
    encoder.finish()                                   # waits for the last frame; raises its error

`FrameRenderer` is the only part that knows Blender: it sets the frame and renders the scene's
view layer with Optica's final-render session (`addon.final.FinalSession` into an `ArrayOutput`),
keeping one `RenderJob` (exporter + renderer) across frames so unchanged meshes are neither
re-exported nor rebuilt. It runs on the main thread (bpy is not thread-safe).

`EncodeThread` does the colour conversion and the encoding of frame k on its own thread while
the main thread renders frame k+1: OCIO, the RGB→YUV conversion and the encoders release the
GIL. Its queue is bounded, so memory stays flat however long the animation is.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time

import numpy as np


class Cancelled(Exception):
    """The export was stopped by the user (Esc, a cancel request)."""


# ---------------------------------------------------------------------------------------------
# rendering one frame with Optica (bpy, main thread)


def render_view_layer(scene):
    """The view layer a video of `scene` shows: the window's one when it belongs to the scene,
    else the first layer enabled for rendering."""
    import bpy

    window_layer = getattr(bpy.context, "view_layer", None)
    if getattr(bpy.context, "scene", None) == scene and window_layer is not None and window_layer.use:
        return window_layer
    for layer in scene.view_layers:
        if layer.use:
            return layer
    raise ValueError(f"scene '{scene.name}' has no view layer enabled for rendering")


@contextlib.contextmanager
def render_overrides(scene, size: tuple[int, int] | None = None, threads: int | None = None):
    """Temporarily makes `scene` render whole frames of `size` (width, height) pixels (None:
    the scene's own size and percentage), with `threads` render threads (None: the scene's).
    Restores every changed setting and the current frame afterwards."""
    r, opt = scene.render, scene.optica
    saved = dict(resolution_x=r.resolution_x, resolution_y=r.resolution_y,
                 resolution_percentage=r.resolution_percentage, use_border=r.use_border)
    saved_threads, saved_frame = opt.threads, (scene.frame_current, scene.frame_subframe)
    try:
        r.use_border = False  # a video frame is the whole frame
        if size is not None:
            r.resolution_x, r.resolution_y = size
            r.resolution_percentage = 100
        if threads is not None:
            opt.threads = threads
        yield scene
    finally:
        for key, value in saved.items():
            if getattr(r, key) != value:
                setattr(r, key, value)
        if opt.threads != saved_threads:
            opt.threads = saved_threads
        if (scene.frame_current, scene.frame_subframe) != saved_frame:
            scene.frame_set(saved_frame[0], subframe=saved_frame[1])


class FrameRenderer:
    """Renders frames of one scene with Optica (see the module docstring).

    test_break: callable returning True to stop the frame being rendered (the session answers
    within half a second); render() then raises Cancelled."""

    def __init__(self, scene, test_break=lambda: False):
        from ..addon import final

        self._final = final
        self.scene = scene
        self.view_layer = render_view_layer(scene)
        self.job = final.RenderJob()
        self.test_break = test_break
        self.messages: list[tuple[str, str]] = []  # (level, text) of the exporter, deduplicated
        self.seconds = 0.0  # time spent rendering (export + sampling)
        self.last_outcome = None

    def render(self, frame: int) -> np.ndarray:
        """Frame `frame` as an (h, w, 4) float32 scene-linear image, top row first."""
        t0 = time.perf_counter()
        self.scene.frame_set(frame)  # evaluates the depsgraphs of the scene's view layers
        depsgraph = self.view_layer.depsgraph
        if depsgraph is None:
            raise RuntimeError(f"view layer '{self.view_layer.name}' of '{self.scene.name}' has no depsgraph")
        output = self._final.ArrayOutput()
        session = self._final.FinalSession(output, self.test_break, self.job)
        outcome = session.render(depsgraph)
        for m in output.messages:
            if m not in self.messages:
                self.messages.append(m)
        self.last_outcome = outcome
        self.seconds += time.perf_counter() - t0
        if outcome.cancelled:
            raise Cancelled()
        return output.images["Combined"]


# ---------------------------------------------------------------------------------------------
# colour + encode on a thread of its own


_STOP = object()


class EncodeThread:
    """Converts (colour management) and encodes frames handed over by put(), in order, on its
    own thread (see the module docstring). `convert(image) -> (h, w, 3) uint8`; `writer` has
    write(rgb8). Errors raised there come back from the next put() or finish()."""

    def __init__(self, convert, writer, depth: int = 2):
        self.convert = convert
        self.writer = writer
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self.error: BaseException | None = None
        self.frames = 0
        self.seconds = 0.0  # busy time (conversion + encoding)
        self.waited = 0.0  # time put() spent blocked on a full queue (encoding is the bottleneck)
        self._thread = threading.Thread(target=self._run, name="optica-encode", daemon=True)
        self._thread.start()

    def put(self, image) -> None:
        t0 = time.perf_counter()
        while True:
            self._raise()
            try:
                self.queue.put(image, timeout=0.1)
                break
            except queue.Full:
                continue
        self.waited += time.perf_counter() - t0

    def finish(self) -> None:
        """Waits until every frame put so far is encoded; raises the thread's error."""
        self._stop()
        self._raise()

    def stop(self) -> None:
        """Drops the frames still waiting and ends the thread (cancel, error)."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.queue.get_nowait()
        self._stop()

    def _stop(self):
        if self._thread.is_alive():
            self.queue.put(_STOP)
            self._thread.join()

    def _raise(self):
        if self.error is not None:
            raise self.error

    def _run(self):
        while True:
            item = self.queue.get()
            if item is _STOP:
                return
            if self.error is not None:
                continue  # drain until stopped
            t0 = time.perf_counter()
            try:
                self.writer.write(self.convert(item))
                self.frames += 1
            except BaseException as e:  # noqa: BLE001 - handed to the thread calling put()/finish()
                self.error = e
            self.seconds += time.perf_counter() - t0
