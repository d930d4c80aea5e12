#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dask farm benchmark (issue 12): frames/s of the local farm against rendering the same frames
in one process, and the size of an animation folder against one frame's scene file.

    .venv/bin/python bench/farm.py [--frames 24 --samples 16 --width 320 --height 180
                                    --triangles 1000000 --json out.json]
    .venv/bin/python bench/farm.py --quick           # ~1 min

The animation: a static bumpy sphere of `--triangles` triangles (`scenes.displaced_sphere`),
a ball that moves every frame and a per-frame seed, written with `optica_core.sequence`.

1. storage: the folder (manifest, frames, content-addressed arrays) against one frame saved
   alone with `save_scene`, and the per-frame files (what each extra frame costs);
2. in-process: one `Renderer` (all cores) renders the frames one after the other from the
   folder, keeping the static mesh's BVH (the floor for any farm on this machine);
3. the farm (`run_farm`, a LocalCluster on 127.0.0.1 writing EXR frames) with 1 worker × all
   cores and with one worker per core × 1 thread; cluster start-up is timed separately.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import format_table, import_core, machine_info, print_machine  # noqa: E402

core = import_core()
from optica_core import save_scene, scenes  # noqa: E402
from optica_core.farm import FarmJob, run_farm  # noqa: E402
from optica_core.render import Sampling, render_frame  # noqa: E402
from optica_core.sequence import Sequence, SequenceWriter  # noqa: E402


def animation(triangles: int, width: int, height: int):
    base = scenes.displaced_sphere(triangles, width, height)
    base["render"]["max_bounces"] = 4
    base["spheres"]["ball"] = {"centers": [[0.0, 0.0, 0.0]], "radii": [0.3]}
    ball = {"geometry": "ball"}

    def scene(n: int) -> dict:
        moved = dict(ball, transforms=scenes.translation((-1.5 + 0.1 * n, -1.6, 0.0))[None])
        return dict(base, render=dict(base["render"], seed=n), instances=[*base["instances"], moved])

    return scene


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure_storage(scene, frames, work: Path) -> dict:
    folder = work / "shot"
    t0 = time.perf_counter()
    writer = SequenceWriter(folder, frames, fps=(24, 1))
    for n in frames:
        writer.write_frame(n, scene(n))
    write_seconds = time.perf_counter() - t0
    save_scene(scene(frames[0]), work / "one.optica")
    one = (work / "one.optica").stat().st_size
    per_frame = [(folder / "frames" / f"frame_{n:06d}.json").stat().st_size for n in frames]
    total = folder_bytes(folder)
    return {"one_frame_bytes": one, "folder_bytes": total, "frame_file_bytes_mean": sum(per_frame) / len(per_frame),
            "folder_over_one_frame_plus_frame_files": total / (one + sum(per_frame)),
            "write_ms_per_frame": 1e3 * write_seconds / len(frames), "arrays_stored": writer.stats.arrays_written}


def measure_in_process(folder: Path, frames, sampling: Sampling) -> float:
    seq, renderer = Sequence(folder), core.Renderer(threads=0)
    t0 = time.perf_counter()
    for n in frames:
        render_frame(renderer, seq.load_frame(n), sampling, frame=n)
    return len(frames) / (time.perf_counter() - t0)


def measure_farm(folder: Path, out: Path, sampling: Sampling, workers: int, threads: int) -> tuple[float, float]:
    """(frames/s of the rendering, seconds to start and stop the cluster)."""
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        started = time.perf_counter() - t0
        job = FarmJob(folder=str(folder), out=str(out), threads=threads,
                      sampling={"samples": sampling.samples})
        result = run_farm(job, client=client)
        t1 = time.perf_counter()
    return result.frames_per_second, started + (time.perf_counter() - t1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--triangles", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="12 frames, 200k triangles, 8 samples")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.triangles, args.samples = 12, 200_000, 8
    print_machine(machine_info())
    cores = os.cpu_count() or 1
    frames = list(range(1, args.frames + 1))
    sampling = Sampling(samples=args.samples)
    figures = {"frames": args.frames, "samples": args.samples, "size": [args.width, args.height],
               "triangles": args.triangles}
    with tempfile.TemporaryDirectory(prefix="optica-bench-farm-") as tmp:
        work = Path(tmp)
        figures["storage"] = measure_storage(animation(args.triangles, args.width, args.height), frames, work)
        figures["in_process_fps"] = measure_in_process(work / "shot", frames, sampling)
        layouts = [(1, cores)] + ([(cores, 1)] if cores > 1 else [])
        for workers, threads in layouts:
            fps, overhead = measure_farm(work / "shot", work / f"out-{workers}", sampling, workers, threads)
            figures[f"farm_{workers}x{threads}_fps"] = fps
            figures[f"farm_{workers}x{threads}_cluster_seconds"] = overhead
    s = figures["storage"]
    print(format_table(["storage", "value"], [
        ["one frame's scene file", f"{s['one_frame_bytes'] / 1e6:.2f} MB"],
        [f"animation folder, {args.frames} frames", f"{s['folder_bytes'] / 1e6:.2f} MB"],
        ["one frame file (mean)", f"{s['frame_file_bytes_mean'] / 1e3:.1f} kB"],
        ["folder / (one frame + frame files)", f"{s['folder_over_one_frame_plus_frame_files']:.3f}"],
        ["writing, per frame", f"{s['write_ms_per_frame']:.1f} ms"],
    ]))
    rows = [["in-process (1 Renderer, all cores)", f"{figures['in_process_fps']:.2f}", "1.00"]]
    for workers, threads in layouts:
        fps = figures[f"farm_{workers}x{threads}_fps"]
        rows.append([f"farm, {workers} worker(s) x {threads} thread(s)", f"{fps:.2f}",
                     f"{fps / figures['in_process_fps']:.2f} "
                     f"(+{figures[f'farm_{workers}x{threads}_cluster_seconds']:.1f} s cluster start/stop)"])
    print(format_table(["rendering", "frames/s", "vs in-process"], rows))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
