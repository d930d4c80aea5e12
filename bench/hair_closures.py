# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU cost of the hair closures against a diffuse one on the same curves: the core-only hair
ball of tests/test_curves_core.py (120 round strands, framed close, under a sun, black sky) at
160 × 120, the best of three 64-sample batches per material, samples per CPU second.

    .venv/bin/python bench/hair_closures.py [--spp 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import _common as C  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spp", type=int, default=64, help="samples per batch (default 64)")
    parser.add_argument("--repeat", type=int, default=3, help="batches per material, best taken (default 3)")
    args = parser.parse_args()
    C.print_machine(C.machine_info())
    oc = C.import_core()
    import test_hair_core as hc  # the scene and material builders the tests use

    diffuse = {"nodes": {"D": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": (0.6, 0.4, 0.2)}},
                         "Output": {"type": "ShaderNodeOutputMaterial"}},
               "links": [["D", "BSDF", "Output", "Surface"]], "output": "Output"}
    materials = {
        "Diffuse BSDF": diffuse,
        "Principled Hair, Direct Coloring": hc.hair_material(inputs={"Color": (0.6, 0.4, 0.2)}),
        "Principled Hair, Melanin": hc.hair_material(inputs={"Melanin": 0.5, "Random Color": 0.5},
                                                     params={"parametrization": "MELANIN"}),
        "Hair BSDF Reflection": hc.hair_material("ShaderNodeBsdfHair", inputs={"RoughnessU": 0.3}),
        "Hair BSDF Transmission": hc.hair_material("ShaderNodeBsdfHair", inputs={"RoughnessU": 0.3},
                                                   params={"component": "Transmission"}),
    }
    width, height = 160, 120
    for name, material in materials.items():
        d = hc.ball_scene(material, width=width, height=height)
        d["camera"] = {"matrix": oc.scenes.look_at((0, -3.2, 1.5), (0, 0, 1.5))}
        r = oc.Renderer(threads=2)
        r.set_scene(d)
        r.accumulate(1)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.process_time()
            r.accumulate(args.spp)
            best = min(best, time.process_time() - start)
        print(f"{name:34s} {best:6.2f} CPU s / {args.spp} spp   {width * height * args.spp / best / 1e6:.3f} M samples per CPU s")


if __name__ == "__main__":
    main()
