# SPDX-License-Identifier: GPL-3.0-or-later
"""The core under load without Blender: set_scene / accumulate / intersect / reset on one
renderer while other threads cancel at random moments (during a scene build too), and
renderers made and dropped by the hundred — no crash, no lost cancel, no wrong sample count,
flat memory and threads. The default run keeps short versions; `-m stress` runs 1,000 cycles."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest

import optica_core
from memory_probe import Probe
from optica_core import scenes


def _scenes():
    moved = scenes.cornell_box(48, 32)
    moved["instances"][-1] = dict(moved["instances"][-1], transforms=scenes.translation((0.1, 0, 0))[None])
    return [
        scenes.cornell_box(48, 32),
        moved,
        scenes.spheres_and_plane(40, 30),
        scenes.displaced_sphere(20_000, 32, 24),
    ]


def cancel_storm(cycles: int, seed: int = 0) -> Probe:
    """One renderer; each cycle sets a scene (sometimes the same arrays: geometry reuse), starts
    a few samples and is cancelled by another thread after a random delay."""
    rng = random.Random(seed)
    r = optica_core.Renderer(2)
    choices = _scenes()
    probe = Probe()
    for k in range(cycles):
        d = choices[rng.randrange(len(choices))]
        delay = rng.choice((0.0, 0.0005, 0.002, 0.01, 0.05))
        canceller = threading.Timer(delay, r.cancel)
        canceller.start()
        r.set_scene(d)  # a cancel landing here is dropped by set_scene or consumed by accumulate
        done = r.accumulate(rng.choice((1, 4, 64)))
        canceller.join()
        assert 0 <= done <= 64 and r.samples == done
        if not np.isfinite(r.color).all():
            raise AssertionError(f"cycle {k}: non-finite pixels")
        if k % 7 == 0:
            t, prim, obj = r.intersect(np.zeros((64, 3), np.float32), np.tile([[0, 0, 1]], (64, 1)).astype(np.float32))
            assert len(t) == 64
        if k % 11 == 0:
            r.reset()
            assert r.samples == 0
        probe.sample()
    return probe


def renderer_churn(count: int) -> Probe:
    """Renderers made, used and dropped (each owns a thread pool): threads and memory come back."""
    d = scenes.cornell_box(16, 16)
    probe = Probe()
    for _ in range(count):
        r = optica_core.Renderer(2)
        r.set_scene(d)
        r.accumulate(1)
        del r
        probe.sample()
    return probe


def test_cancel_storm_short():
    rep = cancel_storm(150).report(warmup=30)
    assert rep.rss_growth_mib < 8, rep.line()
    assert rep.fds[1] <= rep.fds[0], rep.line()


def test_renderers_made_and_dropped_leave_no_threads():
    before = Probe()
    before.sample()
    probe = renderer_churn(60)
    assert probe.os_threads[-1] == before.os_threads[0], (before.os_threads, probe.os_threads[-5:])
    assert probe.report(warmup=10).rss_growth_mib < 8


def test_cancel_from_another_thread_during_a_long_accumulate_returns_quickly():
    r = optica_core.Renderer(2)
    r.set_scene(scenes.displaced_sphere(50_000, 256, 256))
    threading.Timer(0.2, r.cancel).start()
    t0 = time.perf_counter()
    done = r.accumulate(100_000)
    assert time.perf_counter() - t0 < 5.0 and done < 100_000


@pytest.mark.stress
def test_cancel_storm_thousand_cycles():
    rep = cancel_storm(1000, seed=1).report(warmup=100)
    print(rep.line())
    assert abs(rep.slope_kib) < 4.0 and rep.fds[1] <= rep.fds[0], rep.line()


@pytest.mark.stress
def test_renderer_churn_thousand():
    rep = renderer_churn(1000).report(warmup=100)
    print(rep.line())
    assert abs(rep.slope_kib) < 4.0, rep.line()
