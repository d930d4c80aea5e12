# SPDX-License-Identifier: GPL-3.0-or-later
"""Registration of the installed extension in real Blender (bpy 5.0): the render engine, its
settings, panels and handlers, and a clean disable / enable cycle."""

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import addon_utils  # noqa: E402, I001 - importable only once bpy is
import pytest

from conftest import ADDON_MODULE, enable_optica, optica_module

DEFAULTS = {
    "samples": 128,
    "viewport_samples": 64,
    "max_bounces": 12,
    "diffuse_bounces": 4,  # Light Paths: Cycles' defaults
    "glossy_bounces": 4,
    "transmission_bounces": 12,
    "transparent_max_bounces": 8,
    "time_limit": 0.0,
    "noise_threshold": 0.01,
    "use_denoiser": False,
    "denoiser_start": 1,
    "threads": 0,
    "seed": 0,
    "filter_width": 1.5,
}

OPTICA_PANELS = (
    "OPTICA_RENDER_PT_sampling",
    "OPTICA_RENDER_PT_light_paths",
    "OPTICA_RENDER_PT_light_paths_max_bounces",
    "OPTICA_RENDER_PT_film",
    "OPTICA_RENDER_PT_performance",
    "OPTICA_RENDER_PT_motion_blur",
    "OPTICA_RENDER_PT_motion_blur_curve",
    "OPTICA_RENDER_PT_curves",
    "OPTICA_OBJECT_PT_motion_blur",
    "OPTICA_OBJECT_PT_shadow_terminator",
    "OPTICA_VIEWLAYER_PT_passes",
)

# Blender panels whose settings Optica honours, and some that it must not show.
SHOWN = (
    "DATA_PT_context_light", "DATA_PT_EEVEE_light", "DATA_PT_spot",
    "DATA_PT_context_camera", "DATA_PT_lens", "DATA_PT_camera", "DATA_PT_camera_dof",
    "WORLD_PT_context_world", "EEVEE_WORLD_PT_surface",
    "EEVEE_MATERIAL_PT_context_material", "EEVEE_MATERIAL_PT_surface",
    "RENDER_PT_format", "RENDER_PT_frame_range", "RENDER_PT_output", "RENDER_PT_encoding",
    "RENDER_PT_encoding_video", "RENDER_PT_color_management", "VIEWLAYER_PT_layer",
    "DATA_PT_context_mesh", "OBJECT_PT_visibility",
)
NOT_SHOWN = ("RENDER_PT_eevee_sampling", "DATA_PT_light", "EEVEE_WORLD_PT_mist", "RENDER_PT_opengl_sampling")


def _engine_ids():
    # Python keeps an unregistered class alive (and listed) while something references it.
    return {c.bl_idname: c for c in bpy.types.RenderEngine.__subclasses__()
            if hasattr(c, "bl_idname") and c.is_registered}


def _our_handlers():
    found = []
    for name in dir(bpy.app.handlers):
        handlers = getattr(bpy.app.handlers, name)
        if isinstance(handlers, list):
            found += [(name, fn) for fn in handlers if getattr(fn, "__module__", "").startswith(ADDON_MODULE)]
    return found


def _compat(name):
    return getattr(bpy.types, name).COMPAT_ENGINES


def _assert_enabled(scene):
    engines = _engine_ids()
    assert "OPTICA" in engines and engines["OPTICA"].bl_label == "Optica"
    scene.render.engine = "OPTICA"
    assert scene.render.engine == "OPTICA"
    assert hasattr(scene, "optica") and hasattr(scene.view_layers[0], "optica")
    for name in OPTICA_PANELS:
        assert hasattr(bpy.types, name), name
    for name in SHOWN:
        assert "OPTICA" in _compat(name), name
    for name in NOT_SHOWN:
        assert "OPTICA" not in _compat(name), name
    handlers = {name for name, _fn in _our_handlers()}
    assert {"render_complete", "render_cancel"} <= handlers, handlers


def _assert_disabled(scene):
    assert "OPTICA" not in _engine_ids()
    with pytest.raises(TypeError):
        scene.render.engine = "OPTICA"
    assert not hasattr(scene, "optica")
    assert not hasattr(scene.view_layers[0], "optica")
    for name in OPTICA_PANELS:
        assert not hasattr(bpy.types, name), name
    leftover = [name for name in SHOWN + NOT_SHOWN if "OPTICA" in _compat(name)]
    assert not leftover, f"OPTICA still in COMPAT_ENGINES of {leftover}"
    for cls in bpy.types.Panel.__subclasses__():
        if cls.is_registered:
            assert "OPTICA" not in getattr(cls, "COMPAT_ENGINES", ()), cls.__name__
    assert not _our_handlers()


def test_engine_appears_after_install(optica_scene):
    _assert_enabled(optica_scene)
    assert ADDON_MODULE in bpy.context.preferences.addons


def test_settings_defaults(optica_scene):
    settings = optica_scene.optica
    for name, value in DEFAULTS.items():
        assert getattr(settings, name) == pytest.approx(value), name
    assert optica_scene.view_layers[0].optica.use_denoising_passes is False
    settings.samples = 7
    assert optica_scene.optica.samples == 7
    with pytest.raises((TypeError, ValueError)):
        settings.samples = "many"


def test_settings_are_limited(optica_scene):
    settings = optica_scene.optica
    settings.samples = 0
    assert settings.samples == 1
    settings.time_limit = -3.0
    assert settings.time_limit == 0.0
    settings.noise_threshold = 5.0
    assert settings.noise_threshold == 1.0
    settings.threads = -1
    assert settings.threads == 0


def test_disable_enable_disable_enable(optica_scene):
    scene = optica_scene
    for _ in range(2):
        addon_utils.disable(ADDON_MODULE, default_set=True)
        _assert_disabled(scene)
        enable_optica()
        _assert_enabled(scene)
    assert scene.optica.samples == DEFAULTS["samples"]


def test_settings_survive_disable_enable(optica_scene):
    """Values live in the scene's data: disabling the add-on hides them, enabling shows them again."""
    optica_scene.optica.samples = 33
    addon_utils.disable(ADDON_MODULE, default_set=True)
    enable_optica()
    assert bpy.context.scene.optica.samples == 33


def test_panels_poll_by_engine(optica_scene):
    panel = bpy.types.OPTICA_RENDER_PT_sampling
    assert panel.bl_context == "render"
    assert bpy.types.OPTICA_VIEWLAYER_PT_passes.bl_context == "view_layer"
    assert panel.COMPAT_ENGINES == {"OPTICA"}


def test_passes_follow_view_layer(optica_scene):
    passes = optica_module("addon.passes")
    view_layer = optica_scene.view_layers[0]
    assert [p.name for p in passes.enabled_passes(view_layer)] == ["Combined"]
    view_layer.use_pass_z = True
    view_layer.use_pass_normal = True
    view_layer.use_pass_object_index = True
    view_layer.optica.use_denoising_passes = True
    assert [p.name for p in passes.enabled_passes(view_layer)] == [
        "Combined", "Depth", "Normal", "IndexOB", "Denoising Albedo", "Denoising Normal"]
