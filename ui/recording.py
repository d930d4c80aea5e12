# SPDX-License-Identifier: GPL-3.0-or-later
"""Viewport recording in the interface: its settings (`scene.optica_record`), the Record toggle
in the 3D view's header (with Optica as the engine and the view in Rendered shading), and the
settings panel, shown as the toggle's popover and in Output properties.

The toggle runs `optica.viewport_record` (operators/record.py), known here by name; whether a
view is recording is handed in at registration by the operators layer (`set_recording_status`),
as this lowest layer imports nothing above it.
"""

from collections.abc import Callable

import bpy
from bpy.props import EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from optica_core.sinks import video

ENGINE_ID = "OPTICA"
RECORD_OPERATOR = "optica.viewport_record"
RECORD_PANEL = "OPTICA_PT_viewport_record"

RATE_CHOICES = (
    (
        'CFR',
        "Constant",
        "A frame every 1/fps seconds of wall-clock time: the newest image at each tick, "
        "repeated while nothing changes, skipped when images come faster",
    ),
    ('VFR', "Variable", "Every image the viewport draws, at the time it was drawn (true timestamps)"),
)

# (context) -> is this 3D view recording; set by operators/record.py.
_recording_status: Callable[[object], bool] | None = None


def set_recording_status(fn: Callable[[object], bool] | None) -> None:
    global _recording_status
    _recording_status = fn


class OpticaRecordSettings(bpy.types.PropertyGroup):
    """How the viewport is recorded, `scene.optica_record`."""

    filepath: StringProperty(
        name="File",
        description="The video file (.mp4, .mkv or .mov); an existing file is never replaced (a numbered name next "
        "to it is used); '//' is the .blend file's folder, the temporary folder while the file is unsaved",
        default="//viewport.mp4",
        subtype='FILE_PATH',
        options={'PATH_SUPPORTS_BLEND_RELATIVE'},
    )
    rate_mode: EnumProperty(name="Frame Rate", items=RATE_CHOICES, default='CFR')
    fps: IntProperty(
        name="FPS", description="Frames per second of a constant-rate recording", default=30, min=1, max=240
    )
    encoder: EnumProperty(name="Encoder", items=video.ENCODER_CHOICES, default='AUTO')
    codec: EnumProperty(name="Codec", items=video.CODEC_CHOICES, default='H264')
    quality_mode: EnumProperty(name="Quality", items=video.QUALITY_CHOICES, default='CRF')
    crf: IntProperty(
        name="Constant Quality",
        description="CRF / CQ: 0 (best) to 51 (63 for AV1); 18-23 is visually good for H.264",
        default=20,
        min=0,
        max=63,
    )
    bitrate: FloatProperty(
        name="Bitrate", description="Average bitrate in Mbit/s", default=10.0, min=0.01, max=1000.0, soft_max=200.0
    )
    preset: EnumProperty(
        name="Preset",
        items=video.PRESET_CHOICES,
        default='FASTEST',
        description="Encoder speed: the encoder shares the CPU with the viewport's sampling; slower presets make "
        "smaller files but may fall behind (images are then dropped, never waited for)",
    )


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

    def draw(self, context):
        draw_settings(self.layout, context.scene.optica_record)


class OPTICA_OUTPUT_PT_viewport_record(bpy.types.Panel):
    """The same settings in Output properties."""

    bl_label = "Optica Viewport Recording"
    bl_space_type = 'PROPERTIES'
    bl_region_type = 'WINDOW'
    bl_context = "output"
    bl_options = {'DEFAULT_CLOSED'}
    COMPAT_ENGINES = {ENGINE_ID}

    @classmethod
    def poll(cls, context):
        return context.engine in cls.COMPAT_ENGINES

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


CLASSES = (OpticaRecordSettings, OPTICA_PT_viewport_record, OPTICA_OUTPUT_PT_viewport_record)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.optica_record = PointerProperty(type=OpticaRecordSettings, name="Optica Recording")
    bpy.types.VIEW3D_HT_header.append(draw_record_toggle)


def unregister():
    header = getattr(bpy.types, "VIEW3D_HT_header", None)
    if header is not None:
        header.remove(draw_record_toggle)
    if hasattr(bpy.types.Scene, "optica_record"):
        del bpy.types.Scene.optica_record
    for cls in reversed(CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
