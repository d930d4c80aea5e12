# SPDX-License-Identifier: GPL-3.0-or-later
"""Denoising with Intel Open Image Denoise through pyoidn (the CPU device: no GPU here).

- `addon.denoise.Denoiser` on its own, fed by the native core's AOVs (no Blender needed):
  buffers and filter reused per image size, alpha kept, errors as DenoiserError;
- a denoised 16-sample image is closer to the converged one than the raw 64-sample image;
- the final render with `use_denoiser`: Combined denoised, "Noisy Image" the raw render;
  without OIDN (or when it fails) the render completes noisy and says why; Esc during
  denoising returns at once;
- material previews render with Optica (Blender's own preview job, in background mode).
"""

import sys
import time
from pathlib import Path

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import pytest

from conftest import empty_scene as _empty_scene, optica_module, read_image_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bpy_scenes  # noqa: E402


def _denoise_module():
    """addon/denoise.py as the installed extension has it (imports pyoidn, never bpy)."""
    return optica_module("addon.denoise")


@pytest.fixture
def dn(optica_installed):
    return _denoise_module()


def _cornell(size, samples, seed=0):
    import optica_core

    d = optica_core.scenes.cornell_box(size, size)
    d["render"]["seed"] = seed
    r = optica_core.Renderer(0)
    r.set_scene(d)
    r.accumulate(samples)
    return r


# ---------------------------------------------------------------------------------------------
# the Denoiser


def test_denoiser_cpu_device_reuses_its_filter(dn):
    r = _cornell(32, 4)
    with dn.Denoiser("fast") as denoiser:
        assert denoiser.device_type == "CPU"  # no CUDA device on this machine
        color = np.array(r.color)
        color[..., 3] = np.linspace(0, 1, 32)[None, :]  # a recognisable alpha
        out = denoiser.denoise(color, r.albedo, r.normal)
        assert out.shape == (32, 32, 4) and out.dtype == np.float32 and out is not color
        assert np.array_equal(out[..., 3], color[..., 3])
        assert np.isfinite(out).all() and not np.array_equal(out[..., :3], color[..., :3])
        buffers = dict(denoiser._buffers)
        denoiser.denoise(color, r.albedo, r.normal)
        assert denoiser._buffers == buffers  # the same OIDN buffers, the filter set up once
        small = denoiser.denoise(color[:16, :24].copy())  # another size, no guides
        assert small.shape == (16, 24, 4)
        assert denoiser._size == (24, 16, False, False)
        assert denoiser.executions == 3
    with pytest.raises(dn.DenoiserError, match="closed"):
        denoiser.denoise(color)


def test_denoiser_settings_in_the_ui(dn, optica_installed):
    assert dn.device_summary() == (True, "Intel Open Image Denoise on the CPU")
    panel = bpy.types.OPTICA_RENDER_PT_denoising
    assert panel.bl_context == "render" and panel.COMPAT_ENGINES == {"OPTICA"}
    settings = bpy.types.Scene.bl_rna.properties["optica"].fixed_type.properties
    assert settings["denoiser_quality"].default == "HIGH"
    assert settings["viewport_denoiser_quality"].default == "FAST"


def test_denoiser_rejects_bad_input(dn):
    with pytest.raises(ValueError, match="quality"):
        dn.Denoiser("best")
    with dn.Denoiser("fast") as denoiser:
        with pytest.raises(ValueError, match="albedo"):
            denoiser.denoise(np.zeros((8, 8, 4), np.float32), np.zeros((4, 4, 3), np.float32))


def test_missing_pyoidn_is_a_clear_error(dn, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyoidn", None)  # `import pyoidn` raises ImportError
    with pytest.raises(dn.DenoiserError, match="Intel Open Image Denoise is not available.*pyoidn"):
        dn.Denoiser()


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - b) ** 2)))


@pytest.mark.parametrize("size,reference_samples", [
    (40, 256),
    pytest.param(64, 1024, marks=pytest.mark.slow),
])
def test_denoised_16_samples_beat_raw_64(dn, size, reference_samples):
    """The Cornell box: denoised at 16 samples per pixel (OIDN high, albedo + normal) is closer
    to the converged image than the raw image at 64."""
    reference = np.array(_cornell(size, reference_samples, seed=1).color[..., :3], np.float64)
    r = _cornell(size, 16, seed=2)
    with dn.Denoiser("high") as denoiser:
        denoised = denoiser.denoise(r.color, r.albedo, r.normal)[..., :3]
    raw16 = _rmse(r.color[..., :3], reference)
    r.accumulate(48)
    raw64 = _rmse(r.color[..., :3], reference)
    den16 = _rmse(denoised, reference)
    assert den16 < raw64 < raw16, (den16, raw64, raw16)


# ---------------------------------------------------------------------------------------------
# final renders




@pytest.fixture
def box_scene(optica_installed):
    _empty_scene()
    scene = bpy_scenes.new_empty_scene(48, 48)
    bpy_scenes.cornell_box(scene)
    scene.optica.samples = 8
    scene.optica.noise_threshold = 0.0
    scene.optica.max_bounces = 4
    return scene


def _render_layers(scene, path):
    im = scene.render.image_settings
    im.media_type = "MULTI_LAYER_IMAGE"
    im.color_depth = "32"
    scene.render.filepath = str(path)
    assert bpy.ops.render.render(write_still=True) == {"FINISHED"}
    return read_image_file(path)


def _roughness(img):
    """Mean absolute difference between horizontal neighbours: noise makes it large."""
    rgb = img[..., :3].astype(np.float64)
    return float(np.abs(np.diff(rgb, axis=1)).mean())


def test_final_render_denoises_and_keeps_the_noisy_image(box_scene, tmp_path):
    raw = _render_layers(box_scene, tmp_path / "raw.exr")
    assert "ViewLayer.Noisy Image" not in raw
    box_scene.optica.use_denoiser = True
    layers = _render_layers(box_scene, tmp_path / "denoised.exr")
    combined, noisy = layers["ViewLayer.Combined"], layers["ViewLayer.Noisy Image"]
    assert np.array_equal(noisy, raw["ViewLayer.Combined"])  # the same render, before denoising
    assert np.array_equal(combined[..., 3], noisy[..., 3])
    assert _roughness(combined) < 0.6 * _roughness(noisy)
    assert abs(combined[..., :3].mean() - noisy[..., :3].mean()) < 0.1 * noisy[..., :3].mean()


def _session(scene, test_break=lambda: False, job=None):
    final = optica_module("addon.final")
    passes = optica_module("addon.passes")
    output = optica_module("addon.render_result").ArrayResult()
    return final.FinalSession(output, test_break, job, status=output,
                              passes=passes.enabled_passes(scene.view_layers[0])), output


def test_job_keeps_its_denoiser_between_frames(box_scene):
    box_scene.optica.use_denoiser = True
    box_scene.optica.denoiser_quality = "FAST"
    job = optica_module("addon.render_job").RenderJob()
    for _ in range(2):
        session, output = _session(box_scene, job=job)
        outcome = session.render(bpy.context.evaluated_depsgraph_get())
        assert outcome.denoised and set(output.images) == {"Combined", "Noisy Image"}
    assert job.denoiser.executions == 2 and job.denoiser.quality == "fast"


@pytest.mark.parametrize("failure", ["missing", "failing"])
def test_render_without_working_denoiser_stays_noisy(box_scene, monkeypatch, failure):
    dn = _denoise_module()
    if failure == "missing":
        def broken():
            raise dn.DenoiserError("Intel Open Image Denoise is not available: the pyoidn package could not be "
                                   "imported (ModuleNotFoundError: No module named 'pyoidn')")
        monkeypatch.setattr(dn, "load_oidn", broken)
    else:
        def broken(self, *args):
            raise dn.DenoiserError("Denoising failed while denoising: out of memory")
        monkeypatch.setattr(dn.Denoiser, "denoise", broken)
    box_scene.optica.use_denoiser = True
    session, output = _session(box_scene)
    outcome = session.render(bpy.context.evaluated_depsgraph_get())
    assert outcome.reason == "samples" and not outcome.denoised
    assert np.array_equal(output.images["Combined"], output.images["Noisy Image"])
    (level, text), = output.messages
    assert level == "WARNING" and "not denoised" in text
    assert ("pyoidn" in text) if failure == "missing" else ("out of memory" in text)


def test_cancel_during_denoising_returns_at_once(box_scene):
    box_scene.render.resolution_x = box_scene.render.resolution_y = 400
    box_scene.optica.samples = 1
    box_scene.optica.use_denoiser = True  # quality high: ~0.5 s or more for 400×400 here
    state = {}

    def test_break():
        if "Denoising" in output.progress_info and "at" not in state:
            state["at"] = time.perf_counter()
        return "at" in state

    session, output = _session(box_scene, test_break)
    outcome = session.render(bpy.context.evaluated_depsgraph_get())
    returned = time.perf_counter()
    assert "at" in state and outcome.cancelled and not outcome.denoised
    assert returned - state["at"] < 0.5
    assert np.array_equal(output.images["Combined"], output.images["Noisy Image"])


# ---------------------------------------------------------------------------------------------
# material previews


def test_material_preview_renders_with_optica(box_scene, monkeypatch):
    """Blender's own preview job (Properties editor previews), run by asset_generate_preview:
    the preview scene renders through Optica's final path with is_preview, few samples."""
    final = optica_module("addon.final")
    calls = []
    real = final.render

    def spy(engine, depsgraph, test_break=None):
        calls.append((engine.is_preview, final.Limits.from_scene(depsgraph.scene, engine.is_preview).samples))
        return real(engine, depsgraph, test_break)

    monkeypatch.setattr(final, "render", spy)
    box_scene.optica.use_denoiser = True  # previews are not denoised
    mat = bpy.data.materials[0]
    mat.asset_generate_preview()
    deadline = time.perf_counter() + 20
    while not calls and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert calls and calls[0][0] is True
    assert calls[0][1] <= final.PREVIEW_SAMPLES
    pixels = np.array(mat.preview.image_pixels_float[:]).reshape(-1, 4)
    assert pixels[:, :3].max() > 0.05  # something was lit
