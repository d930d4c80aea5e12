# SPDX-License-Identifier: GPL-3.0-or-later
"""The renderers bench/vs_peers.py compares, each behind one small adapter, and the worker process
that serves one of them: `python bench/peers.py ENGINE SCENE.npz` reads commands on stdin.

A benchmark scene here is *neutral*: world-space triangles of Lambertian materials, rectangular
area lights given by their radiance (and the albedo of their own surface, for the engines whose
emitters are surfaces that rays hit), a sun given by its irradiance, a constant world, a pinhole
camera in Blender's conventions, a bounce limit in Cycles' sense — what every engine can load
the same way (bench/vs_peers.py writes it from optica_core.scenes). Each engine runs in its own
process: Mitsuba 3 and LuxCore cannot share one (their bundled libraries clash), and a worker
per engine lets the benchmark alternate engines render by render.

Protocol (one line each way): `render SPP SEED OUT.npy` → `{"seconds": s}` (the image written to
OUT.npy as float32 (h, w, 3), top row first); `quit`. At start the worker prints `ready {...}` or
`unavailable REASON` (the engine is not installed or cannot start).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np


def load_neutral(path: Path) -> dict:
    """The scene written by vs_peers.write_neutral: a json header plus arrays."""
    with np.load(path, allow_pickle=False) as z:
        scene = json.loads(str(z["header"]))
        for i, mesh in enumerate(scene["meshes"]):
            mesh["vertices"], mesh["triangles"] = z[f"v{i}"], z[f"t{i}"]
            mesh["normals"] = z[f"n{i}"] if f"n{i}" in z else None
    return scene


def _look(matrix) -> tuple[list, list, list]:
    """(origin, target, up) of a Blender camera or light matrix (looking along its −Z, +Y up)."""
    m = np.asarray(matrix, np.float64).reshape(4, 4)
    origin = m[:3, 3]
    return origin.tolist(), (origin - m[:3, 2]).tolist(), m[:3, 1].tolist()


# ---- Optica -------------------------------------------------------------------------------------

class OpticaEngine:
    name = "optica"

    def __init__(self, scene: dict, max_bounces: int | None = None):
        import optica_core

        if max_bounces is not None:
            scene = dict(scene, max_bounces=max_bounces)
        self.renderer = optica_core.Renderer(threads=0)
        self.dict = self.scene_dict(scene)
        self.renderer.set_scene(self.dict)
        self.version = getattr(optica_core, "__version__", "?")

    def scene_dict(self, s: dict) -> dict:
        import optica_core.scenes as sc

        d = sc._scene(s["width"], s["height"], {"type": "perspective", "matrix": np.asarray(s["camera"]["matrix"],
                      np.float32), "lens": s["camera"]["lens"], "sensor_width": s["camera"]["sensor_width"],
                      "sensor_fit": "AUTO"}, max_bounces=s["max_bounces"])
        d["render"].update(filter="box", filter_width=1.0, seed=0)
        d["world"] = {"color": tuple(s["world"]), "strength": 1.0}
        for i, mesh in enumerate(s["meshes"]):
            name = f"m{i}"
            d["materials"][name] = {"base_color": tuple(mesh["albedo"]), "specular": 0.0, "roughness": 1.0}
            d["meshes"][name] = {"vertices": mesh["vertices"], "triangles": mesh["triangles"], "materials": [name]}
            if mesh["normals"] is not None:
                d["meshes"][name]["normals"] = mesh["normals"]
            d["instances"].append({"geometry": name, "transforms": np.eye(4, dtype=np.float32)[None]})
        for i, light in enumerate(s["area_lights"]):
            radiance = np.asarray(light["radiance"], float)
            sx, sy = light["size"]
            peak = float(radiance.max())
            d["lights"][f"area{i}"] = {"type": "area", "shape": "rectangle", "size_x": sx, "size_y": sy,
                                       "power": peak * math.pi * sx * sy, "color": tuple(radiance / peak),
                                       "matrix": np.asarray(light["matrix"], np.float32)}
        if s.get("sun"):
            irradiance = np.asarray(s["sun"]["irradiance"], float)
            peak = float(irradiance.max())
            towards = -np.asarray(s["sun"]["direction"], float)
            d["lights"]["sun"] = {"type": "sun", "strength": peak, "color": tuple(irradiance / peak), "angle": 0.0,
                                  "matrix": sc.look_at(towards * 10.0, (0.0, 0.0, 0.0))}
        return d

    def render(self, spp: int, seed: int) -> np.ndarray:
        if self.dict["render"]["seed"] != seed:
            self.dict["render"]["seed"] = seed
            self.renderer.set_scene(self.dict)  # the same arrays: every BVH is reused
        self.renderer.reset()
        self.renderer.accumulate(spp)
        return np.array(self.renderer.color[..., :3], np.float64)


# ---- Mitsuba 3 ----------------------------------------------------------------------------------

class MitsubaEngine:
    """Mitsuba 3's `path` integrator (NEE + MIS, Russian roulette from depth 5), independent
    sampler, 1-px box filter. Its max_depth counts the camera ray's hit as depth 1 and the direct
    light at the last vertex as one more: Cycles' `max_bounces` B is Mitsuba's max_depth B + 2
    (FACTS.md; checked by bench/vs_peers.py --depth-check)."""

    LANES = 1 << 21  # pixels × samples per pass of the wavefront variants: bounds their memory

    def __init__(self, scene: dict, variant: str, max_depth: int | None = None):
        import mitsuba as mi

        mi.set_variant(variant)
        self.mi, self.variant = mi, variant
        self.pixels = scene["width"] * scene["height"]
        self.scene = mi.load_dict(self.scene_dict(scene, max_depth or scene["max_bounces"] + 2))
        self.version = mi.__version__

    def scene_dict(self, s: dict, max_depth: int) -> dict:
        mi = self.mi
        T = mi.ScalarTransform4f
        origin, target, up = _look(s["camera"]["matrix"])
        fov = math.degrees(2 * math.atan(0.5 * s["camera"]["sensor_width"] / s["camera"]["lens"]))
        d = {"type": "scene",
             # Blender's lights are not seen by the camera; Mitsuba's emitters are, unless hidden
             # (which hides the world too: vs_peers writes no scene with both, _check_lights).
             "integrator": {"type": "path", "max_depth": max_depth, "hide_emitters": bool(s["area_lights"])},
             "sensor": {"type": "perspective", "fov": fov, "fov_axis": "larger",
                        "to_world": T().look_at(origin=origin, target=target, up=up),
                        "film": {"type": "hdrfilm", "width": s["width"], "height": s["height"],
                                 "rfilter": {"type": "box"}, "pixel_format": "rgb"},
                        "sampler": {"type": "independent"}}}
        if max(s["world"]) > 0:
            d["world"] = {"type": "constant", "radiance": {"type": "rgb", "value": list(s["world"])}}
        for i, mesh in enumerate(s["meshes"]):
            d[f"mesh{i}"] = self.mesh(mesh, i)
        for i, light in enumerate(s["area_lights"]):
            sx, sy = light["size"]
            # Mitsuba's rectangle spans [−1, 1]² facing +Z; Blender's area light emits along −Z.
            m = np.asarray(light["matrix"], np.float64).reshape(4, 4) @ np.diag([sx / 2, -sy / 2, -1.0, 1.0])
            d[f"light{i}"] = {"type": "rectangle", "to_world": T(m.tolist()),
                              "bsdf": {"type": "diffuse", "reflectance": {"type": "rgb", "value": list(light["albedo"])}},
                              "emitter": {"type": "area", "radiance": {"type": "rgb", "value": list(light["radiance"])}}}
        if s.get("sun"):
            d["sun"] = {"type": "directional", "direction": list(s["sun"]["direction"]),
                        "irradiance": {"type": "rgb", "value": list(s["sun"]["irradiance"])}}
        return d

    def mesh(self, mesh: dict, i: int):
        mi = self.mi
        v, t = mesh["vertices"], mesh["triangles"]
        has_normals = mesh["normals"] is not None
        m = mi.Mesh(f"mesh{i}", len(v), len(t), has_vertex_normals=has_normals)
        params = mi.traverse(m)
        # The buffers' own types: Dr.Jit arrays in the LLVM variants, dynamic arrays in the scalar ones.
        for key, array, dtype in (("vertex_positions", v, np.float32), ("faces", t, np.uint32),
                                  ("vertex_normals", mesh["normals"], np.float32)):
            if array is not None:
                params[key] = type(params[key])(np.ascontiguousarray(array, dtype).ravel())
        params.update()
        m.set_bsdf(mi.load_dict({"type": "diffuse", "reflectance": {"type": "rgb", "value": list(mesh["albedo"])}}))
        return m

    def render(self, spp: int, seed: int) -> np.ndarray:
        mi = self.mi
        per_pass = max(1, min(spp, self.LANES // self.pixels)) if self.variant.startswith("llvm") else spp
        total, done, k = None, 0, 0
        while done < spp:
            n = min(per_pass, spp - done)
            image = np.asarray(mi.render(self.scene, spp=n, seed=seed * 100003 + k), np.float64)[..., :3]
            total = image * n if total is None else total + image * n
            done, k = done + n, k + 1
        return total / spp


# ---- LuxCoreRender ------------------------------------------------------------------------------

class LuxCoreEngine:
    """LuxCoreRender's PATHCPU through pyluxcore: matte materials, emissive rectangles for the
    area lights (radiance = emission × gain), a `sun`-free `distant` light, a constant world
    (`constantinfinite`), a box filter of 1 px, Sobol' sampler."""

    def __init__(self, scene: dict):
        import pyluxcore

        pyluxcore.Init(lambda message: None)
        self.lux = pyluxcore
        self.version = pyluxcore.Version()
        self.width, self.height = scene["width"], scene["height"]
        self.lux_scene = self.build(scene)

    def build(self, s: dict):
        lux = self.lux
        scene = lux.Scene()
        props = lux.Properties()
        origin, target, up = _look(s["camera"]["matrix"])
        fov = math.degrees(2 * math.atan(0.5 * s["camera"]["sensor_width"] / s["camera"]["lens"]))
        # LuxCore's `fieldofview` spans the smaller image side.
        if s["width"] > s["height"]:
            fov = math.degrees(2 * math.atan(math.tan(math.radians(fov) / 2) * s["height"] / s["width"]))
        props.SetFromString(
            f"scene.camera.type = \"perspective\"\n"
            f"scene.camera.lookat.orig = {origin[0]} {origin[1]} {origin[2]}\n"
            f"scene.camera.lookat.target = {target[0]} {target[1]} {target[2]}\n"
            f"scene.camera.up = {up[0]} {up[1]} {up[2]}\n"
            f"scene.camera.fieldofview = {fov}\n")
        if max(s["world"]) > 0:
            w = s["world"]
            props.SetFromString(f"scene.lights.world.type = \"constantinfinite\"\nscene.lights.world.color = "
                                f"{w[0]} {w[1]} {w[2]}\nscene.lights.world.gain = 1 1 1\n")
        if s.get("sun"):
            e, dirn = s["sun"]["irradiance"], s["sun"]["direction"]
            props.SetFromString(f"scene.lights.sun.type = \"sharpdistant\"\nscene.lights.sun.color = "
                                f"{e[0]} {e[1]} {e[2]}\nscene.lights.sun.gain = 1 1 1\n"
                                f"scene.lights.sun.direction = {dirn[0]} {dirn[1]} {dirn[2]}\n")
        for i, mesh in enumerate(s["meshes"]):
            a = mesh["albedo"]
            props.SetFromString(f"scene.materials.mat{i}.type = \"matte\"\n"
                                f"scene.materials.mat{i}.kd = {a[0]} {a[1]} {a[2]}\n")
            self.define_mesh(scene, f"mesh{i}", mesh["vertices"], mesh["triangles"], mesh["normals"])
            props.SetFromString(f"scene.objects.obj{i}.shape = \"mesh{i}\"\nscene.objects.obj{i}.material = \"mat{i}\"\n")
        for i, light in enumerate(s["area_lights"]):
            sx, sy = light["size"]
            m = np.asarray(light["matrix"], np.float64).reshape(4, 4)
            corners = np.array([[-sx / 2, -sy / 2, 0, 1], [-sx / 2, sy / 2, 0, 1],
                                [sx / 2, sy / 2, 0, 1], [sx / 2, -sy / 2, 0, 1]]) @ m.T  # facing −Z (emits down)
            r = light["radiance"]
            a = light["albedo"]
            props.SetFromString(f"scene.materials.emit{i}.type = \"matte\"\n"
                                f"scene.materials.emit{i}.kd = {a[0]} {a[1]} {a[2]}\n"
                                f"scene.materials.emit{i}.emission = {r[0]} {r[1]} {r[2]}\n"
                                f"scene.materials.emit{i}.emission.gain = 1 1 1\n"
                                f"scene.materials.emit{i}.emission.power = 0\n"
                                f"scene.materials.emit{i}.emission.efficency = 0\n")
            self.define_mesh(scene, f"light{i}", corners[:, :3], np.array([[0, 1, 2], [0, 2, 3]]), None)
            props.SetFromString(f"scene.objects.lobj{i}.shape = \"light{i}\"\n"
                                f"scene.objects.lobj{i}.material = \"emit{i}\"\n"
                                f"scene.objects.lobj{i}.camerainvisible = 1\n")
        scene.Parse(props)
        self.depth = s["max_bounces"] + 2
        return scene

    def define_mesh(self, scene, name, vertices, triangles, normals):
        v = [tuple(map(float, p)) for p in np.asarray(vertices, np.float32)]
        t = [tuple(map(int, f)) for f in np.asarray(triangles, np.int64)]
        n = None if normals is None else [tuple(map(float, p)) for p in np.asarray(normals, np.float32)]
        scene.DefineMesh(name, v, t, n, None, None, None)

    def render(self, spp: int, seed: int) -> np.ndarray:
        lux = self.lux
        cfg = lux.Properties()
        cfg.SetFromString(
            f"renderengine.type = \"PATHCPU\"\nsampler.type = \"SOBOL\"\n"
            f"film.width = {self.width}\nfilm.height = {self.height}\n"
            f"film.filter.type = \"BOX\"\nfilm.filter.width = 0.5\n"
            f"path.pathdepth.total = {self.depth}\npath.pathdepth.diffuse = {self.depth}\n"
            f"path.pathdepth.glossy = {self.depth}\npath.pathdepth.specular = {self.depth}\n"
            f"path.clamping.variance.maxvalue = 0\nbatch.haltspp = {spp}\nrenderengine.seed = {seed + 1}\n"
            f"film.outputs.0.type = \"RGB\"\nfilm.outputs.0.filename = \"out.exr\"\n"
            f"film.imagepipelines.0.0.type = \"NOP\"\n")
        session = lux.RenderSession(lux.RenderConfig(cfg, self.lux_scene))
        session.Start()
        while not session.HasDone():
            time.sleep(0.02)
            session.UpdateStats()
        session.Stop()
        buffer = np.zeros((self.height, self.width, 3), np.float32)
        session.GetFilm().GetOutputFloat(lux.FilmOutputType.RGB, buffer)
        return np.asarray(buffer[::-1], np.float64)  # LuxCore's film rows start at the bottom


# ---- the worker -----------------------------------------------------------------------------------

def make_engine(name: str, scene: dict):
    if name.split(":")[0] == "optica":  # optica[:MAX_BOUNCES]
        _, *bounces = name.split(":")
        return OpticaEngine(scene, int(bounces[0]) if bounces else None)
    if name.startswith("mitsuba:"):  # mitsuba:VARIANT[:MAX_DEPTH]
        _, variant, *depth = name.split(":")
        return MitsubaEngine(scene, variant, int(depth[0]) if depth else None)
    if name == "luxcore":
        return LuxCoreEngine(scene)
    raise ValueError(f"unknown engine {name!r}")


def serve(name: str, scene_file: Path) -> int:
    reply = sys.stdout
    sys.stdout = sys.stderr  # engines' chatter goes to stderr; stdout carries the protocol only
    try:
        engine = make_engine(name, load_neutral(scene_file))
    except ImportError as e:
        print(f"unavailable {name}: {e}", file=reply, flush=True)
        return 0
    except Exception as e:  # noqa: BLE001 - reported to the benchmark in one line
        print(f"unavailable {name}: {type(e).__name__}: {e}", file=reply, flush=True)
        return 0
    print("ready " + json.dumps({"engine": name, "version": str(engine.version), "pid": os.getpid()}),
          file=reply, flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        spp, seed, out = int(words[1]), int(words[2]), words[3]
        start = time.perf_counter()
        image = engine.render(spp, seed)
        seconds = time.perf_counter() - start
        np.save(out, np.ascontiguousarray(image, np.float32))
        print(json.dumps({"seconds": seconds}), file=reply, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], Path(sys.argv[2])))
