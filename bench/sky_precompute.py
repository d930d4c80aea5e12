# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU seconds of the Sky Texture's host precompute per new parameter set (the table and the
disc a Single or Multiple Scattering sky needs before the kernel can read it; a Hosek / Wilkie
sky's coefficients), each type over a few sun elevations, bypassing the per-process cache.

    .venv/bin/python bench/sky_precompute.py [--sets 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=5, help="parameter sets per type (default 5)")
    args = parser.parse_args()
    C.print_machine(C.machine_info())
    sky = C.import_core().shading.sky
    for name, precompute in (("SINGLE_SCATTERING", sky.single_scattering),
                             ("MULTIPLE_SCATTERING", sky.multiple_scattering)):
        seconds = []
        for k in range(args.sets):
            start = time.process_time()
            precompute.__wrapped__(True, 0.009512, 1.0, 0.2618 + 0.01 * k, 0.0, 100.0, 1.0, 1.0, 1.0)
            seconds.append(time.process_time() - start)
        print(f"{name}: CPU s per set {[round(s, 2) for s in seconds]}, least {min(seconds):.2f}")
    sky.hosek_wilkie((0.0, 1.0, 1.0), 2.2, 0.3)  # loads the dataset once
    seconds = []
    for k in range(args.sets):
        start = time.process_time()
        for j in range(100):
            sky._hosek_wilkie.__wrapped__(0.8 + 0.001 * (100 * k + j), 2.2, 0.3)
        seconds.append((time.process_time() - start) / 100)
    print(f"HOSEK_WILKIE: CPU ms per set {[round(1e3 * s, 3) for s in seconds]}, least {1e3 * min(seconds):.3f}")


if __name__ == "__main__":
    main()
