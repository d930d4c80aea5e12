# SPDX-License-Identifier: GPL-3.0-or-later
"""The highest layer of Optica's Blender side: operators. Today one: Export Animation straight
to video (`export/`). It may import the engine (`addon`), the settings and panels (`ui`) and
the core (`optica_core`); nothing imports it. The root ``register()`` calls ``register()`` here
last, after the engine.
"""


def register():
    from . import export

    export.register()


def unregister():
    from . import export

    export.unregister()
