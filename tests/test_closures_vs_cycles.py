# SPDX-License-Identifier: GPL-3.0-or-later
"""Shader closures against Cycles: spheres (one material each) under a sun and a sky colour,
with eight bounces, rendered by both engines (shader_scenes.py).

- default run: every tile's mean within 2% of Cycles' at 256 samples on both sides (the two
  renders' noise alone moves a tile's mean by a few tenths of a percent);
- slow run: a 4096-sample Cycles reference, rendered as two 2048-sample halves; Optica's tile
  means within 1% of it at 1024 samples, and Optica's error against it keeps falling like
  1/√spp from 64 to 256 to 1024 samples: a biased closure plateaus. The error is the
  reference's own noise (a quarter of the halves' squared difference) taken out of the squared
  error, so what is left is Optica's noise plus its bias — without that, a tile whose Optica
  error at 1024 samples is as small as the reference's noise (Translucent, Glossy Beckmann)
  looks like a plateau. Both squared errors are medians over the tile's pixels, because a few
  caustic fireflies (sun light through the glass spheres onto their neighbours, found by BSDF
  sampling only, in both engines) would otherwise decide a tile's error. From 64 to 1,024
  samples the error must fall to at most 0.49× (0.7² — pure noise: 0.25), or, on a tile where
  Cycles' own renders at 64 and 1,024 samples (other seeds) fall less than that against the same
  reference, to at most 1.25× Cycles' fall. (Mean squared errors would add exactly, but
  fireflies make them rise and fall between sample counts on most tiles, even with the largest
  2 % of pixels left out: tried, 2026-12-01.) The control is needed because a median of squares
  does not fall like 1/spp where a pixel's noise is heavy-tailed: on the Translucent sphere (an
  integrating sphere lit through its wall) Cycles against its own 2 × 4,096-sample reference
  falls 0.0080 → 0.0055 → 0.0049 (measured 2026-12-01), as "biased" as Optica looked, while both
  engines' means there agree within 0.25 % at 8,192 samples and their per-pixel differences
  have the spread the two noises predict (docs/benchmarks.md, *Closures*).

Closures documented as approximations (sheen, subsurface; docs/scene-dict.md, Node types) are rendered but
only checked to be finite and lit.
"""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import shader_scenes as ss  # noqa: E402
from conftest import empty_scene  # noqa: E402

BOUNCES = 8
WORLD = {"nodes": {"Background": {"type": "ShaderNodeBackground", "inputs": {"Color": (0.3, 0.4, 0.55)}},
                   "World Output": {"type": "ShaderNodeOutputWorld"}},
         "links": [["Background", "Background", "World Output", "Surface"]], "output": "World Output"}
APPROXIMATED = {"Principled sheen", "Principled subsurface", "Sheen BSDF"}
# Closures whose pixels have no noise to lose (seen straight through, or emitting only).
NOISELESS = {"Transparent BSDF", "Emission"}


def principled(**inputs):
    return ss.shader_graph("ShaderNodeBsdfPrincipled", inputs={"Base Color": (0.75, 0.35, 0.2), **inputs})


def closure_tiles():
    tiles = {
        "Principled rough 0.45": principled(Roughness=0.45),
        "Principled rough 0.6": principled(Roughness=0.6, **{"Base Color": (0.2, 0.4, 0.7)}),
        "Principled rough 0.8": principled(Roughness=0.8),
        "Principled smooth": principled(Roughness=0.05),
        "Principled IOR level": principled(Roughness=0.3, **{"Specular IOR Level": 0.9, "IOR": 2.1,
                                                             "Specular Tint": (1.0, 0.6, 0.6)}),
        "Principled metal": principled(Metallic=1.0, Roughness=0.35, **{"Specular Tint": (0.6, 0.8, 1.0)}),
        "Principled anisotropic": principled(Metallic=1.0, Roughness=0.4, Anisotropic=0.8,
                                             **{"Anisotropic Rotation": 0.15}),
        "Principled glass": principled(Roughness=0.25, **{"Transmission Weight": 1.0, "Base Color": (0.9, 0.9, 0.7)}),
        "Principled coat": principled(Roughness=0.6, **{"Coat Weight": 1.0, "Coat Roughness": 0.1,
                                                        "Coat Tint": (0.8, 0.9, 1.0)}),
        "Principled diffuse roughness": principled(Roughness=0.7, **{"Diffuse Roughness": 0.8}),
        "Principled alpha": principled(Roughness=0.5, Alpha=0.5),
        "Principled emission": principled(Roughness=0.5, **{"Emission Color": (1.0, 0.5, 0.2),
                                                            "Emission Strength": 0.8}),
        "Principled sheen": principled(Roughness=0.5, **{"Sheen Weight": 1.0, "Sheen Tint": (0.6, 0.8, 1.0)}),
        "Principled subsurface": principled(**{"Subsurface Weight": 1.0}),
        "Diffuse BSDF": ss.shader_graph("ShaderNodeBsdfDiffuse", {"Color": (0.3, 0.7, 0.4)}),
        "Diffuse BSDF rough": ss.shader_graph("ShaderNodeBsdfDiffuse", {"Color": (0.3, 0.7, 0.4), "Roughness": 0.7}),
        "Glossy multi-GGX": ss.shader_graph("ShaderNodeBsdfAnisotropic", {"Roughness": 0.4, "Anisotropy": 0.5}),
        "Glossy GGX": ss.shader_graph("ShaderNodeBsdfAnisotropic", {"Roughness": 0.3}, {"distribution": "GGX"}),
        "Glossy Beckmann": ss.shader_graph("ShaderNodeBsdfAnisotropic", {"Roughness": 0.3},
                                           {"distribution": "BECKMANN"}),
        "Metallic conductor": ss.shader_graph("ShaderNodeBsdfMetallic", {"Roughness": 0.3},
                                              {"fresnel_type": "PHYSICAL_CONDUCTOR"}),
        "Metallic F82": ss.shader_graph("ShaderNodeBsdfMetallic", {"Roughness": 0.5}),
        "Glass BSDF": ss.shader_graph("ShaderNodeBsdfGlass", {"Roughness": 0.2, "Color": (0.8, 1.0, 0.9)}),
        "Refraction BSDF": ss.shader_graph("ShaderNodeBsdfRefraction", {"Roughness": 0.2},
                                           {"distribution": "GGX"}),
        "Transparent BSDF": ss.shader_graph("ShaderNodeBsdfTransparent", {"Color": (0.6, 0.8, 0.7)}),
        "Translucent BSDF": ss.shader_graph("ShaderNodeBsdfTranslucent", {"Color": (0.8, 0.6, 0.4)}),
        "Sheen BSDF": ss.shader_graph("ShaderNodeBsdfSheen", {"Roughness": 0.4}),
        "Emission": ss.shader_graph("ShaderNodeEmission", {"Color": (0.3, 0.6, 1.0), "Strength": 1.5}),
        "Mix by Fresnel": _mix_by_fresnel(),
        "Add": _add_shaders(),
    }
    return tiles


def _mix_by_fresnel():
    g = ss.shader_graph("ShaderNodeMixShader", extra_nodes={
        "Fresnel": {"type": "ShaderNodeFresnel", "inputs": {"IOR": 1.6}},
        "Diffuse": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": (0.7, 0.2, 0.2)}},
        "Glossy": {"type": "ShaderNodeBsdfAnisotropic", "inputs": {"Roughness": 0.2}}},
        extra_links=[["Fresnel", "Fac", "Shader", "Fac"], ["Diffuse", "BSDF", "Shader", "Shader"],
                     ["Glossy", "BSDF", "Shader", "Shader_001"]])
    return g


def _add_shaders():
    return ss.shader_graph("ShaderNodeAddShader", extra_nodes={
        "Diffuse": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": (0.2, 0.3, 0.5)}},
        "Emission": {"type": "ShaderNodeEmission", "inputs": {"Color": (0.4, 0.2, 0.1)}}},
        extra_links=[["Diffuse", "BSDF", "Shader", "Shader"], ["Emission", "Emission", "Shader", "Shader_001"]])


def build(scene, tile_px):
    graphs = closure_tiles()
    tiles = ss.TileScene([ss.Tile(g, shape="sphere") for g in graphs.values()], tile_px=tile_px, cols=6,
                         world=WORLD, sun=(0.75, 0.5, 2.5, 0.1))
    tiles.build_blender(scene)
    return tiles, list(graphs)


@pytest.fixture
def scene(optica_installed):
    return empty_scene()


def test_closures_match_cycles(scene, tmp_path):
    tiles, names = build(scene, 16)
    cycles = ss.render_cycles(scene, tmp_path / "cycles.exr", 256, bounces=BOUNCES)
    optica = ss.render_optica(tiles.optica_dict(), 256, bounces=BOUNCES)
    assert np.isfinite(optica).all()
    c, o = ss.tile_means(cycles, tiles, len(names)), ss.tile_means(optica, tiles, len(names))
    report = [f"{name}: Optica/Cycles {oi / ci:.4f}" for name, ci, oi in zip(names, c, o)]
    print("\n".join(report))
    failures = [line for line, name, ci, oi in zip(report, names, c, o)
                if name not in APPROXIMATED and abs(oi / ci - 1.0) > 0.02]
    assert not failures, "\n".join(failures)
    assert all(o[names.index(n)] > 0.02 for n in APPROXIMATED)


@pytest.mark.slow
def test_closures_converge_to_cycles(scene, tmp_path):
    tiles, names = build(scene, 16)
    # The reference is two 2048-sample halves (seeds 1, 2): their difference measures the
    # reference's own noise, which is taken out of every error (as bench/convergence.py does),
    # so a tile where Optica is as good as the reference still shows its 1/√spp fall.
    halves = [ss.render_cycles(scene, tmp_path / f"reference{seed}.exr", 2048, bounces=BOUNCES, seed=seed)
              for seed in (1, 2)]
    reference = 0.5 * (halves[0] + halves[1])
    d = tiles.optica_dict()
    errors, failures = {"Optica": {}, "Cycles": {}}, []
    for spp, cycles_seed in ((64, 3), (256, 4), (1024, 5)):
        optica = ss.render_optica(d, spp, bounces=BOUNCES, seed=spp)
        # The control: Cycles' own error against the same reference, at the same sample count.
        cycles = ss.render_cycles(scene, tmp_path / f"cycles{spp}.exr", spp, bounces=BOUNCES, seed=cycles_seed)
        for k, name in enumerate(names):
            a = ss.tile_pixels(reference, tiles, k, 0)[..., :3]
            h1, h2 = (ss.tile_pixels(h, tiles, k, 0)[..., :3] for h in halves)
            for engine, image in (("Optica", optica), ("Cycles", cycles)):
                b = ss.tile_pixels(image, tiles, k, 0)[..., :3]
                errors[engine].setdefault(name, []).append(relative_error(a, b, h1, h2))
            b = ss.tile_pixels(optica, tiles, k, 0)[..., :3]
            if spp == 1024 and name not in APPROXIMATED and abs(b.mean() / a.mean() - 1) > 0.01:
                failures.append(f"{name}: mean Optica/Cycles {b.mean() / a.mean():.4f} at 1024 spp")
    for name, (e64, e256, e1024) in errors["Optica"].items():
        c64, c256, c1024 = errors["Cycles"][name]
        allowed = max(0.49, 1.25 * c1024 / c64)
        print(f"{name}: relative error {e64:.4f} (64) {e256:.4f} (256) {e1024:.4f} (1024), fall {e1024 / e64:.2f}; "
              f"Cycles {c64:.4f} {c256:.4f} {c1024:.4f}, fall {c1024 / c64:.2f}")
        if name not in APPROXIMATED | NOISELESS and e1024 > allowed * e64:
            failures.append(f"{name}: error plateaus: {e64:.4f} → {e256:.4f} → {e1024:.4f} "
                            f"(fall {e1024 / e64:.2f}, allowed {allowed:.2f}; Cycles {c64:.4f} → {c1024:.4f})")
    assert not failures, "\n".join(failures)


def relative_error(a, b, h1, h2) -> float:
    """Robust error of image b against the reference a = (h1 + h2) / 2, the reference's own noise
    taken out, relative to the reference's mean."""
    # E[(h1 − h2)²] = 2σ² of one half; the mean of the halves has σ²/2: a quarter of it.
    # Medians of squares scale with the variance too (for noise of one shape).
    measured, own = np.median((a - b) ** 2), np.median((h1 - h2) ** 2) / 4.0
    return float(np.sqrt(max(measured - own, 1e-6 * measured)) / max(a.mean(), 1e-6))
