# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica against Cycles (CPU) in one process: equal quality per unit of time, scene by scene.

    .venv/bin/python bench/vs_cycles.py                      # every scene, 256×256 (~40 min on 2 cores)
    .venv/bin/python bench/vs_cycles.py --size 1280x720 --quick --scenes cornell,glossy_glass
    .venv/bin/python bench/vs_cycles.py --quick --plot --json out.json

For each scene of SCENES (built by script in real bpy, bench/scenes_bpy.py), both engines render
through `bpy.ops.render.render` (so both pay Blender's own per-render costs: depsgraph, sync or
export, BVH build, writing the EXR) with a 1-px box filter, 12 bounces and no adaptive sampling,
denoising, clamping or glossy blur. It measures:

- a Cycles reference of --reference-samples, as two independent halves (seeds 1001, 1002): their
  difference estimates the reference's own noise, which is taken out of every error
  (bench/convergence.py); references are cached in bench/.cache/ keyed by scene, settings, the
  scene-building code and Blender's version, so a re-run renders only what it measures;
- the RMSE against it and the wall time of Cycles at 16/64/256 samples and of Optica at
  16/64/256/1024 samples (--quick: 16/64 and 16/64/256, a 256-sample reference), the engines
  alternating render by render so the machine's load affects both; the load average is recorded
  with every render; each repeat of a count renders another seed and the error is the root of the
  renders' mean squared error (--error-repeat renders above 64 spp: a scene whose error a few
  pixels carry — the HDRI scene's tiny sun highlight — needs several);
- the equal-quality ratio: the time Optica needs to reach Cycles' 64-sample error (samples
  interpolated in log-log between Optica's measured counts, seconds linearly between the
  measured renders around that count) over Cycles' time for 64 samples (best of --repeat):
  goal ≤ 0.5 (issue 11); the time per sample is the slope of a line through every count; the
  same ratio in CPU time of the process (both engines render in it), steadier than wall time
  when other jobs share the machine (a thread that spins while waiting would count, though);
- the convergence check: Optica's error must keep falling like 1/√spp from 64 samples on (log-log
  slope near −0.5). A slope flatter than −0.4 is flagged MISMATCH: a plateau is a difference
  between the engines (or a sampler defect) to fix, not noise. The relative difference of the
  image means is printed too (the same light units: within 1 %).

--plot draws error against time for both engines per scene (log-log) into
docs/images/vs_cycles_<W>x<H>.png; --json writes every figure. Optica needs the built extension
(`python build.py`); the plot needs `.venv/bin/pip install -r requirements-bench.txt`.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import inspect
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(BENCH))
import conftest  # noqa: E402  (isolates Blender's user folders before bpy loads)

import numpy as np  # noqa: E402

import _common as C  # noqa: E402
import bpy  # noqa: E402
import bpy_scenes as bs  # noqa: E402
import convergence as cv  # noqa: E402
import scenes_bpy as S  # noqa: E402

CACHE = BENCH / ".cache" / "vs_cycles"
BOUNCES = 12
FILTER_WIDTH = 1.0  # a 1-px box: each sample counts for the pixel it falls in, in both engines
REFERENCE_SEEDS = (1001, 1002)
ENGINES = ("cycles", "optica")


@dataclasses.dataclass(frozen=True)
class BenchScene:
    key: str
    label: str
    build: Callable
    needs: str | None = None  # why it is not run yet; None: run it


SCENES = (
    BenchScene("cornell", "Cornell box", S.cornell_box),
    BenchScene("glossy_glass", "gold + glass spheres, Suzanne, small emitter, 15°-wide sun + sky",
               S.glossy_glass_emitter),
    BenchScene("instances", "10,000 geometry-nodes instances, 3.24M triangles", S.many_instances),
    BenchScene("big_mesh", "1.3M-triangle smooth mesh, area light + sky", S.big_smooth_mesh),
    BenchScene("point_cloud", "200,000-sphere point cloud, sun + sky", S.point_cloud),
    BenchScene("many_lights", "100 point + 16 area lights + 12 emissive cubes", S.many_lights),
    BenchScene("hdri", "spheres and a glTF-style PBR sphere lit by an HDR environment image",
               lambda scene: hdri_pbr(scene)),
    BenchScene("procedural", "noise, Voronoi, wave and brick materials with bump, sun + sky", S.procedural_materials),
    BenchScene("motion_blur", "motion blur: six sliding, turning cubes, a shape-key wave, a panning camera",
               S.motion_blur),
    BenchScene("hair", "hair ball: a Curves object of 2,000 round diffuse strands, sun + sky", S.hair_ball),
)

FULL = {"reference": 1024, "cycles": (16, 64, 256), "optica": (16, 64, 256, 1024)}
QUICK = {"reference": 256, "cycles": (16, 64), "optica": (16, 64, 256)}


# ---- the HDRI scene's PBR asset ------------------------------------------------------------------

def hdri_pbr(scene) -> None:
    """scenes_bpy.hdri_world plus a sphere whose material is wired as Blender's glTF importer
    wires one (albedo → Base Color; one texture → Separate Color → Roughness (G) / Metallic (B);
    a normal texture → Normal Map; an emission texture), its images generated here."""
    S.hdri_world(scene, S.environment_image(CACHE / "sky.exr"))
    ob = bs.uv_sphere(scene, "PBR", 0.6, (0.8, -1.6, 0.6), gltf_style_material("PBR"), 64, 32)
    _spherical_uvs(ob.data)


def _generated_image(name: str, rgba: np.ndarray, colorspace: str):
    """A packed 8-bit image of `rgba` (h, w, 4) in [0, 1], bottom row first."""
    h, w = rgba.shape[:2]
    image = bpy.data.images.new(name, w, h, alpha=True)
    image.pixels.foreach_set(rgba.astype(np.float32).ravel())
    image.pack()
    image.colorspace_settings.name = colorspace
    return image


def gltf_style_material(name: str, n: int = 256):
    y, x = np.mgrid[0:n, 0:n] / (n - 1)
    one = np.ones_like(x)
    checker = ((x * 8).astype(int) + (y * 8).astype(int)) % 2
    albedo = np.stack([0.25 + 0.6 * checker, 0.4 + 0.3 * y, 0.7 - 0.4 * checker, one], -1)
    metal_rough = np.stack([one, 0.2 + 0.5 * x, np.where(checker == 1, 1.0, 0.0), one], -1)
    nx, ny = 0.25 * np.sin(20 * np.pi * x), 0.25 * np.sin(20 * np.pi * y)
    normal = np.stack([0.5 + 0.5 * nx, 0.5 + 0.5 * ny, 0.5 + 0.5 * np.sqrt(1 - nx**2 - ny**2), one], -1)
    glow = np.where((x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.01, 1.0, 0.0)
    emission = np.stack([glow, 0.6 * glow, 0.2 * glow, one], -1)
    mat = bpy.data.materials.new(name)
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes["Principled BSDF"]
    bsdf.inputs["Emission Strength"].default_value = 1.0

    def texture(label, pixels, colorspace):
        node = nodes.new("ShaderNodeTexImage")
        node.image = _generated_image(f"{name} {label}", pixels, colorspace)
        return node

    links.new(texture("albedo", albedo, "sRGB").outputs["Color"], bsdf.inputs["Base Color"])
    separate = nodes.new("ShaderNodeSeparateColor")
    links.new(texture("metal_rough", metal_rough, "Non-Color").outputs["Color"], separate.inputs["Color"])
    links.new(separate.outputs["Green"], bsdf.inputs["Roughness"])
    links.new(separate.outputs["Blue"], bsdf.inputs["Metallic"])
    normal_map = nodes.new("ShaderNodeNormalMap")
    links.new(texture("normal", normal, "Non-Color").outputs["Color"], normal_map.inputs["Color"])
    links.new(normal_map.outputs["Normal"], bsdf.inputs["Normal"])
    links.new(texture("emission", emission, "sRGB").outputs["Color"], bsdf.inputs["Emission Color"])
    return mat


def _spherical_uvs(me) -> None:
    """A UV map from each corner's direction from the mesh's centre (longitude, latitude)."""
    co = np.zeros(len(me.vertices) * 3, np.float32)
    me.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3)
    corner_vertex = np.zeros(len(me.loops), np.int32)
    me.loops.foreach_get("vertex_index", corner_vertex)
    d = co[corner_vertex] - co.mean(axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    uv = np.stack([0.5 + np.arctan2(d[:, 1], d[:, 0]) / (2 * np.pi), np.arccos(np.clip(-d[:, 2], -1, 1)) / np.pi], -1)
    me.uv_layers.new(name="UVMap").data.foreach_set("uv", uv.astype(np.float32).ravel())


# ---- render settings --------------------------------------------------------------------------

def configure(scene, engine: str, samples: int, seed: int) -> None:
    """The tests' matched settings (bpy_scenes.configure_*), with 12 bounces and a 1-px box filter."""
    if engine == "cycles":
        bs.configure_cycles(scene, samples, seed)
        c = scene.cycles
        c.max_bounces = c.diffuse_bounces = c.glossy_bounces = c.transmission_bounces = BOUNCES
        c.pixel_filter_type = "BOX"
        c.filter_width = FILTER_WIDTH
    else:
        bs.configure_optica(scene, samples, seed)
        o = scene.optica
        o.max_bounces = o.diffuse_bounces = o.glossy_bounces = o.transmission_bounces = BOUNCES
        _use_box_filter(scene.optica)
        scene.optica.filter_width = FILTER_WIDTH


def _use_box_filter(settings) -> None:
    """Optica's exporter reads `scene.optica.filter_type` (box, gaussian, blackman_harris) but its
    settings do not offer one yet: the benchmark adds the property when it is missing."""
    if not hasattr(settings, "filter_type"):
        type(settings).filter_type = bpy.props.EnumProperty(
            name="Filter Type", items=[("BOX", "Box", ""), ("GAUSSIAN", "Gaussian", ""),
                                       ("BLACKMAN_HARRIS", "Blackman-Harris", "")], default="BOX")
    settings.filter_type = "BOX"


def cycles_settings(scene) -> dict:
    """The Cycles settings that shape its noise, for the record (defaults left as a user has them)."""
    c = scene.cycles
    keys = ("use_light_tree", "sampling_pattern", "use_guiding", "scrambling_distance", "light_sampling_threshold",
            "caustics_reflective", "caustics_refractive", "blur_glossy", "sample_clamp_indirect", "threads_mode")
    return {k: getattr(c, k) for k in keys if hasattr(c, k)} | {"threads_mode": scene.render.threads_mode}


# ---- scenes, renders, references --------------------------------------------------------------

def fresh_scene(entry: BenchScene, width: int, height: int):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    conftest.enable_optica()
    scene = bs.new_empty_scene(width, height)
    entry.build(scene)
    return scene


def timed_render(scene, engine: str, samples: int, path: Path, seed: int = 0):
    """(image (h, w, 3) float64, wall seconds of bpy.ops.render.render, load average before, CPU
    seconds of the process during it — every render thread of both engines runs in this process,
    so CPU time measures work even when other jobs take the cores away)."""
    configure(scene, engine, samples, seed)
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    image = bs.render(scene, path, conftest.read_image_file)
    return image, time.perf_counter() - start, load, time.process_time() - cpu


def builder_code(build: Callable) -> bytes:
    """The source of a scene's builder, of every function of scenes_bpy or of this module it
    calls (by name, transitively: the HDRI scene's image is written two calls down), and of the
    helper modules every builder uses: editing one scene keeps the other scenes' references."""
    modules = (S, sys.modules[__name__])
    sources, seen, todo = [], set(), [build]
    while todo:
        function = todo.pop(0)
        if function in seen:
            continue
        seen.add(function)
        sources.append(inspect.getsource(function))
        for name in function.__code__.co_names:
            for module in modules:
                helper = getattr(module, name, None)
                if inspect.isfunction(helper) and helper.__module__ == module.__name__:
                    todo.append(helper)
    files = (ROOT / "tests" / "bpy_scenes.py", ROOT / "native" / "optica_core" / "scenes.py")
    return "".join(sources).encode() + b"".join(p.read_bytes() for p in files)


def reference_key(entry: BenchScene, width: int, height: int, samples: int) -> str:
    """Scene, size, samples, settings, the code that builds the scene and Blender's version."""
    facts = json.dumps([entry.key, width, height, samples, REFERENCE_SEEDS, BOUNCES, FILTER_WIDTH,
                        bpy.app.version_string, hashlib.sha256(builder_code(entry.build)).hexdigest()])
    return f"{entry.key}-{width}x{height}-{samples}-" + hashlib.sha256(facts.encode()).hexdigest()[:16]


def reference(scene, entry: BenchScene, width: int, height: int, samples: int, tmp: Path) -> dict:
    """The Cycles reference (mean of two halves) and its own noise, from the cache when there."""
    path = CACHE / (reference_key(entry, width, height, samples) + ".npz")
    if path.exists():
        with np.load(path) as z:
            return {"image": z["image"], "noise_mse": float(z["noise_mse"]), "seconds": float(z["seconds"]),
                    "cached": True}
    halves, seconds = [], 0.0
    for seed in REFERENCE_SEEDS:
        image, s, *_ = timed_render(scene, "cycles", samples // 2, tmp / f"ref{seed}.exr", seed=seed)
        halves.append(image)
        seconds += s
    image, noise_mse = cv.reference_from_halves(*halves)
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez_compressed(partial, image=image.astype(np.float32), noise_mse=noise_mse, seconds=seconds)
    partial.replace(path)  # never a half-written cache entry
    return {"image": image, "noise_mse": noise_mse, "seconds": seconds, "cached": False}


# ---- one scene ----------------------------------------------------------------------------------

def measure(scene, ref: dict, counts: dict, repeat: int, tmp: Path, error_repeat: int = 1) -> dict:
    """Renders every count of both engines, alternating engines render by render (and which goes
    first from one repeat to the next); keeps the best time, the loads, and the error over the
    repeats: `repeat` renders per count up to 64 spp, `error_repeat` above, each with its own
    seed, the error the root of their mean squared error."""
    runs: dict[str, dict[int, dict]] = {e: {} for e in ENGINES}
    for spp in sorted(set(counts["cycles"]) | set(counts["optica"])):
        for rep in range(repeat if spp <= 64 else error_repeat):
            for engine in ENGINES if rep % 2 == 0 else ENGINES[::-1]:
                if spp not in counts[engine]:
                    continue
                image, seconds, load, cpu = timed_render(scene, engine, spp, tmp / f"{engine}{spp}.exr", seed=rep)
                run = runs[engine].setdefault(spp, {"seconds": [], "loads": [], "cpu_seconds": [], "mses": [],
                                                     "mean_differences": []})
                run["seconds"].append(seconds)
                run["loads"].append(load)
                run["cpu_seconds"].append(cpu)
                run["mses"].append(cv.mse(image, ref["image"]))
                run["mean_differences"].append(cv.relative_mean_difference(image, ref["image"]))
                run["rmse"] = cv.rmse_from_mses(run["mses"], ref["noise_mse"])
                run["mean_difference"] = float(np.mean(run["mean_differences"]))
    return runs


def summarise(runs: dict) -> dict:
    """The equal-quality ratio, time per sample, convergence of both engines."""
    fits, curves = {}, {}
    for engine, by_spp in runs.items():
        spp = sorted(by_spp)
        fits[engine] = cv.linear_time_model(spp, [min(by_spp[n]["seconds"]) for n in spp])
        curves[engine] = (spp, [by_spp[n]["rmse"] for n in spp])
    target = runs["cycles"][64]["rmse"]
    spp_match = cv.samples_to_reach(*curves["optica"], target)
    (o_fixed, o_per), (c_fixed, c_per) = fits["optica"], fits["cycles"]
    optica_seconds = cv.time_at(curves["optica"][0], [min(runs["optica"][n]["seconds"]) for n in curves["optica"][0]],
                                spp_match)
    cycles_seconds = min(runs["cycles"][64]["seconds"])
    most = max(runs["optica"])
    loads = [x for r in runs.values() for run in r.values() for x in run["loads"]]
    cpu_ratio = float("nan")
    if all(run.get("cpu_seconds") for r in runs.values() for run in r.values()):
        o_spp = curves["optica"][0]
        cpu_ratio = (cv.time_at(o_spp, [min(runs["optica"][n]["cpu_seconds"]) for n in o_spp], spp_match)
                     / min(runs["cycles"][64]["cpu_seconds"]))
    return {
        "cpu_ratio": cpu_ratio,
        "target_rmse": target, "optica_spp_to_match": spp_match, "optica_seconds_to_match": optica_seconds,
        "cycles_seconds_64": cycles_seconds, "ratio": optica_seconds / cycles_seconds,
        "optica_fixed_s": o_fixed, "optica_per_sample_s": o_per, "cycles_fixed_s": c_fixed, "cycles_per_sample_s": c_per,
        "per_sample_ratio": o_per / c_per, "error_ratio_64": runs["optica"][64]["rmse"] / target,
        "optica_convergence": cv.convergence_check(*curves["optica"]),
        "cycles_convergence": cv.convergence_check(*curves["cycles"]),
        "optica_mean_difference": runs["optica"][most]["mean_difference"],
        "load_min": min(loads), "load_max": max(loads),
    }


def verdict(summary: dict) -> str:
    conv = summary["optica_convergence"]
    notes = []
    if conv["plateau"]:
        notes.append(f"MISMATCH: Optica's error plateaus (slope {conv['slope']:.2f}, "
                     f"{conv['floor_excess']:.1f}x the 1/sqrt(spp) line at {conv['to']} spp)")
    if abs(summary["optica_mean_difference"]) > cv.MEAN_TOLERANCE:
        notes.append(f"MISMATCH: image mean {100 * summary['optica_mean_difference']:+.1f}% from Cycles'")
    return "; ".join(notes) or "converges like 1/sqrt(spp)"


# ---- output -------------------------------------------------------------------------------------

def print_runs(label: str, runs: dict) -> None:
    for engine in ENGINES:
        for spp, run in sorted(runs[engine].items()):
            print(f"  {engine:<7} {spp:>5} spp  {min(run['seconds']):8.2f} s  RMSE {run['rmse']:.5f}  "
                  f"mean {100 * run['mean_difference']:+.2f}%  load {max(run['loads']):.1f}", flush=True)


def print_summary(label: str, s: dict) -> None:
    c = s["optica_convergence"]
    print(f"  per sample (line through every count): Optica {1e3 * s['optica_per_sample_s']:.1f} ms, "
          f"Cycles {1e3 * s['cycles_per_sample_s']:.1f} ms ({s['per_sample_ratio']:.2f}x)")
    print(f"  Optica reaches Cycles' 64-spp error {s['target_rmse']:.5f} at {s['optica_spp_to_match']:.0f} spp: "
          f"{s['optica_seconds_to_match']:.2f} s vs {s['cycles_seconds_64']:.2f} s -> ratio {s['ratio']:.2f} "
          f"(goal <= 0.5); in CPU time {s['cpu_ratio']:.2f}")
    print(f"  convergence {c['from']}-{c['to']} spp: slope {c['slope']:.2f}, excess {c['floor_excess']:.2f}: "
          f"{verdict(s)}", flush=True)


def table(results: list[dict]) -> str:
    rows = []
    for r in results:
        s = r["summary"]
        rows.append([r["label"], f"{1e3 * s['cycles_per_sample_s']:.1f}", f"{1e3 * s['optica_per_sample_s']:.1f}",
                     f"{s['target_rmse']:.4f}", f"{r['runs']['optica'][64]['rmse']:.4f}",
                     f"{s['optica_spp_to_match']:.0f}", f"**{s['ratio']:.2f}**",
                     "–" if math.isnan(s["cpu_ratio"]) else f"{s['cpu_ratio']:.2f}",
                     f"{s['optica_convergence']['slope']:.2f}", f"{100 * s['optica_mean_difference']:+.1f}%",
                     f"{s['load_min']:.1f}–{s['load_max']:.1f}"])
    return C.format_table(["scene", "Cycles ms/spp", "Optica ms/spp", "Cycles RMSE@64", "Optica RMSE@64",
                           "Optica spp to match", "time ratio", "CPU-time ratio", "Optica slope", "mean Δ", "load"],
                          rows)


def plot(results: list[dict], width: int, height: int, directory: Path) -> Path:
    import plots

    panels = [{"title": r["label"], "target": r["summary"]["target_rmse"],
               "engines": {e.title(): [(min(run["seconds"]), run["rmse"], spp) for spp, run in r["runs"][e].items()]
                           for e in ENGINES}} for r in results]
    return plots.plot_error_vs_time(panels, directory / f"vs_cycles_{width}x{height}.png",
                                    f"Optica vs Cycles, {width}x{height}, box filter 1 px, 12 bounces "
                                    f"(bench/vs_cycles.py, {time.strftime('%Y-%m-%d')})")


# ---- main ---------------------------------------------------------------------------------------

def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    try:
        width, height = int(w), int(h or w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size: expected N or WxH, got {text!r}") from None
    if width < 8 or height < 8:
        raise argparse.ArgumentTypeError(f"--size: at least 8x8, got {text!r}")
    return width, height


def parse_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sample counts, got {text!r}") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"sample counts must be >= 1, got {text!r}")
    return counts


def select_scenes(keys: str | None) -> list[BenchScene]:
    by_key = {s.key: s for s in SCENES}
    if not keys:
        return [s for s in SCENES if s.needs is None]
    wanted = [k.strip() for k in keys.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in by_key]
    if unknown:
        raise SystemExit(f"--scenes: unknown {', '.join(unknown)} (known: {', '.join(by_key)})")
    return [by_key[k] for k in wanted]


def main(argv=None) -> int:
    # A benchmark stopped with SIGTERM (kill PID) still removes its temporary folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=(256, 256), help="N or WxH (256; e.g. 1280x720)")
    ap.add_argument("--quick", action="store_true", help="fewer samples: 256-spp reference, counts up to 256")
    ap.add_argument("--scenes", help="comma-separated keys (default: every enabled scene): "
                    + ", ".join(s.key for s in SCENES))
    ap.add_argument("--reference-samples", type=int, help="Cycles reference samples (1024; --quick 256)")
    ap.add_argument("--cycles-counts", type=parse_counts, help="Cycles sample counts, e.g. 16,64,256 (64 needed)")
    ap.add_argument("--optica-counts", type=parse_counts, help="Optica sample counts, e.g. 16,64,256,1024")
    ap.add_argument("--repeat", type=int, default=2,
                    help="renders per count up to 64 spp (seeds 0, 1, ...): the best time counts, the errors average")
    ap.add_argument("--error-repeat", type=int, default=1,
                    help="renders per count above 64 spp, each with its own seed (1; more for scenes whose "
                         "error a few pixels carry, e.g. hdri)")
    ap.add_argument("--plot", nargs="?", const=ROOT / "docs" / "images", type=Path, metavar="DIR",
                    help="write the error-vs-time plot into DIR (docs/images)")
    ap.add_argument("--json", type=Path, metavar="FILE")
    ap.add_argument("--replot", type=Path, nargs="+", metavar="JSON",
                    help="only print the table and draw the plot (into --plot's DIR) from earlier --json files")
    args = ap.parse_args(argv)
    if args.replot:
        return replot(args.replot, args.plot or ROOT / "docs" / "images")
    counts = dict(QUICK if args.quick else FULL)
    if args.reference_samples:
        counts["reference"] = args.reference_samples
    counts["cycles"] = args.cycles_counts or counts["cycles"]
    counts["optica"] = args.optica_counts or counts["optica"]
    if counts["reference"] < 2:
        ap.error("--reference-samples: at least 2 (two halves)")
    if 64 not in counts["cycles"] or len([n for n in counts["optica"] if n >= 64]) < 2:
        ap.error("the ratio needs Cycles at 64 samples and the 1/sqrt(spp) check two Optica counts >= 64")
    width, height = args.size
    entries = select_scenes(args.scenes)

    info = C.machine_info()
    C.print_machine(info)
    print(f"command: python bench/vs_cycles.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"{width}x{height}, box filter {FILTER_WIDTH} px, {BOUNCES} bounces; Cycles reference "
          f"{counts['reference']} spp; Cycles {counts['cycles']}, Optica {counts['optica']} spp", flush=True)
    for entry in SCENES:
        if entry.needs and entry not in entries:
            print(f"skipped: {entry.label}: needs {entry.needs}")
    conftest.install_optica()
    results = []
    with tempfile.TemporaryDirectory(prefix="optica-vs-cycles-") as tmp_name:
        tmp = Path(tmp_name)
        for entry in entries:
            print(f"\n{entry.label} [{entry.key}]", flush=True)
            scene = fresh_scene(entry, width, height)
            ref = reference(scene, entry, width, height, counts["reference"], tmp)
            print(f"  reference: Cycles {counts['reference']} spp, {'cached' if ref['cached'] else 'rendered'} "
                  f"({ref['seconds']:.0f} s), its own RMSE {math.sqrt(ref['noise_mse']):.5f}", flush=True)
            runs = measure(scene, ref, counts, args.repeat, tmp, args.error_repeat)
            summary = summarise(runs)
            print_runs(entry.label, runs)
            print_summary(entry.label, summary)
            results.append({"key": entry.key, "label": entry.label, "summary": summary, "runs": runs,
                            "reference": {k: v for k, v in ref.items() if k != "image"},
                            "cycles_settings": cycles_settings(scene)})
            if args.json:  # after every scene: a long run stopped half-way keeps what it measured
                args.json.write_text(json.dumps({"machine": info, "size": [width, height], "counts": counts,
                                                 "results": results}, indent=1, default=str))
    print()
    print(table(results))
    if args.plot:
        print(f"plot: {plot(results, width, height, args.plot)}")
    if args.json:
        print(f"wrote {args.json}")
    return 0


def replot(files: list[Path], directory: Path) -> int:
    """Table and plot again from the JSON of earlier runs (e.g. scenes measured in separate runs)."""
    results, size = [], None
    for f in files:
        data = json.loads(f.read_text())
        size = size or data["size"]
        if data["size"] != size:
            raise SystemExit(f"--replot: {f} is {data['size']}, the others {size}")
        for r in data["results"]:
            r["runs"] = {e: {int(n): run for n, run in by.items()} for e, by in r["runs"].items()}
            r["summary"] = summarise(r["runs"])  # with the arithmetic of this version
            results.append(r)
    print(table(results))
    print(f"plot: {plot(results, size[0], size[1], directory)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
