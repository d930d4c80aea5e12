# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks' own arithmetic and input checks (bench/convergence.py, vs_cycles, vs_peers):
an instrument that misjudges noise or a plateau would steer the kernel work wrong. Synthetic
images with known noise stand in for renders; nothing here renders."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import convergence as cv  # noqa: E402


def noisy(truth, sigma, rng):
    return truth + rng.normal(0.0, sigma, truth.shape)


def test_reference_noise_is_taken_out_of_the_error():
    rng = np.random.default_rng(1)
    truth = rng.uniform(0.0, 1.0, (128, 128, 3))
    reference, ref_noise = cv.reference_from_halves(noisy(truth, 0.02, rng), noisy(truth, 0.02, rng))
    assert math.sqrt(ref_noise) == pytest.approx(0.02 / math.sqrt(2), rel=0.02)
    image = noisy(truth, 0.01, rng)  # less noisy than the reference itself
    assert cv.corrected_rmse(image, reference, ref_noise) == pytest.approx(0.01, rel=0.05)
    assert math.sqrt(cv.mse(image, reference)) > 0.015  # what the uncorrected error would say


def test_error_over_seeds_is_the_root_of_the_mean_squared_error():
    """A pixel that is wrong in one render of three (a firefly) weighs by its share of the mean
    squared error, not by whichever seed was rendered."""
    rng = np.random.default_rng(3)
    truth = rng.uniform(0.0, 1.0, (64, 64, 3))
    images = [noisy(truth, 0.01, rng) for _ in range(3)]
    images[1][5, 5] += 30.0
    mses = [cv.mse(im, truth) for im in images]
    assert cv.rmse_from_mses(mses, 0.0) == pytest.approx(math.sqrt(np.mean(mses)))
    assert cv.rmse_from_mses(mses[:1], 0.0) < 0.2 * cv.rmse_from_mses(mses[1:2], 0.0)
    assert cv.rmse_from_mses(mses, mses[0] / 2) < cv.rmse_from_mses(mses, 0.0)  # the reference's noise comes off


def test_noise_from_a_pair_of_seeds():
    rng = np.random.default_rng(2)
    truth = rng.uniform(0.0, 1.0, (128, 128, 3))
    assert cv.noise_from_pair(noisy(truth, 0.03, rng), noisy(truth, 0.03, rng)) == pytest.approx(0.03, rel=0.03)


def test_monte_carlo_noise_passes_and_a_plateau_is_flagged():
    spp = [16, 64, 256, 1024]
    falling = [0.1 / math.sqrt(n / 16) for n in spp]
    check = cv.convergence_check(spp, falling)
    assert check["slope"] == pytest.approx(-0.5) and not check["plateau"]
    assert check["floor_excess"] == pytest.approx(1.0)
    biased = [math.sqrt(e * e + 0.02**2) for e in falling]  # a bias of 0.02 under the noise
    check = cv.convergence_check(spp, biased)
    assert check["plateau"] and check["floor_excess"] > 1.5


def test_samples_to_reach_interpolates_and_extrapolates_in_log_log():
    spp, err = [16, 64, 256], [0.1, 0.05, 0.025]
    assert cv.samples_to_reach(spp, err, 0.05) == pytest.approx(64)
    assert cv.samples_to_reach(spp, err, 0.0125) == pytest.approx(1024)
    assert cv.samples_to_reach(spp, err, 0.2) == pytest.approx(4)
    assert math.isnan(cv.samples_to_reach([16, 64], [0.1, 0.1], 0.05))  # never gets there


def test_time_between_measured_counts():
    assert cv.time_at([16, 64, 256], [1.0, 4.0, 16.0], 100) == pytest.approx(6.25)
    assert cv.time_at([64, 16, 256], [4.0, 1.0, 16.0], 512) == pytest.approx(32.0)


def test_relative_mean_difference():
    assert cv.relative_mean_difference(np.full(4, 1.02), np.ones(4)) == pytest.approx(0.02)


def test_vs_peers_rejects_scenes_it_cannot_carry_over():
    import vs_peers

    import optica_core.scenes as sc

    d = sc.cornell_box(16, 16)
    d["materials"]["white"]["specular"] = 0.5
    with pytest.raises(ValueError, match="not Lambertian"):
        vs_peers.neutral_from_dict(d)
    d = sc.cornell_box(16, 16)
    d["world"]["color"] = (0.1, 0.1, 0.1)
    with pytest.raises(ValueError, match="black world"):
        vs_peers.neutral_from_dict(d)
    d = sc.cornell_box(16, 16)
    d["lights"]["ceiling_light"]["type"] = "point"
    with pytest.raises(ValueError, match="not supported"):
        vs_peers.neutral_from_dict(d)


def test_vs_peers_area_light_radiance_is_cycles_power_over_pi_area():
    import vs_peers

    scene = vs_peers.cornell(16, 16)
    light = scene["area_lights"][0]
    assert light["size"] == [0.5, 0.5]
    assert light["radiance"][0] == pytest.approx(30.0 / (math.pi * 0.25))
    assert light["albedo"] == [0.73, 0.73, 0.73]  # reflects like the ceiling it sits on


def test_vs_cycles_options(optica_installed):
    import argparse

    import vs_cycles

    assert vs_cycles.parse_size("1280x720") == (1280, 720) and vs_cycles.parse_size("96") == (96, 96)
    for bad in ("big", "4x4", "12xq"):
        with pytest.raises(argparse.ArgumentTypeError):
            vs_cycles.parse_size(bad)
    assert vs_cycles.parse_counts("256,16,64") == (16, 64, 256)
    for bad in ("0,64", "a,b", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            vs_cycles.parse_counts(bad)
    with pytest.raises(SystemExit, match="unknown nope"):
        vs_cycles.select_scenes("cornell,nope")
    assert "hdri" in [s.key for s in vs_cycles.select_scenes(None)]  # a textured world renders now
    assert [s.key for s in vs_cycles.select_scenes("hdri")] == ["hdri"]
    assert [s.key for s in vs_cycles.select_scenes("hair,motion_blur")] == ["hair", "motion_blur"]
    with pytest.raises(SystemExit):
        vs_cycles.main(["--optica-counts", "16,64", "--scenes", "cornell"])  # one count >= 64 cannot show a slope


def test_vs_peers_masks_the_pixels_that_see_the_light():
    import vs_peers

    scene = vs_peers.cornell(64, 64)
    exact = vs_peers.light_mask(scene, grow=0)
    grown = vs_peers.light_mask(scene)
    rows, cols = np.nonzero(exact)
    assert 10 < exact.sum() < 100  # a 0.5 m light under the ceiling, seen from the front
    assert rows.max() < 32 and 20 < cols.mean() < 44  # upper half, centred
    assert grown.sum() > exact.sum() and not (exact & ~grown).any()
    assert not vs_peers.light_mask(vs_peers.big_mesh(32, 32, n_triangles=2_000)).any()  # lit by the sun alone


def test_memory_scenes_and_the_per_million_figure():
    import memory

    assert memory.select_scenes(None) == list(memory.SCENES)
    assert memory.select_scenes("curves") == ["curves"]
    for bad in ("curves,nope", " , "):
        with pytest.raises(SystemExit, match="unknown"):
            memory.select_scenes(bad)
    _, _, _, n_full, n_quick = memory.SCENES["curves"]
    assert n_full == 1_000_000 and n_quick < n_full  # --quick stays small
    small, large = {"render_mib": 80.0}, {"render_mib": 170.0}  # 50 MiB fixed, 120 MiB per million
    assert memory.per_million(small, 250_000, large, 1_000_000) == pytest.approx(120.0)
