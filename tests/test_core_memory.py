"""What the core keeps in memory (`Renderer.memory`, `Renderer.set_film_aovs`): float arrays of
the scene dict read in place rather than copied, index arrays copied once per array object, and
film buffers only for the AOVs asked for — with images unchanged by any of it (issue 11).
"""

from __future__ import annotations

import numpy as np
import pytest

oc = pytest.importorskip("optica_core")

try:  # tests/ may or may not be a package
    from . import helpers_scenes as hs
except ImportError:
    import helpers_scenes as hs

AOVS = ("albedo", "normal", "depth", "object_id")


def render(d: dict, spp: int, aovs=None) -> "oc.Renderer":
    r = oc.Renderer()
    if aovs is not None:
        r.set_film_aovs(aovs)
    r.set_scene(d)
    assert r.accumulate(spp) == spp
    return r


def test_film_keeps_only_the_aovs_asked_for_and_colour_is_unchanged():
    d = hs.sampler_scene(48, 32, seed=0)
    full = render(d, 4)
    assert full.film_aovs == list(oc.Renderer.FILM_AOVS)
    bare = render(d, 4, aovs=[])
    assert bare.film_aovs == []
    np.testing.assert_array_equal(np.asarray(bare.color), np.asarray(full.color))
    assert bare.memory["film"] == 48 * 32 * 4 * 4  # RGBA float32 only
    assert full.memory["film"] == 48 * 32 * (4 + 3 + 3 + 3 + 1 + 1) * 4
    for name in AOVS:
        with pytest.raises(RuntimeError, match=f"{name}: this renderer's film does not keep it"):
            getattr(bare, name)
    # Asking for one again gives it back (the film is cleared), exactly as a full film has it.
    bare.set_film_aovs(["albedo"])
    assert bare.samples == 0 and bare.film_aovs == ["albedo"]
    bare.accumulate(4)
    np.testing.assert_array_equal(np.asarray(bare.albedo), np.asarray(full.albedo))
    np.testing.assert_array_equal(np.asarray(bare.color), np.asarray(full.color))
    with pytest.raises(RuntimeError, match="depth"):
        bare.depth


def test_film_aov_errors_and_adaptive_sampling_needs_the_noise_buffer():
    r = oc.Renderer()
    with pytest.raises(ValueError, match="unknown AOV 'alpha'"):
        r.set_film_aovs(["albedo", "alpha"])
    r.set_film_aovs(["albedo"])
    r.set_scene(oc.scenes.furnace(32, 32))
    with pytest.raises(ValueError, match="noise"):
        r.set_adaptive(0.01, min_samples=4)
    with pytest.raises(RuntimeError, match="converged_fraction"):
        r.converged_fraction(0.01)
    # With the noise buffer adaptive sampling works; dropping the buffer turns it off.
    r.set_film_aovs(["noise"])
    r.set_adaptive(0.01, min_samples=4)
    assert r.accumulate(100) == 4 and r.converged
    r.set_film_aovs([])
    assert r.accumulate(6) == 6 and not r.converged


def test_float_arrays_are_read_in_place_and_indices_copied_once():
    d = oc.scenes.displaced_sphere(20_000)
    mesh = d["meshes"]["bumpy_sphere"]
    r = oc.Renderer()
    r.set_scene(d)
    m = r.memory
    # Positions and (unit) normals are the scene dict's own memory; the triangles are copied
    # once, though validation hands the same array to the normals as their indices.
    assert m["borrowed"] == mesh["vertices"].nbytes + mesh["normals"].nbytes
    assert m["geometry"] == mesh["triangles"].nbytes
    assert m["bvh"] > 0 and m["film"] > 0


def test_normals_that_are_not_unit_length_are_normalised_in_a_copy():
    d = oc.scenes.displaced_sphere(20_000)
    mesh = d["meshes"]["bumpy_sphere"]
    reference = render(d, 2)
    longer = dict(d, meshes={"bumpy_sphere": dict(mesh, normals=mesh["normals"] * np.float32(3.0))})
    r = render(longer, 2)
    assert r.memory["borrowed"] == mesh["vertices"].nbytes
    assert r.memory["geometry"] == mesh["triangles"].nbytes + mesh["normals"].nbytes
    assert np.abs(np.asarray(r.color) - np.asarray(reference.color)).max() < 1e-4
    np.testing.assert_array_equal(longer["meshes"]["bumpy_sphere"]["normals"], mesh["normals"] * np.float32(3.0))


def test_borrowed_arrays_outlive_the_callers_references():
    """The scene's arrays may be dropped by the caller right after set_scene: the core keeps
    what it reads in place alive, and frees it with the scene (on set_scene's thread, GIL
    released) without a crash or a deadlock."""
    d = oc.scenes.displaced_sphere(20_000)
    reference = render(d, 2)
    copy = {**d, "meshes": {"bumpy_sphere": {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                             for k, v in d["meshes"]["bumpy_sphere"].items()}}}
    r = oc.Renderer()
    r.set_scene(copy)
    del copy
    import gc

    gc.collect()
    r.accumulate(2)
    np.testing.assert_array_equal(np.asarray(r.color), np.asarray(reference.color))
    r.set_scene(oc.scenes.furnace(16, 16))  # frees the borrowed arrays with the GIL released
    assert r.accumulate(1) == 1
