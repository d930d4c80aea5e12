"""Batch ray queries of the native core (`Renderer.intersect`) against a numpy brute force.

Contract (docs/core-api.md): `t, prim, obj = r.intersect(origins, directions)` with (N, 3)
float32 inputs; `t` is the distance along the *normalised* direction to the nearest hit (inf on
a miss), `prim` the triangle/sphere index within its geometry (-1 on a miss), `obj` the instance's
object id (-1 on a miss). Lights are not intersected.
"""

from __future__ import annotations

import numpy as np
import pytest

oc = pytest.importorskip("optica_core")

try:  # tests/ may or may not be a package
    from . import helpers_scenes as hs
except ImportError:
    import helpers_scenes as hs


# ---------------------------------------------------------------------------------------------
# Brute force in world space, float64


def brute_triangles(o, d, v0, v1, v2, chunk=1000):
    """All ray/triangle hits (Möller–Trumbore): t (R, T), inf where no hit at t > 0, and the
    smallest barycentric margin per pair (R, T): how far inside (> 0) or outside (< 0) the edges
    the ray crosses the triangle's plane. `d` must be unit length."""
    e1, e2 = v1 - v0, v2 - v0
    ts, margins = [], []
    for s in range(0, len(o), chunk):
        oo, dd = o[s:s + chunk, None, :], d[s:s + chunk, None, :]
        p = np.cross(dd, e2[None])
        det = np.einsum("rtk,tk->rt", p, e1)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / det
            tv = oo - v0[None]
            u = np.einsum("rtk,rtk->rt", tv, p) * inv
            q = np.cross(tv, e1[None])
            v = np.einsum("rtk,rtk->rt", dd, q) * inv
            t = np.einsum("tk,rtk->rt", e2, q) * inv
        margin = np.minimum(np.minimum(u, v), 1.0 - u - v)
        ok = np.isfinite(t) & (np.abs(det) > 1e-12)
        inside = ok & (margin >= 0) & (t > 0)
        ts.append(np.where(inside, t, np.inf))
        # Only crossings of the triangle's plane in front of (or just behind) the origin matter.
        margins.append(np.where(ok & (t > -1e-3), margin, np.inf))
    return np.concatenate(ts), np.concatenate(margins)


def brute_spheres(o, d, centres, radii):
    """All ray/sphere hits: t (R, S) of the first surface crossing at t > 0 (the exit when the origin
    is inside), inf when none; and (R² − b²)/R², b the distance of the centre from the ray line
    (≈ 0 for a grazing ray). `d` must be unit length."""
    oc_ = centres[None, :, :] - o[:, None, :]  # origin -> centre
    tc = np.einsum("rsk,rk->rs", oc_, d)
    b2 = np.einsum("rsk,rsk->rs", oc_, oc_) - tc * tc
    r2 = radii[None, :] ** 2
    disc = r2 - b2
    sq = np.sqrt(np.maximum(disc, 0.0))
    t0, t1 = tc - sq, tc + sq
    t = np.where(t0 > 0, t0, np.where(t1 > 0, t1, np.inf))
    t = np.where(disc >= 0, t, np.inf)
    # Candidate roots (either sign) for the "too close to the origin" exclusion.
    near = np.where(disc >= 0, np.minimum(np.abs(t0), np.abs(t1)), np.inf)
    rel_disc = np.where(t1 > -1e-3, disc / r2, np.inf)  # spheres entirely behind the origin do not matter
    return t, rel_disc, near


# ---------------------------------------------------------------------------------------------
# Scene: 200 random triangles (two instances) and 50 random spheres (one instance)

N_TRI, N_SPH = 200, 50
TRI_IDS = (10, 11)
SPH_ID = 20


def _world():
    rng = np.random.default_rng(12345)
    tris = hs.random_triangles(N_TRI, rng)
    sph = hs.random_spheres(N_SPH, rng)
    # Rotation + translation + uniform scale: spheres stay spheres (radius scales by s).
    m_tri = [hs.trs((0.2, -0.3, 0.1), (1.0, 2.0, 0.5), 0.7, 1.5), hs.trs((-1.0, 0.4, -0.6), (0.3, -1.0, 0.2), 2.1, 0.9)]
    m_sph = hs.trs((0.1, 0.2, -0.2), (-0.5, 0.2, 1.0), 1.2, 1.3)
    d = hs.base_scene(16, 16, {"matrix": hs.look_at((0, -5, 0), (0, 0, 0))})
    d["meshes"]["tris"] = tris
    d["spheres"]["balls"] = sph
    d["instances"] = [
        {"geometry": "tris", "transforms": np.stack(m_tri), "object_ids": np.array(TRI_IDS, np.int32)},
        {"geometry": "balls", "transforms": m_sph[None], "object_ids": np.array([SPH_ID], np.int32)},
    ]
    # A light right in the middle of the geometry: rays must pass through it (lights are not intersected).
    d["lights"]["blocker"] = {"type": "area", "shape": "square", "size_x": 3.0, "power": 10.0,
                              "matrix": hs.trs((0.5, 0.5, 0.5))}

    # Brute-force candidates: every primitive in world space, with its (prim, obj).
    v = tris["vertices"].reshape(-1, 3, 3).astype(np.float64)
    tri_world = [hs.transform_points(m, v.reshape(-1, 3)).reshape(-1, 3, 3) for m in m_tri]
    scale = np.linalg.norm(m_sph[:3, 0].astype(np.float64))
    sph_c = hs.transform_points(m_sph, sph["centers"])
    sph_r = sph["radii"].astype(np.float64) * scale
    return d, tri_world, (sph_c, sph_r)


_WORLD = _world()


@pytest.fixture(scope="module")
def world():
    d, tri_world, sph = _WORLD
    r = oc.Renderer(threads=0)
    r.set_scene(d)
    return r, tri_world, sph


def reference(tri_world, sph, o, dirs):
    """Nearest hit per ray plus an 'ambiguous' mask (ties, grazing rays, hits at the origin).

    Tolerances: the core works in float32 (origins, directions, object-space transforms), so a
    ray passing within ~1e-5 (barycentric) of a triangle edge, nearly tangent to a sphere, or
    with two hits within 1e-4 relative of each other may legitimately go either way; such rays are
    excluded and the test asserts they are few (so it cannot pass vacuously).
    """
    o = o.astype(np.float64)
    dn = dirs.astype(np.float64)
    dn /= np.linalg.norm(dn, axis=1, keepdims=True)
    all_t, all_prim, all_obj, ambiguous = [], [], [], np.zeros(len(o), bool)
    for k, tw in enumerate(tri_world):
        t, margin = brute_triangles(o, dn, tw[:, 0], tw[:, 1], tw[:, 2])
        # Grazing an edge: the ray passes within 1e-5 (barycentric) of the triangle's boundary
        # somewhere in front of (or just behind) the origin.
        ambiguous |= np.any(np.abs(margin) < 1e-5, axis=1)
        all_t.append(t)
        all_prim.append(np.broadcast_to(np.arange(len(tw)), t.shape))
        all_obj.append(np.full(t.shape, TRI_IDS[k]))
    sc, sr = sph
    t, rel_disc, near = brute_spheres(o, dn, sc, sr)
    # Grazing: b > 0.995 R, i.e. (R² − b²)/R² < 1e-2. A float32 quadratic loses ~1e-7·|o−c|²
    # in the discriminant; near tangency that becomes a large error in t (∝ 1/sqrt(disc)).
    ambiguous |= np.any(np.abs(rel_disc) < 1e-2, axis=1)
    ambiguous |= np.any(near < 1e-3, axis=1)  # a surface at the origin: tmin conventions differ
    all_t.append(t)
    all_prim.append(np.broadcast_to(np.arange(len(sr)), t.shape))
    all_obj.append(np.full(t.shape, SPH_ID))

    T = np.concatenate(all_t, axis=1)
    P = np.concatenate(all_prim, axis=1)
    O = np.concatenate(all_obj, axis=1)
    ambiguous |= np.any(np.abs(T) < 1e-3, axis=1)
    order = np.argsort(T, axis=1)
    rows = np.arange(len(o))
    t1, t2 = T[rows, order[:, 0]], T[rows, order[:, 1]]
    with np.errstate(invalid="ignore"):  # inf - inf where there is no second hit
        ambiguous |= np.isfinite(t1) & (t2 - t1 <= 1e-4 * np.maximum(1.0, t1))  # ties
    hit = np.isfinite(t1)
    prim = np.where(hit, P[rows, order[:, 0]], -1)
    obj = np.where(hit, O[rows, order[:, 0]], -1)
    return t1, prim, obj, ambiguous


def random_rays(n, seed):
    """Origins anywhere around the geometry; half the directions aimed near a random primitive
    (so that all instances are hit often), half uniformly random (mostly misses)."""
    rng = np.random.default_rng(seed)
    _, tri_world, (sc, _) = _WORLD
    targets = np.concatenate([tw.mean(axis=1) for tw in tri_world] + [sc])
    o = rng.uniform(-2.0, 2.5, (n, 3))
    d = targets[rng.integers(0, len(targets), n)] + rng.normal(scale=0.15, size=(n, 3)) - o
    d[n // 2:] = rng.normal(size=(n - n // 2, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return o.astype(np.float32), d.astype(np.float32)


def check_against_reference(t, prim, obj, ref, min_hits=1000, min_misses=1000, max_ambiguous=0.01):
    t_ref, prim_ref, obj_ref, amb = ref
    n = len(t_ref)
    assert t.shape == (n,) and prim.shape == (n,) and obj.shape == (n,)
    assert t.dtype == np.float32 and prim.dtype == np.int32 and obj.dtype == np.int32
    # Few rays may be set aside as ambiguous (1% by default), else the test would say little.
    assert amb.sum() < max_ambiguous * n, f"{amb.sum()} ambiguous rays out of {n}"
    keep = ~amb
    hit_ref = np.isfinite(t_ref)
    hit = np.isfinite(t)
    assert (hit_ref & keep).sum() >= min_hits and (~hit_ref & keep).sum() >= min_misses

    bad = keep & (hit != hit_ref)
    assert not bad.any(), (f"{bad.sum()} rays classified differently, e.g. ray {np.flatnonzero(bad)[:5]}: "
                           f"core t={t[bad][:5]}, reference t={t_ref[bad][:5]}")
    miss = keep & ~hit_ref
    assert np.all(np.isinf(t[miss]) & (t[miss] > 0)), "misses must report t = +inf"
    assert np.all(prim[miss] == -1) and np.all(obj[miss] == -1), "misses must report prim = obj = -1"
    h = keep & hit_ref
    wrong = h & ((prim != prim_ref) | (obj != obj_ref))
    assert not wrong.any(), (f"{wrong.sum()} hits on the wrong primitive/object, e.g. core "
                             f"{list(zip(prim[wrong][:5], obj[wrong][:5]))} vs reference "
                             f"{list(zip(prim_ref[wrong][:5], obj_ref[wrong][:5]))}")
    # |t − t_ref| ≤ 1e-4·max(1, t_ref): float32 geometry and transforms (~1e-7 relative each) with
    # scene extents of a few units leave errors around 1e-6; 1e-4 catches any wrong scaling of t
    # (e.g. t in object space, or along an unnormalised direction).
    err = np.abs(t[h].astype(np.float64) - t_ref[h]) / np.maximum(1.0, t_ref[h])
    assert err.max() <= 1e-4, f"max relative t error {err.max():.3g} at ray {np.flatnonzero(h)[np.argmax(err)]}"


# ---------------------------------------------------------------------------------------------


def test_random_rays_match_brute_force(world):
    r, tri_world, sph = world
    o, d = random_rays(10_000, 1)
    ref = reference(tri_world, sph, o, d)
    t, prim, obj = r.intersect(o, d)
    check_against_reference(np.asarray(t), np.asarray(prim), np.asarray(obj), ref)
    # Both kinds of geometry and both triangle instances were actually hit.
    obj = np.asarray(obj)
    for oid in (*TRI_IDS, SPH_ID):
        assert (obj == oid).sum() > 100, f"object id {oid} hit only {(obj == oid).sum()} times"


def test_unnormalised_directions_give_distance_along_unit_direction(world):
    r, tri_world, sph = world
    o, d = random_rays(10_000, 2)
    scale = np.random.default_rng(3).uniform(0.1, 10.0, (len(d), 1)).astype(np.float32)
    ref = reference(tri_world, sph, o, d)
    t, prim, obj = r.intersect(o, (d * scale).astype(np.float32))
    check_against_reference(np.asarray(t), np.asarray(prim), np.asarray(obj), ref)


def test_rays_starting_inside_spheres(world):
    r, tri_world, (sc, sr) = world
    rng = np.random.default_rng(4)
    k = np.repeat(np.arange(N_SPH), 20)  # 20 rays per sphere, from inside it
    off = rng.normal(size=(len(k), 3))
    off *= (rng.uniform(0.0, 0.5, len(k)) * sr[k] / np.linalg.norm(off, axis=1))[:, None]
    o = (sc[k] + off).astype(np.float32)
    d = rng.normal(size=(len(k), 3))
    d = (d / np.linalg.norm(d, axis=1, keepdims=True)).astype(np.float32)
    ref = reference(tri_world, sph=(sc, sr), o=o, dirs=d)
    t, prim, obj = (np.asarray(a) for a in r.intersect(o, d))
    # Every ray hits something: at worst the inside of its own sphere.
    assert np.all(np.isfinite(ref[0]))
    # The spheres overlap a lot (30% of these origins are inside two): more rays graze a
    # neighbour or start on its surface, so up to 3% may be set aside.
    check_against_reference(t, prim, obj, ref, min_hits=len(k) // 2, min_misses=0, max_ambiguous=0.03)
    # Most rays leave through their own sphere (the exit point), at t in [R/2, 3R/2].
    own = (obj == SPH_ID) & (prim == k)
    assert own.mean() > 0.7, f"only {own.mean():.0%} of rays from inside a sphere hit its inside"


def test_lights_are_not_intersected(world):
    r, _, _ = world
    # Rays straight down through the 3x3 area light at z = 0.5, aimed between geometry: compare with
    # the same scene without the light.
    d, _, _ = _world()
    del d["lights"]["blocker"]
    r2 = oc.Renderer(threads=1)
    r2.set_scene(d)
    o, dirs = random_rays(2000, 5)
    ta, pa, oa = (np.asarray(x) for x in r.intersect(o, dirs))
    tb, pb, ob = (np.asarray(x) for x in r2.intersect(o, dirs))
    np.testing.assert_array_equal(pa, pb)
    np.testing.assert_array_equal(oa, ob)
    np.testing.assert_allclose(ta, tb, rtol=1e-6)  # same primitives; BVH traversal order may differ


def test_empty_batch(world):
    r, _, _ = world
    t, prim, obj = r.intersect(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))
    assert np.asarray(t).shape == (0,) and np.asarray(prim).shape == (0,) and np.asarray(obj).shape == (0,)
    assert np.asarray(t).dtype == np.float32 and np.asarray(prim).dtype == np.int32 and np.asarray(obj).dtype == np.int32


def test_rays_that_miss_everything(world):
    r, _, _ = world
    o = np.tile(np.array([[100.0, 100.0, 100.0]], np.float32), (5, 1))
    d = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0.3, 0.2, 5.0]], np.float32)
    t, prim, obj = (np.asarray(a) for a in r.intersect(o, d))
    assert np.all(np.isposinf(t)) and np.all(prim == -1) and np.all(obj == -1)


@pytest.mark.parametrize(
    "origins, directions, word",
    [
        (np.zeros((4, 2), np.float32), np.ones((4, 3), np.float32), "origins"),
        (np.zeros((4, 3), np.float32), np.ones((4, 4), np.float32), "directions"),
        (np.zeros(3, np.float32), np.ones(3, np.float32), "origins"),
        (np.zeros((4, 3), np.float32), np.ones((5, 3), np.float32), ""),  # mismatched N
        (np.array([[0, 0, np.nan]] * 4, np.float32), np.ones((4, 3), np.float32), "origins"),
        (np.zeros((4, 3), np.float32), np.array([[np.inf, 0, 1]] * 4, np.float32), "directions"),
        (np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32), "directions"),  # cannot be normalised
    ],
    ids=["origins_N2", "directions_N4", "origins_1d", "mismatched_N", "nan_origin", "inf_direction", "zero_direction"],
)
def test_bad_inputs_raise_naming_the_problem(world, origins, directions, word):
    r, _, _ = world
    with pytest.raises(ValueError) as e:
        r.intersect(origins, directions)
    assert word in str(e.value), f"message does not name {word!r}: {e.value}"


@pytest.mark.parametrize(
    "origins",
    [np.array([["a", "b", "c"]]), np.zeros((1, 3), np.complex64), None, [[0.0, "x", 1.0]]],
    ids=["strings", "complex", "none", "list_with_string"],
)
def test_wrong_dtype_raises(world, origins):
    # Complex numbers are not coordinates: dropping the imaginary part silently would hide a bug.
    r, _, _ = world
    with pytest.raises((TypeError, ValueError)):
        r.intersect(origins, np.ones((1, 3), np.float32))


def test_intersect_before_set_scene_raises():
    r = oc.Renderer(threads=1)
    with pytest.raises((RuntimeError, ValueError)):
        r.intersect(np.zeros((1, 3), np.float32), np.ones((1, 3), np.float32))
