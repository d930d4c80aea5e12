#!/usr/bin/env python3
"""Scene conversion speed: Blender depsgraph → Optica scene dict, side by side with Cycles' sync.

    python bench/convert.py               # 1M-triangle mesh and 100,000 instances (~1 minute on 2 cores)
    python bench/convert.py --quick       # 100k triangles and 10,000 instances
    python bench/convert.py --material    # only the 200-node material (a few seconds)
    python bench/convert.py --curves      # only the curves: a 2M-point Curves object, particle hair
    python bench/convert.py --json out.json

Needs the venv with bpy 5.0 and optica_core (`python build.py`); the exporter is loaded from
this source tree (addon/export). Two scenes, built by script:
- mesh: a smooth-shaded, UV-mapped grid of 999,698 triangles (`primitive_grid_add`, 707 × 707 quads);
- instances: geometry nodes "Instance on Points", a 12-triangle cube on 100,172 grid points.

What is measured, each the best of --repeat runs (seconds, wall clock):
- Optica export, from a render depsgraph (inside `RenderEngine.render` of a bench-only engine,
  as the final render does it):
  * cold — a new SceneExporter: everything converted;
  * next frame — the next `render()` with the same exporter: Blender hands over a new depsgraph
    (no persistent data), so nothing can be recognised by session_uid and the exporter
    recognises unchanged geometry by the digest of its inputs;
- Optica export, viewport style: `evaluated_depsgraph_get()`, export, move the camera, export
  again (the same depsgraph: unchanged geometry is recognised by its session_uid);
- Optica scene→first sample: `bpy.ops.render.render()` at 32×32 with the bench engine (export,
  `Renderer.set_scene` — BVH build —, `accumulate(1)`), minus the same call on an empty scene;
- Cycles scene→first sample: `bpy.ops.render.render()` at 32×32, 1 sample, no adaptive
  sampling, no denoising, CPU, minus the same call on an empty scene (render pipeline and
  engine start-up cancel out; what is left is Cycles' sync, device update and BVH build);
- Cycles sync: from Cycles' first "Synchronizing object" status to its "Initializing" status
  (its own Blender → Cycles scene conversion, timed through `bpy.app.handlers.render_stats`).
Both render() calls include Blender's render depsgraph evaluation (the same for both engines).
Before those, a table of every way bpy 5.0 offers to read each mesh array the exporter needs
(attribute buffers, the RNA collections, Blender's corner_tris copied in one go), and of the two
ways of knowing a mesh was converted before (a SHA-1 of its inputs; comparing them).

The material case (scene dict v2, addon/export/shading.py): a 200-node material built by script
(19 blocks of Mapping, Noise, Voronoi, Math, Color Ramp, Mix, Hue/Saturation, Invert,
Bright/Contrast, Gamma, and two curve nodes), converted to its graph:
- cold — a new converter: the walk, then finishing (curves baked, arrays made);
- unchanged — the same converter again: the walk and its digest, the finished graph reused.
Each the best and the median of --material-repeat runs, in milliseconds (the median shows how
much other processes on the machine disturbed the run).

The curves case (addon/export/curves.py): a Curves object of --curve-points points (default
2,000,000; 8 points a curve, a radius attribute) and a plane with 10,000 particle hairs:
- export cold (a new exporter) and unchanged (the same exporter, the same depsgraph), viewport
  style; `validate_scene` of the result (the core derives intercept, length and random);
- Cycles' sync of the same Curves object (its "Synchronizing" to "Initializing" status);
- particle hair: export cold (the path cache read with `co_hair`, point by point).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZE = 32


def load_exporter_module():
    folder = ROOT / "addon" / "export"
    spec = importlib.util.spec_from_file_location("optica_export_bench", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# scenes


def new_scene(bpy):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.location = (0.0, -12.0, 8.0)
    cam.rotation_euler = (math.radians(55), 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
    scene.collection.objects.link(sun)
    r = scene.render
    r.resolution_x = r.resolution_y = SIZE
    r.resolution_percentage = 100
    r.use_persistent_data = False
    c = scene.cycles
    c.samples, c.use_adaptive_sampling, c.use_denoising, c.device = 1, False, False, "CPU"
    return scene


def mesh_scene(bpy, n_triangles: int):
    scene = new_scene(bpy)
    k = max(1, int(round(math.sqrt(n_triangles / 2))))  # k × k quads
    bpy.ops.mesh.primitive_grid_add(x_subdivisions=k, y_subdivisions=k, size=8.0)
    ob = bpy.context.object
    ob.data.shade_smooth()
    return scene, "grid of %s triangles" % f"{2 * len(ob.data.polygons):,}"


def instances_scene(bpy, n_instances: int):
    scene = new_scene(bpy)
    nx = max(2, int(round(math.sqrt(n_instances))))
    ny = max(2, int(math.ceil(n_instances / nx)))
    ng = bpy.data.node_groups.new("Scatter", "GeometryNodeTree")
    ng.interface.new_socket(name="Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    out = ng.nodes.new("NodeGroupOutput")
    grid = ng.nodes.new("GeometryNodeMeshGrid")
    grid.inputs["Vertices X"].default_value, grid.inputs["Vertices Y"].default_value = nx, ny
    grid.inputs["Size X"].default_value = grid.inputs["Size Y"].default_value = 10.0
    cube = ng.nodes.new("GeometryNodeMeshCube")
    cube.inputs["Size"].default_value = (0.02, 0.02, 0.02)
    iop = ng.nodes.new("GeometryNodeInstanceOnPoints")
    ng.links.new(grid.outputs["Mesh"], iop.inputs["Points"])
    ng.links.new(cube.outputs["Mesh"], iop.inputs["Instance"])
    ng.links.new(iop.outputs["Instances"], out.inputs[0])
    ob = bpy.data.objects.new("Scatter", bpy.data.meshes.new("Scatter"))
    scene.collection.objects.link(ob)
    ob.modifiers.new("GN", "NODES").node_group = ng
    return scene, "%s cube instances (geometry nodes)" % f"{nx * ny:,}"


# ---------------------------------------------------------------------------------------------
# engines


class Probe:
    """What the bench engine did in its last render()."""

    exporter = None
    renderer = None
    timings: list = []
    stats: list = []
    status: list = []


def make_bench_engine(bpy):
    class OpticaConvertBench(bpy.types.RenderEngine):
        bl_idname = "OPTICA_CONVERT_BENCH"
        bl_label = "Optica conversion bench"

        def render(self, depsgraph):
            t0 = time.perf_counter()
            d = Probe.exporter.export(depsgraph)
            t1 = time.perf_counter()
            Probe.renderer.set_scene(d)
            t2 = time.perf_counter()
            Probe.renderer.accumulate(1)
            t3 = time.perf_counter()
            Probe.timings.append({"export": t1 - t0, "set_scene": t2 - t1, "accumulate": t3 - t2})
            Probe.stats.append(dict(Probe.exporter.last_stats))
            r = self.begin_result(0, 0, SIZE, SIZE)
            self.end_result(r)

    return OpticaConvertBench


def _persistent(fn):
    from bpy.app.handlers import persistent

    return persistent(fn)


def on_stats(stats, *_args):
    Probe.status.append((time.perf_counter(), str(stats)))


def timed_render(bpy) -> float:
    Probe.status.clear()
    t0 = time.perf_counter()
    bpy.ops.render.render()
    return time.perf_counter() - t0, t0


def cycles_sync_seconds() -> float | None:
    t_sync = next((t for t, s in Probe.status if "Synchronizing" in s), None)
    t_init = next((t for t, s in Probe.status if s.rstrip().endswith("Initializing")), None)
    if t_sync is None or t_init is None:
        return None
    return t_init - t_sync


# ---------------------------------------------------------------------------------------------


def measure(bpy, oc, export_mod, build, repeat: int) -> dict:
    res = {}
    scene, label = build()
    res["scene"] = label

    # Cycles
    scene.render.engine = "CYCLES"
    totals, syncs = [], []
    for _ in range(repeat):
        dt, _t0 = timed_render(bpy)
        totals.append(dt)
        s = cycles_sync_seconds()
        if s is not None:
            syncs.append(s)
    res["cycles_render_s"] = min(totals)
    res["cycles_sync_s"] = min(syncs) if syncs else None

    # Optica, through a render depsgraph
    scene.render.engine = "OPTICA_CONVERT_BENCH"
    cold, nxt, renders, set_cold, set_next = [], [], [], [], []
    for _ in range(repeat):
        Probe.exporter = export_mod.SceneExporter(log=lambda *a: None, evaluable=oc.shading.NODE_TYPES)
        Probe.renderer = oc.Renderer(threads=0)
        Probe.timings, Probe.stats = [], []
        dt, _t0 = timed_render(bpy)
        renders.append(dt)
        timed_render(bpy)  # the next frame: a new depsgraph, the same exporter and renderer
        cold.append(Probe.timings[0]["export"])
        set_cold.append(Probe.timings[0]["set_scene"])
        nxt.append(Probe.timings[1]["export"])
        set_next.append(Probe.timings[1]["set_scene"])
        res["stats_cold"], res["stats_next"] = Probe.stats[0], Probe.stats[1]
        res["core_geometry_reused_next"] = Probe.renderer.geometry_reused
    res.update(optica_render_s=min(renders), export_cold_s=min(cold), export_next_frame_s=min(nxt),
               set_scene_cold_s=min(set_cold), set_scene_next_s=min(set_next))

    # Optica, viewport style: one depsgraph, the camera moves
    warm = []
    for _ in range(repeat):
        exp = export_mod.SceneExporter(log=lambda *a: None, evaluable=oc.shading.NODE_TYPES)
        exp.export(bpy.context.evaluated_depsgraph_get())
        scene.camera.location.x += 0.1
        dg = bpy.context.evaluated_depsgraph_get()
        t = time.perf_counter()
        exp.export(dg)
        warm.append(time.perf_counter() - t)
        res["stats_camera_moved"] = exp.last_stats
    res["export_camera_moved_s"] = min(warm)
    return res


def measure_mesh_reads(bpy, export_mod, scene, repeat: int) -> dict:
    """Milliseconds (best of `repeat`) of each way bpy 5.0 offers to read the mesh arrays the
    exporter needs, on the evaluated mesh of `scene`'s grid, and of the two ways of knowing it
    was converted before (SHA-1 of the inputs, as before; comparing them with a stored copy)."""
    import hashlib

    import numpy as np

    ob = next(o for o in scene.objects if o.type == "MESH")
    me = ob.evaluated_get(bpy.context.evaluated_depsgraph_get()).data
    nv, nc, nt = len(me.vertices), len(me.loops), len(me.loop_triangles)
    uv_name = me.uv_layers.active.name

    def read(collection, prop, n, dtype):
        return lambda: collection.foreach_get(prop, np.empty(n, dtype))

    ways = {
        "positions: attributes['position'].data 'vector'": read(me.attributes["position"].data, "vector", 3 * nv,
                                                                 np.float32),
        "positions: vertices 'co'": read(me.vertices, "co", 3 * nv, np.float32),
        "corner vertices: attributes['.corner_vert'].data 'value'": read(me.attributes[".corner_vert"].data, "value",
                                                                          nc, np.int32),
        "corner vertices: loops 'vertex_index'": read(me.loops, "vertex_index", nc, np.int32),
        "triangle corners: loop_triangles 'loops'": read(me.loop_triangles, "loops", 3 * nt, np.int32),
        "triangle vertices: loop_triangles 'vertices'": read(me.loop_triangles, "vertices", 3 * nt, np.int32),
        "triangle corners: corner_tris copied in one go (mesh.corner_triangles)":
            lambda: export_mod.mesh.corner_triangles(me, nt),
        "triangle faces: loop_triangle_polygons 'value'": read(me.loop_triangle_polygons, "value", nt, np.int32),
        "vertex normals: vertex_normals 'vector'": read(me.vertex_normals, "vector", 3 * nv, np.float32),
        "UVs: uv_layers[…].uv 'vector'": read(me.uv_layers[uv_name].uv, "vector", 2 * nc, np.float32),
        "UVs: attributes[…].data 'vector'": read(me.attributes[uv_name].data, "vector", 2 * nc, np.float32),
    }
    out = {name: 1e3 * C.best_of(fn, repeat)[0] for name, fn in ways.items()}
    inputs = export_mod.mesh.MeshInputs(me, 1)
    arrays = [a for a in (inputs.positions, inputs.corner_verts, inputs.tri_faces, inputs.normals, inputs.uvs)
              if a is not None]

    def sha1():
        h = hashlib.sha1()
        for a in arrays:
            h.update(a.data.cast("B"))
        return h.digest()

    again = export_mod.mesh.MeshInputs(me, 1)
    out["known before? SHA-1 of the inputs (%.0f MB)" % (sum(a.nbytes for a in arrays) / 1e6)] = \
        1e3 * C.best_of(sha1, repeat)[0]
    out["known before? inputs compared with the stored ones (cache.Content)"] = \
        1e3 * C.best_of(lambda: again.content == inputs.content, repeat)[0]
    return out


def material_tree(bpy, n_nodes: int = 200):
    """A material of about `n_nodes` nodes, all reaching the output (see the module docstring)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    mat = bpy.data.materials.new("Bench200")
    tree = mat.node_tree
    nodes, links = tree.nodes, tree.links
    p = nodes["Principled BSDF"]
    coords = nodes.new("ShaderNodeTexCoord")
    previous = None
    for i in range(max(1, (n_nodes - 5) // 10)):
        mapping = nodes.new("ShaderNodeMapping")
        mapping.inputs["Scale"].default_value = (1.0 + i, 1.0, 1.0)
        noise, voronoi = nodes.new("ShaderNodeTexNoise"), nodes.new("ShaderNodeTexVoronoi")
        add, ramp = nodes.new("ShaderNodeMath"), nodes.new("ShaderNodeValToRGB")
        mix = nodes.new("ShaderNodeMix")
        mix.data_type = "RGBA"
        hue, invert = nodes.new("ShaderNodeHueSaturation"), nodes.new("ShaderNodeInvert")
        bright, gamma = nodes.new("ShaderNodeBrightContrast"), nodes.new("ShaderNodeGamma")
        links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
        links.new(mapping.outputs["Vector"], noise.inputs["Vector"])
        links.new(mapping.outputs["Vector"], voronoi.inputs["Vector"])
        links.new(noise.outputs["Fac"], add.inputs[0])
        links.new(voronoi.outputs["Distance"], add.inputs[1])
        links.new(add.outputs[0], ramp.inputs["Fac"])
        links.new(noise.outputs["Fac"], mix.inputs[0])
        if previous is not None:
            links.new(previous, mix.inputs[6])  # A_Color
        links.new(ramp.outputs["Color"], mix.inputs[7])  # B_Color
        links.new(mix.outputs[2], hue.inputs["Color"])  # Result_Color
        links.new(hue.outputs[0], invert.inputs["Color"])
        links.new(invert.outputs[0], bright.inputs["Color"])
        links.new(bright.outputs[0], gamma.inputs["Color"])
        previous = gamma.outputs[0]
    rgb_curve, float_curve = nodes.new("ShaderNodeRGBCurve"), nodes.new("ShaderNodeFloatCurve")
    rgb_curve.mapping.curves[3].points.new(0.4, 0.6)
    links.new(previous, rgb_curve.inputs["Color"])
    links.new(rgb_curve.outputs[0], p.inputs["Base Color"])
    links.new(coords.outputs["Generated"], float_curve.inputs["Value"])
    links.new(float_curve.outputs[0], p.inputs["Roughness"])
    return mat, len(nodes)


def measure_material(bpy, export_mod, repeat: int) -> dict:
    """Cold and unchanged conversion of the 200-node material to its v2 graph (milliseconds)."""
    mat, n_nodes = material_tree(bpy)
    evaluable = frozenset(n for n in dir(bpy.types) if n.startswith("ShaderNode"))
    texture = lambda node, label: None  # noqa: E731 - no images in this material

    def converter():
        return export_mod.shading.GraphConverter(evaluable, lambda *a: None)

    cold, walk, finish, unchanged = [], [], [], []
    for _ in range(repeat):
        c = converter()
        c.begin_pass()
        t0 = time.perf_counter()
        graph, _requests, _approximated = c.material(mat, texture)
        cold.append(time.perf_counter() - t0)
        c.end_pass()
        c.begin_pass()
        t0 = time.perf_counter()
        again, _requests, _approximated = c.material(mat, texture)
        unchanged.append(time.perf_counter() - t0)
        assert again is graph
        t0 = time.perf_counter()
        extracted = export_mod.materials.material_graph(mat, evaluable, texture, lambda *a: None)
        t1 = time.perf_counter()
        extracted.finish()
        walk.append(t1 - t0)
        finish.append(time.perf_counter() - t1)
    out = {"material_nodes": n_nodes, "graph_nodes": len(graph["nodes"])}
    for key, xs in (("cold", cold), ("unchanged", unchanged), ("walk", walk), ("finish", finish)):
        out[key + "_ms"], out[key + "_median_ms"] = 1e3 * min(xs), 1e3 * statistics.median(xs)
    return out


def print_material(m: dict) -> None:
    print("material of %d nodes (%d in the graph), best (median) of the runs: cold %.2f (%.2f) ms = walk %.2f "
          "(%.2f) + finish %.2f (%.2f); unchanged %.2f (%.2f) ms"
          % (m["material_nodes"], m["graph_nodes"], m["cold_ms"], m["cold_median_ms"], m["walk_ms"],
             m["walk_median_ms"], m["finish_ms"], m["finish_median_ms"], m["unchanged_ms"], m["unchanged_median_ms"]))


def curves_scene(bpy, n_points: int, per_curve: int = 8):
    import numpy as np

    scene = new_scene(bpy)
    n_curves = max(1, n_points // per_curve)
    curves = bpy.data.hair_curves.new("Fur")
    curves.add_curves([per_curve] * n_curves)
    rng = np.random.default_rng(0)
    roots = rng.uniform(-4, 4, (n_curves, 3)) * (1, 1, 0)
    along = np.tile(np.linspace(0, 0.3, per_curve), n_curves)
    points = np.repeat(roots, per_curve, axis=0) + along[:, None] * (0, 0, 1)
    curves.position_data.foreach_set("vector", points.astype(np.float32).ravel())
    radius = curves.attributes.new("radius", "FLOAT", "POINT")
    radius.data.foreach_set("value", np.full(n_curves * per_curve, 0.002, np.float32))
    ob = bpy.data.objects.new("Fur", curves)
    scene.collection.objects.link(ob)
    return scene, n_curves * per_curve


def particle_hair_scene(bpy, n_hairs: int):
    scene = new_scene(bpy)
    bpy.ops.mesh.primitive_plane_add(size=8)
    bpy.ops.object.particle_system_add()
    settings = bpy.context.object.particle_systems[0].settings
    settings.type, settings.count = "HAIR", n_hairs
    return scene


def measure_curves(bpy, oc, export_mod, n_points: int, repeat: int) -> dict:
    """Export of a Curves object (cold, unchanged), its validation, Cycles' sync; particle hair."""
    scene, n = curves_scene(bpy, n_points)
    out = {"curve_points": n}
    cold, warm, valid = [], [], []
    for _ in range(repeat):
        exp = export_mod.SceneExporter(log=lambda *a: None, evaluable=oc.shading.NODE_TYPES)
        dg = bpy.context.evaluated_depsgraph_get()
        t0 = time.perf_counter()
        d = exp.export(dg)
        t1 = time.perf_counter()
        exp.export(dg)
        t2 = time.perf_counter()
        oc.validate_scene(d)
        t3 = time.perf_counter()
        cold.append(t1 - t0)
        warm.append(t2 - t1)
        valid.append(t3 - t2)
    out.update(export_cold_s=min(cold), export_unchanged_s=min(warm), validate_s=min(valid))
    scene.render.engine = "CYCLES"
    syncs = []
    for _ in range(repeat):
        timed_render(bpy)
        s = cycles_sync_seconds()
        if s is not None:
            syncs.append(s)
    out["cycles_sync_s"] = min(syncs) if syncs else None
    hairs = 10_000
    particle_hair_scene(bpy, hairs)
    times = []
    for _ in range(repeat):
        exp = export_mod.SceneExporter(log=lambda *a: None, evaluable=oc.shading.NODE_TYPES)
        dg = bpy.context.evaluated_depsgraph_get()
        t0 = time.perf_counter()
        d = exp.export(dg)
        times.append(time.perf_counter() - t0)
    out["particle_hairs"] = hairs
    out["particle_points"] = int(sum(len(c["points"]) for c in d["curves"].values()))
    out["particle_export_s"] = min(times)
    return out


def print_curves(c: dict) -> None:
    sync = "—" if c["cycles_sync_s"] is None else "%.0f ms" % (1e3 * c["cycles_sync_s"])
    print("Curves object of %s points: export cold %.0f ms, unchanged %.0f ms, validate_scene %.0f ms; "
          "Cycles sync %s" % (f"{c['curve_points']:,}", 1e3 * c["export_cold_s"], 1e3 * c["export_unchanged_s"],
                              1e3 * c["validate_s"], sync))
    print("particle hair, %s hairs (%s points): export cold %.0f ms"
          % (f"{c['particle_hairs']:,}", f"{c['particle_points']:,}", 1e3 * c["particle_export_s"]))


def baseline(bpy, repeat: int) -> dict:
    """render() of an empty scene (camera and sun only): each engine's fixed cost."""
    scene = new_scene(bpy)
    out = {}
    for engine, key in (("CYCLES", "cycles_empty_s"), ("OPTICA_CONVERT_BENCH", "optica_empty_s")):
        scene.render.engine = engine
        times = []
        for _ in range(repeat + 1):  # the first Cycles render loads its kernels
            times.append(timed_render(bpy)[0])
        out[key] = min(times[1:])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100k triangles and 10,000 instances")
    ap.add_argument("--triangles", type=int, help="mesh triangles (default 1,000,000)")
    ap.add_argument("--instances", type=int, help="instances (default 100,000)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement; the best counts (2)")
    ap.add_argument("--json", metavar="FILE", help="write all figures as JSON")
    ap.add_argument("--material", action="store_true", help="only the 200-node material")
    ap.add_argument("--material-repeat", type=int, default=21, help="runs of the material case; the median counts")
    ap.add_argument("--curves", action="store_true", help="only the curves (Curves object, particle hair)")
    ap.add_argument("--curve-points", type=int, default=2_000_000, help="points of the Curves object (2,000,000)")
    args = ap.parse_args(argv)
    n_tris = args.triangles or (100_000 if args.quick else 1_000_000)
    n_inst = args.instances or (10_000 if args.quick else 100_000)

    try:
        import bpy
    except ImportError as e:
        sys.exit("bench/convert.py needs bpy 5.0 (pip install bpy==5.0.1, numpy<2): %s" % e)
    oc = C.import_core()
    export_mod = load_exporter_module()
    info = C.machine_info()
    info["blender"] = bpy.app.version_string
    C.print_machine(info)
    command = ["python", "bench/convert.py", *(argv if argv is not None else sys.argv[1:])]
    print("blender %s; command: %s" % (bpy.app.version_string, " ".join(command)))

    if args.curves:
        bpy.app.handlers.render_stats.append(_persistent(on_stats))
        curves = measure_curves(bpy, oc, export_mod, args.curve_points, max(2, args.repeat))
        print_curves(curves)
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": info, "curves": curves}, indent=1, default=float))
        return 0
    material = measure_material(bpy, export_mod, args.material_repeat)
    print_material(material)
    if args.material:
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": info, "material": material}, indent=1))
        return 0
    bpy.utils.register_class(make_bench_engine(bpy))
    bpy.app.handlers.render_stats.append(_persistent(on_stats))  # survives read_factory_settings
    Probe.exporter = export_mod.SceneExporter(log=lambda *a: None, evaluable=oc.shading.NODE_TYPES)
    Probe.renderer = oc.Renderer(threads=0)
    t_start = time.perf_counter()
    base = baseline(bpy, args.repeat)
    print("empty scene render(): Cycles %.3f s, Optica %.3f s" % (base["cycles_empty_s"], base["optica_empty_s"]))
    scene, label = mesh_scene(bpy, n_tris)
    reads = measure_mesh_reads(bpy, export_mod, scene, max(3, args.repeat))
    print("reading the mesh arrays, %s (best of %d):" % (label, max(3, args.repeat)))
    print(C.format_table(["what", "ms"], [[k, "%.2f" % v] for k, v in reads.items()]))
    runs = []
    for build in (lambda: mesh_scene(bpy, n_tris), lambda: instances_scene(bpy, n_inst)):
        r = measure(bpy, oc, export_mod, build, args.repeat)
        r["cycles_first_sample_s"] = r["cycles_render_s"] - base["cycles_empty_s"]
        r["optica_first_sample_s"] = r["optica_render_s"] - base["optica_empty_s"]
        runs.append(r)
        print("measured: %s" % r["scene"], flush=True)

    def ms(x):
        return "—" if x is None else "%.0f" % (x * 1e3)

    rows = [[r["scene"], ms(r["export_cold_s"]), ms(r["export_next_frame_s"]), ms(r["export_camera_moved_s"]),
             ms(r["cycles_sync_s"]), ms(r["set_scene_cold_s"]), ms(r["optica_first_sample_s"]),
             ms(r["cycles_first_sample_s"])] for r in runs]
    print()
    print(C.format_table(["scene", "Optica export cold ms", "export next frame ms", "export camera moved ms",
                          "Cycles sync ms", "Optica set_scene ms", "Optica scene→1st sample ms",
                          "Cycles scene→1st sample ms"], rows))
    for r in runs:
        print("%s: cold %s; next frame %s; core reused %d geometries on the next frame"
              % (r["scene"], _brief(r["stats_cold"]), _brief(r["stats_next"]), r["core_geometry_reused_next"]))
    total = time.perf_counter() - t_start
    print("\ntotal %.0f s" % total)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "baseline": base, "mesh_reads_ms": reads, "runs": runs,
                                               "material": material, "total_s": total}, indent=1, default=float))
        print("wrote %s" % args.json)
    return 0


def _brief(stats: dict) -> str:
    keys = ("meshes_converted", "meshes_reused", "instances", "seconds_geometry", "seconds_instances")
    return ", ".join("%s=%s" % (k, ("%.3f" % stats[k]) if isinstance(stats[k], float) else stats[k])
                     for k in keys if k in stats)


if __name__ == "__main__":
    sys.exit(main())
