# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica's panels, and Blender's own panels that show for Optica.

Blender's panels decide per engine whether they draw (`COMPAT_ENGINES`); an external engine
adds its id to the panels whose settings it honours and removes it again when it goes away.
`show_blender_panels()` / `hide_blender_panels()` do that and remember exactly what they
changed, so disabling the add-on leaves Blender's classes as they were.

`ui` is the lowest layer of the Blender side: it imports nothing from the engine or the
operators. What a panel shows about them is handed in at registration (`set_denoiser_status`).
"""

from collections.abc import Callable

import bpy

ENGINE_ID = "OPTICA"

# () -> (available, text): how denoising would run, said by the engine layer (addon.register).
_denoiser_status: Callable[[], tuple[bool, str]] | None = None


def set_denoiser_status(fn: Callable[[], tuple[bool, str]] | None) -> None:
    global _denoiser_status
    _denoiser_status = fn


# Blender panels that apply to every engine carry 'BLENDER_RENDER' in COMPAT_ENGINES (object
# data, output format, colour management, ...): they show for Optica too, except these.
_GENERIC_EXCLUDED = frozenset(
    {
        "DATA_PT_light",  # type only; Optica shows the full light panel below
        "NODE_DATA_PT_light",
        "DATA_PT_context_lightprobe",  # light probes are EEVEE's
        "DATA_PT_lightprobe",
        "DATA_PT_lightprobe_display",
        "DATA_PT_lightprobe_parallax",
        "DATA_PT_lightprobe_visibility",
        "EEVEE_MATERIAL_PT_viewport_settings",
    }
)

# Engine-specific panels whose settings Optica honours.
_EXTRA = frozenset(
    {
        "DATA_PT_EEVEE_light",  # colour, temperature, power, exposure, normalize, radius, angle, shape, size
        "NODE_DATA_PT_EEVEE_light",
        "DATA_PT_spot",
        "DATA_PT_preview",
        "DATA_PT_camera_dof",
        "DATA_PT_camera_dof_aperture",
        "EEVEE_MATERIAL_PT_context_material",
        "EEVEE_MATERIAL_PT_surface",
        "MATERIAL_PT_preview",
        "EEVEE_WORLD_PT_surface",
    }
)

_shown: list[type] = []  # Blender panel classes this module added ENGINE_ID to


def _blender_panels():
    """Every registered Panel class of Blender's UI (bl_ui), subclasses included."""
    seen, todo = set(), list(bpy.types.Panel.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("bl_ui.") and "COMPAT_ENGINES" in cls.__dict__:
            yield cls


def _applies(cls) -> bool:
    name = cls.__name__
    if name in _EXTRA:
        return True
    return "BLENDER_RENDER" in cls.COMPAT_ENGINES and name not in _GENERIC_EXCLUDED


def show_blender_panels():
    for cls in _blender_panels():
        if _applies(cls) and ENGINE_ID not in cls.COMPAT_ENGINES:
            cls.COMPAT_ENGINES.add(ENGINE_ID)
            _shown.append(cls)


def hide_blender_panels():
    while _shown:
        _shown.pop().COMPAT_ENGINES.discard(ENGINE_ID)


# ---------------------------------------------------------------------------------------------
# Optica's own panels


class _OpticaPanel:
    bl_space_type = 'PROPERTIES'
    bl_region_type = 'WINDOW'
    COMPAT_ENGINES = {ENGINE_ID}

    @classmethod
    def poll(cls, context):
        return context.engine in cls.COMPAT_ENGINES

    def _layout(self):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        return layout


class OPTICA_RENDER_PT_sampling(_OpticaPanel, bpy.types.Panel):
    bl_label = "Sampling"
    bl_context = "render"

    def draw(self, context):
        settings = context.scene.optica
        col = self._layout().column(align=True)
        col.prop(settings, "viewport_samples", text="Viewport Samples")
        col.prop(settings, "samples", text="Render Samples")
        col = self.layout.column()
        col.prop(settings, "noise_threshold")
        col.prop(settings, "time_limit")
        col.prop(settings, "seed")


class OPTICA_RENDER_PT_denoising(_OpticaPanel, bpy.types.Panel):
    bl_label = "Denoising"
    bl_context = "render"

    def draw_header(self, context):
        self.layout.prop(context.scene.optica, "use_denoiser", text="")

    def draw(self, context):
        settings = context.scene.optica
        layout = self._layout()
        layout.active = settings.use_denoiser
        col = layout.column()
        col.prop(settings, "denoiser_quality")
        col.prop(settings, "viewport_denoiser_quality")
        col.prop(settings, "denoiser_start", text="Viewport Start Sample")
        if _denoiser_status is not None:
            available, text = _denoiser_status()
            row = layout.row()
            row.alert = not available
            row.label(text=text, icon='NONE' if available else 'ERROR')


class OPTICA_RENDER_PT_light_paths(_OpticaPanel, bpy.types.Panel):
    bl_label = "Light Paths"
    bl_context = "render"

    def draw(self, context):
        pass  # the settings are in its sub-panels, as in Cycles


class OPTICA_RENDER_PT_light_paths_max_bounces(_OpticaPanel, bpy.types.Panel):
    """Cycles' Light Paths › Max Bounces, with Cycles' labels and defaults."""

    bl_label = "Max Bounces"
    bl_context = "render"
    bl_parent_id = "OPTICA_RENDER_PT_light_paths"

    def draw(self, context):
        settings = context.scene.optica
        col = self._layout().column(align=True)
        col.prop(settings, "max_bounces", text="Total")
        col = self._layout().column(align=True)
        col.prop(settings, "diffuse_bounces", text="Diffuse")
        col.prop(settings, "glossy_bounces", text="Glossy")
        col.prop(settings, "transmission_bounces", text="Transmission")
        col = self._layout().column(align=True)  # apart, as in Cycles: not part of the total
        col.prop(settings, "transparent_max_bounces", text="Transparent")


class OPTICA_RENDER_PT_film(_OpticaPanel, bpy.types.Panel):
    bl_label = "Film"
    bl_context = "render"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        layout = self._layout()
        layout.prop(context.scene.render, "film_transparent", text="Transparent")
        col = layout.column()
        col.prop(context.scene.optica, "filter_type", text="Pixel Filter")
        sub = col.column()
        sub.active = context.scene.optica.filter_type != 'BOX'
        sub.prop(context.scene.optica, "filter_width")


class OPTICA_RENDER_PT_performance(_OpticaPanel, bpy.types.Panel):
    bl_label = "Performance"
    bl_context = "render"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        col = self._layout().column()
        col.prop(context.scene.optica, "threads", text="Threads")
        col.prop(context.scene.render, "use_persistent_data", text="Persistent Data")
        # Blender's own setting, read through RenderEngine.get_preview_pixel_size (as Cycles does)
        col.prop(context.scene.render, "preview_pixel_size", text="Viewport Pixel Size")


class OPTICA_RENDER_PT_motion_blur(_OpticaPanel, bpy.types.Panel):
    """Blender's own motion-blur settings (`scene.render`, as Cycles' panel shows them) and
    Cycles' rolling shutter: exported as the scene dict's `motion` and rendered (on the CPU; the
    OptiX backend refuses motion, docs/gpu.md)."""

    bl_label = "Motion Blur"
    bl_context = "render"
    bl_options = {'DEFAULT_CLOSED'}

    def draw_header(self, context):
        self.layout.prop(context.scene.render, "use_motion_blur", text="")

    def draw(self, context):
        rd = context.scene.render
        layout = self._layout()
        layout.active = rd.use_motion_blur
        col = layout.column()
        col.prop(rd, "motion_blur_position", text="Position")
        col.prop(rd, "motion_blur_shutter")
        cycles = getattr(context.scene, "cycles", None)
        if cycles is not None:
            col.separator()
            col.prop(cycles, "rolling_shutter_type", text="Rolling Shutter")
            sub = col.column()
            sub.active = cycles.rolling_shutter_type != 'NONE'
            sub.prop(cycles, "rolling_shutter_duration")


class OPTICA_RENDER_PT_motion_blur_curve(_OpticaPanel, bpy.types.Panel):
    bl_label = "Shutter Curve"
    bl_context = "render"
    bl_parent_id = "OPTICA_RENDER_PT_motion_blur"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        rd = context.scene.render
        layout = self.layout
        layout.active = rd.use_motion_blur
        layout.template_curve_mapping(rd, "motion_blur_shutter_curve")


class OPTICA_RENDER_PT_curves(_OpticaPanel, bpy.types.Panel):
    """Cycles' Curves settings (`scene.cycles_curves`): how hair and Curves objects are drawn."""

    bl_label = "Curves"
    bl_context = "render"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        layout = self._layout()
        settings = getattr(context.scene, "cycles_curves", None)
        if settings is not None:
            layout.prop(settings, "shape", text="Curve Shape")
        layout.label(text=CURVES_NOTE, icon='INFO')


class OPTICA_OBJECT_PT_motion_blur(_OpticaPanel, bpy.types.Panel):
    """Per-object motion blur (Cycles' object settings: toggle, deformation, steps)."""

    bl_label = "Motion Blur"
    bl_context = "object"
    bl_options = {'DEFAULT_CLOSED'}

    @classmethod
    def poll(cls, context):
        ob = context.object
        return super().poll(context) and ob is not None and hasattr(ob, "cycles") and ob.type in _BLURRED_TYPES

    def draw_header(self, context):
        self.layout.prop(context.object.cycles, "use_motion_blur", text="")

    def draw(self, context):
        ob = context.object
        layout = self._layout()
        layout.active = context.scene.render.use_motion_blur and ob.cycles.use_motion_blur
        col = layout.column()
        col.prop(ob.cycles, "use_deform_motion", text="Deformation")
        col.prop(ob.cycles, "motion_steps", text="Steps")


class OPTICA_OBJECT_PT_shadow_terminator(_OpticaPanel, bpy.types.Panel):
    """Object › Shading › Shadow Terminator (Blender's object settings, as Cycles shows them)."""

    bl_label = "Shadow Terminator"
    bl_context = "object"
    bl_options = {'DEFAULT_CLOSED'}

    @classmethod
    def poll(cls, context):
        ob = context.object
        return super().poll(context) and ob is not None and ob.type == 'MESH'

    def draw(self, context):
        col = self._layout().column()
        col.prop(context.object, "shadow_terminator_geometry_offset", text="Geometry Offset")
        col.prop(context.object, "shadow_terminator_shading_offset", text="Shading Offset")


# Objects whose motion is exported (Cycles shows its object motion panel for these too).
_BLURRED_TYPES = frozenset({'MESH', 'CURVE', 'SURFACE', 'FONT', 'META', 'CURVES', 'POINTCLOUD', 'CAMERA', 'EMPTY'})
CURVES_NOTE = "Rendered on the CPU (not with OptiX yet)"


class OPTICA_VIEWLAYER_PT_passes(_OpticaPanel, bpy.types.Panel):
    bl_label = "Passes"
    bl_context = "view_layer"

    def draw(self, context):
        view_layer = context.view_layer
        col = self._layout().column(heading="Data", align=True)
        col.prop(view_layer, "use_pass_combined")
        col.prop(view_layer, "use_pass_z")
        col.prop(view_layer, "use_pass_normal")
        col.prop(view_layer, "use_pass_object_index")
        col = self.layout.column(heading="Denoising", align=True)
        col.prop(view_layer.optica, "use_denoising_passes", text="Denoising Data")


def draw_device(self, context):
    """The Device row at the top of the render properties, as Cycles draws it (appended to
    Blender's RENDER_PT_context); with GPU Compute chosen where OptiX cannot run, why the CPU
    renders instead."""
    if context.engine != ENGINE_ID:
        return
    settings = context.scene.optica
    layout = self.layout
    layout.use_property_split = True
    layout.use_property_decorate = False
    layout.prop(settings, "device")
    if settings.device == 'GPU':
        from optica_core.device import optix_status

        status = optix_status()
        if not status["usable"]:
            layout.label(text=f"No GPU: rendering on the CPU ({status['why']})", icon='INFO')


CLASSES = (
    OPTICA_RENDER_PT_sampling,
    OPTICA_RENDER_PT_denoising,
    OPTICA_RENDER_PT_light_paths,
    OPTICA_RENDER_PT_light_paths_max_bounces,
    OPTICA_RENDER_PT_film,
    OPTICA_RENDER_PT_motion_blur,
    OPTICA_RENDER_PT_motion_blur_curve,
    OPTICA_RENDER_PT_curves,
    OPTICA_RENDER_PT_performance,
    OPTICA_OBJECT_PT_motion_blur,
    OPTICA_OBJECT_PT_shadow_terminator,
    OPTICA_VIEWLAYER_PT_passes,
)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.RENDER_PT_context.append(draw_device)
    show_blender_panels()


def unregister():
    hide_blender_panels()
    bpy.types.RENDER_PT_context.remove(draw_device)
    for cls in reversed(CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
