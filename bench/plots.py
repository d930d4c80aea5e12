# SPDX-License-Identifier: GPL-3.0-or-later
"""Convergence plots of the equal-quality benchmarks: error against render time, log-log, one panel
per scene, one line per engine (matplotlib, pinned in requirements-bench.txt)."""

from __future__ import annotations

import math
from pathlib import Path


def plot_error_vs_time(panels: list[dict], path: Path, title: str) -> Path:
    """panels: [{"title", "engines": {name: [(seconds, rmse, spp), ...]}, "target": rmse or None}].
    Writes a PNG with one log-log panel per scene and returns its path."""
    try:
        import matplotlib
    except ImportError as e:
        raise SystemExit("--plot needs matplotlib: .venv/bin/pip install -r requirements-bench.txt") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
    for ax, panel in zip(axes.ravel(), panels):
        for name, points in panel["engines"].items():
            points = sorted(points, key=lambda p: p[2])  # by samples: a noisy time may come out of order
            ax.loglog([p[0] for p in points], [p[1] for p in points], "o-", label=name, markersize=4)
            for seconds, error, spp in points:
                ax.annotate(str(spp), (seconds, error), textcoords="offset points", xytext=(3, 3), fontsize=6)
        if panel.get("target"):
            ax.axhline(panel["target"], color="grey", linestyle=":", linewidth=1,
                       label="Cycles' 64-spp error")
        ax.set_title(panel["title"], fontsize=8)
        ax.set_xlabel("render time, s (wall, whole render)", fontsize=7)
        ax.set_ylabel("RMSE vs reference", fontsize=7)
        ax.tick_params(labelsize=6)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            axis.set_minor_formatter(ticker.NullFormatter())
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=6, loc="upper right")
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
