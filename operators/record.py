# SPDX-License-Identifier: GPL-3.0-or-later
"""The Record Viewport operator, `bpy.ops.optica.viewport_record`: starts or stops recording
what a 3D view in Rendered shading shows to a video file, with the scene's recording settings,
`scene.optica_record` (drawn by ui/recording.py; its encoder settings are the video export's
own options, export/options.py, with a real-time preset by default). The recording itself is the
viewport's (addon/viewport/recording.py); this module reads Blender's settings and says what
happened.

    bpy.ops.optica.viewport_record()              # in a 3D view: toggle
    bpy.ops.optica.viewport_record(action='STOP')

From Python without a window (tests, scripts driving a session): `record_options(scene)` and
`recording.start(session, options, blender_config_path())`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import bpy
from bpy.props import EnumProperty, IntProperty, PointerProperty, StringProperty

from optica_core.sinks import video

from ..addon.viewport import recording
from ..addon.viewport.entry import session_in_area
from ..ui import recording as ui_recording
from .export import options as export_options
from .export.colour import blender_config_path

LOG_PREFIX = "Optica"


ENCODER_OPTIONS = ("encoder", "codec", "quality_mode", "crf", "bitrate", "preset")


def record_settings_class():
    """`scene.optica_record`: what the Record toggle records."""
    annotations = dict(
        filepath=StringProperty(
            name="File",
            description="The video file (.mp4, .mkv or .mov); an existing file is never replaced (a numbered name "
            "next to it is used); '//' is the .blend file's folder, the temporary folder while the file is unsaved",
            default="//viewport.mp4",
            subtype='FILE_PATH',
            options={'PATH_SUPPORTS_BLEND_RELATIVE'},
        ),
        rate_mode=EnumProperty(name="Frame Rate", items=recording.RATE_CHOICES, default='CFR'),
        fps=IntProperty(
            name="FPS",
            description="Frames per second of a constant-rate recording",
            default=30,
            min=1,
            max=recording.MAX_FPS,
        ),
        **export_options.properties(ENCODER_OPTIONS),
    )
    preset = annotations["preset"]
    annotations["preset"] = preset.function(
        **dict(
            preset.keywords,
            default='FASTEST',
            description="Encoder speed: the encoder shares the CPU with the viewport's sampling; slower presets "
            "make smaller files but may fall behind (images are then dropped, never waited for)",
        )
    )
    return type(
        "OPTICA_PG_record_settings",
        (bpy.types.PropertyGroup,),
        {"__annotations__": annotations, "__doc__": record_settings_class.__doc__},
    )


def output_path(filepath: str) -> str:
    """The absolute file of a setting: '//' is the .blend file's folder, or the temporary folder
    while the file has not been saved."""
    if filepath.startswith("//") and not bpy.data.filepath:
        return str(Path(tempfile.gettempdir()) / filepath[2:])
    return bpy.path.abspath(filepath)


def record_options(scene) -> recording.RecordOptions:
    """The recording `scene.optica_record` asks for."""
    s = scene.optica_record
    settings = video.EncoderSettings(**{name: getattr(s, name) for name in ENCODER_OPTIONS})
    return recording.RecordOptions(path=output_path(s.filepath), rate=s.rate_mode, fps=s.fps, encoder=settings)


def is_recording(context) -> bool:
    """Whether the 3D view of `context` is recording (the header toggle's state)."""
    session = session_in_area(getattr(context, "area", None))
    return session is not None and recording.recording_of(session) is not None


class OPTICA_OT_viewport_record(bpy.types.Operator):
    """Record what this 3D view shows in Rendered shading to a video file (start / stop)"""

    bl_idname = ui_recording.RECORD_OPERATOR
    bl_label = "Record Viewport"
    bl_options = {'REGISTER'}

    action: EnumProperty(  # type: ignore[valid-type]
        name="Action",
        items=(
            ('TOGGLE', "Toggle", "Start recording, or stop the recording running"),
            ('START', "Start", "Start recording"),
            ('STOP', "Stop", "Stop the recording"),
        ),
        default='TOGGLE',
        options={'SKIP_SAVE'},
    )

    @classmethod
    def poll(cls, context):
        area = getattr(context, "area", None)
        if area is None or area.type != 'VIEW_3D' or not ui_recording.shows_record_toggle(context):
            cls.poll_message_set("Recording needs a 3D view in Rendered shading with Optica as the render engine")
            return False
        return True

    def execute(self, context):
        session = session_in_area(context.area)
        if session is None:
            self.report({'ERROR'}, f"{LOG_PREFIX}: this 3D view has not started rendering yet")
            return {'CANCELLED'}
        running = recording.recording_of(session) is not None
        if self.action == 'STOP' or (self.action == 'TOGGLE' and running):
            return self._stop(context, session)
        return self._start(context, session)

    def _start(self, context, session):
        try:
            rec = recording.start(session, record_options(context.scene), blender_config_path())
        except (recording.RecordError, OSError) as e:
            self.report({'ERROR'}, f"{LOG_PREFIX}: {e}")
            return {'CANCELLED'}
        choice = rec.writer.choice
        self.report({'INFO'}, f"{LOG_PREFIX}: recording to {rec.path} with {choice.label} ({choice.note})")
        context.area.tag_redraw()
        return {'FINISHED'}

    def _stop(self, context, session):
        rec = recording.stop(session)
        if rec is None:
            self.report({'WARNING'}, f"{LOG_PREFIX}: this 3D view is not recording")
            return {'CANCELLED'}
        self.report({'ERROR'} if rec.error else {'INFO'}, f"{LOG_PREFIX}: {rec.summary()}")
        context.area.tag_redraw()
        return {'FINISHED'}


OPTICA_PG_record_settings = record_settings_class()
CLASSES = (OPTICA_PG_record_settings, OPTICA_OT_viewport_record)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.optica_record = PointerProperty(type=OPTICA_PG_record_settings, name="Optica Recording")
    ui_recording.set_recording_status(is_recording)


def unregister():
    ui_recording.set_recording_status(None)
    if hasattr(bpy.types.Scene, "optica_record"):
        del bpy.types.Scene.optica_record
    for cls in reversed(CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
