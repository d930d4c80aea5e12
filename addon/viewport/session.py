# SPDX-License-Identifier: GPL-3.0-or-later
"""The viewport session: a background render that accumulates while the user works, and a
source of frames that sinks attach to.

    session = ViewportSession(on_redraw=callback)   # callback: "a new frame is ready" (any thread)
    report = session.update(depsgraph, view)        # main thread; view: a ViewState
    session.update_view(view)                       # the view alone changed (navigation)
    frame = session.draw_data()                     # newest DrawFrame, or None
    session.attach(sink); session.detach(sink)      # e.g. a video writer, while it runs
    session.set_colour_view(settings)               # the scene's view transform changed (drawing)
    session.stop()                                  # joins the worker thread

The engine's entry points (entry.py) turn Blender's context into a `ViewState` and draw with
the display; everything here runs without a window, so tests drive sessions with real
depsgraphs. Updates: a view change re-derives the camera only; a camera change re-reads the
camera only; anything else goes through the scene sync (sync.py: the exporter's change tracker,
a transform patch or a cached export). The core rebuilds only what changed: unchanged geometry
keeps its BVH (`Renderer.geometry_reused`). Sampling is the worker's (worker.py).

Sinks attached with `attach()` get the image on screen at once (on the attaching thread: a
resting session publishes nothing until something changes, and a full-resolution batch may take
seconds), then every DrawFrame the worker publishes, on its thread (wrap a slow sink in
optica_core.sinks.QueuedSink); one lock keeps these in order. `stop()` closes them. Frames carry
the scene's colour view (`colour_view`: view transform, look, exposure, gamma); a change of it
alone restarts nothing but publishes the image on screen again with it (on the calling thread),
so a recording follows what the view draws.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

from optica_core.sinks import SinkSet

from ..messages import approximated_note
from .colour import scene_view_settings
from .framing import SceneView, ViewState, scene_view, view_frame
from .sync import Changes, ViewportSync
from .worker import DrawFrame, Job, JobStats, Settings, Worker


@dataclass
class UpdateReport:
    """What one `ViewportSession.update` / `update_view` did (for status messages and tests).

    kind: 'initial', 'none', 'view', 'camera', 'transform', 'export', 'settings';
    changed: `changes.diff`-style parts that changed (plus 'camera' / 'view');
    exported: the exporter's last_stats when an export ran, else None; moved_rows: transform
    rows patched; restarted: accumulation restarted; generation: the job's number."""

    kind: str = "none"
    changed: dict = field(default_factory=dict)
    exported: dict | None = None
    moved_rows: int = 0
    restarted: bool = False
    generation: int = 0
    seconds: float = 0.0


class ViewportSession:
    """See the module docstring. `update`/`update_view`/`stop` are called from the main thread."""

    def __init__(self, on_redraw=None, alive=None, log_fn=None):
        self.sync = ViewportSync(log_fn)
        self.view: ViewState | None = None
        self.scene_view: SceneView | None = None
        self.settings = Settings()
        self.last_report = UpdateReport()
        self.message = ""  # the latest problem worth showing (export error, denoiser missing)
        self.approximated = ""  # the last export's approximated materials, for the status
        self.sinks = SinkSet()
        self.colour_view = None  # the scene's colour settings (optica_core.sinks.colour.ViewSettings)
        self._publishing = threading.Lock()  # one image at a time reaches the sinks, in order
        self._generation = 0
        self._worker = Worker(self, on_redraw, alive)
        self._worker.start()

    # ---- main thread --------------------------------------------------------------------------

    def update(self, depsgraph, view: ViewState, changes: Changes | None = None) -> UpdateReport:
        """Brings the session up to date with `depsgraph` (its `updates`, unless `changes` are
        given) and `view`; restarts accumulation when the image changes."""
        t0 = time.perf_counter()
        first = self.sync.scene is None
        if changes is None:
            changes = Changes.everything() if first else Changes.from_depsgraph(depsgraph)
        settings = Settings.from_scene(depsgraph.scene)
        self.set_colour_view(scene_view_settings(depsgraph.scene))
        synced = self.sync.apply(depsgraph, changes)
        if synced.exported is not None:
            self.approximated = approximated_note(synced.exported)
        rep = UpdateReport(
            kind="initial" if first else synced.kind,
            changed=dict(synced.changed or {}),
            exported=synced.exported,
            moved_rows=synced.moved_rows,
        )
        rescan = first or changes or view != self.view
        sv = scene_view(depsgraph, view, self.sync.log) if rescan else self.scene_view
        if not first and sv is not None:
            self._note_view_changes(rep, sv, view)
        renderer_changed = (settings.threads, settings.device) != (self.settings.threads, self.settings.device)
        restart = first or bool(rep.changed) or renderer_changed
        if rep.kind == "none" and settings != self.settings:
            rep.kind = "settings"
        self.view, self.scene_view, self.settings = view, sv, settings
        if restart:
            self._post(t0)
            rep.restarted = True
        else:
            self._worker.wake()  # a new sample target or denoiser setting: go on from here
        return self._finish(rep, t0)

    def _note_view_changes(self, rep: UpdateReport, sv: SceneView, view: ViewState) -> None:
        if not sv.same_as(self.scene_view):
            rep.changed["camera"] = ("camera",)
        elif view != self.view:
            rep.changed["view"] = ("view",)
        if rep.kind == "none" and rep.changed:
            rep.kind = "camera" if "camera" in rep.changed else "view"

    def update_view(self, view: ViewState) -> UpdateReport:
        """The view alone changed (navigation, region resize): only the camera is re-derived."""
        t0 = time.perf_counter()
        rep = UpdateReport(kind="view")
        if self.sync.scene is None or self.needs_scene_view(view):
            rep.kind = "none"  # nothing exported yet, or camera view entered or left: update() it is
        elif view != self.view:
            self.view = view
            rep.changed = {"view": ("camera",)}
            self._post(t0)
            rep.restarted = True
        return self._finish(rep, t0)

    def _finish(self, rep: UpdateReport, t0: float) -> UpdateReport:
        rep.generation = self._generation
        rep.seconds = time.perf_counter() - t0
        self.last_report = rep
        return rep

    def needs_scene_view(self, view: ViewState) -> bool:
        """True when `view` needs what only update() reads from the scene: the first view, or
        entering or leaving the camera view (the camera, render size and border)."""
        if self.view is None or self.scene_view is None:
            return True
        if (view.perspective == "CAMERA") != (self.view.perspective == "CAMERA"):
            return True
        return view.perspective == "CAMERA" and (view.camera != self.view.camera or self.scene_view.camera is None)

    def _post(self, t0: float) -> None:
        assert self.view is not None and self.sync.scene is not None
        self._generation += 1
        frame = view_frame(self.view, self.scene_view or SceneView())
        s = self.settings
        self._worker.post(Job(self._generation, self.sync.scene, frame, s.threads, t0, self.view.pixel_size, s.device))

    def draw_data(self) -> DrawFrame | None:
        """The newest image to draw (None before the first)."""
        self._worker.nudge()
        return self._worker.frame

    def attach(self, sink) -> None:
        """Feeds `sink` the image on screen, then every image published from now on (see the
        module docstring). A sink that cannot take the first image is not attached (its error
        is raised)."""
        with self._publishing:
            self.sinks.attach(sink)
            frame = self._worker.frame
            if frame is not None:
                try:
                    sink.write(frame)
                except BaseException:
                    self.sinks.detach(sink, close=False)
                    raise

    def set_colour_view(self, view) -> None:
        """The scene's colour settings (a ViewSettings) as the 3D view now draws them; a change
        publishes the image on screen again with them."""
        if view == self.colour_view:
            return
        with self._publishing:
            self.colour_view = view
            frame = self._worker.frame
            if frame is not None:
                self._hand_out(frame)

    def publish(self, frame: DrawFrame) -> None:
        """The worker's new image: stamped with the colour view, then to every sink."""
        with self._publishing:
            self._hand_out(frame)

    def _hand_out(self, frame: DrawFrame) -> None:
        frame = dataclasses.replace(frame, view=self.colour_view)
        self._worker.frame = frame
        self.sinks.publish(frame)

    def detach(self, sink) -> None:
        """Stops feeding `sink` and closes it (a video writer finalizes its file)."""
        self.sinks.detach(sink)

    def stop(self, wait: bool = True) -> None:
        """Stops the worker thread (idempotent; any thread but the worker) and closes the
        attached sinks. With `wait`, waits for the thread; without (the engine is being freed:
        the UI must not block on a scene build), the thread ends on its own."""
        self._worker.stop(wait)
        self.sinks.close_all()

    # ---- read by the display, tests and the benchmark ------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker.is_alive()

    @property
    def stopping(self) -> bool:
        """True once stop() was asked or the worker ended (it will publish nothing more)."""
        return self._worker.stopping or not self._worker.is_alive()

    @property
    def busy(self) -> bool:
        """True while the newest job is still sampling or denoising."""
        return self._worker.busy

    @property
    def generation(self) -> int:
        return self._generation

    def stats(self, generation: int | None = None) -> JobStats | None:
        return self._worker.stats.get(self._generation if generation is None else generation)

    def status(self) -> str:
        f = self._worker.frame
        if self._worker.error:
            return f"Error: {self._worker.error}"
        if f is None:
            return "Preparing"
        text = f"Sample {max(f.samples, self._worker.samples)}/{f.target}"
        base = self.view.pixel_size if self.view is not None else 1
        if f.pixel_size > base:
            text += f" (1/{f.pixel_size // base} resolution)"
        if f.denoised:
            text += " | Denoised"
        if self.approximated:
            text += f" | {self.approximated}"
        message = self.message or self._worker.message
        return f"{text} | {message}" if message else text

    def wait(
        self, generation: int | None = None, *, pixel_size: int | None = None, done: bool = False, timeout: float = 30.0
    ) -> JobStats:
        """Waits until the worker published an image of `generation` (the newest by default) —
        at `pixel_size` when given, or until the job is finished when `done`. For tests and
        benchmarks; raises TimeoutError."""
        gen = self._generation if generation is None else generation
        deadline = time.perf_counter() + timeout
        while True:
            self._worker.published.clear()  # before looking: a publish after the look wakes the wait
            st = self._worker.stats.get(gen)
            if self._worker.error:
                raise RuntimeError(self._worker.error)
            if st is not None and (
                st.done if done else (pixel_size in st.pixel_sizes if pixel_size else bool(st.pixel_sizes))
            ):
                return st
            if not self._worker.is_alive():
                raise RuntimeError("the viewport worker is not running")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"viewport generation {gen}: {st}")
            self._worker.nudge()
            self._worker.published.wait(0.01)
