# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica against other CPU path tracers — Mitsuba 3 (`llvm_ad_rgb`, `scalar_rgb`) and LuxCoreRender's
PATHCPU — on the same scenes: noise per unit of time at equal image.

    .venv/bin/python bench/vs_peers.py                  # Cornell box + 1M-triangle mesh, 256×256
    .venv/bin/python bench/vs_peers.py --quick          # 128×128, counts up to 64
    .venv/bin/python bench/vs_peers.py --depth-check    # which Mitsuba max_depth is Cycles' 12 bounces
    .venv/bin/python bench/vs_peers.py --json out.json

The peers are bench-only dependencies, in their own venv (requirements-peers.txt; they never enter
the product):

    python3.11 -m venv .venv-peers && .venv-peers/bin/pip install -r requirements-peers.txt
    apt-get install libllvm19      # Mitsuba's LLVM variant; DRJIT_LIBLLVM_PATH is found by itself

Each engine renders in its own worker process (bench/peers.py: Mitsuba and LuxCore cannot share
one), from one neutral description of the scene written here from optica_core.scenes: world-space
Lambertian triangles, rectangular area lights by radiance, a sun by irradiance, a constant world,
Blender's camera, a 1-px box filter and Cycles' 12 bounces (Mitsuba's and LuxCore's depth 14).
A peer that is not installed is skipped with one line.

What is measured, engines alternating render by render: at 16/64/256 samples (--quick 16/64),
two renders with different seeds each. Their difference gives each engine's own noise (RMSE
against its converged image, bench/convergence.py) without any reference; time is wall time of
the render call in the warm worker (scene loaded, kernels compiled: `mi.render` includes
Mitsuba's tracing of the Python kernel every call), the best of the two seeds, interpolated
between the measured counts; the time per sample is the slope of a line through them. The
equal-quality ratio is Optica's time for 64 samples over the peer's time to reach Optica's
64-sample noise (> 1: the peer is faster). The comparison is only meaningful when the engines
render the same image: the mean of each peer's image must be within 1 % of Optica's (printed,
flagged otherwise), and "bias" is the per-pixel RMSE between the engines beyond their noise.
Pixels where the camera sees an area light are left out of every engine's image (light_mask):
Blender's lights are invisible to the camera, and Mitsuba can hide an emitter only by rendering
its surface black.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import _common as C  # noqa: E402
import convergence as cv  # noqa: E402

PEERS = ("mitsuba:llvm_ad_rgb", "mitsuba:scalar_rgb", "luxcore")
PEERS_VENV_PYTHON = ROOT / ".venv-peers" / "bin" / "python"


# ---- scenes (written in the neutral form bench/peers.py reads) --------------------------------

def neutral_from_dict(d: dict) -> dict:
    """Optica's scene dict (Lambertian materials, area/sun lights, a uniform world) → neutral."""
    r, cam = d["render"], d["camera"]
    scene = {"width": r["width"], "height": r["height"], "max_bounces": r.get("max_bounces", 12),
             "camera": {"matrix": np.asarray(cam["matrix"], float).tolist(), "lens": cam.get("lens", 50.0),
                        "sensor_width": cam.get("sensor_width", 36.0)},
             "world": (np.asarray(d["world"]["color"], float) * d["world"].get("strength", 1.0)).tolist(),
             "meshes": [], "area_lights": [], "sun": None}
    for group in d["instances"]:
        mesh = d["meshes"][group["geometry"]]
        material = d["materials"][mesh["materials"][0]]
        if material.get("specular", 0.5) != 0.0 or material.get("metallic", 0.0) != 0.0:
            raise ValueError(f"vs_peers: material {mesh['materials'][0]!r} is not Lambertian")
        for m in np.asarray(group["transforms"], np.float64).reshape(-1, 4, 4):
            normals = mesh.get("normals")
            scene["meshes"].append({
                "vertices": (np.asarray(mesh["vertices"], np.float64) @ m[:3, :3].T + m[:3, 3]).astype(np.float32),
                "triangles": np.asarray(mesh["triangles"], np.int32),
                "normals": None if normals is None else _rotate_normals(normals, m),
                "albedo": list(material["base_color"])})
    for light in d["lights"].values():
        color = np.asarray(light.get("color", (1.0, 1.0, 1.0)), float)
        if light["type"] == "area":
            sx = light["size_x"]
            sy = light.get("size_y", sx) if light.get("shape") == "rectangle" else sx
            # Cycles' area light of power P [W]: radiance P / (π A) (a one-sided Lambertian emitter).
            scene["area_lights"].append({"matrix": np.asarray(light["matrix"], float).tolist(), "size": [sx, sy],
                                         "radiance": (color * light["power"] / (math.pi * sx * sy)).tolist(),
                                         "albedo": [0.0, 0.0, 0.0]})
        elif light["type"] == "sun":
            m = np.asarray(light["matrix"], float).reshape(4, 4)
            direction = -m[:3, 2] / np.linalg.norm(m[:3, 2])
            scene["sun"] = {"direction": direction.tolist(), "irradiance": (color * light["strength"]).tolist()}
        else:
            raise ValueError(f"vs_peers: light type {light['type']!r} is not supported here")
    if scene["area_lights"] and max(scene["world"]) > 0:
        # Mitsuba can hide emitters from the camera only all together, the world included.
        raise ValueError("vs_peers: a scene with area lights must have a black world")
    return scene


def _rotate_normals(normals, m):
    n = np.asarray(normals, np.float64) @ np.linalg.inv(m[:3, :3])  # inverse transpose, row vectors
    return (n / np.linalg.norm(n, axis=1, keepdims=True)).astype(np.float32)


def cornell(width: int, height: int, albedo: float | None = None) -> dict:
    """Optica's Cornell box with its light moved flush to the ceiling; `albedo` makes every wall
    that grey (the depth check's bright box).

    Blender's area lights do not block rays; Mitsuba's and LuxCore's emitters are surfaces that
    do. A light 0.1 mm under the ceiling whose surface reflects like the ceiling is the same
    scene for all of them (the neutral light's `albedo`, set by neutral_scene)."""
    import optica_core.scenes as sc

    d = sc.cornell_box(width, height)
    if albedo is not None:
        for m in d["materials"].values():
            m["base_color"] = (albedo, albedo, albedo)
    d["lights"]["ceiling_light"]["matrix"] = sc.translation((0.0, 0.0, 2.0 - 1e-4))
    scene = neutral_from_dict(d)
    scene["area_lights"][0]["albedo"] = list(d["materials"]["white"]["base_color"])  # the ceiling's
    return scene


def big_mesh(width: int, height: int, n_triangles: int = 1_000_000) -> dict:
    """optica_core.scenes.displaced_sphere (a 1M-triangle smooth mesh) seen close up, on a floor,
    lit by its sun alone (made sharp: Mitsuba's directional light has no angle).

    No sky: Mitsuba picks the light to sample uniformly, so beside a grey world its sun gets half
    the samples and its noise at 64 samples was 8.6× Optica's (measured at 96×96) — a comparison
    of light selection, not of tracing a large mesh."""
    import optica_core.scenes as sc

    d = sc.displaced_sphere(n_triangles, width, height)
    d["camera"]["matrix"] = sc.look_at((0.0, -3.2, 1.2), (0.0, 0.0, -0.1))
    vertices, triangles = sc.quad([(-6, -6, -1.1), (6, -6, -1.1), (6, 6, -1.1), (-6, 6, -1.1)])
    d["materials"]["floor"] = {"base_color": (0.5, 0.5, 0.5), "specular": 0.0, "roughness": 1.0}
    d["meshes"]["floor"] = {"vertices": vertices, "triangles": triangles, "materials": ["floor"]}
    d["instances"].append({"geometry": "floor", "transforms": np.eye(4, dtype=np.float32)[None]})
    d["lights"]["sun"]["angle"] = 0.0
    d["world"]["color"] = (0.0, 0.0, 0.0)
    return neutral_from_dict(d)


def light_mask(scene: dict, grow: int = 1) -> np.ndarray:
    """(h, w) bool: the pixels where the camera sees an area light, grown by `grow` pixels.

    Blender's lights are invisible to the camera; Mitsuba hides an emitter from the camera only
    by rendering its whole surface black (`hide_emitters`). Those pixels are left out of every
    engine's images (set to 0), so the engines are compared on what they all render alike."""
    w, h = scene["width"], scene["height"]
    camera = dict(scene["camera"], sensor_fit="AUTO")
    origins, dirs = C.camera_rays(camera, w, h, w, h)
    mask = np.zeros(w * h, bool)
    for light in scene["area_lights"]:
        m = np.asarray(light["matrix"], np.float64).reshape(4, 4)
        normal, centre = m[:3, 2], m[:3, 3]
        denom = dirs.astype(np.float64) @ normal
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ((centre - origins) @ normal) / denom
        local = (origins + t[:, None] * dirs - centre) @ m[:3, :3]  # columns are the light's axes
        sx, sy = light["size"]
        mask |= (t > 0) & (np.abs(local[:, 0]) <= sx / 2) & (np.abs(local[:, 1]) <= sy / 2)
    mask = mask.reshape(h, w)
    for _ in range(grow):
        grown = mask.copy()
        grown[1:] |= mask[:-1]
        grown[:-1] |= mask[1:]
        grown[:, 1:] |= mask[:, :-1]
        grown[:, :-1] |= mask[:, 1:]
        mask = grown
    return mask


def write_neutral(scene: dict, path: Path) -> Path:
    arrays, header = {}, dict(scene, meshes=[])
    for i, mesh in enumerate(scene["meshes"]):
        arrays[f"v{i}"], arrays[f"t{i}"] = mesh["vertices"], mesh["triangles"]
        if mesh["normals"] is not None:
            arrays[f"n{i}"] = mesh["normals"]
        header["meshes"].append({"albedo": mesh["albedo"]})
    np.savez(path, header=np.array(json.dumps(header)), **arrays)
    return path


# ---- workers ------------------------------------------------------------------------------------

def llvm_library() -> str | None:
    """DRJIT_LIBLLVM_PATH if set, else the newest system libLLVM ≥ 16 (14 and 15 crash Mitsuba's
    LLVM variant, FACTS.md)."""
    if os.environ.get("DRJIT_LIBLLVM_PATH"):
        return os.environ["DRJIT_LIBLLVM_PATH"]
    found = []
    for path in glob.glob("/usr/lib/*/libLLVM-*.so") + glob.glob("/usr/lib/llvm-*/lib/libLLVM*.so*"):
        digits = "".join(ch if ch.isdigit() else " " for ch in Path(path).name).split()
        if digits and int(digits[0]) >= 16:
            found.append((int(digits[0]), path))
    return max(found)[1] if found else None


class Worker:
    """One engine in its own process (bench/peers.py), rendering on request."""

    def __init__(self, engine: str, scene_file: Path, python: Path):
        env = dict(os.environ)
        if engine.startswith("mitsuba:llvm") and llvm_library():
            env["DRJIT_LIBLLVM_PATH"] = llvm_library()
        self.engine = engine
        self.proc = subprocess.Popen([str(python), str(BENCH / "peers.py"), engine, str(scene_file)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1, env=env)
        line = self.proc.stdout.readline().strip()
        self.info = json.loads(line[len("ready "):]) if line.startswith("ready ") else None
        self.reason = None if self.info else (line.partition(" ")[2] or f"worker exited ({self.proc.poll()})")
        if self.info is None:
            self.close()

    def render(self, spp: int, seed: int, out: Path) -> tuple[np.ndarray, float]:
        self.proc.stdin.write(f"render {spp} {seed} {out}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.engine}: worker exited ({self.proc.wait()})")
        return np.load(out).astype(np.float64), json.loads(line)["seconds"]

    def close(self) -> None:
        C.stop_server(self.proc)


def start_workers(engines, scene_file: Path, peers_python: Path) -> dict[str, Worker]:
    workers = {}
    for engine in engines:
        python = Path(sys.executable) if engine.split(":")[0] == "optica" else peers_python
        w = Worker(engine, scene_file, python)
        if w.info is None:
            print(f"skipped {engine}: {w.reason}", flush=True)
        else:
            workers[engine] = w
    return workers


# ---- measuring ----------------------------------------------------------------------------------

def measure(workers: dict, counts, tmp: Path, mask: np.ndarray) -> dict:
    """Every engine at every count with seeds 1 and 2, alternating engines render by render;
    the pixels of `mask` (light_mask) are set to 0 in every image."""
    runs = {e: {} for e in workers}
    for spp in counts:
        for seed in (1, 2):
            order = list(workers) if seed == 1 else list(workers)[::-1]
            for engine in order:
                load = os.getloadavg()[0]
                image, seconds = workers[engine].render(spp, seed, tmp / f"{engine.replace(':', '_')}.npy")
                image[mask] = 0.0
                run = runs[engine].setdefault(spp, {"images": [], "seconds": [], "loads": []})
                run["images"].append(image)
                run["seconds"].append(seconds)
                run["loads"].append(load)
    return runs


def summarise(runs: dict, target_engine: str = "optica") -> dict:
    out = {}
    top = {}
    for engine, by_spp in runs.items():
        counts = sorted(by_spp)
        noise = [cv.noise_from_pair(*by_spp[n]["images"]) for n in counts]
        fixed, per = cv.linear_time_model(counts, [min(by_spp[n]["seconds"]) for n in counts])
        most = counts[-1]
        top[engine] = (np.mean(by_spp[most]["images"], axis=0), noise[-1])
        out[engine] = {"counts": counts, "noise_rmse": noise, "seconds": [min(by_spp[n]["seconds"]) for n in counts],
                       "fixed_s": fixed, "per_sample_s": per, "image_mean": float(np.mean(top[engine][0])),
                       "convergence": cv.convergence_check(counts, noise, from_samples=16),
                       "load_max": max(x for r in by_spp.values() for x in r["loads"])}
    base = out[target_engine]
    target = base["noise_rmse"][base["counts"].index(64)]
    base_seconds = base["seconds"][base["counts"].index(64)]
    ref_image, ref_noise = top[target_engine]
    for engine, s in out.items():
        spp = cv.samples_to_reach(s["counts"], s["noise_rmse"], target)
        seconds = cv.time_at(s["counts"], s["seconds"], spp)
        image, noise = top[engine]
        beyond_noise = cv.mse(image, ref_image) - (noise ** 2 + ref_noise ** 2) / 2  # means of two renders
        s.update(spp_to_match=spp, seconds_to_match=seconds, optica_over_peer=base_seconds / seconds,
                 mean_difference=cv.relative_mean_difference(image, ref_image),
                 bias_rmse=math.sqrt(max(beyond_noise, 0.0)), target_noise=target)
    return out


def report(label: str, summary: dict) -> list[list]:
    rows = []
    for engine, s in summary.items():
        flag = "" if abs(s["mean_difference"]) <= cv.MEAN_TOLERANCE else " MISMATCH"
        rows.append([label, engine, f"{1e3 * s['per_sample_s']:.1f}", f"{s['fixed_s']:.2f}",
                     f"{s['noise_rmse'][s['counts'].index(64)]:.4f}", f"{s['spp_to_match']:.0f}",
                     f"{s['seconds_to_match']:.2f}", f"**{s['optica_over_peer']:.2f}**",
                     f"{100 * s['mean_difference']:+.2f}%{flag}", f"{s['bias_rmse']:.4f}",
                     f"{s['convergence']['slope']:.2f}", f"{s['load_max']:.1f}"])
    return rows


HEADERS = ["scene", "engine", "ms/spp", "fixed s (fit)", "noise RMSE@64", "spp to Optica's @64", "s to match",
           "Optica s / engine s", "mean vs Optica", "bias RMSE", "slope", "load"]


def depth_check(width: int, spp: int, tmp: Path, peers_python: Path) -> None:
    """A bright Cornell box (albedo 0.95 everywhere: each bounce keeps 95 % of the light, so one
    bounce more or less moves the mean by several per cent): Optica (Cycles' bounce semantics,
    checked against Cycles by bench/vs_cycles.py) at 0, 1 and 12 bounces against Mitsuba's scalar
    variant at max_depth 2, 3, 14 and 15. Cycles' B bounces is Mitsuba's max_depth B + 2 when
    0 ↔ 2 agree exactly (direct light only) and each pair after that agrees as well."""
    scene = cornell(width, width, albedo=0.95)
    scene_file = write_neutral(scene, tmp / "bright.npz")
    mask = light_mask(scene)
    pairs = (("optica:0", "mitsuba:scalar_rgb:2"), ("optica:1", "mitsuba:scalar_rgb:3"),
             ("optica:12", "mitsuba:scalar_rgb:14"), ("optica:12", "mitsuba:scalar_rgb:15"))
    means = {}
    for engine in dict.fromkeys(e for pair in pairs for e in pair):
        workers = start_workers([engine], scene_file, peers_python)
        if engine in workers:
            image, _ = workers[engine].render(spp, 1, tmp / "depth.npy")
            means[engine] = float(np.mean(image[~mask]))
            workers[engine].close()
    for optica, mitsuba in pairs:
        if optica in means and mitsuba in means:
            print(f"  {optica:<10} mean {means[optica]:.5f}   {mitsuba:<22} mean {means[mitsuba]:.5f}  "
                  f"{100 * (means[mitsuba] / means[optica] - 1):+.2f}%", flush=True)


def main(argv=None) -> int:
    # A benchmark stopped with SIGTERM (kill PID) still removes its temporary folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--quick", action="store_true", help="128x128, counts 16/64")
    ap.add_argument("--scenes", default="cornell,big_mesh")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated: " + ", ".join(PEERS))
    ap.add_argument("--peers-python", type=Path, default=PEERS_VENV_PYTHON if PEERS_VENV_PYTHON.exists() else
                    Path(sys.executable), help="the Python that has the peers (.venv-peers/bin/python)")
    ap.add_argument("--depth-check", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    size = 128 if args.quick else args.size
    counts = (16, 64) if args.quick else (16, 64, 256)
    C.import_core()
    info = C.machine_info()
    C.print_machine(info)
    print(f"command: python bench/vs_peers.py {' '.join(argv if argv is not None else sys.argv[1:])}", flush=True)
    builders = {"cornell": ("Cornell box", cornell), "big_mesh": ("1M-triangle mesh, sun", big_mesh)}
    results, rows = {}, []
    with tempfile.TemporaryDirectory(prefix="optica-vs-peers-") as tmp_name:
        tmp = Path(tmp_name)
        if args.depth_check:
            print(f"depth check: bright Cornell box {size}x{size}, 256 spp")
            depth_check(size, 256, tmp, args.peers_python)
            return 0
        for key in args.scenes.split(","):
            label, build = builders[key]
            scene = build(size, size)
            scene_file = write_neutral(scene, tmp / f"{key}.npz")
            mask = light_mask(scene)
            print(f"\n{label}, {size}x{size}, counts {counts}; {mask.sum()} pixels that see a light left out",
                  flush=True)
            workers = start_workers(["optica", *args.peers.split(",")], scene_file, args.peers_python)
            try:
                runs = measure(workers, counts, tmp, mask)
            finally:
                for w in workers.values():
                    w.close()
            summary = summarise(runs)
            results[key] = {"label": label, "versions": {e: w.info["version"] for e, w in workers.items()},
                            "summary": summary}
            rows += report(label, summary)
            print(C.format_table(HEADERS, report(label, summary)), flush=True)
            if args.json:  # after every scene: a run stopped half-way keeps what it measured
                args.json.write_text(json.dumps({"machine": info, "size": size, "counts": counts,
                                                 "results": results}, indent=1, default=float))
    print()
    print(C.format_table(HEADERS, rows))
    if args.json:
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
