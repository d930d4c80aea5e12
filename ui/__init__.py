# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica's property groups (``scene.optica``, ``view_layer.optica``) and panels.

``addon.register()`` calls ``register()`` here before it registers the engine.
"""

from . import panels, properties


def register():
    properties.register()
    panels.register()


def unregister():
    panels.unregister()
    properties.unregister()
