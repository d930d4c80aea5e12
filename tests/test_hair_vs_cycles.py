# SPDX-License-Identifier: GPL-3.0-or-later
"""The hair closures against Cycles in real Blender, both engines rendering the same scene in one
process: the hair ball of test_curves_vs_cycles (a Curves object as Cycles' 3D Curve) shaded with
the Principled Hair BSDF (Chiang) in each parametrization — Direct Coloring, Melanin
Concentration (with random melanin and roughness through Curves Info › Random), Absorption
Coefficient — and with the Hair BSDF's two components. The default suite compares at low
resolution and sample count (the means within 1 %, the per-pixel error within Cycles' own
noise) and checks that the ball shaded with a plain diffuse material fails that bound; the slow
tests check the error falling like 1/√spp against a 2 × 2048-sample Cycles reference.
"""

from __future__ import annotations

import math

import pytest

bpy = pytest.importorskip("bpy")
import bpy_scenes as bs  # noqa: E402
relative_rmse = bs.relative_rmse


SIZE = (48, 48)


@pytest.fixture
def scene(optica_scene):
    return bs.new_empty_scene(*SIZE)


def principled_hair(parametrization, **inputs):
    def make():
        mat = bpy.data.materials.new(f"Hair {parametrization}")
        nt = mat.node_tree
        nt.nodes.remove(nt.nodes["Principled BSDF"])
        node = nt.nodes.new("ShaderNodeBsdfHairPrincipled")
        node.model = "CHIANG"
        node.parametrization = parametrization
        for name, value in inputs.items():
            node.inputs[name].default_value = value
        nt.links.new(node.outputs["BSDF"], nt.nodes["Material Output"].inputs["Surface"])
        return mat
    return make


def hair_bsdf(component, color=(0.8, 0.6, 0.4), **inputs):
    def make():
        mat = bpy.data.materials.new(f"Hair BSDF {component}")
        nt = mat.node_tree
        nt.nodes.remove(nt.nodes["Principled BSDF"])
        node = nt.nodes.new("ShaderNodeBsdfHair")
        node.component = component
        node.inputs["Color"].default_value = (*color, 1.0)
        for name, value in inputs.items():
            node.inputs[name].default_value = value
        nt.links.new(node.outputs["BSDF"], nt.nodes["Material Output"].inputs["Surface"])
        return mat
    return make


MATERIALS = {
    "color": principled_hair("COLOR", **{"Color": (0.6, 0.35, 0.15, 1.0)}),
    "melanin": principled_hair("MELANIN", **{"Melanin": 0.5, "Melanin Redness": 0.6, "Tint": (1.0, 0.8, 0.7, 1.0),
                                             "Random Color": 0.5, "Random Roughness": 0.4, "Coat": 0.3,
                                             "Offset": math.radians(4.0)}),
    "absorption": principled_hair("ABSORPTION", **{"Absorption Coefficient": (0.3, 0.6, 1.2), "Roughness": 0.5,
                                                   "Radial Roughness": 0.6, "IOR": 1.45}),
    "hair reflection": hair_bsdf("Reflection", RoughnessU=0.5, RoughnessV=1.0),
    "hair transmission": hair_bsdf("Transmission", RoughnessU=0.2, RoughnessV=0.5),
}


def build(scene, name, geometry="hair ball"):
    bs.hair_stage(scene)
    if name.startswith("hair "):
        # The Hair BSDF's lobes peak without bound (1 / cos θ) where the light runs along a
        # strand: under the 2° sun both engines' images are fireflies (Cycles against itself
        # 0.4–0.6 relative RMSE at 128 samples). Lit by the sky alone they converge.
        for ob in scene.objects:
            if ob.type == "LIGHT":
                ob.hide_render = True
    scene.cycles_curves.shape = "RIBBONS" if geometry == "hair ball ribbons" else "THICK"
    if geometry == "fur patch":  # particle hair: the patch's second material
        ob = bs.fur_patch(scene)
        ob.data.materials[1] = MATERIALS[name]()
        return ob, 1
    ball = bs.hair_ball(scene)
    ball.data.materials[0] = MATERIALS[name]()
    return ball, 0


render = bs.render_with


CASES = [("hair ball", name) for name in MATERIALS] + [("fur patch", "melanin"), ("hair ball ribbons", "color")]


@pytest.mark.parametrize("geometry, name", CASES)
def test_hair_closures_match_cycles(scene, tmp_path, geometry, name):
    """At 48 × 48 and 128 samples: the means within 1 %, the per-pixel error (2 × 2 bins,
    relative to the mean) within 1.5 × Cycles' own (two seeds) + 0.003; the hair shaded diffuse
    instead is outside that bound (the comparison sees the hair closure). The hair ball as 3D
    curves with every material; particle hair (the fur patch, its Curves Info › Random feeding
    random melanin and roughness) and Rounded Ribbons (h from the offset across the strip) once."""
    ob, slot = build(scene, name, geometry)

    def shade_diffuse():
        ob.data.materials[slot] = bs.diffuse("Plain", (0.5, 0.35, 0.2))

    bs.assert_matches_cycles_per_pixel(scene, tmp_path, f"{geometry}, {name}", shade_diffuse, "the hair shaded diffuse")


TRANSMISSION_BIAS = pytest.mark.xfail(strict=True, reason="Hair BSDF Transmission: measured 0.42 % darker than "
                                      "Cycles with the error plateauing (slope −0.32): transmitted rays still meet "
                                      "chord walls where Cycles' swept tube has none (docs/status.md)")


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=TRANSMISSION_BIAS) if n == "hair transmission" else n
                                  for n in MATERIALS])
def test_hair_closures_converge_to_cycles(scene, tmp_path, name):
    """Against a 2 × 2048-sample Cycles reference (its own noise subtracted): Optica's mean
    within 1 % at 1024 samples, and its error falling like 1/√spp from 64 to 1024 samples."""
    build(scene, name)
    bs.assert_converges_to_cycles(scene, tmp_path, name)


@pytest.mark.parametrize("name", ["absorption", "hair transmission"])
def test_hair_closures_on_a_mesh_match_cycles(scene, tmp_path, name):
    """On a smooth mesh sphere (no curve: Cycles takes the triangle's dPdu as the fibre for the
    Principled Hair, dPdv with no offset for the Hair BSDF): the means within 1 %, the per-pixel
    error within Cycles' own noise; the sphere shaded diffuse instead is outside that bound."""
    bs.hair_stage(scene)
    bs.camera(scene, (0, -6, 1.6), (85, 0, 0), lens=40)
    sphere = bs.uv_sphere(scene, "Sphere", 1.0, (0, 0, 1.6), MATERIALS[name]())

    def shade_diffuse():
        sphere.data.materials[0] = bs.diffuse("Plain", (0.5, 0.35, 0.2))

    bs.assert_matches_cycles_per_pixel(scene, tmp_path, f"{name} on a mesh", shade_diffuse, "the sphere shaded diffuse")


def test_huang_is_approximated_by_chiangs_lobes(scene, tmp_path):
    """Huang (the node's other model) is rendered with Chiang's lobes and a round fibre
    (docs/scene-dict.md, Node types): measured 1.03× Cycles' Huang mean on the hair ball with
    Direct Coloring; held here within 5 %, and further from Cycles than Cycles' own noise (were
    it within, the approximation would have become exact and the docs would be stale)."""
    ball, _ = build(scene, "color")
    for node in ball.data.materials[0].node_tree.nodes:
        if node.bl_idname == "ShaderNodeBsdfHairPrincipled":
            node.model = "HUANG"
    cycles = [render(scene, tmp_path, "cycles", 128, seed=s) for s in (1, 2)]
    optica = render(scene, tmp_path, "optica", 128)
    noise = relative_rmse(cycles[1], cycles[0])
    error = relative_rmse(optica, cycles[0])
    mean_ratio = optica.mean() / cycles[0].mean()
    print(f"Huang: mean Optica/Cycles {mean_ratio:.4f}; rel. RMSE {error:.4f}, Cycles–Cycles {noise:.4f}")
    assert abs(mean_ratio - 1) < 0.05
    assert error > 1.5 * noise + 0.003
