# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica against Cycles, same scene, same process, same resolution and sample count.

The statistic: both engines estimate the same pixel integrals, so their difference is Monte
Carlo noise plus any bias (a wrong light unit, BSDF or camera mapping). The noise part is
measured, not guessed: Cycles renders the scene twice with different seeds, and the RMSE
between those two images is what pure noise looks like at this sample count. The test then
requires
- the image means to agree within 2% (a wrong unit is off by π, 2 or 4π: 50% and more);
- the per-pixel relative RMSE of Optica against Cycles (after 2×2 binning, RMSE divided by the
  Cycles mean) to stay within 1.5× the Cycles-vs-Cycles value plus 1% of slack for
  the estimators' different noise (a shifted camera or a wrong fall-off moves whole edges and
  gradients and fails this by far).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_image_file

bpy = pytest.importorskip("bpy")
import bpy_scenes as bs  # noqa: E402  (needs bpy imported after conftest)

SIZE = (48, 48)
SAMPLES = 256


binned, relative_rmse = bs.binned, bs.relative_rmse


def compare(scene, tmp_path, samples=SAMPLES):
    bs.configure_cycles(scene, samples, seed=1)
    cycles_a = bs.render(scene, tmp_path / "cycles_a.exr", read_image_file)
    bs.configure_cycles(scene, samples, seed=2)
    cycles_b = bs.render(scene, tmp_path / "cycles_b.exr", read_image_file)
    bs.configure_optica(scene, samples)
    optica = bs.render(scene, tmp_path / "optica.exr", read_image_file)

    mean_ratio = optica.mean() / cycles_a.mean()
    noise = relative_rmse(cycles_b, cycles_a)
    error = relative_rmse(optica, cycles_a)
    print(f"mean Optica/Cycles = {mean_ratio:.4f}; rel. RMSE Optica–Cycles {error:.4f}, "
          f"Cycles–Cycles {noise:.4f}")
    assert cycles_a.mean() > 1e-3, "the reference image is black: the scene is broken"
    assert abs(mean_ratio - 1.0) < 0.02, f"image means differ: Optica/Cycles = {mean_ratio:.4f}"
    assert error <= 1.5 * noise + 0.01, f"per-pixel RMSE {error:.4f} exceeds noise bound ({noise:.4f})"


@pytest.fixture
def scene(optica_scene):
    return bs.new_empty_scene(*SIZE)


def test_cornell_box(scene, tmp_path):
    bs.cornell_box(scene)
    compare(scene, tmp_path)


def test_diffuse_and_rough_metal_spheres_under_sun_and_world(scene, tmp_path):
    bs.spheres_sun_world(scene)
    compare(scene, tmp_path)


@pytest.mark.parametrize("kind, shape", [
    ("POINT", None), ("SPOT", None), ("SUN", None),
    ("AREA", "SQUARE"), ("AREA", "RECTANGLE"), ("AREA", "DISK"), ("AREA", "ELLIPSE"),
])
def test_light_on_diffuse_plane(scene, tmp_path, kind, shape):
    bs.lit_plane(scene, kind, shape)
    compare(scene, tmp_path)


def test_emissive_mesh(scene, tmp_path):
    bs.emissive_mesh(scene)
    compare(scene, tmp_path)


@pytest.mark.parametrize("kind", ["ORTHO", "SHIFTED"])
def test_camera_mapping(scene, tmp_path, kind):
    scene.render.resolution_x, scene.render.resolution_y = 64, 40  # non-square: sensor fit matters
    bs.camera_mapping(scene, kind)
    compare(scene, tmp_path)
