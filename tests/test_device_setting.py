"""The render panel's Device setting in real Blender (bpy 5.0): CPU / GPU Compute as Cycles
offers them; GPU Compute on a machine OptiX cannot use renders on the CPU and says so in one
line of the render's report. No machine here has a GPU (docs/gpu.md)."""

from __future__ import annotations

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import pytest

from conftest import empty_scene as _empty_scene, optica_module

import bpy_scenes  # noqa: E402
from optica_core import _native  # noqa: E402

STATUS = _native.optix_status()


@pytest.fixture
def box_scene(optica_installed):
    _empty_scene()
    scene = bpy_scenes.new_empty_scene(24, 24)
    bpy_scenes.cornell_box(scene)
    scene.optica.samples = 2
    scene.optica.max_bounces = 2
    scene.optica.use_denoiser = False
    return scene


def _render(scene):
    final = optica_module("addon.final")
    passes = optica_module("addon.passes")
    output = optica_module("addon.render_result").ArrayResult()
    session = final.FinalSession(output, lambda: False, None, status=output,
                                 passes=passes.enabled_passes(scene.view_layers[0]))
    outcome = session.render(bpy.context.evaluated_depsgraph_get())
    return outcome, output


def test_device_setting_offers_cpu_and_gpu_compute_and_defaults_to_cpu(box_scene):
    prop = box_scene.optica.bl_rna.properties["device"]
    assert [(i.identifier, i.name) for i in prop.enum_items] == [("CPU", "CPU"), ("GPU", "GPU Compute")]
    assert box_scene.optica.device == "CPU"
    limits = optica_module("addon.sampling").Limits.from_scene(box_scene)
    assert limits.device == "CPU"
    box_scene.optica.device = "GPU"
    assert optica_module("addon.sampling").Limits.from_scene(box_scene).device == "AUTO"


def test_device_row_is_drawn_in_the_render_properties(box_scene):
    panels = optica_module("ui.panels")
    assert panels.draw_device in bpy.types.RENDER_PT_context._dyn_ui_initialize()


@pytest.mark.skipif(STATUS["usable"], reason="this machine can run OptiX: nothing falls back")
def test_gpu_compute_without_a_gpu_renders_on_the_cpu_and_says_why(box_scene):
    outcome, cpu = _render(box_scene)
    assert outcome.reason == "samples" and cpu.messages == []
    box_scene.optica.device = "GPU"
    outcome, gpu = _render(box_scene)
    assert outcome.reason == "samples"
    (level, text), = gpu.messages
    assert level == "INFO" and text.startswith("Optica: rendering on the CPU (OptiX not available: ")
    assert STATUS["why"] in text
    # The same renderer, the same image: the fallback is the CPU backend itself.
    assert np.array_equal(cpu.images["Combined"], gpu.images["Combined"])


def test_viewport_follows_the_device_setting(box_scene):
    worker = optica_module("addon.viewport.worker")
    assert worker.Settings.from_scene(box_scene).device == "CPU"
    box_scene.optica.device = "GPU"
    settings = worker.Settings.from_scene(box_scene)
    assert settings.device == "AUTO" and optica_module("addon.sampling").Limits.viewport(box_scene).device == "AUTO"
    # The worker's renderer slot makes the renderer for the job's device.
    slot = optica_module("addon.sampling").RendererSlot()
    r = slot.get(1, settings.device)
    assert r.device == ("OPTIX" if STATUS["usable"] else "CPU")
    assert (r.device_note != "") == (not STATUS["usable"])
