# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine layer of Optica's Blender side: the render engine, its sessions (final render,
viewport), the scene export, denoising and render passes.

Layers (the root `__init__.py` registers them in this order; a layer imports only from the
layers before it and from optica_core): `ui` (settings, panels) → `addon` (this: the engine) →
`operators` (export operators). `register()` here adds the "Optica" render engine and the
handlers that free what a render job kept between frames; `unregister()` removes exactly those
and stops every viewport session.
"""

import bpy
from bpy.app.handlers import persistent

from .. import ui
from . import denoise, engine, render_job, viewport


@persistent
def _render_ended(scene, *_args):
    render_job.release_jobs(scene)


@persistent
def _file_loading(*_args):
    render_job.release_jobs(None, keep_persistent=False)
    viewport.stop_all()
    ui.panels.set_denoiser_status(None)


def _handlers():
    h = bpy.app.handlers
    return ((h.render_complete, _render_ended), (h.render_cancel, _render_ended), (h.load_pre, _file_loading))


def register():
    ui.panels.set_denoiser_status(denoise.device_summary)
    for cls in engine.CLASSES:
        bpy.utils.register_class(cls)
    for handlers, fn in _handlers():
        if fn not in handlers:
            handlers.append(fn)


def unregister():
    for handlers, fn in _handlers():
        while fn in handlers:
            handlers.remove(fn)
    for cls in reversed(engine.CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
    render_job.release_jobs(None, keep_persistent=False)
    viewport.stop_all()
    ui.panels.set_denoiser_status(None)
