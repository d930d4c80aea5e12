# SPDX-License-Identifier: GPL-3.0-or-later
"""Resource samples over long runs: RSS, open file descriptors and threads of this process, and
the slope of RSS after warm-up (a least-squares line through the samples, in KiB per step).

    probe = Probe(); probe.sample(); ...; report = probe.report(warmup=20)
    report.slope_kib, report.rss_growth_mib, report.fds, report.threads

Besides RSS, each sample reads the memory in use: the bytes glibc's malloc has handed out and
not had back (all arenas and mmapped blocks: what numpy arrays, the core's C++ objects and
Blender's own allocations take) and the blocks Python's small-object allocator has handed out.
RSS also counts the freed pages glibc keeps in its arenas for reuse, which move by several MiB
from one step to the next with which thread freed what: the short viewport storm read -17 to
+25 MiB of RSS "growth" with the bytes in use flat within 0.2 MiB (docs/reliability.md,
*The short viewport storm*). A short run's leak check therefore bounds the memory in use.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from dataclasses import dataclass, field

import numpy as np
import psutil


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
    ]


def _mallinfo2():
    name = ctypes.util.find_library("c")
    fn = getattr(ctypes.CDLL(name), "mallinfo2", None) if name else None
    if fn is not None:
        fn.restype = _Mallinfo2
    return fn


_MALLINFO2 = _mallinfo2()


def malloc_in_use() -> float | None:
    """Bytes glibc's malloc has handed out and not had back, every arena and mmapped block
    (mallinfo2: uordblks + hblkhd); None without glibc 2.33 or later."""
    if _MALLINFO2 is None:
        return None
    info = _MALLINFO2()
    return float(info.uordblks + info.hblkhd)


@dataclass
class Report:
    steps: int
    slope_kib: float  # RSS growth per step after warm-up, least squares
    rss_growth_mib: float  # last − first sample after warm-up
    rss_mib: tuple[float, float]  # first and last after warm-up
    fds: tuple[int, int]  # open file descriptors, first and last after warm-up
    threads: tuple[int, int]  # Python-visible and OS threads at the end: (python, os)
    malloc_growth_mib: float | None = None  # malloc's bytes in use, last − first after warm-up
    pyblocks_growth: int = 0  # Python's small-object blocks in use, last − first after warm-up

    def line(self) -> str:
        in_use = "" if self.malloc_growth_mib is None else f"; in use {self.malloc_growth_mib:+.2f} MiB"
        return (
            f"{self.steps} steps: RSS {self.rss_mib[0]:.1f} → {self.rss_mib[1]:.1f} MiB, slope "
            f"{self.slope_kib:+.1f} KiB/step{in_use}, {self.pyblocks_growth:+d} Python blocks; "
            f"fds {self.fds[0]} → {self.fds[1]}; threads {self.threads}"
        )


@dataclass
class Probe:
    rss: list[float] = field(default_factory=list)  # bytes
    fds: list[int] = field(default_factory=list)
    os_threads: list[int] = field(default_factory=list)
    malloc: list[float | None] = field(default_factory=list)  # malloc_in_use(), bytes
    pyblocks: list[int] = field(default_factory=list)  # sys.getallocatedblocks()

    def sample(self) -> None:
        self.malloc.append(malloc_in_use())
        self.pyblocks.append(sys.getallocatedblocks())
        proc = psutil.Process()
        self.rss.append(float(proc.memory_info().rss))
        self.fds.append(len(os.listdir("/proc/self/fd")))
        self.os_threads.append(proc.num_threads())

    def report(self, warmup: int) -> Report:
        rss = np.asarray(self.rss[warmup:]) / 1024.0
        steps = np.arange(len(rss))
        slope = float(np.polyfit(steps, rss, 1)[0]) if len(rss) > 1 else 0.0
        return Report(
            len(rss),
            slope,
            (rss[-1] - rss[0]) / 1024.0,
            (rss[0] / 1024.0, rss[-1] / 1024.0),
            (self.fds[warmup], self.fds[-1]),
            (threading.active_count(), self.os_threads[-1]),
            _growth_mib(self.malloc[warmup:]),
            self.pyblocks[-1] - self.pyblocks[warmup],
        )


def _growth_mib(samples: list[float | None]) -> float | None:
    if not samples or samples[0] is None or samples[-1] is None:
        return None
    return (samples[-1] - samples[0]) / 2**20
