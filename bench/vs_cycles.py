# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica against Cycles (CPU) in one process: same scenes, resolution and sample counts.

For each scene: the wall time of a final render (bpy.ops.render.render, so both pay Blender's
own per-render costs) at 16/64/256 samples for both engines, the RMSE of each image against a
high-sample Cycles reference, and the time Optica needs to reach the error Cycles reaches at
64 samples, as a ratio to Cycles' time (goal: below 0.5).

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


def install_optica():
    zips = sorted((ROOT / "dist").glob("optica-*.zip"))
    if not zips:
        sys.exit("no dist/optica-*.zip: run `python build.py` first")
    bpy.ops.extensions.package_install_files(repo="user_default", filepath=str(zips[-1]), enable_on_install=True)


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


def samples_to_reach(scene, target_error, reference, tmp, start=4, limit=4096):
    """Smallest power-of-two sample count at which Optica's RMSE is at or below the target,
    with its render time (interpolated in log-log between the bracketing counts)."""
    previous = None
    spp = start
    while spp <= limit:
        image, seconds = timed_render(scene, "optica", spp, tmp / f"reach_{spp}.exr")
        error = rmse(image, reference)
        if error <= target_error:
            if previous is None:
                return spp, seconds
            (p_spp, p_err, p_sec) = previous
            # Error falls as a power of the sample count; interpolate the crossing in log space.
            t = (np.log(p_err) - np.log(target_error)) / max(np.log(p_err) - np.log(error), 1e-9)
            spp_x = float(np.exp(np.log(p_spp) + t * (np.log(spp) - np.log(p_spp))))
            sec_x = float(np.exp(np.log(p_sec) + t * (np.log(seconds) - np.log(p_sec))))
            return spp_x, sec_x
        previous = (spp, error, seconds)
        spp *= 2
    return float("nan"), float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--reference-samples", type=int, default=2048)
    parser.add_argument("--quick", action="store_true", help="64 px, 512-sample reference, two scenes")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.size, args.reference_samples = 64, 512
    scenes = dict(list(SCENES.items())[:2]) if args.quick else SCENES

    install_optica()
    results = []
    with tempfile.TemporaryDirectory(prefix="optica-vs-cycles-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"{args.size}x{args.size} px, reference: Cycles {args.reference_samples} spp")
        print(f"{'scene':<22} {'spp':>5} {'Cycles s':>9} {'Optica s':>9} {'Cycles RMSE':>12} {'Optica RMSE':>12}")
        for name, build in scenes.items():
            scene = fresh_scene(build, args.size)
            reference, ref_seconds = timed_render(scene, "cycles", args.reference_samples, tmp / "ref.exr", seed=99)
            row = {"scene": name, "reference_seconds": ref_seconds, "by_samples": {}}
            for spp in (16, 64, 256):
                c_img, c_sec = timed_render(scene, "cycles", spp, tmp / f"c{spp}.exr")
                o_img, o_sec = timed_render(scene, "optica", spp, tmp / f"o{spp}.exr")
                c_err, o_err = rmse(c_img, reference), rmse(o_img, reference)
                row["by_samples"][spp] = {"cycles_s": c_sec, "optica_s": o_sec, "cycles_rmse": c_err, "optica_rmse": o_err}
                print(f"{name:<22} {spp:>5} {c_sec:>9.3f} {o_sec:>9.3f} {c_err:>12.5f} {o_err:>12.5f}")
            target = row["by_samples"][64]["cycles_rmse"]
            spp_x, sec_x = samples_to_reach(scene, target, reference, tmp)
            ratio = sec_x / row["by_samples"][64]["cycles_s"]
            row.update(optica_spp_to_match=spp_x, optica_seconds_to_match=sec_x, time_ratio=ratio)
            print(f"{'':<22} Optica reaches Cycles' 64-spp error ({target:.5f}) at {spp_x:.0f} spp in "
                  f"{sec_x:.3f} s: {ratio:.2f}x Cycles' time")
            results.append(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
