#!/usr/bin/env python3
"""The viewport session and the denoiser, in real Blender (bpy 5.0 as a module, headless).

    .venv/bin/python bench/viewport.py           # 1M-triangle mesh + 10,000 instances, 640×360 (~60 s)
    .venv/bin/python bench/viewport.py --quick   # 100k triangles + 1,000 instances, fewer repeats
    .venv/bin/python bench/viewport.py --json out.json

Measures, with the working tree's add-on (addon/viewport/, addon/denoise.py; no install):
- **move → first pixels**: an object is moved (a plain object: the transform patch; the 1M-triangle
  object itself; and, forced, a full cached export), the depsgraph evaluated, the session updated;
  until the worker published the first image of the new generation (at the worker's first pixel
  size: 4, or coarser when one sample there would take more than 10 ms, as Cycles starts coarser
  on heavy scenes). Split into depsgraph evaluation, the main thread's update (patch or export),
  set_scene (the job's validation, once, + the native scene build with every BVH reused) and
  the first reduced-resolution accumulate (what remains). The worker is mid-way through a
  full-resolution sample when the object moves, as in use: the cancel latency is included.
  Goal (issue 11): 20 ms. "CPU ms": the process's CPU time over the same span (all threads):
  the work a change costs, which a loaded machine stretches far less than the wall clock.
- **progressive updates**: images published per second at 640×360 and full resolution
  (batches of ~0.1 s), and samples per second;
- **denoiser**: OIDN (pyoidn, CPU device) time per execute for colour + albedo + normal at
  quality fast / balanced / high, per megapixel, after a warm-up execute.

The scene: the bumpy sphere of optica_core.scenes.displaced_sphere (1,002,000 triangles, built
with foreach_set), 10,000 vertex-instanced pebbles (12 triangles each) on a 100 × 100 grid, a
small plain cube that is moved, a sun, a grey world, the camera of displaced_sphere.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import _common as C  # noqa: E402


def _import_addon():
    """The working tree's extension package (under the name optica_src), without installing."""
    spec = importlib.util.spec_from_file_location("optica_src", ROOT / "__init__.py",
                                                  submodule_search_locations=[str(ROOT)])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["optica_src"] = pkg
    spec.loader.exec_module(pkg)
    pkg.register()  # scene.optica and the engine, as when the extension is enabled
    return (importlib.import_module("optica_src.addon.viewport"),
            importlib.import_module("optica_src.addon.denoise"))


def build_scene(bpy, oc, n_triangles: int, n_instances: int, width: int, height: int):
    import numpy as np
    from mathutils import Matrix

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = width, height
    d = oc.scenes.displaced_sphere(n_triangles, width, height)
    mesh = d["meshes"]["bumpy_sphere"]
    v, tri = mesh["vertices"], mesh["triangles"]
    import scenes_bpy  # the benchmarks' scene helpers (bench/ is on sys.path)

    clay = bpy.data.materials.new("Clay")
    clay.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.75, 0.55, 0.4, 1.0)
    scenes_bpy.mesh_from_arrays(scene, "Hero", v, tri, clay)

    side = int(round(n_instances ** 0.5))
    g = np.stack(np.meshgrid(np.linspace(-8, 8, side), np.linspace(-4, 12, side), indexing="ij"), -1).reshape(-1, 2)
    co = np.zeros((len(g), 3), np.float32)
    co[:, :2] = g
    co[:, 2] = -1.1
    pts = bpy.data.meshes.new("Points")
    pts.vertices.add(len(co))
    pts.vertices.foreach_set("co", co.ravel())
    pts.update()
    spawner = bpy.data.objects.new("Scatter", pts)
    spawner.instance_type = "VERTS"
    scene.collection.objects.link(spawner)

    def cube(name, s):
        m = bpy.data.meshes.new(name)
        m.from_pydata([(x, y, z) for x in (-s, s) for y in (-s, s) for z in (-s, s)], [],
                      [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)])
        return m

    pebble = bpy.data.objects.new("Pebble", cube("Pebble", 0.06))
    scene.collection.objects.link(pebble)
    pebble.parent = spawner
    mover = bpy.data.objects.new("Mover", cube("Mover", 0.3))
    mover.location = (1.6, -0.5, -0.6)
    scene.collection.objects.link(mover)
    sun = bpy.data.lights.new("Sun", "SUN")
    sun.energy = 3.0
    sun_ob = bpy.data.objects.new("Sun", sun)
    sun_ob.matrix_world = Matrix(d["lights"]["sun"]["matrix"].tolist())
    scene.collection.objects.link(sun_ob)
    world = bpy.data.worlds.new("World")
    world.color = (0.18, 0.18, 0.18)
    scene.world = world
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.matrix_world = Matrix(d["camera"]["matrix"].tolist())
    scene.collection.objects.link(cam)
    scene.camera = cam
    bpy.context.evaluated_depsgraph_get()
    return scene


def _capture(bpy, vp):
    box = []

    def handler(_scene, depsgraph):
        box.append(vp.Changes.from_depsgraph(depsgraph))

    bpy.app.handlers.depsgraph_update_post.append(handler)
    return box


FIELDS = ("depsgraph eval", "update (main)", "hand-off", "set_scene", "accumulate", "publish", "total")
# CPU seconds of the whole process (every thread, the core's render threads included) from the
# change to the first new pixels: what the change costs in work, which other jobs on a shared
# machine stretch far less than its wall-clock time.
_CPU_AT_FIRST_PIXELS: dict = {}


def _record_cpu_at_first_pixels(session) -> None:
    """Wraps the session worker's publishing to note process CPU time at each generation's
    first image (bench instrumentation; the worker itself is unchanged)."""
    worker = session._worker
    publish = worker._publish

    def publish_noting_cpu(job, *args, **kwargs):
        _CPU_AT_FIRST_PIXELS.setdefault(job.generation, time.process_time())
        return publish(job, *args, **kwargs)

    worker._publish = publish_noting_cpu


def _split(t0, t_eval, rep, st, c0):
    """The stages of one change, seconds: eval, update, hand-off (until the worker took the job:
    the running batch returning), set_scene, the first accumulate, publishing; total; report."""
    handoff = st.taken - (t0 + t_eval + rep.seconds)
    set_scene = st.set_scene_seconds[0]
    total = st.first_pixels - t0
    publish = total - t_eval - rep.seconds - handoff - set_scene - st.first_accumulate
    cpu = _CPU_AT_FIRST_PIXELS.get(rep.generation, float("nan")) - c0
    return (t_eval, rep.seconds, handoff, set_scene, st.first_accumulate, publish, total, rep, st.pixel_sizes[0], cpu)


def measure_moves(bpy, vp, oc, session, view, scene, target: str, repeat: int, force_export=False):
    """Per move: (eval, update, set_scene, first accumulate, total) seconds and the report."""
    changes_box = _capture(bpy, vp)
    rows = []
    ob = scene.objects[target]
    for i in range(repeat):
        session.wait(pixel_size=1, timeout=120)  # refining at full resolution, as in use
        time.sleep(0.05)
        changes_box.clear()
        c0, t0 = time.process_time(), time.perf_counter()
        ob.location.x += 0.05 if i % 2 == 0 else -0.05
        dg = bpy.context.evaluated_depsgraph_get()
        t_eval = time.perf_counter() - t0
        changes = vp.Changes.everything() if force_export else (changes_box[-1] if changes_box else vp.Changes())
        rep = session.update(dg, view, changes)
        st = session.wait(rep.generation, timeout=60)
        rows.append(_split(t0, t_eval, rep, st, c0))
    bpy.app.handlers.depsgraph_update_post.clear()
    return rows


def measure_view(vp, session, view, repeat: int):
    import numpy as np

    rows = []
    for i in range(repeat):
        session.wait(pixel_size=1, timeout=120)
        time.sleep(0.05)
        m = np.array(view.view_matrix).reshape(4, 4)
        m[0, 3] += 0.02 * (1 if i % 2 == 0 else -1)
        view = vp.ViewState(width=view.width, height=view.height, view_matrix=tuple(m.ravel()), lens=view.lens)
        c0, t0 = time.process_time(), time.perf_counter()
        rep = session.update_view(view)
        st = session.wait(rep.generation, timeout=60)
        rows.append(_split(t0, 0.0, rep, st, c0))
    return rows, view


def validate_seconds(oc, vp, session) -> dict:
    """The Python part of set_scene, seconds: validate_scene of the exported dict from scratch
    (what every set_scene paid before), again with the arrays checked last time
    (CheckedArrays: what the worker pays once per change), and with_view (what each further
    film size of the same change pays)."""
    try:
        from optica_core.scene import CheckedArrays, with_view
    except ImportError:  # a core from before issue 11 (bench run against an older commit)
        return {"from scratch": C.best_of(lambda: oc.validate_scene(session.sync.scene), 5)[0]}
    cam, (fw, fh), _ = vp.view_frame(session.view, session.scene_view or vp.SceneView()).at(4 * session.view.pixel_size)
    d = session.sync.scene
    render = {k: v for k, v in d["render"].items() if k != "region"}
    render.update(width=fw, height=fh)
    checked = CheckedArrays()
    normalised = oc.validate_scene(d, checked=checked)
    return {"from scratch": C.best_of(lambda: oc.validate_scene(d), 5)[0],
            "same arrays": C.best_of(lambda: oc.validate_scene(d, checked=checked), 5)[0],
            "with_view": C.best_of(lambda: with_view(normalised, cam, render), 5)[0]}


def measure_progressive(session, seconds: float):
    session.wait(pixel_size=1, timeout=120)
    st = session.stats()
    n0, s0, t0 = len(st.pixel_sizes), st.samples, time.perf_counter()
    time.sleep(seconds)
    st = session.stats()
    dt = time.perf_counter() - t0
    return (len(st.pixel_sizes) - n0) / dt, (st.samples - s0) / dt


def measure_denoiser(dn, oc, d_scene, sizes, qualities, threads: int):
    import numpy as np

    r = oc.Renderer(threads)
    w0, h0 = sizes[0]
    d = dict(d_scene)
    d["render"] = dict(d_scene["render"], width=w0, height=h0)
    d["render"].pop("region", None)
    r.set_scene(d)
    r.accumulate(2)
    base = (np.array(r.color), np.array(r.albedo), np.array(r.normal))
    out = []
    for (w, h) in sizes:
        fy, fx = -(-h // h0), -(-w // w0)
        imgs = [np.ascontiguousarray(np.kron(a, np.ones((fy, fx, 1), np.float32))[:h, :w]) for a in base]
        for q in qualities:
            with dn.Denoiser(q, threads=threads) as den:
                t = time.perf_counter()
                den.denoise(*imgs)
                first = time.perf_counter() - t
                best, _ = C.best_of(lambda: den.denoise(*imgs), 2)
            out.append({"size": [w, h], "quality": q, "seconds": best, "first_seconds": first,
                        "seconds_per_megapixel": best / (w * h / 1e6)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100k triangles, 1,000 instances, fewer repeats")
    ap.add_argument("--json", metavar="FILE", help="write all figures as JSON")
    ap.add_argument("--size", type=int, nargs=2, default=(640, 360), metavar=("W", "H"))
    ap.add_argument("--repeat", type=int, default=None, help="moves per measurement (default 9, quick 3)")
    ap.add_argument("--threads", type=int, default=0, help="render and denoise threads, 0 = all cores")
    args = ap.parse_args(argv)
    n_tris, n_inst = (100_000, 1_024) if args.quick else (1_000_000, 10_000)
    repeat = args.repeat or (3 if args.quick else 9)
    w, h = args.size

    oc = C.import_core()
    info = C.machine_info()
    C.print_machine(info)
    args_text = argv if argv is not None else sys.argv[1:]
    print("command: %s" % " ".join([".venv/bin/python", "bench/viewport.py", *args_text]))
    import bpy

    t = time.perf_counter()
    vp, dn = _import_addon()
    scene = build_scene(bpy, oc, n_tris, n_inst, w, h)
    scene.optica.viewport_samples = 100_000
    scene.optica.threads = args.threads
    print("scene: %d-triangle mesh + %d instances, %d×%d, built in %.1f s" % (
        len(scene.objects["Hero"].data.polygons), n_inst, w, h, time.perf_counter() - t))
    # a user view through the camera, as wide as its 50 mm lens (user views zoom by 2)
    view_matrix = tuple(v for row in scene.camera.matrix_world.inverted() for v in row)
    view = vp.ViewState(width=w, height=h, view_matrix=view_matrix, lens=100.0)
    session = vp.ViewportSession()
    _record_cpu_at_first_pixels(session)
    results = {"machine": info, "args": {"size": [w, h], "triangles": n_tris, "instances": n_inst, "repeat": repeat,
                                         "threads": args.threads}}
    try:
        t = time.perf_counter()
        rep = session.update(bpy.context.evaluated_depsgraph_get(), view)
        st = session.wait(rep.generation, timeout=600)
        print("first export + BVH build + first image: %.2f s (export %.2f s, set_scene %.2f s)" % (
            st.first_pixels - t, rep.seconds, st.set_scene_seconds[0]))
        def moves(target, force_export=False):
            return measure_moves(bpy, vp, oc, session, view, scene, target, repeat, force_export)

        cases = [
            ("move a plain object (transform patch)", moves("Mover")),
            ("move the 1M-triangle object (patch)", moves("Hero")),
            ("move, forced full cached export", moves("Mover", force_export=True)),
        ]
        view_rows, view = measure_view(vp, session, view, repeat)
        cases.append(("pan the view (camera only)", view_rows))
        validate = validate_seconds(oc, vp, session)
        rows, results["latency"] = [], []
        n = len(FIELDS)
        for name, case in cases:
            med = [statistics.median(x[i] for x in case) * 1000 for i in range(n)]
            kinds = sorted({x[n].kind for x in case})
            best = min(x[n - 1] * 1000 for x in case)
            first_sizes = sorted({x[n + 1] for x in case})
            cpu = statistics.median(x[n + 2] for x in case) * 1000
            rows.append([name, "/".join(kinds), "/".join(map(str, first_sizes)), *("%.1f" % m for m in med),
                         "%.1f" % best, "%.1f" % cpu])
            results["latency"].append({"case": name, "kind": kinds, "first_pixel_sizes": first_sizes,
                                       "median_ms": dict(zip(FIELDS, med)), "best_total_ms": best,
                                       "all_total_ms": [x[n - 1] * 1000 for x in case], "median_cpu_ms": cpu})
        print()
        used = sorted({size for row in results["latency"] for size in row["first_pixel_sizes"]})
        print("change → first new pixels (first pixel size %s), median of %d, ms:" % (
            ", ".join("%d: a %d×%d film" % (ps, -(-w // ps), -(-h // ps)) for ps in used), repeat))
        print(C.format_table(["change", "path", "1st pixel size", *FIELDS, "best total", "CPU ms"], rows))
        print("Python validation of the exported dict: %s" % ", ".join(
            "%s %.2f ms" % (k, v * 1000) for k, v in validate.items()))
        results["validate_ms"] = {k: v * 1000 for k, v in validate.items()}

        ups, sps = measure_progressive(session, 4.0 if args.quick else 8.0)
        print()
        print("progressive at %d×%d (full resolution): %.1f images/s, %.2f samples/s (%.2f M samples/s)" % (
            w, h, ups, sps, sps * w * h / 1e6))
        results["progressive"] = {"images_per_second": ups, "samples_per_second": sps}
        d_scene = session.sync.scene
    finally:
        session.stop()
    assert not any(t.name == "optica-viewport" for t in threading.enumerate())

    sizes = [(w, h)] if args.quick else [(w, h), (1280, 720)]
    den = measure_denoiser(dn, oc, d_scene, sizes, ("fast", "balanced", "high"), args.threads)
    print()
    print("denoiser: Intel Open Image Denoise %s via pyoidn, %s device, colour + albedo + normal (HDR):" % (
        _oidn_version(), "CPU"))
    print(C.format_table(["image", "quality", "s per image", "s per megapixel", "first execute s"],
                         [["%d×%d" % tuple(r["size"]), r["quality"], "%.3f" % r["seconds"],
                           "%.3f" % r["seconds_per_megapixel"], "%.3f" % r["first_seconds"]] for r in den]))
    results["denoiser"] = den
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


def _oidn_version() -> str:
    try:
        from importlib.metadata import version

        return "pyoidn " + version("pyoidn")
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    sys.exit(main())
