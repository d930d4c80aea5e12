# SPDX-License-Identifier: GPL-3.0-or-later
"""One renderer answering `intersect` call after call, as the fuzzer's long-lived child uses it:
ray batches of every size (empty, one ray, thousands; rays that miss, start inside, or have
subnormal or huge directions; a zero-length one refused by name), each answered, the same batch always the same answer, memory and
threads flat. The default run makes 1,000 calls; `-m stress` makes 200,000 (the fuzz runs that
reported "hangs" had made tens of thousands)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import optica_core
from memory_probe import Probe
from optica_core import scenes

SLOW_CALL_SECONDS = 10.0  # no batch here needs more than milliseconds; this is a stall, not a timing


def _batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.choice([0, 1, 2, 17, 256, 4096]))
    origins = rng.uniform(-3.0, 3.0, (n, 3)).astype(np.float32)
    directions = rng.normal(size=(n, 3)).astype(np.float32)
    kind = rng.integers(4)
    if kind == 1 and n:
        directions[rng.integers(n)] = np.float32(1e-30)  # a subnormal-length ray among good ones
    elif kind == 2:
        directions *= np.float32(1e6)
    elif kind == 3:
        origins[:] = 0.0  # inside the box: every ray hits
    return origins, directions


def _check(t: np.ndarray, prim: np.ndarray, obj: np.ndarray, n: int, call: int) -> None:
    assert len(t) == len(prim) == len(obj) == n, f"call {call}: lengths {len(t)}, {len(prim)}, {len(obj)} for {n} rays"
    assert not np.isnan(t).any() and (t >= 0).all(), f"call {call}: NaN or negative distance"
    assert ((prim < 0) == np.isinf(t)).all() and ((obj < 0) == (prim < 0)).all(), f"call {call}: hits disagree"


def reuse(calls: int, seed: int = 0) -> tuple[Probe, float]:
    """Returns the resource samples and the slowest call's seconds."""
    rng = np.random.default_rng(seed)
    r = optica_core.Renderer(threads=2)
    r.set_scene(scenes.cornell_box(32, 32))
    fixed = _batch(np.random.default_rng(1))
    expected = r.intersect(*fixed)
    probe, slowest = Probe(), 0.0
    for call in range(calls):
        origins, directions = _batch(rng)
        t0 = time.perf_counter()
        t, prim, obj = r.intersect(origins, directions)
        slowest = max(slowest, time.perf_counter() - t0)
        assert slowest < SLOW_CALL_SECONDS, f"call {call}: {len(origins)} rays took {slowest:.1f} s"
        _check(t, prim, obj, len(origins), call)
        if call % 89 == 0 and len(origins):
            zero = directions.copy()
            zero[-1] = 0.0
            with pytest.raises(ValueError, match=rf"directions\[{len(origins) - 1}\]: zero-length direction"):
                r.intersect(origins, zero)
        if call % 97 == 0:
            again = r.intersect(*fixed)
            assert all(np.array_equal(a, b) for a, b in zip(again, expected)), f"call {call}: same rays, new answer"
        if call % 100 == 0:
            probe.sample()
    return probe, slowest


def test_a_renderer_answers_a_thousand_intersect_calls():
    probe, slowest = reuse(1000)
    rep = probe.report(warmup=2)
    assert rep.rss_growth_mib < 8 and rep.fds[1] <= rep.fds[0], rep.line()
    assert probe.os_threads[-1] == probe.os_threads[0], probe.os_threads


@pytest.mark.stress
def test_a_renderer_answers_two_hundred_thousand_intersect_calls():
    probe, slowest = reuse(200_000, seed=7)
    rep = probe.report(warmup=50)
    print(rep.line(), f"slowest call {slowest * 1e3:.1f} ms")
    assert abs(rep.slope_kib) < 1.0 and rep.fds[1] <= rep.fds[0], rep.line()
    assert probe.os_threads[-1] == probe.os_threads[0], probe.os_threads
