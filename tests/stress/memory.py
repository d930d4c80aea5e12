# SPDX-License-Identifier: GPL-3.0-or-later
"""Resource samples over long runs: RSS, open file descriptors and threads of this process, and
the slope of RSS after warm-up (a least-squares line through the samples, in KiB per step).

    probe = Probe(); probe.sample(); ...; report = probe.report(warmup=20)
    report.slope_kib, report.rss_growth_mib, report.fds, report.threads
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np
import psutil


@dataclass
class Report:
    steps: int
    slope_kib: float  # RSS growth per step after warm-up, least squares
    rss_growth_mib: float  # last − first sample after warm-up
    rss_mib: tuple[float, float]  # first and last after warm-up
    fds: tuple[int, int]  # open file descriptors, first and last after warm-up
    threads: tuple[int, int]  # Python-visible and OS threads at the end: (python, os)

    def line(self) -> str:
        return (
            f"{self.steps} steps: RSS {self.rss_mib[0]:.1f} → {self.rss_mib[1]:.1f} MiB, slope "
            f"{self.slope_kib:+.1f} KiB/step; fds {self.fds[0]} → {self.fds[1]}; threads {self.threads}"
        )


@dataclass
class Probe:
    rss: list[float] = field(default_factory=list)  # bytes
    fds: list[int] = field(default_factory=list)
    os_threads: list[int] = field(default_factory=list)

    def sample(self) -> None:
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
        )
