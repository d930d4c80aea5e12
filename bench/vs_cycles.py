# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica against Cycles (CPU) in one process: same scenes, resolution and sample counts.

For each scene: the wall time of a final render (bpy.ops.render.render, so both pay Blender's
own per-render costs) at 16/64/256 samples for both engines, the RMSE of each image against a
high-sample Cycles reference, and the time Optica needs to reach the error Cycles reaches at
64 samples, as a ratio to Cycles' time (goal: below 0.5). Times come from a straight-line fit
(fixed cost + cost per sample) over the 16/64/256-sample renders, best of --repeat each.

    .venv/bin/python bench/vs_cycles.py [--size 96] [--reference-samples 2048] [--quick]

The scenes are the ones the Optica-vs-Cycles tests use (tests/bpy_scenes.py), with Cycles set
up to estimate the same integral (no adaptive sampling, denoising, clamping or glossy blur).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import conftest  # noqa: E402  (isolates Blender's user folders before bpy loads)

import numpy as np  # noqa: E402

import bpy  # noqa: E402
import bpy_scenes as bs  # noqa: E402

SCENES = {
    "cornell box": bs.cornell_box,
    "spheres, sun + world": bs.spheres_sun_world,
    "area light on plane": lambda s: bs.lit_plane(s, "AREA", "RECTANGLE"),
    "emissive mesh": bs.emissive_mesh,
}


def fresh_scene(build, size):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    conftest.enable_optica()
    scene = bs.new_empty_scene(size, size)
    build(scene)
    return scene


def timed_render(scene, engine, samples, path, seed=0):
    (bs.configure_cycles if engine == "cycles" else bs.configure_optica)(scene, samples, seed)
    start = time.perf_counter()
    image = bs.render(scene, path, conftest.read_image_file)
    return image, time.perf_counter() - start


def rmse(image, reference):
    return float(np.sqrt(np.mean((image - reference) ** 2)))


def best_render(scene, engine, samples, path, repeat):
    """The image and the best wall time of `repeat` renders (the machine may be shared)."""
    image, best = None, float("inf")
    for _ in range(repeat):
        image, seconds = timed_render(scene, engine, samples, path)
        best = min(best, seconds)
    return image, best


def linear_time_model(samples, seconds):
    """Least-squares fit seconds = fixed + per_sample * samples over the measured counts."""
    per_sample, fixed = np.polyfit(np.asarray(samples, float), np.asarray(seconds, float), 1)
    return float(fixed), float(per_sample)


def samples_to_reach(scene, target_error, reference, tmp, start=8, limit=4096):
    """Sample count at which Optica's RMSE falls to the target, interpolated in log-log
    between the bracketing powers of two (errors do not depend on the machine's load)."""
    previous = None
    spp = start
    while spp <= limit:
        image, _ = timed_render(scene, "optica", spp, tmp / f"reach_{spp}.exr")
        error = rmse(image, reference)
        if error <= target_error:
            if previous is None:
                return float(spp)
            p_spp, p_err = previous
            t = (np.log(p_err) - np.log(target_error)) / max(np.log(p_err) - np.log(error), 1e-9)
            return float(np.exp(np.log(p_spp) + t * (np.log(spp) - np.log(p_spp))))
        previous = (spp, error)
        spp *= 2
    return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--reference-samples", type=int, default=2048)
    parser.add_argument("--quick", action="store_true", help="64 px, 512-sample reference, two scenes")
    parser.add_argument("--repeat", type=int, default=2, help="timed renders per measurement; the best counts")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.size, args.reference_samples = 64, 512
    scenes = dict(list(SCENES.items())[:2]) if args.quick else SCENES

    conftest.install_optica()
    results = []
    with tempfile.TemporaryDirectory(prefix="optica-vs-cycles-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"{args.size}x{args.size} px, reference: Cycles {args.reference_samples} spp")
        print(f"{'scene':<22} {'spp':>5} {'Cycles s':>9} {'Optica s':>9} {'Cycles RMSE':>12} {'Optica RMSE':>12}")
        for name, build in scenes.items():
            scene = fresh_scene(build, args.size)
            reference, ref_seconds = timed_render(scene, "cycles", args.reference_samples, tmp / "ref.exr", seed=99)
            row = {"scene": name, "reference_seconds": ref_seconds, "by_samples": {}}
            counts = (16, 64, 256)
            for spp in counts:
                c_img, c_sec = best_render(scene, "cycles", spp, tmp / f"c{spp}.exr", args.repeat)
                o_img, o_sec = best_render(scene, "optica", spp, tmp / f"o{spp}.exr", args.repeat)
                c_err, o_err = rmse(c_img, reference), rmse(o_img, reference)
                row["by_samples"][spp] = {"cycles_s": c_sec, "optica_s": o_sec, "cycles_rmse": c_err, "optica_rmse": o_err}
                print(f"{name:<22} {spp:>5} {c_sec:>9.3f} {o_sec:>9.3f} {c_err:>12.5f} {o_err:>12.5f}")
            # Times from a straight-line fit over the three counts (fixed cost + per sample),
            # which evens out a shared machine's noise in single measurements.
            fixed, per_sample = linear_time_model(counts, [row["by_samples"][n]["optica_s"] for n in counts])
            c_fixed, c_per_sample = linear_time_model(counts, [row["by_samples"][n]["cycles_s"] for n in counts])
            target = row["by_samples"][64]["cycles_rmse"]
            spp_x = samples_to_reach(scene, target, reference, tmp)
            sec_x = fixed + per_sample * spp_x
            cycles_64 = c_fixed + c_per_sample * 64
            ratio = sec_x / cycles_64
            row.update(optica_spp_to_match=spp_x, optica_seconds_to_match=sec_x, cycles_seconds_64=cycles_64,
                       time_ratio=ratio, optica_fixed_s=fixed, optica_per_sample_s=per_sample,
                       cycles_fixed_s=c_fixed, cycles_per_sample_s=c_per_sample)
            print(f"{'':<22} per sample: Optica {per_sample * 1e3:.2f} ms, Cycles {c_per_sample * 1e3:.2f} ms "
                  f"(fixed {fixed:.3f} s / {c_fixed:.3f} s)")
            print(f"{'':<22} Optica reaches Cycles' 64-spp error ({target:.5f}) at {spp_x:.0f} spp in "
                  f"{sec_x:.3f} s against Cycles' {cycles_64:.3f} s: {ratio:.2f}x")
            results.append(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
