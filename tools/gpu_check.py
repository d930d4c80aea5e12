#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The device check of the OptiX backend, for a machine with an NVIDIA GPU (docs/gpu.md).

Renders the built-in scenes (optica_core.scenes) on the CPU and on OptiX with the same seed and
samples and compares them as estimates of one image: the image means must agree within 1 %, and
the RMSE between the CPU and the OptiX image must be consistent with noise — no more than
`--noise-factor` times the RMSE between two CPU renders with different seeds. Times both
backends, and exercises interop (CuPy arrays into `intersect`, `color_device` out) when CuPy is
installed. Exit status: 0 all passed, 1 a check failed, 2 no GPU (OptiX cannot run here; the
message says what is missing).

    .venv/bin/python tools/gpu_check.py [--size 128] [--samples 64] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

import optica_core as oc
from optica_core import scenes

NO_GPU = 2


def builtin_scenes(size: int) -> dict[str, dict]:
    return {
        "cornell_box": scenes.cornell_box(size, size),
        "spheres_and_plane": scenes.spheres_and_plane(size, size),
        "furnace": scenes.furnace(size, size),
        "pbr_spheres": scenes.pbr_spheres(size, size, texture_size=128),
        "displaced_sphere": scenes.displaced_sphere(100_000, size, size),
    }


@dataclass
class SceneResult:
    scene: str
    cpu_seconds: float
    optix_seconds: float
    mean_cpu: float
    mean_optix: float
    mean_difference: float  # relative
    rmse_cpu_optix: float
    rmse_cpu_cpu: float
    passed: bool


def render(scene: dict, device: str, samples: int, seed: int) -> tuple[np.ndarray, float]:
    d = dict(scene, render={**scene["render"], "seed": seed})
    r = oc.Renderer(device=device)
    r.set_scene(d)
    t0 = time.perf_counter()
    done = r.accumulate(samples)
    seconds = time.perf_counter() - t0
    if done != samples:
        raise RuntimeError(f"{device}: accumulate({samples}) returned {done}")
    return np.array(r.color[..., :3], dtype=np.float64), seconds


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def compare(name: str, scene: dict, samples: int, noise_factor: float) -> SceneResult:
    cpu, cpu_s = render(scene, "CPU", samples, seed=1)
    cpu2, _ = render(scene, "CPU", samples, seed=2)
    gpu, gpu_s = render(scene, "OPTIX", samples, seed=1)
    mean_cpu, mean_gpu = float(cpu.mean()), float(gpu.mean())
    rel = abs(mean_gpu - mean_cpu) / max(mean_cpu, 1e-6)
    noise = rmse(cpu, cpu2)
    between = rmse(cpu, gpu)
    finite = bool(np.isfinite(gpu).all())
    passed = finite and rel <= 0.01 and between <= noise_factor * max(noise, 1e-6)
    return SceneResult(name, cpu_s, gpu_s, mean_cpu, mean_gpu, rel, between, noise, passed)


def check_interop(scene: dict) -> list[str]:
    """Problems found with CuPy arrays in and out ([] when all is well); skipped without CuPy."""
    try:
        import cupy
    except ImportError:
        print("interop: CuPy is not installed; skipped (pip install cupy-cuda13x)")
        return []
    problems = []
    r = oc.Renderer(device="OPTIX")
    r.set_scene(scene)
    r.accumulate(4)
    on_device = cupy.asarray(r.color_device)
    if not np.allclose(cupy.asnumpy(on_device), r.color):
        problems.append("color_device differs from color")
    rng = np.random.default_rng(7)
    origins = np.tile(np.float32([0.0, -4.0, 1.0]), (4096, 1))
    directions = rng.normal(size=(4096, 3)).astype(np.float32)
    host = r.intersect(origins, directions)
    device = r.intersect(cupy.asarray(origins), cupy.asarray(directions))
    for name, h, d in zip(("t", "prim", "obj"), host, device):
        if not isinstance(d, cupy.ndarray):
            problems.append(f"intersect on device returned {type(d).__name__} for {name}, not a CuPy array")
        elif not np.allclose(cupy.asnumpy(d), h, rtol=1e-5, atol=1e-5, equal_nan=True):
            problems.append(f"intersect on device: {name} differs from the host query")
    cpu = oc.Renderer(device="CPU")
    cpu.set_scene(scene)
    cpu_hits = cpu.intersect(origins, directions)
    agree = float(np.mean(cpu_hits[2] == host[2]))
    if agree < 0.999:  # rays grazing an edge may fall either way; more is a bug
        problems.append(f"intersect: OptiX and CPU agree on the object hit for only {100 * agree:.2f} % of rays")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128, help="image width and height")
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--noise-factor", type=float, default=1.5,
                    help="CPU–OptiX RMSE allowed, relative to the RMSE of two CPU renders")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)

    optix = [d for d in oc.devices() if d.kind == "OPTIX"]
    if not any(d.usable for d in optix):
        why = optix[0].why if optix else "no OptiX backend in this build"
        print(f"gpu_check: no GPU: OptiX cannot run here ({why}); nothing was checked", file=sys.stderr)
        return NO_GPU
    print("devices: " + "; ".join(d.name for d in oc.devices() if d.usable))

    results = []
    for name, scene in builtin_scenes(args.size).items():
        res = compare(name, scene, args.samples, args.noise_factor)
        results.append(res)
        print(f"{name:18s} cpu {res.cpu_seconds:7.2f} s  optix {res.optix_seconds:7.2f} s  "
              f"mean {res.mean_cpu:.4f} / {res.mean_optix:.4f} ({100 * res.mean_difference:.2f} %)  "
              f"rmse {res.rmse_cpu_optix:.4f} vs noise {res.rmse_cpu_cpu:.4f}  {'ok' if res.passed else 'FAILED'}")
    problems = check_interop(builtin_scenes(args.size)["cornell_box"])
    for p in problems:
        print(f"interop: FAILED: {p}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"results": [asdict(r) for r in results], "interop_problems": problems}, f, indent=1)
    return 0 if all(r.passed for r in results) and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
