# SPDX-License-Identifier: GPL-3.0-or-later
"""What several seeds of one render say that one render cannot: a bias, and the variance.

    .venv/bin/python bench/seed_spread.py tiles --seeds 1,2,3,4 --samples 1024
    .venv/bin/python bench/seed_spread.py variance --scenes hdri,cornell,glossy_glass --seeds 12

`tiles`: the glossy room of tests/test_light_paths_vs_cycles.py with one Light Paths limit
(glossy bounces 0 by default), rendered by both engines with every seed; prints each Optica
render's tile means over the mean of every Cycles render, and the same for each Cycles render
(Cycles against its own mean: the spread a render's luck makes), then the mean over seeds with
its standard error. A tile whose mean over seeds stands several standard errors from 1 is a bias,
not luck.  --scene also takes variants that take one suspect out: "glossy room without
ball", "glossy room, diffuse floor", "glossy room, diffuse side walls".

`variance`: scenes of bench/vs_cycles.py (12 bounces, 1-px box) rendered by Optica with every
seed at --samples (64) and --size (128); prints the per-pixel variance across seeds summed over
the image (the figure of docs/benchmarks.md, *Sampling*) and the image mean.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))
sys.path.insert(0, str(BENCH))
import conftest  # noqa: E402  (isolates Blender's user folders before bpy loads)

import numpy as np  # noqa: E402

import bpy  # noqa: E402
import bpy_scenes as bs  # noqa: E402


def seeds(text: str) -> list[int]:
    return [int(s) for s in text.split(",")] if "," in text else list(range(1, int(text) + 1))


def glossy_room_without_ball(scene) -> None:
    """The glossy room of test_light_paths_vs_cycles without its glass ball (which paths carry a bias)."""
    import test_light_paths_vs_cycles as lp

    lp.glossy_room(scene)
    bpy.data.objects.remove(bpy.data.objects["Ball"])


def glossy_room_diffuse_floor(scene) -> None:
    """The glossy room with a plain diffuse floor."""
    import test_light_paths_vs_cycles as lp

    lp.glossy_room(scene)
    bpy.data.objects["Floor"].data.materials[0] = bs.diffuse("Plain floor", (0.3, 0.3, 0.35))


def glossy_room_diffuse_walls(scene) -> None:
    """The glossy room with plain diffuse side walls instead of rough metal."""
    import test_light_paths_vs_cycles as lp

    lp.glossy_room(scene)
    plain = bs.diffuse("Plain walls", (0.9, 0.85, 0.8))
    for name in ("Left", "Right"):
        bpy.data.objects[name].data.materials[0] = plain


def glossy_room_mesh_light(scene) -> None:
    """The glossy room lit by an emissive quad (front side only: black on its back, as the lamp's
    back emits nothing) where the area light was: mesh-light sampling instead of the area light's."""
    import test_light_paths_vs_cycles as lp

    lp.glossy_room(scene)
    lamp = next(o for o in bpy.data.objects if o.type == "LIGHT")
    bpy.data.objects.remove(lamp)
    mat = bpy.data.materials.new("Panel light")
    nt = mat.node_tree
    nt.nodes.clear()
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    mix = nt.nodes.new("ShaderNodeMixShader")
    emit = nt.nodes.new("ShaderNodeEmission")
    emit.inputs["Strength"].default_value = 150.0 / 1.44  # the lamp's 150 W over its 1.44 m²
    back = nt.nodes.new("ShaderNodeBsdfDiffuse")
    back.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    geo = nt.nodes.new("ShaderNodeNewGeometry")
    nt.links.new(geo.outputs["Backfacing"], mix.inputs["Fac"])
    nt.links.new(emit.outputs["Emission"], mix.inputs[1])
    nt.links.new(back.outputs["BSDF"], mix.inputs[2])
    nt.links.new(mix.outputs["Shader"], out.inputs["Surface"])
    z = 2.95  # faces down (-Z): counter-clockwise seen from below
    bs.mesh_object(scene, "Panel", [(-0.6, -0.2, z), (-0.6, 1.0, z), (0.6, 1.0, z), (0.6, -0.2, z)], [(0, 1, 2, 3)], mat)


def tiles(args, tmp: Path) -> None:
    import test_light_paths_vs_cycles as lp

    bpy.ops.wm.read_factory_settings(use_empty=True)
    conftest.enable_optica()
    scene = bs.new_empty_scene(*lp.SIZE)
    builders = {**lp.SCENES, "glossy room without ball": glossy_room_without_ball,
                "glossy room, diffuse floor": glossy_room_diffuse_floor,
                "glossy room, diffuse side walls": glossy_room_diffuse_walls,
                "glossy room, mesh light": glossy_room_mesh_light}
    builders[args.scene](scene)
    limits = {args.limit: args.value} if args.limit else {}
    print(f"{args.scene}, {limits or 'default limits'}, {args.samples} spp, seeds {args.seeds}")
    means, images = {}, {}
    for engine in ("cycles", "optica"):
        images[engine] = np.array([lp.render(scene, tmp, engine, args.samples, seed=s, **limits) for s in args.seeds])
        means[engine] = np.array([lp.tile_means(image) for image in images[engine]])
    if args.save:
        np.savez_compressed(args.save, **images)
    reference = means["cycles"].mean(axis=0)
    for engine in ("cycles", "optica"):
        ratios = means[engine] / reference
        for s, r in zip(args.seeds, ratios, strict=True):
            print(f"  {engine} seed {s}: " + " ".join(f"{x:.4f}" for x in r))
        mean = ratios.mean(axis=0)
        err = ratios.std(axis=0, ddof=1) / np.sqrt(len(args.seeds))
        print(f"  {engine} mean over seeds: " + " ".join(f"{m:.4f}" for m in mean))
        print(f"  {engine} its std. error:  " + " ".join(f"{e:.4f}" for e in err))
        if engine == "optica":
            z = (mean - 1) / np.hypot(err, means["cycles"].std(axis=0, ddof=1) / reference / np.sqrt(len(args.seeds)))
            print("  optica (mean - 1) / error: " + " ".join(f"{v:+.1f}" for v in z))


def variance(args, tmp: Path) -> None:
    import vs_cycles as V

    V.CACHE.mkdir(parents=True, exist_ok=True)  # the HDRI scene writes its sky there
    by_key = {s.key: s for s in V.SCENES}
    for key in args.scenes.split(","):
        scene = V.fresh_scene(by_key[key], args.size, args.size)
        images = np.array([V.timed_render(scene, "optica", args.samples, tmp / f"{key}{s}.exr", seed=s)[0]
                           for s in args.seeds])
        print(f"{key}: summed per-pixel variance {images.var(axis=0).sum():.1f}, image mean {images.mean():.5f} "
              f"({len(args.seeds)} seeds x {args.samples} spp, {args.size}^2)", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("tiles", help="tile means over seeds, Optica and Cycles (a bias)")
    t.add_argument("--scene", default="glossy room", help="a scene of test_light_paths_vs_cycles ('glossy room')")
    t.add_argument("--limit", default="glossy_bounces", help="a Light Paths property ('' for the defaults)")
    t.add_argument("--value", type=int, default=0)
    t.add_argument("--samples", type=int, default=1024)
    t.add_argument("--seeds", type=seeds, default=[1, 2, 3, 4], help="'1,2,3,4' or a count N (1..N)")
    t.add_argument("--save", type=Path, metavar="NPZ", help="also write every render (arrays cycles, optica)")
    v = sub.add_parser("variance", help="summed per-pixel variance over seeds (Optica)")
    v.add_argument("--scenes", default="hdri,cornell,glossy_glass")
    v.add_argument("--samples", type=int, default=64)
    v.add_argument("--size", type=int, default=128)
    v.add_argument("--seeds", type=seeds, default=list(range(1, 13)), help="'1,2,3' or a count N (1..N)")
    args = ap.parse_args(argv)
    conftest.install_optica()
    with tempfile.TemporaryDirectory(prefix="optica-seed-spread-") as name:
        (tiles if args.mode == "tiles" else variance)(args, Path(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
