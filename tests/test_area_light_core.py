"""Rectangular area lights in the core, no Blender: the kernel's light samples (kernel/lights.h)
against the irradiance they must add up to, computed here in double precision.

The case that matters is a light seen almost edge-on, e.g. the top centimetres of a wall beside a
ceiling panel: single-precision spherical-rectangle sampling lost the solid angle there (up to
tens of per cent). (It was found while hunting a brightness excess in the ceiling of
tests/test_light_paths_vs_cycles.py's glossy room, which turned out to be the Cycles reference's
luck, not this: docs/benchmarks.md, *The ceiling bias was the reference's luck*.)
"""

from __future__ import annotations

import numpy as np
import pytest

from optica_core import _native

# The glossy room's panel: 1.2 m square, 5 cm under the ceiling (z = 3), facing down.
POS = np.array([0.0, 0.4, 2.95])
AXIS_U = np.array([0.6, 0.0, 0.0])  # half extents
AXIS_V = np.array([0.0, 0.6, 0.0])
DIR = np.array([0.0, 0.0, -1.0])  # the side that emits
WALL_NORMAL = np.array([1.0, 0.0, 0.0])  # the left wall, x = -2


def samples(points, uv):
    return _native._testing_area_light_samples(POS, AXIS_U, AXIS_V, DIR, np.asarray(points, np.float32),
                                               np.asarray(uv, np.float32))


def stratified_uv(n: int) -> np.ndarray:
    g = (np.arange(n) + 0.5) / n
    u, v = np.meshgrid(g, g, indexing="ij")
    return np.stack([u.ravel(), v.ravel()], axis=1)


def exact_irradiance(p: np.ndarray, normal: np.ndarray, n: int = 800) -> float:
    """∫ cos(normal, ω) dω over the light from p, by the midpoint rule over its area (float64)."""
    g = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    a, b = np.meshgrid(g, g, indexing="ij")
    q = POS + a[..., None] * AXIS_U + b[..., None] * AXIS_V
    d = q - p
    dist2 = (d * d).sum(-1)
    w = d / np.sqrt(dist2)[..., None]
    cos_n = np.clip(w @ normal, 0.0, None)
    cos_l = np.clip(-(w @ DIR), 0.0, None)
    area = 4.0 * np.linalg.norm(np.cross(AXIS_U, AXIS_V))
    return float((cos_n * cos_l / dist2).mean() * area)


# Points on the wall at heights from 5 cm to 0.5 mm under the panel's plane, in line with its
# middle and near its near edge.
WALL_POINTS = [(-2.0, y, 2.95 - h) for h in (0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005) for y in (-0.1, 0.4)]


@pytest.mark.parametrize("point", WALL_POINTS, ids=lambda p: f"y{p[1]}-below{2.95 - p[2]:.4f}")
def test_light_samples_add_up_to_the_irradiance_of_a_panel_seen_edge_on(point):
    p = np.array(point)
    out = samples([p], stratified_uv(64))[0]
    ok = out[:, 4] > 0
    assert ok.all(), "a point in front of the light gets a sample for every draw"
    estimate = float(np.mean(np.clip(out[:, :3] @ WALL_NORMAL, 0.0, None) / out[:, 4]))
    exact = exact_irradiance(p, WALL_NORMAL)
    assert estimate == pytest.approx(exact, rel=2e-3)


def test_light_samples_add_up_to_the_irradiance_from_in_front():
    # Near (solid-angle sampling) and far (area sampling) below the panel, facing it.
    for p in ([0.2, 0.5, 2.0], [0.0, 0.4, 0.0], [-1.0, -1.0, 2.5]):
        out = samples([p], stratified_uv(64))[0]
        estimate = float(np.mean(np.clip(out[:, :3] @ -DIR, 0.0, None) / out[:, 4]))
        assert estimate == pytest.approx(exact_irradiance(np.array(p), -DIR), rel=2e-3)


def test_a_ray_that_hits_the_light_gets_the_pdf_its_sample_had():
    # MIS weighs a BSDF ray that hits the light with the light's pdf of that direction: it must
    # be the pdf the light sampler draws it with, or the two estimators do not add up to one.
    points = WALL_POINTS + [(0.2, 0.5, 2.0), (0.0, 0.4, 0.0), (-1.0, -1.0, 2.5)]
    out = samples(points, stratified_uv(8))
    ok = out[..., 4] > 0
    np.testing.assert_allclose(out[..., 5][ok], out[..., 4][ok], rtol=1e-5)


def test_points_behind_the_light_get_no_sample():
    out = samples([[0.0, 0.4, 2.99], [-2.0, 0.4, 2.96]], stratified_uv(4))
    assert not out.any()


@pytest.mark.parametrize("args, message", [
    ((POS[:2], AXIS_U, AXIS_V, DIR, np.zeros((1, 3)), np.zeros((1, 2))), "pos: expected 3 floats"),
    ((POS, AXIS_U, AXIS_V, DIR, np.zeros((1, 2)), np.zeros((1, 2))), r"points: expected \(N, 3\)"),
    ((POS, AXIS_U, AXIS_V, DIR, np.zeros((1, 3)), np.zeros(2)), r"uv: expected \(M, 2\)"),
])
def test_bad_arguments_are_value_errors(args, message):
    with pytest.raises(ValueError, match=message):
        _native._testing_area_light_samples(*[np.asarray(a, np.float32) for a in args])
