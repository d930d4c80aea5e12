"""A render depends only on the scene dictionary, the sample count and the seed: never on what
ran before it in the process (heap contents, the calling thread's floating-point mode).

Both bugs this file guards against made the same scene render differently in different
processes (docs/reliability.md, *Same scene, same pixels*). Expected images come from a second
render of an equivalent scene, never from stored numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

oc = pytest.importorskip("optica_core")

try:  # tests/ may or may not be a package
    from . import helpers_scenes as hs
except ImportError:
    import helpers_scenes as hs


def _graph(nodes: dict, links: list) -> dict:
    nodes = dict(nodes, Output={"type": "ShaderNodeOutputMaterial"})
    return {"nodes": nodes, "links": links, "output": "Output"}


DIFFUSE = _graph({"Diffuse": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": (0.8, 0.8, 0.8)}}},
                 [["Diffuse", "BSDF", "Output", "Surface"]])
# Object Info › Color and › Random shown as emission: the image is the instance's own values.
OBJECT_COLOUR = _graph(
    {"Info": {"type": "ShaderNodeObjectInfo"},
     "Mix": {"type": "ShaderNodeMix", "params": {"data_type": "RGBA"}, "inputs": {"Factor_Float": 0.5}},
     "Emission": {"type": "ShaderNodeEmission", "inputs": {"Strength": 1.0}}},
    [["Info", "Color", "Mix", "A_Color"], ["Info", "Random", "Mix", "B_Color"], ["Mix", "Result_Color", "Emission", "Color"],
     ["Emission", "Emission", "Output", "Surface"]])


def coarse_sphere_scene(material: dict, group_extra: dict | None = None, size: int = 48) -> dict:
    """Nine placements of a coarse smooth-shaded sphere under a low sun, direct light only: the
    Shadow Terminator offsets decide many of their pixels."""
    camera = {"type": "perspective", "matrix": hs.look_at((0.0, -12.0, 0.0), (0.0, 0.0, 0.0)), "lens": 50.0}
    d = dict(hs.base_scene(size, size, camera, max_bounces=0, seed=3, filter="gaussian", filter_width=0.01),
             version=2, world=None)
    d["materials"] = {"m": material}
    vertices, triangles, normals = oc.scenes.uv_sphere(1.0, n_u=8, n_v=4)
    d["meshes"] = {"ball": {"vertices": vertices, "triangles": triangles, "normals": normals, "materials": ["m"]}}
    grid = [hs.trs((2.5 * (i % 3 - 1), 0.0, 2.5 * (i // 3 - 1))) for i in range(PLACEMENTS)]
    group = {"geometry": "ball", "transforms": np.array(grid, np.float32)}
    d["instances"] = [dict(group, **(group_extra or {}))]
    d["lights"] = {"sun": {"type": "sun", "strength": 3.0, "angle": 0.01,
                           "matrix": hs.look_at((4.0, -1.0, 0.5), (0.0, 0.0, 0.0))}}
    return d


PLACEMENTS = 9


def render_color(d: dict, spp: int = 4, threads: int = 0) -> np.ndarray:
    return np.array(render(d, spp, threads).color)


def render(d: dict, spp: int = 4, threads: int = 0) -> "oc.Renderer":
    r = oc.Renderer(threads=threads)
    r.set_scene(d)
    assert r.accumulate(spp) == spp
    return r


def _litter_small_allocations() -> None:
    # numpy hands small blocks of freed arrays to the next small arrays unwiped: leave some
    # non-zero bytes there, as whatever ran before a render in a real process does.
    junk = [np.full(n, 0.37, np.float32) for n in range(1, 33) for _ in range(8)]
    del junk


@pytest.mark.parametrize("case", ["shadow_terminator", "object_info"])
def test_sections_left_out_render_as_their_documented_defaults(case):
    # docs/scene-dict.md: a group without `shadow_terminator` has Blender's offsets 0.1 and 0;
    # one without `object_info` is white with pass index 0. The core read both from an empty
    # array when the section was left out (uninitialised memory: the image depended on the
    # process's heap); an explicit section with the default values must give the same bits.
    if case == "shadow_terminator":
        material = DIFFUSE
        explicit = {"shadow_terminator": {"geometry_offset": np.full(PLACEMENTS, 0.1, np.float32),
                                          "shading_offset": np.zeros(PLACEMENTS, np.float32)}}
    else:
        material = OBJECT_COLOUR
        # the random number of a placement without object info is hashed from its object id
        random = _random_per_placement(render(coarse_sphere_scene(material)))
        explicit = {"object_info": {"color": np.ones((PLACEMENTS, 4), np.float32),
                                    "pass_index": np.zeros(PLACEMENTS, np.int32),
                                    "random": random}}
    expected = render_color(coarse_sphere_scene(material, explicit))
    for _ in range(3):
        _litter_small_allocations()
        got = render_color(coarse_sphere_scene(material))
        assert np.array_equal(got, expected), (
            f"{case} left out renders differently from its defaults: max |difference| "
            f"{np.abs(got - expected).max():.4g} over {int((got != expected).any(-1).sum())} pixels")


def _random_per_placement(r: "oc.Renderer") -> np.ndarray:
    # Emission = 0.5 white + 0.5 random, and the pixel filter is a point: every pixel that sees
    # placement k (object id k) holds the same value.
    ids, color = np.asarray(r.object_id).reshape(r.color.shape[:2]), np.asarray(r.color)
    out = np.empty(PLACEMENTS, np.float32)
    for k in range(PLACEMENTS):
        values = np.unique(color[ids == k][:, 0])
        assert len(values) == 1, f"placement {k}: its emission is not one value: {values[:5]}"
        out[k] = 2.0 * values[0] - 1.0
    return out


# ---- the calling thread's floating-point mode ----------------------------------------------------

native = oc._native
# Control words a host process may leave on the thread that makes or drives a Renderer:
# flush-to-zero with denormals-are-zero (as -ffast-math libraries and renderers' threads set it),
# and a rounding mode other than to-nearest.
ODD_FP_MODES = {"mxcsr": {"ftz_daz": 0x1F80 | 0x8040, "round_toward_zero": 0x1F80 | 0x6000},
                "fpcr": {"ftz_daz": 1 << 24, "round_toward_zero": 3 << 22}}.get(native._FP_CONTROL, {})
CONTROL_BITS = {"mxcsr": 0xFFC0, "fpcr": 0x07FF_FF00}.get(native._FP_CONTROL, 0)


def faint_sky_scene() -> dict:
    """The sphere scene under a sky whose radiance is a subnormal float: flush-to-zero turns
    the background black, so the test sees both the mode's rounding and its subnormals."""
    d = coarse_sphere_scene(DIFFUSE, size=32)
    d["world"] = {"nodes": {"Background": {"type": "ShaderNodeBackground",
                                           "inputs": {"Color": (1.0, 0.5, 0.25, 1.0), "Strength": 3e-39}},
                            "World Output": {"type": "ShaderNodeOutputWorld"}},
                  "links": [["Background", "Background", "World Output", "Surface"]], "output": "World Output"}
    return d


def _rays(n: int = 5000):
    rng = np.random.default_rng(7)
    origins = np.zeros((n, 3), np.float32) + np.float32([0.0, -12.0, 0.0])
    directions = np.column_stack([rng.uniform(-0.4, 0.4, n), np.ones(n), rng.uniform(-0.4, 0.4, n)]).astype(np.float32)
    return origins, directions


@pytest.mark.skipif(not ODD_FP_MODES, reason="no floating-point control word known on this CPU")
@pytest.mark.parametrize("mode", ["ftz_daz", "round_toward_zero"])
def test_pixels_and_hits_do_not_depend_on_the_callers_fp_mode(mode):
    d = oc.validate_scene(faint_sky_scene())
    expected = render(d)
    expected_color = np.array(expected.color)
    assert expected_color[0, 0, 0] > 0.0, "the faint sky should be a subnormal, not zero"
    origins, directions = _rays()
    expected_hits = expected.intersect(origins, directions)

    odd = ODD_FP_MODES[mode]
    caller = native._testing_fp_mode(odd)
    try:
        r = oc.Renderer()  # its workers are born in the odd mode
        native._testing_fp_mode(caller)
        r.set_scene(d)  # validation and shader compilation are Python: in the process's own mode
        native._testing_fp_mode(odd)
        r.accumulate(4)
        hits = r.intersect(origins, directions)
        left = native._testing_fp_mode(caller)
    finally:
        native._testing_fp_mode(caller)
    assert left & CONTROL_BITS == odd & CONTROL_BITS, f"the core left the caller's mode {left:#x}, not {odd:#x}"
    color = np.array(r.color)
    assert np.array_equal(color, expected_color), (
        f"{mode} on the caller: max |difference| {np.abs(color - expected_color).max():.4g} over "
        f"{int((color != expected_color).any(-1).sum())} pixels")
    for name, got, want in zip(("t", "prim", "obj"), hits, expected_hits):
        assert np.array_equal(got, want), f"{mode}: intersect's {name} differs for {int((got != want).sum())} rays"
