#!/usr/bin/env python3
"""Ray traversal: optica_core against Embree (called natively), on the same rays.

    python bench/traversal.py                 # full: 1M-triangle displaced sphere + Cornell box,
                                              # 1M primary and 1M incoherent rays (~45 s on 2 cores)
    python bench/traversal.py --quick         # 100k triangles, 100k rays (a fast check)
    python bench/traversal.py --json out.json # also write every figure as JSON

Scenes come from optica_core.scenes, flattened to world-space triangles (each instance
transform applied) for Embree. Rays:
  primary     the scene camera's rays through the centres of a ~1000×1000 grid over its frame
  incoherent  from each primary hit, pushed 1e-4·(scene size) off the surface towards the
              viewer, a uniform direction in that hemisphere (a diffuse bounce); a primary ray
              that missed becomes a random origin inside the scene bounds with a random direction
Both engines trace the very same float32 arrays (tnear 0, tfar inf, closest hit). Embree runs
in bench/embree/embree_bench (Debian's libembree-dev, built on first use; never a product
dependency), kept alive in --serve mode: rtcIntersect1 in a loop on one std::thread per core.
optica_core: Renderer(threads=1 / all).intersect(). Passes alternate between the engines
(Embree, optica, Embree, ...) so both see the same machine load; the best of --repeat passes
counts. Build times: Embree's rtcCommitScene (a new device with 1 / all build threads) against
optica's set_scene() (validation + BVH build), with validate_scene() timed on its own.

Hit results are compared ray by ray (hit/miss agreement, distance, triangle).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def _barycentrics(verts, tris, flat, o, d):
    """Float64 Möller–Trumbore of rays (o, d) against triangles `flat`: (u, v, w = 1 − u − v)."""
    tri = tris[flat]
    a, b, c = (verts[tri[:, k]].astype(np.float64) for k in range(3))
    o, d = o.astype(np.float64), d.astype(np.float64)
    e1, e2 = b - a, c - a
    p = np.cross(d, e2)
    det = np.sum(e1 * p, axis=1)
    det = np.where(det == 0, 1e-300, det)
    s = o - a
    u = np.sum(s * p, axis=1) / det
    v = np.sum(d * np.cross(s, e1), axis=1) / det
    return u, v, 1.0 - u - v


def compare_hits(t_o, prim_o, obj_o, t_e, prim_e, base, verts, tris, origins, dirs) -> dict:
    """Ray-by-ray agreement of optica's (t, prim, obj) with Embree's (t, flattened primID).

    Where the engines disagree (one hits and the other misses, or they hit different triangles
    at different distances), the nearer reported triangle is checked in double precision: if
    the ray does cross it, the other engine "missed" it (typically slipping through the shared
    edge of two triangles: single-precision tests are not watertight); if it does not, the
    engine that reported it made a "false hit"."""
    hit_o, hit_e = prim_o >= 0, prim_e >= 0
    both = hit_o & hit_e
    flat_o = np.full(len(prim_o), -1, np.int64)
    if hit_o.any():
        bases = np.array([base.get(int(k), -1) for k in obj_o[hit_o]], np.int64)
        flat_o[hit_o] = np.where(bases >= 0, bases + prim_o[hit_o], -1)
    t_o64, t_e64 = t_o.astype(np.float64), t_e.astype(np.float64)
    rel = np.zeros(len(t_o))
    rel[both] = np.abs(t_o64[both] - t_e64[both]) / np.maximum(np.abs(t_e64[both]), 1e-6)
    other_tri = both & (flat_o != prim_e)
    differ = (other_tri & (rel > 1e-5)) | (hit_o != hit_e)
    # The nearer claimed hit of each disagreeing ray, and who claimed it.
    optica_nearer = hit_o & (~hit_e | (t_o64 < t_e64))
    idx = np.where(differ)[0]
    out = {
        "hits_optica": int(hit_o.sum()),
        "hits_embree": int(hit_e.sum()),
        "hit_only_optica": int((hit_o & ~hit_e).sum()),
        "hit_only_embree": int((hit_e & ~hit_o).sum()),
        "t_rel_diff_gt_1e-3": int((rel > 1e-3).sum()),
        "t_rel_diff_max": float(rel.max()) if rel.size else 0.0,
        "other_triangle_same_t": int((other_tri & (rel <= 1e-5)).sum()),
        "other_triangle_other_t": int((other_tri & (rel > 1e-5)).sum()),
        "disagreeing_rays": int(len(idx)),
        "optica_missed": 0, "embree_missed": 0, "optica_false_hit": 0, "embree_false_hit": 0,
        "missed_edge_margin_max": 0.0,
    }
    if len(idx) and (flat_o[idx[optica_nearer[idx]]] >= 0).all():
        near_flat = np.where(optica_nearer[idx], flat_o[idx], prim_e[idx])
        u, v, w = _barycentrics(verts, tris, near_flat, origins[idx], dirs[idx])
        margin = np.minimum(np.minimum(u, v), w)  # < 0: outside the triangle
        genuine = margin >= -1e-7
        on = optica_nearer[idx]
        out["embree_missed"] = int((genuine & on).sum())
        out["optica_missed"] = int((genuine & ~on).sum())
        out["optica_false_hit"] = int((~genuine & on).sum())
        out["embree_false_hit"] = int((~genuine & ~on).sum())
        if genuine.any():
            out["missed_edge_margin_max"] = float(margin[genuine].max())
    return out


def bench_scene(oc, name: str, d: dict, args, workdir: Path, rng: np.random.Generator) -> dict:
    print("\n== %s ==" % name, flush=True)
    out = {"scene": name}
    t0 = time.perf_counter()
    verts, tris, base = C.flatten_triangles(d)
    out["triangles"] = int(len(tris))
    print("%d triangles (%d instances), flattened in %.2f s" % (len(tris), len(base), time.perf_counter() - t0))
    vf, tf = workdir / "verts.f32", workdir / "tris.i32"
    verts.tofile(vf)
    tris.tofile(tf)

    servers = {}
    try:
        for isa in args.embree_isa:
            servers[isa] = C.EmbreeServer(vf, tf, quality=args.quality, config="" if isa == "default" else "isa=" + isa)
        vf.unlink()
        tf.unlink()
        ref = servers[args.embree_isa[0]]
        for isa, srv in servers.items():
            print("Embree %s, %s kernels, build quality %s (Embree's default: %s)"
                  % (srv.info["embree_version"], srv.info["isa"], srv.info["build_quality"],
                     srv.info["default_build_quality"]))
        out["embree"] = {isa: srv.info for isa, srv in servers.items()}

        # Rays: the camera's, then bounces off their hits (found by Embree).
        width, height = int(d["render"]["width"]), int(d["render"]["height"])
        nx, ny = C.ray_grid_shape(args.rays, width, height)
        rays = {"primary": C.camera_rays(d["camera"], width, height, nx, ny)}

        def load(tag):
            o, dd = rays[tag]
            fo, fd = workdir / (tag + ".o.f32"), workdir / (tag + ".d.f32")
            o.tofile(fo)
            dd.tofile(fd)
            for srv in servers.values():
                srv.load_rays(tag, fo, fd)
            fo.unlink()
            fd.unlink()

        load("primary")
        embree_hits = {"primary": ref.results("primary", workdir)}
        t_hit, prim_hit = embree_hits["primary"]
        rays["incoherent"] = C.incoherent_rays(*rays["primary"], t_hit, prim_hit, verts, tris, rng)
        load("incoherent")
        embree_hits["incoherent"] = ref.results("incoherent", workdir)
        print("rays: %d primary (%d×%d grid, %.1f%% hit), %d incoherent (%.1f%% hit)"
              % (nx * ny, nx, ny, 100.0 * (prim_hit >= 0).mean(), len(rays["incoherent"][0]),
                 100.0 * (embree_hits["incoherent"][1] >= 0).mean()), flush=True)

        threads = sorted({1, os.cpu_count() or 1})
        # --- builds, alternating engines: Embree's rtcCommitScene, optica's set_scene
        t_val = min(C.best_of(lambda: oc.validate_scene(d), 1)[0] for _ in range(args.build_repeat))
        # A new Renderer each time: set_scene on the same renderer reuses unchanged geometry.
        renderers = {}
        build = {(e, k): float("inf") for e in ["optica", *servers] for k in threads}
        for _ in range(args.build_repeat):
            for k in threads:
                for isa, srv in servers.items():
                    build[isa, k] = min(build[isa, k], srv.build(k) * 1e-3)
                renderers.pop(k, None)
                renderers[k] = oc.Renderer(threads=k)
                build["optica", k] = min(build["optica", k], C.best_of(lambda: renderers[k].set_scene(d), 1)[0])
                if getattr(renderers[k], "geometry_reused", 0):
                    raise RuntimeError("set_scene reused geometry on a new Renderer: build time not measured")

        # --- traversal, alternating engines pass by pass
        best = {}
        optica_res = {}
        for tag, (o, dd) in rays.items():
            for k in threads:
                for rep in range(args.repeat):
                    for isa, srv in servers.items():
                        s_e = srv.trace(tag, k)["s"]
                        best[isa, tag, k] = min(best.get((isa, tag, k), float("inf")), s_e)
                    s_o, res = C.best_of(lambda: renderers[k].intersect(o, dd), 1)
                    best["optica", tag, k] = min(best.get(("optica", tag, k), float("inf")), s_o)
                    if rep == 0:
                        optica_res[tag, k] = tuple(np.asarray(a) for a in res)
            print("%s rays: optica %s Mrays/s; %s" % (
                tag, " / ".join("%.2f" % (len(o) / best["optica", tag, k] * 1e-6) for k in threads),
                "; ".join("Embree %s %s Mrays/s" % (isa, " / ".join("%.2f" % (len(o) / best[isa, tag, k] * 1e-6)
                                                                     for k in threads)) for isa in servers)),
                  flush=True)
        del renderers
    finally:
        for srv in servers.values():
            srv.close()

    # --- tables
    n_rays = {tag: len(r[0]) for tag, r in rays.items()}
    label = {isa: "Embree %s%s" % (out["embree"][isa]["isa"], " (default)" if isa == "default" else "")
             for isa in args.embree_isa}
    headers = ["rays", "threads", "optica Mrays/s"]
    for isa in args.embree_isa:
        headers += ["%s Mrays/s" % label[isa], "optica/%s" % label[isa].split(" (")[0]]
    rows, runs = [], []
    for tag in rays:
        for k in threads:
            mr = {e: n_rays[tag] / best[e, tag, k] * 1e-6 for e in ["optica", *servers]}
            row = [tag, k, "%.2f" % mr["optica"]]
            for isa in args.embree_isa:
                row += ["%.2f" % mr[isa], "%.2f" % (mr["optica"] / mr[isa])]
            rows.append(row)
            runs.append({"rays": tag, "threads": k, "n": n_rays[tag], "mrays_per_s": mr,
                         "best_s": {e: best[e, tag, k] for e in ["optica", *servers]}})
    out["runs"] = runs
    out["table"] = {"headers": headers, "rows": rows}
    print()
    print(C.format_table(headers, rows))

    bheaders = ["threads", "optica set_scene ms", "of which validate_scene ms", "optica native build ms (difference)"]
    bheaders += ["%s rtcCommitScene ms" % label[isa] for isa in args.embree_isa]
    brows = []
    for k in threads:
        row = [k, "%.1f" % (build["optica", k] * 1e3), "%.1f" % (t_val * 1e3),
               "%.1f" % ((build["optica", k] - t_val) * 1e3)]
        row += ["%.1f" % (build[isa, k] * 1e3) for isa in args.embree_isa]
        brows.append(row)
    out["build"] = {"validate_s": t_val, "set_scene_s": {k: build["optica", k] for k in threads},
                    "embree_commit_s": {isa: {k: build[isa, k] for k in threads} for isa in servers}}
    out["build_table"] = {"headers": bheaders, "rows": brows}
    print()
    print(C.format_table(bheaders, brows))

    # --- correctness: optica (all cores) against Embree, ray by ray
    print()
    out["agreement"] = {}
    for tag in rays:
        t_o, prim_o, obj_o = optica_res[tag, threads[-1]]
        t_1, prim_1, obj_1 = optica_res[tag, threads[0]]
        a = compare_hits(t_o, prim_o, obj_o, *embree_hits[tag], base, verts, tris, *rays[tag])
        a["threads_identical"] = bool(np.array_equal(t_o, t_1) and np.array_equal(prim_o, prim_1)
                                      and np.array_equal(obj_o, obj_1))
        n = n_rays[tag]
        # Agreement: no false hit, few misses (< 1e-4 of the rays), the same result on any thread count.
        a["ok"] = bool(a["optica_false_hit"] == 0 and a["optica_missed"] <= 1e-4 * n + 2 and a["threads_identical"])
        out["agreement"][tag] = a
        missed = a["optica_missed"] + a["embree_missed"]
        print("%s %s rays vs Embree: hits %d (optica) / %d (Embree); disagreeing rays %d: the ray does cross the "
              "nearer triangle and optica missed it %d, Embree %d%s; false hits optica %d, Embree %d; "
              "another triangle at the same t (a shared edge) %d; 1 thread = %d threads: %s"
              % ("OK  " if a["ok"] else "DIFF", tag, a["hits_optica"], a["hits_embree"], a["disagreeing_rays"],
                 a["optica_missed"], a["embree_missed"],
                 " (all within %.1g of an edge in barycentrics)" % a["missed_edge_margin_max"] if missed else "",
                 a["optica_false_hit"], a["embree_false_hit"], a["other_triangle_same_t"], threads[-1],
                 "yes" if a["threads_identical"] else "NO"))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100k triangles and 100k rays")
    ap.add_argument("--json", metavar="FILE", help="write all figures as JSON")
    ap.add_argument("--rays", type=int, help="rays per set (default 1,000,000; --quick 100,000)")
    ap.add_argument("--triangles", type=int, help="displaced sphere triangles (default 1,000,000; --quick 100,000)")
    ap.add_argument("--scenes", default="displaced_sphere,cornell_box", help="comma-separated: displaced_sphere, cornell_box")
    ap.add_argument("--repeat", type=int, default=5, help="trace passes per measurement, alternating engines; the best counts (5)")
    ap.add_argument("--build-repeat", type=int, default=3, help="BVH builds per measurement, alternating engines; the best counts (3)")
    ap.add_argument("--quality", default="medium", choices=["low", "medium", "high"],
                    help="Embree build quality (medium is Embree's default for static scenes)")
    ap.add_argument("--embree-isa", default="default,sse4.2",
                    help="Embree kernels to measure, comma-separated: default (the best the CPU has), "
                         "sse4.2 (what optica's x86-64-v2 build may use), avx2, avx512 (default: default,sse4.2)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    args.rays = args.rays or (100_000 if args.quick else 1_000_000)
    args.triangles = args.triangles or (100_000 if args.quick else 1_000_000)
    args.embree_isa = [s.strip() for s in args.embree_isa.split(",") if s.strip()]

    oc = C.import_core()
    info = C.machine_info()
    C.print_machine(info)
    print("command: %s" % " ".join(["python", "bench/traversal.py", *(argv if argv is not None else sys.argv[1:])]))
    C.build_embree_harness()

    builders = {
        "displaced_sphere": lambda: ("displaced_sphere(%d)" % args.triangles,
                                     oc.scenes.displaced_sphere(n_triangles=args.triangles)),
        "cornell_box": lambda: ("cornell_box()", oc.scenes.cornell_box()),
    }
    results = {"machine": info, "args": {k: v for k, v in vars(args).items() if k != "json"}, "scenes": []}
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="optica-traversal-") as tmp:
        for key in [s.strip() for s in args.scenes.split(",") if s.strip()]:
            if key not in builders:
                ap.error("unknown scene %r" % key)
            t0 = time.perf_counter()
            label, d = builders[key]()
            print("\nbuilt %s in %.2f s" % (label, time.perf_counter() - t0))
            # One generator per scene, so a scene's rays do not depend on which scenes ran before.
            rng = np.random.default_rng([args.seed, list(builders).index(key)])
            results["scenes"].append(bench_scene(oc, label, d, args, Path(tmp), rng))
    results["total_s"] = time.perf_counter() - t_start
    print("\ntotal %.0f s" % results["total_s"])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
        print("wrote %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
