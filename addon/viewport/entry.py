# SPDX-License-Identifier: GPL-3.0-or-later
"""The RenderEngine's viewport entry points (`view_update`, `view_draw`), the session each
engine keeps, and their teardown.

Teardown without `__del__`: the engine keeps its session; `weakref.finalize(engine, ...)` stops
it when Blender frees the engine (RE_engine_free drops the Python instance: closing the
viewport, leaving Rendered shading, switching engine) — without waiting, so the UI never blocks
on a scene build in progress; the worker also stops by itself once the engine's RNA is
invalidated (a Python reference outlived the engine), and `stop_all()` runs on file load,
add-on unregister and interpreter exit. The worker never holds the engine: it asks for redraws
through a weak reference. A session that stopped (a file load that failed and kept the engine,
a worker that died) is replaced by a new one at the next call, never handed back.

Errors never propagate into Blender's draw loop: an update or drawing error is logged once
(per message) and shown in the status line; the next call tries again.

Operators reach the session of a 3D view through `session_in_area(area)`: each entry point
notes which region (a 3D view's WINDOW region; each has its own engine) its session draws in.
"""

from __future__ import annotations

import atexit
import logging
import weakref

from .. import messages
from .colour import scene_view_settings
from .display import Display
from .framing import ViewState
from .session import ViewportSession
from .sync import Changes

log = logging.getLogger(__name__)

_sessions: weakref.WeakSet[ViewportSession] = weakref.WeakSet()
_by_region: dict[int, weakref.ref] = {}  # WINDOW region pointer → its session


def _engine_alive(ref) -> bool:
    """False once the engine's Python object is gone or Blender invalidated its RNA."""
    engine = ref()
    if engine is None:
        return False
    try:
        _ = engine.is_preview  # raises ReferenceError once RE_engine_free invalidated it
    except ReferenceError:
        return False
    return True


def _redraw(ref) -> None:
    engine = ref()
    if engine is not None:
        try:
            engine.tag_redraw()  # sets a flag Blender's draw loop reads (as Cycles' threads do)
        except ReferenceError:
            pass


def _stop_without_waiting(session: ViewportSession) -> None:
    session.stop(wait=False)


def session_for(engine, create: bool = True) -> ViewportSession | None:
    """The engine's running viewport session, made (and tied to the engine's lifetime) when
    there is none or the one it had stopped."""
    session = getattr(engine, "_optica_viewport", None)
    if session is not None and session.stopping:
        session.stop(wait=False)
        session = None
    if session is None and create:
        ref = weakref.ref(engine)
        session = ViewportSession(
            on_redraw=lambda: _redraw(ref), alive=lambda: _engine_alive(ref), log_fn=_reporter(ref)
        )
        display = Display()
        session.attach(display)
        engine._optica_viewport = session
        engine._optica_display = display
        _sessions.add(session)
        # Runs when Blender frees the engine (its Python instance is dropped), at most once,
        # and at interpreter exit: no __del__ involved.
        weakref.finalize(engine, _stop_without_waiting, session)
    return session


def _reporter(ref):
    """The exporter's log(level, message): to Python logging; errors also to the viewport's
    status line (warnings are said once per subject by the exporter and not repeated there)."""

    def to_status(_level: str, text: str) -> None:
        engine = ref()
        session = getattr(engine, "_optica_viewport", None) if engine is not None else None
        if session is not None:
            session.message = text

    return messages.relay(log, to_status, user_levels=("ERROR",))


def _note_region(context, session: ViewportSession) -> None:
    region = getattr(context, "region", None)
    if region is None:
        return
    key = region.as_pointer()
    ref = _by_region.get(key)
    if ref is None or ref() is not session:
        for dead in [k for k, r in _by_region.items() if r() is None]:
            del _by_region[dead]
        _by_region[key] = weakref.ref(session)


def session_in_area(area) -> ViewportSession | None:
    """The running session drawing in a WINDOW region of `area` (a 3D view; in quad view, the
    first that has one), or None."""
    for region in getattr(area, "regions", ()):
        if region.type != "WINDOW":
            continue
        ref = _by_region.get(region.as_pointer())
        session = ref() if ref is not None else None
        if session is not None and not session.stopping:
            return session
    return None


def stop_all() -> None:
    """Stops every viewport session and waits for their threads (file load, add-on
    unregister, interpreter exit)."""
    for session in list(_sessions):
        session.stop()


_said: set[str] = set()


def _problem(session: ViewportSession, what: str, error: Exception) -> None:
    """An error in an entry point: logged once per message, shown in the status line."""
    text = f"{type(error).__name__}: {error}"
    if text not in _said:
        _said.add(text)
        log.exception("Optica viewport %s failed", what)
    session.message = text


def view_update(engine, context, depsgraph) -> None:
    """RenderEngine.view_update: the depsgraph changed (or the viewport render just started)."""
    session = session_for(engine)
    assert session is not None
    _note_region(context, session)
    try:
        session.update(depsgraph, _view(engine, context, depsgraph.scene))
        session.message = ""
    except Exception as e:  # noqa: BLE001 - never raise into Blender's draw loop
        _problem(session, "update", e)
    engine.update_stats("", f"Optica: {session.status()}")


def view_draw(engine, context, depsgraph) -> None:
    """RenderEngine.view_draw: draw the newest image; a changed view restarts sampling."""
    session = session_for(engine)
    assert session is not None
    _note_region(context, session)
    try:
        session.set_colour_view(scene_view_settings(depsgraph.scene))
        view = _view(engine, context, depsgraph.scene)
        if view != session.view:
            if session.needs_scene_view(view):
                session.update(depsgraph, view, Changes(camera=True))
            else:
                session.update_view(view)
    except Exception as e:  # noqa: BLE001
        _problem(session, "update", e)
    session.draw_data()  # keeps a waiting job's cancel alive
    draw(engine, depsgraph.scene, session)
    engine.update_stats("", f"Optica: {session.status()}")


def draw(engine, scene, session: ViewportSession) -> None:
    """Draws the session's newest image with the engine's display; errors go to the status."""
    display = getattr(engine, "_optica_display", None)
    if display is None:
        return
    try:
        display.draw(engine, scene)
    except Exception as e:  # noqa: BLE001 - a drawing error must not re-raise on every redraw
        _problem(session, "drawing", e)


def _view(engine, context, scene) -> ViewState:
    return ViewState.from_context(context, pixel_size=engine.get_preview_pixel_size(scene))


atexit.register(stop_all)
