# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica's operators: Export Animation straight to video, and what it is made of.

- `export_animation`: the operator `bpy.ops.optica.export_animation`, its validation (`prepare`)
  and the export run step by step (`Export`, `run`);
- `encoder`: PyAV video writer (H.264 / HEVC / AV1; NVENC where FFmpeg can open it);
- `colour`: Blender's view transform with PyOpenColorIO, so video frames match saved PNGs;
- `stream`: render → colour → encode with encoding overlapped with the next frame's render;
- `parallel`: worker processes rendering frame ranges to a temporary image sequence.

`register()` adds the operator, then the export settings, panel and Render-menu entry
(`ui.export_panel`); `addon.register()` calls it after the engine is registered.
"""


def register():
    import bpy

    from ..ui import export_panel
    from . import export_animation

    for cls in export_animation.CLASSES:
        bpy.utils.register_class(cls)
    export_panel.register()


def unregister():
    import bpy

    from ..ui import export_panel
    from . import export_animation

    export_panel.unregister()
    for cls in reversed(export_animation.CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
