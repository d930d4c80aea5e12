# SPDX-License-Identifier: GPL-3.0-or-later
"""The highest layer of Optica's Blender side: operators. Export Animation straight to video
(`export/`) and Record Viewport (`record.py`). It may import the engine (`addon`), the settings
and panels (`ui`) and the core (`optica_core`); nothing imports it. The root ``register()``
calls ``register()`` here last, after the engine.
"""


def register():
    from . import export, record

    export.register()
    record.register()


def unregister():
    from . import export, record

    record.unregister()
    export.unregister()
