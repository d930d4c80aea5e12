# SPDX-License-Identifier: GPL-3.0-or-later
"""The Export Animation operator, `bpy.ops.optica.export_animation`, its Export Scene Files
variant, `bpy.ops.optica.export_scene_files` (the method SCENE_FILES, a folder browser), and the
scene export settings they read (`scene.optica_export`), all derived from the one `Options`
dataclass.

    bpy.ops.optica.export_animation(filepath="//anim.mp4", method='STREAM', codec='H264')
    bpy.ops.optica.export_scene_files(scene_folder="//shot/")      # python -m optica_core farm shot/ …

Properties a call does not set come from the scene's export settings (the Output panel), every
time (the operator remembers nothing between calls). From a menu or the panel with a window, the
export is modal (progress bar, Esc cancels between steps); from a script or headless it runs
to the end (Ctrl-C cleans up and propagates).
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, CollectionProperty, IntProperty, PointerProperty, StringProperty

from ...ui.export_panel import OPTICA_PG_export_scene
from . import options
from .frames import Cancelled
from .plan import ExportError, prepare
from .progress import LOG_PREFIX, ConsoleProgress, WindowProgress, notify
from .run import Export, Result, run


class OPTICA_PG_scene_name(bpy.types.PropertyGroup):
    """One scene of an export, by name (operator property `scenes`)."""

    name: StringProperty(name="Scene")


def _operator_properties(**more) -> dict:
    return dict(
        options.properties(options.operator_names(), skip_save=True),
        scenes=CollectionProperty(
            type=OPTICA_PG_scene_name,
            name="Scenes",
            description="Scenes exported in order into one video; empty: the current scene",
            options={'SKIP_SAVE'},
        ),
        filter_glob=StringProperty(default="*.mp4;*.mkv;*.mov", options={'HIDDEN'}),
        ui_session=BoolProperty(default=False, options={'HIDDEN', 'SKIP_SAVE'}),
        **more,
    )


class _ExportOperator:
    """What both export operators do (a mixin: Blender registers each operator class once)."""

    _job: Export | None = None
    _timer = None
    _ui = None

    # -- settings ----------------------------------------------------------------------------

    def _options(self, context) -> options.Options:
        kw = {name: getattr(self, name) for name in options.operator_names()}
        kw["scenes"] = [item.name for item in self.scenes]
        return options.Options(**kw)

    def _take_scene_settings(self, context):
        """Unset properties take the scene's export settings (Output properties panel)."""
        settings = getattr(context.scene, "optica_export", None)
        if settings is None:
            return
        for name in options.setting_names():
            if not self.properties.is_property_set(name):
                setattr(self, name, getattr(settings, name))
        if not self.properties.is_property_set("scenes"):
            self.scenes.clear()
            for entry in settings.scenes:
                if entry.scene is not None:
                    self.scenes.add().name = entry.scene.name

    # -- entry points ------------------------------------------------------------------------

    def invoke(self, context, event):
        """Menu / panel: the scene's export settings, a file browser when no file is set, then a
        modal export (progress bar, Esc cancels between frames)."""
        self._take_scene_settings(context)
        self.ui_session = True
        if not self.filepath and not (self.method == 'SCENE_FILES' and self.scene_folder):
            if bpy.data.filepath:
                self.filepath = bpy.path.ensure_ext(bpy.path.abspath("//") + context.scene.name, ".mp4")
            context.window_manager.fileselect_add(self)
            return {'RUNNING_MODAL'}
        return self.execute(context)

    def execute(self, context):
        """Scripts and headless runs (and the end of invoke): properties not given in the call
        come from the scene's export settings, as in the panel."""
        self._take_scene_settings(context)
        try:
            plan = prepare(self._options(context), context.scene)
        except ExportError as e:
            self.report({'ERROR'}, f"{LOG_PREFIX}: {e}")
            return {'CANCELLED'}
        if self.ui_session and getattr(context, "window", None) is not None and not bpy.app.background:
            return self._start_modal(context, plan)
        return self._run_blocking(context, plan)

    def _run_blocking(self, context, plan):
        """Scripts and headless use: the whole export now; Ctrl-C cleans up and propagates."""
        bar = ConsoleProgress() if self.verbose else None
        ui = WindowProgress(context) if not bpy.app.background else None

        def progress(p):
            if bar:
                bar(p)
            if ui:
                ui.update(p)

        try:
            result = run(plan, progress=progress)
        except ExportError as e:
            if self.notify:
                notify(str(e))
            self.report({'ERROR'}, f"{LOG_PREFIX}: {e}")
            return {'CANCELLED'}
        finally:
            if bar:
                bar.close()
            if ui:
                ui.end()
        return self._finish_report(result)

    def _start_modal(self, context, plan):
        self._ui = WindowProgress(context)
        self._job = Export(plan, progress=self._ui.update)
        try:
            self._job.start()
        except ExportError as e:
            self._remove_timer(context)
            self.report({'ERROR'}, f"{LOG_PREFIX}: {e}")
            return {'CANCELLED'}
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.02, window=context.window)
        wm.modal_handler_add(self)
        return {'RUNNING_MODAL'}

    def modal(self, context, event):
        """One step per timer tick (a frame for STREAM); Esc cancels between steps."""
        if event.type == 'ESC' and event.value == 'PRESS':
            return self._end_modal(context, self._job.abort())
        if event.type != 'TIMER':
            return {'PASS_THROUGH'}
        try:
            if self._job.step():
                return self._end_modal(context, self._job.finish())
        except Cancelled:
            return self._end_modal(context, self._job.abort())
        except Exception as e:  # noqa: BLE001 - cleaned up and reported
            return self._end_modal(context, self._job.abort(e))
        return {'RUNNING_MODAL'}

    def cancel(self, context):  # Blender ends the operator (file closed, window gone)
        if self._job is not None and not self._job.finished:
            self._job.abort()
        self._remove_timer(context)

    def _remove_timer(self, context):
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        ui = getattr(self, "_ui", None)
        if ui is not None:
            ui.end()
            self._ui = None

    def _end_modal(self, context, result: Result):
        self._remove_timer(context)
        self._job = None
        return self._finish_report(result)

    def _finish_report(self, result: Result):
        for note in result.notes:
            self.report({'WARNING'}, f"{LOG_PREFIX}: {note}")
        text = result.summary()
        if result.encoder_note and self.encoder == "AUTO":
            text += f" [AUTO chose {result.encoder}: {result.encoder_note}]"
        if self.notify:
            notify(text)
        if result.error:
            self.report({'ERROR'}, f"{LOG_PREFIX}: {text}")
            return {'CANCELLED'}
        if result.cancelled:
            self.report({'WARNING'}, f"{LOG_PREFIX}: {text}")
            return {'CANCELLED'}
        self.report({'INFO'}, f"{LOG_PREFIX}: {text}")
        return {'FINISHED'}


class OPTICA_OT_export_animation(_ExportOperator, bpy.types.Operator):
    """Render the animation with Optica straight into a video file (H.264, HEVC or AV1)"""

    bl_idname = "optica.export_animation"
    bl_label = "Export Animation (Optica)"
    bl_options = {'REGISTER'}

    __annotations__ = _operator_properties()


class OPTICA_OT_export_scene_files(_ExportOperator, bpy.types.Operator):
    """Write the animation as a folder of Optica scene files, to render without Blender (python -m optica_core farm)"""

    bl_idname = "optica.export_scene_files"
    bl_label = "Export Scene Files (Optica)"
    bl_options = {'REGISTER'}

    __annotations__ = _operator_properties(
        directory=StringProperty(subtype='DIR_PATH', options={'HIDDEN', 'SKIP_SAVE'}),
        filter_folder=BoolProperty(default=True, options={'HIDDEN', 'SKIP_SAVE'}),
    )

    def _options(self, context) -> options.Options:
        o = super()._options(context)
        o.method = "SCENE_FILES"
        if self.directory:
            o.scene_folder = self.directory
        return o

    def invoke(self, context, event):
        """Menu: the scene's export settings, a folder browser when no scene folder is set."""
        self._take_scene_settings(context)
        self.ui_session = True
        if not self.scene_folder and not self.directory:
            context.window_manager.fileselect_add(self)
            return {'RUNNING_MODAL'}
        return self.execute(context)


def export_settings_class():
    """`scene.optica_export`: what Export Animation (Optica) does from the panel or the menu."""
    annotations = dict(
        options.properties(options.setting_names()),
        scenes=CollectionProperty(
            type=OPTICA_PG_export_scene,
            name="Scenes",
            description="Scenes exported in order into one video; empty: this scene",
        ),
        active_scene_index=IntProperty(default=0, options={'HIDDEN'}),
    )
    return type(
        "OPTICA_PG_export_settings",
        (bpy.types.PropertyGroup,),
        {"__annotations__": annotations, "__doc__": export_settings_class.__doc__},
    )


OPTICA_PG_export_settings = export_settings_class()
CLASSES = (OPTICA_PG_scene_name, OPTICA_PG_export_settings, OPTICA_OT_export_animation, OPTICA_OT_export_scene_files)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.optica_export = PointerProperty(type=OPTICA_PG_export_settings, name="Optica Export")


def unregister():
    if hasattr(bpy.types.Scene, "optica_export"):
        del bpy.types.Scene.optica_export
    for cls in reversed(CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
