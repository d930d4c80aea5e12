# SPDX-License-Identifier: GPL-3.0-or-later
"""The lowest layer of Optica's Blender side: property groups (``scene.optica``,
``view_layer.optica``) and panels, the video export's panel and the viewport recording's
settings, panel and header toggle (``recording``) included.

The root ``register()`` calls ``register()`` here first, before the engine (``addon``) and the
operators. Nothing here imports them: they are higher layers.
"""

from . import export_panel, panels, properties, recording


def register():
    properties.register()
    panels.register()
    export_panel.register()
    recording.register()


def unregister():
    recording.unregister()
    export_panel.unregister()
    panels.unregister()
    properties.unregister()
