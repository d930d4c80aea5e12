# SPDX-License-Identifier: GPL-3.0-or-later
"""Viewport recording in the interface: the Record toggle in the 3D view's header (with Optica
as the engine and the view in Rendered shading), and the panel of the recording's settings,
shown as the toggle's popover and in Output properties.

The settings, `scene.optica_record`, and the operator the toggle runs, `optica.viewport_record`,
are the operators layer's (operators/record.py: the encoder settings derive from the video
export's options); this lowest layer knows them by name, and whether a view is recording is
handed in at registration (`set_recording_status`).
"""

from collections.abc import Callable

import bpy

from .panels import ENGINE_ID, _OpticaPanel

RECORD_OPERATOR = "optica.viewport_record"
RECORD_PANEL = "OPTICA_PT_viewport_record"

# (context) -> is this 3D view recording; set by operators/record.py.
_recording_status: Callable[[object], bool] | None = None


def set_recording_status(fn: Callable[[object], bool] | None) -> None:
    global _recording_status
    _recording_status = fn


def draw_settings(layout, settings) -> None:
    layout.use_property_split = True
    layout.use_property_decorate = False
    layout.prop(settings, "filepath")
    col = layout.column()
    col.prop(settings, "rate_mode")
    sub = col.column()
    sub.active = settings.rate_mode == 'CFR'
    sub.prop(settings, "fps")
    col = layout.column()
    col.prop(settings, "encoder")
    col.prop(settings, "codec")
    col.prop(settings, "quality_mode")
    col.prop(settings, "crf" if settings.quality_mode == 'CRF' else "bitrate")
    col.prop(settings, "preset")


class OPTICA_PT_viewport_record(bpy.types.Panel):
    """The recording's settings, as the header toggle's popover."""

    bl_label = "Viewport Recording"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'HEADER'
    bl_ui_units_x = 14

    @classmethod
    def poll(cls, context):
        return hasattr(context.scene, "optica_record")

    def draw(self, context):
        draw_settings(self.layout, context.scene.optica_record)


class OPTICA_OUTPUT_PT_viewport_record(_OpticaPanel, bpy.types.Panel):
    """The same settings in Output properties."""

    bl_label = "Optica Viewport Recording"
    bl_context = "output"
    bl_options = {'DEFAULT_CLOSED'}

    @classmethod
    def poll(cls, context):
        return super().poll(context) and hasattr(context.scene, "optica_record")

    def draw(self, context):
        draw_settings(self.layout, context.scene.optica_record)


def shows_record_toggle(context) -> bool:
    """The toggle shows in a 3D view rendering with Optica (Rendered shading)."""
    shading = getattr(getattr(context, "space_data", None), "shading", None)
    return context.engine == ENGINE_ID and shading is not None and shading.type == 'RENDERED'


def draw_record_toggle(self, context):
    """VIEW3D_HT_header: the Record toggle and its settings popover."""
    if not shows_record_toggle(context):
        return
    recording = bool(_recording_status(context)) if _recording_status is not None else False
    row = self.layout.row(align=True)
    row.operator(RECORD_OPERATOR, text="", icon='REC', depress=recording)
    row.popover(panel=RECORD_PANEL, text="")


CLASSES = (OPTICA_PT_viewport_record, OPTICA_OUTPUT_PT_viewport_record)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.VIEW3D_HT_header.append(draw_record_toggle)


def unregister():
    header = getattr(bpy.types, "VIEW3D_HT_header", None)
    if header is not None:
        header.remove(draw_record_toggle)
    for cls in reversed(CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
