# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender side of Optica: the render engine, its sessions and the scene export.

The root ``__init__.py`` delegates ``register()`` / ``unregister()`` here. Registering adds,
in order: the settings and panels (``ui``), the "Optica" render engine, the handlers that
free what a render job kept between frames, and the export operators (``operators``).
``unregister()`` removes exactly those, so the add-on can be disabled and enabled again in one
Blender session.
"""

import bpy
from bpy.app.handlers import persistent

from .. import operators, ui
from . import engine, final, viewport


@persistent
def _render_ended(scene, *_args):
    final.release_jobs(scene)


@persistent
def _file_loading(*_args):
    final.release_jobs(None, keep_persistent=False)
    viewport.stop_all()


def _handlers():
    h = bpy.app.handlers
    return ((h.render_complete, _render_ended), (h.render_cancel, _render_ended), (h.load_pre, _file_loading))


def register():
    ui.register()
    for cls in engine.CLASSES:
        bpy.utils.register_class(cls)
    for handlers, fn in _handlers():
        if fn not in handlers:
            handlers.append(fn)
    operators.register()


def unregister():
    operators.unregister()
    for handlers, fn in _handlers():
        while fn in handlers:
            handlers.remove(fn)
    for cls in reversed(engine.CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
    ui.unregister()
    final.release_jobs(None, keep_persistent=False)
    viewport.stop_all()
