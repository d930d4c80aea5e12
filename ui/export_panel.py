# SPDX-License-Identifier: GPL-3.0-or-later
"""The video export's panel in Output properties, its scene list and its entry in the Render
menu. The settings it draws, `scene.optica_export`, are the export options
(operators/export/options.py: one dataclass, from which these properties derive), registered by
the operators layer; this lowest layer knows them by name only (`EXPORT_OPERATOR`, property
names), so what the panel shows is what a click exports.
"""

import bpy
from bpy.props import PointerProperty

ENGINE_ID = "OPTICA"
EXPORT_OPERATOR = "optica.export_animation"
SCENE_FILES_OPERATOR = "optica.export_scene_files"


class OPTICA_PG_export_scene(bpy.types.PropertyGroup):
    """One scene of the export's scene list (`scene.optica_export.scenes`)."""

    scene: PointerProperty(type=bpy.types.Scene, name="Scene")  # type: ignore[valid-type]


class OPTICA_UL_export_scenes(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0):
        layout.prop(item, "scene", text="", emboss=False, icon='SCENE_DATA')


class OPTICA_OT_export_scene_add(bpy.types.Operator):
    """Add a scene to the video (scenes are exported in list order)"""

    bl_idname = "optica.export_scene_add"
    bl_label = "Add Scene"
    bl_options = {'INTERNAL', 'UNDO'}

    def execute(self, context):
        settings = context.scene.optica_export
        entry = settings.scenes.add()
        entry.scene = context.scene if len(settings.scenes) == 1 else None
        settings.active_scene_index = len(settings.scenes) - 1
        return {'FINISHED'}


class OPTICA_OT_export_scene_remove(bpy.types.Operator):
    """Remove the selected scene from the video"""

    bl_idname = "optica.export_scene_remove"
    bl_label = "Remove Scene"
    bl_options = {'INTERNAL', 'UNDO'}

    def execute(self, context):
        settings = context.scene.optica_export
        i = settings.active_scene_index
        if 0 <= i < len(settings.scenes):
            settings.scenes.remove(i)
            settings.active_scene_index = max(0, i - 1)
        return {'FINISHED'}


class OPTICA_OUTPUT_PT_export(bpy.types.Panel):
    bl_label = "Optica Video Export"
    bl_space_type = 'PROPERTIES'
    bl_region_type = 'WINDOW'
    bl_context = "output"
    bl_options = {'DEFAULT_CLOSED'}
    COMPAT_ENGINES = {ENGINE_ID}

    @classmethod
    def poll(cls, context):
        return context.engine in cls.COMPAT_ENGINES and hasattr(context.scene, "optica_export")

    def draw(self, context):
        s = context.scene.optica_export
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False

        layout.prop(s, "filepath")
        row = layout.row()
        row.template_list("OPTICA_UL_export_scenes", "", s, "scenes", s, "active_scene_index", rows=2)
        col = row.column(align=True)
        col.operator(OPTICA_OT_export_scene_add.bl_idname, icon='ADD', text="")
        col.operator(OPTICA_OT_export_scene_remove.bl_idname, icon='REMOVE', text="")

        col = layout.column(heading="Resolution")
        col.prop(s, "use_resolution_override", text="Override")
        sub = col.column(align=True)
        sub.active = s.use_resolution_override
        sub.prop(s, "resolution_x", text="X")
        sub.prop(s, "resolution_y", text="Y")
        col = layout.column(heading="Frames")
        col.prop(s, "use_frame_range_override", text="Override")
        sub = col.column(align=True)
        sub.active = s.use_frame_range_override
        sub.prop(s, "frame_start")
        sub.prop(s, "frame_end")

        layout.separator()
        layout.prop(s, "method")
        if s.method == 'PARALLEL':
            col = layout.column()
            col.prop(s, "workers")
            col.prop(s, "sequence_format")
            col.prop(s, "resume")
        elif s.method in {'SCENE_FILES', 'DASK'}:
            col = layout.column()
            col.prop(s, "scene_folder")
            col.prop(s, "copy_ocio")
            if s.method == 'DASK':
                col.prop(s, "scheduler")
                sub = col.column()
                sub.active = not s.scheduler.strip()  # a running scheduler has its own workers
                sub.prop(s, "workers")
        if s.method in {'STREAM', 'PARALLEL'}:
            layout.prop(s, "keep_partial")

        layout.separator()
        col = layout.column()
        col.prop(s, "encoder")
        col.prop(s, "codec")
        col.prop(s, "quality_mode")
        col.prop(s, "crf" if s.quality_mode == 'CRF' else "bitrate")
        col.prop(s, "keyframe_interval")
        col.prop(s, "preset")
        col.prop(s, "profile")

        layout.separator()
        layout.operator(EXPORT_OPERATOR, text="Export Animation", icon='RENDER_ANIMATION')


def draw_render_menu(self, context):
    self.layout.separator()
    self.layout.operator(EXPORT_OPERATOR, text="Export Animation (Optica)…", icon='RENDER_ANIMATION')
    self.layout.operator(SCENE_FILES_OPERATOR, text="Export Scene Files (Optica)…", icon='FILE_FOLDER')


CLASSES = (
    OPTICA_PG_export_scene,
    OPTICA_UL_export_scenes,
    OPTICA_OT_export_scene_add,
    OPTICA_OT_export_scene_remove,
    OPTICA_OUTPUT_PT_export,
)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.TOPBAR_MT_render.append(draw_render_menu)


def unregister():
    menu = getattr(bpy.types, "TOPBAR_MT_render", None)
    if menu is not None:
        menu.remove(draw_render_menu)
    for cls in reversed(CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
