#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Farm benchmark (issue 12): frames/s of the local Dask farm against the PARALLEL and STREAM
exports of the same animation (the demo), and the size of the demo's scene folder against one
frame's scene file plus the per-frame transforms.

    .venv/bin/python bench/farm.py [--frames 24 --samples 16 --percentage 100 --repeat 2 --json out.json]
    .venv/bin/python bench/farm.py --quick            # 8 frames at 50 %, no repeat

Needs `python build.py` first (it installs the built dist/optica-*.zip into a throw-away Blender
user folder, as the tests do) and demo/demo.blend. One after the other, on this machine:

1. scene files: the demo written by the SCENE_FILES export method (time per frame); the folder
   against one frame saved alone (`save_scene`) plus the per-frame transforms — the bytes of every
   transform and camera or light matrix that differs from the frame before. Goal: < 2×. Blender's
   OCIO configuration is referenced, not copied (copying adds its 20 MB once);
2. STREAM export: render → colour → H.264 in this process;
3. PARALLEL export: one Blender worker process per core renders EXR frames, then one encode;
4. the farm: `run_farm` on the folder into the same kind of video, on the farm's own local
   cluster (`farm_cluster.local_client`, as the command starts it) started beforehand (its
   start-up is timed apart), laid out as the default (one worker process per
   core, one render thread each, as PARALLEL) and as one process rendering on every core; and
   the DASK export method as a user runs it from the dialog (scene files + cluster + farm +
   encode). Goal: the farm within 10 % of PARALLEL. PARALLEL and the farm alternate `--repeat`
   times and the best of each is kept.

Every figure is a wall time on a machine shared with other work, so CPU seconds per frame (this
process and every process it started: workers, nannies) and cores used (CPU / wall) are printed
too, with the load average after each run, and for each farm run its timeline from the frames'
own stamps: how busy the workers were, their longest gap between frames, the time after the
last frame.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(BENCH))

import _blender_env  # noqa: E402
from _common import cpu_seconds, format_table, machine_info, print_machine  # noqa: E402

MATRIX_KEYS = ("transforms", "matrix")


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def matrices(value, path=""):
    """(path, array) of every transform and camera/light matrix in a scene dict."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in MATRIX_KEYS and isinstance(item, np.ndarray):
                yield f"{path}.{key}", item
            else:
                yield from matrices(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from matrices(item, f"{path}[{i}]")


def transform_bytes(sequence) -> tuple[int, int]:
    """(bytes of the matrices that differ from the frame before, summed over frames 2…n; the
    number of such matrices)."""
    total = changed = 0
    before: dict = {}
    for k, n in enumerate(sequence.frames):
        now = dict(matrices(sequence.load_frame(n)))
        if k:
            for key, array in now.items():
                if key not in before or not np.array_equal(before[key], array):
                    total += array.nbytes
                    changed += 1
        before = now
    return total, changed


def timeline(infos: list[dict], wall0: float, seconds: float, workers: int) -> dict:
    """Where a farm run's time went, from the frames' own stamps (worker wall clock, seconds):
    the share of workers × run time spent on frames (loading, set_scene, sampling, denoising),
    the longest gap between two frames of one worker, and how long the run went on after the
    last frame was rendered (the last chunk's transfer, colour, encode, finalising)."""
    per_worker: dict = {}
    for info in infos:
        per_worker.setdefault(info["worker"], []).append((info["started"], info["finished"]))
    busy = sum(end - start for spans in per_worker.values() for start, end in spans)
    gaps = [b[0] - a[1] for spans in per_worker.values() for a, b in zip(sorted(spans), sorted(spans)[1:])]
    last = max(end for spans in per_worker.values() for _, end in spans)
    first = min(start for spans in per_worker.values() for start, _ in spans)
    return {"busy": busy / (workers * seconds), "first_frame_start": first - wall0,
            "longest_gap": max(gaps, default=0.0), "after_last_frame": wall0 + seconds - last,
            "set_scene_load": sum(i["set_scene"] + i["load"] for i in infos) / len(infos),
            "sampling": sum(i["sampling"] for i in infos) / len(infos)}


def storage(run_mod, plan_mod, options, scene, folder: Path, work: Path) -> dict:
    from optica_core import save_scene
    from optica_core.sequence import Sequence

    t0 = time.perf_counter()
    plan = plan_mod.prepare(options.Options(method="SCENE_FILES", scene_folder=str(folder)), scene)
    result = run_mod.run(plan)
    seconds = time.perf_counter() - t0
    seq = Sequence(folder)
    save_scene(seq.load_frame(seq.frames[0]), work / "one.optica")
    one = (work / "one.optica").stat().st_size
    moved, matrices_changed = transform_bytes(seq)
    total = folder_bytes(folder)
    frame_files = [(folder / "frames" / f"frame_{n:06d}.json").stat().st_size for n in seq.frames]
    return {"frames": result.frames, "write_ms_per_frame": 1e3 * seconds / result.frames, "folder_bytes": total,
            "one_frame_bytes": one, "transform_bytes": moved, "matrices_changed": matrices_changed,
            "arrays_stored": len(list((folder / "arrays").glob("*/*.npy"))),
            "frame_file_bytes_mean": sum(frame_files) / len(frame_files),
            "ratio": total / (one + moved)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _blender_env.add_animation_options(ap, frames=24, samples=16)
    ap.add_argument("--repeat", type=int, default=2, help="alternating PARALLEL / farm runs (best kept)")
    ap.add_argument("--storage-only", action="store_true", help="measure the scene folder only (no rendering)")
    ap.add_argument("--quick", action="store_true", help="8 frames at 50 %%, 1 repeat")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    if a.quick:
        a.frames, a.percentage, a.repeat = 8, 50, 1

    info = machine_info()
    _blender_env.isolate()
    _blender_env.install()
    scene, (w, h), export_modules = _blender_env.open_animation(a.blend, a.frames, a.samples, a.percentage)
    options, plan_mod, run_mod = export_modules.options, export_modules.plan, export_modules.run
    from optica_core.farm import FarmJob, run_farm
    from optica_core.farm_cluster import local_client

    work = Path(tempfile.mkdtemp(prefix="optica-bench-farm-"))
    print_machine(info)
    print(f"scene: {a.blend.name}, {a.frames} frames at {w}×{h}, {a.samples} spp, "
          f"{scene.optica.max_bounces} bounces; temporary files in {work}", flush=True)
    figures: dict = {"machine": info, "frames": a.frames, "size": [w, h], "samples": a.samples}

    s = figures["storage"] = storage(run_mod, plan_mod, options, scene, work / "shot", work)
    print(format_table(["scene folder", "value"], [
        ["one frame's scene file (save_scene)", f"{s['one_frame_bytes'] / 1e3:.1f} kB"],
        [f"per-frame transforms, frames 2-{a.frames} ({s['matrices_changed']} matrices)",
         f"{s['transform_bytes'] / 1e3:.1f} kB"],
        [f"animation folder, {a.frames} frames ({s['arrays_stored']} stored arrays)",
         f"{s['folder_bytes'] / 1e3:.1f} kB"],
        ["one frame file (mean)", f"{s['frame_file_bytes_mean'] / 1e3:.1f} kB"],
        ["folder / (one frame + transforms)", f"{s['ratio']:.3f} (goal < 2)"],
        ["writing, per frame (export + hash + files)", f"{s['write_ms_per_frame']:.1f} ms"],
    ]), flush=True)

    if a.storage_only:
        if a.json:
            a.json.write_text(json.dumps(figures, indent=1, default=str))
        shutil.rmtree(work, ignore_errors=True)
        return 0

    def export(method, name, **kw):
        path = work / name
        plan = plan_mod.prepare(options.Options(filepath=str(path), method=method, crf=20, preset="MEDIUM", **kw),
                                scene)
        t0 = time.perf_counter()
        result = run_mod.run(plan)
        assert result.frames == a.frames, result.summary()
        return time.perf_counter() - t0

    cores = os.cpu_count() or 1
    layouts = [(cores, 1)] + ([(1, cores)] if cores > 1 else [])  # the default first, then one process

    timelines: dict = {}

    def farm(workers: int, threads: int) -> tuple[float, float]:
        """(seconds of the farm's run, seconds to start its local cluster: the farm's own,
        `farm_cluster.local_client`, as `python -m optica_core farm` starts it)."""
        t0 = time.perf_counter()
        with local_client(workers) as client:
            started = time.perf_counter() - t0
            (work / "farm.mp4").unlink(missing_ok=True)
            infos: list = []
            t1, wall0 = time.perf_counter(), time.time()
            result = run_farm(FarmJob(folder=str(work / "shot"), out=str(work / "farm.mp4"), threads=threads),
                              client=client, progress=lambda frame, _: infos.append(frame.info))
            seconds = time.perf_counter() - t1
            assert len(result.rendered) == a.frames, result.summary()
            timelines.setdefault(f"farm {workers}x{threads}", []).append(timeline(infos, wall0, seconds, workers))
            return seconds, started

    runs: dict = {}
    cpus: dict = {}
    loads: dict = {}
    cluster_start = []

    def measure(key, fn):
        c0 = cpu_seconds()
        seconds = fn()
        runs.setdefault(key, []).append(seconds)
        cpus.setdefault(key, []).append(cpu_seconds() - c0)
        loads.setdefault(key, []).append(os.getloadavg()[0])
        print(f"  {key:<12}: {seconds:7.2f} s wall, {cpus[key][-1]:7.2f} s CPU (load {loads[key][-1]:.1f})", flush=True)

    def farm_run(workers, threads):
        seconds, started = farm(workers, threads)
        cluster_start.append(started)
        return seconds

    measure("stream", lambda: export("STREAM", "stream.mp4"))
    for _k in range(a.repeat):  # PARALLEL and the farm alternate: the machine's load drifts
        measure("parallel", lambda: export("PARALLEL", "parallel.mp4"))
        for workers, threads in layouts:
            measure(f"farm {workers}x{threads}", lambda w=workers, t=threads: farm_run(w, t))
    shutil.rmtree(work / "shot")  # the dialog writes the scene files again
    measure("dask", lambda: export("DASK", "dask.mp4", scene_folder=str(work / "shot")))

    for key, runs_of in timelines.items():
        for t in runs_of:
            print(f"  {key} timeline: workers busy {100 * t['busy']:.0f} % of the run, first frame started "
                  f"{t['first_frame_start']:.2f} s in, longest gap between a worker's frames {t['longest_gap']:.2f} s, "
                  f"{t['after_last_frame']:.2f} s after the last frame; per frame {t['set_scene_load'] * 1e3:.0f} ms "
                  f"load + set_scene, {t['sampling']:.2f} s sampling")
    best = {k: min(v) for k, v in runs.items()}
    labels = {"stream": "STREAM export (one process)",
              "parallel": f"PARALLEL export ({cores} worker processes × 1 thread, EXR)",
              "dask": f"DASK export method (scene files + local cluster + farm + encode, {cores} × 1)"}
    labels.update({f"farm {w}x{t}": f"farm, local cluster running ({w} worker(s) × {t} thread(s))"
                   for w, t in layouts})
    used = {k: " ".join(f"{c / w:.2f}" for c, w in zip(cpus[k], runs[k])) for k in runs}  # cores, every run
    rows = [[labels[k], f"{t:.2f}", f"{a.frames / t:.2f}", f"{best['parallel'] / t:.2f}",
             f"{min(cpus[k]) / a.frames:.2f}", used[k], " ".join(f"{x:.1f}" for x in loads[k])]
            for k, t in best.items()]
    print(f"\nbest of {a.repeat} where repeated; cluster start-up {min(cluster_start):.1f}-{max(cluster_start):.1f} s "
          "(in the farm's CPU time, not in its wall time)")
    print(format_table(["run", "wall s", "frames/s", "vs PARALLEL (frames/s)", "CPU s / frame", "cores used (CPU/wall)",
                        "load average"],
                       rows))
    default = f"farm {layouts[0][0]}x{layouts[0][1]}"
    print(f"\nfarm frames/s / PARALLEL frames/s: {best['parallel'] / best[default]:.3f} (goal ≥ 0.9); "
          f"DASK method: {best['parallel'] / best['dask']:.3f}")
    figures.update(runs=runs, cpus=cpus, loads=loads, cluster_start=cluster_start, timelines=timelines)
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1, default=str))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
