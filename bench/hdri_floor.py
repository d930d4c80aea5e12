#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which engine integrates an HDR environment right: a diffuse floor (albedo 0.5) under
bench/vs_cycles.py's HDRI (a hard 2° sun disk of 400 over a sky), direct light only, seen from
straight above; each engine's floor radiance against the integral of the very pixels Blender
loaded (0.5/π · Σ L · sin(elevation) · dω over the upper hemisphere, texel by texel).

    .venv/bin/python bench/hdri_floor.py [--samples 1024] [--srgb]

Needs `python build.py` first. Prints each engine's mean and its ratio to the integral, and
Cycles' with its world importance sampling off (`sampling_method` NONE) for comparison.
--srgb: the same sky in a float EXR in the sRGB colour space (sRGB-encoded values, as Blender's
`Image.save` writes a float image): Cycles samples such a file encoded — interpolates, then
decodes —, which puts both engines 3-6 % below the integral of Blender's decoded pixels.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.argv, ARGS = sys.argv[:1], sys.argv[1:]  # vs_cycles parses nothing at import, but keep argv clean
sys.path.insert(0, str(Path(__file__).resolve().parent))
import vs_cycles as V  # noqa: E402  (sets up the Blender environment and the scene helpers)

bpy, bs, S = V.bpy, V.bs, V.S


def load(path: Path, colorspace: str):
    image = bpy.data.images.load(str(path), check_existing=True)
    image.colorspace_settings.name = colorspace
    return image


def srgb_encoded_copy(path: Path) -> Path:
    """The sky of `path` written sRGB-encoded (float EXR), to be loaded in the sRGB colour space."""
    import OpenEXR

    with OpenEXR.File(str(path), separate_channels=True) as f:
        linear = {name: np.asarray(channel.pixels, np.float64) for name, channel in f.channels().items()}
    encoded = {name: np.where(v < 0.0031308, v * 12.92, 1.055 * np.maximum(v, 0.0031308) ** (1 / 2.4) - 0.055)
               .astype(np.float32) for name, v in linear.items()}
    out = path.with_name(path.stem + "_srgb.exr")
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, encoded) as f:
        f.write(str(out))
    return out


def floor_under_hdri(path: Path, colorspace: str):
    def build(scene):
        world = bs.world(scene, (1.0, 1.0, 1.0))
        env = world.node_tree.nodes.new("ShaderNodeTexEnvironment")
        env.image = load(path, colorspace)
        world.node_tree.links.new(env.outputs["Color"], world.node_tree.nodes["Background"].inputs["Color"])
        bs.plane(scene, "Floor", 1000.0, bs.diffuse("Floor", (0.5, 0.5, 0.5)))
        bs.camera(scene, (0.0, 0.0, 5.0), (0, 0, 0), lens=40)

    return build


def expected_floor(path: Path, colorspace: str) -> np.ndarray:
    image = load(path, colorspace)
    width, height = image.size
    pixels = np.array(image.pixels[:], np.float64).reshape(height, width, 4)[..., :3]  # bottom row first
    elevation = ((np.arange(height) + 0.5) / height - 0.5) * math.pi
    solid_angle = (2 * math.pi / width) * (math.pi / height) * np.cos(elevation)
    irradiance = (pixels * (np.maximum(np.sin(elevation), 0) * solid_angle)[:, None, None]).sum((0, 1))
    return 0.5 * irradiance / math.pi


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--srgb", action="store_true", help="the sky as an sRGB-encoded float EXR in the sRGB colour space")
    a = p.parse_args(ARGS)
    V.CACHE.mkdir(parents=True, exist_ok=True)
    V.conftest.install_optica()
    path = S.environment_image(V.CACHE / "sky.exr")
    colorspace = "Linear Rec.709"
    if a.srgb:
        path, colorspace = srgb_encoded_copy(path), "sRGB"
    V.BOUNCES = 0
    scene = V.fresh_scene(V.BenchScene("floor", "floor under the HDRI", floor_under_hdri(path, colorspace)), 32, 32)
    expected = expected_floor(path, colorspace)
    print(f"{path.name} in {colorspace}")
    print("integral of the loaded pixels:", np.round(expected, 5))
    with tempfile.TemporaryDirectory(prefix="optica-hdri-floor-") as tmp:
        for engine, method in (("optica", None), ("cycles", "AUTOMATIC"), ("cycles", "NONE")):
            if method:
                scene.world.cycles.sampling_method = method
            image, *_ = V.timed_render(scene, engine, a.samples, Path(tmp) / "floor.exr", seed=5)
            mean = image.reshape(-1, 3).mean(0)
            label = engine + (f" (world sampling {method})" if method else "")
            print(f"{label:36s} {np.round(mean, 5)}  / integral {np.round(mean / expected, 4)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
