# SPDX-License-Identifier: GPL-3.0-or-later
"""Renders the README's pictures: test scenes with Optica and with Cycles, side by side.

    .venv/bin/python tools/readme_images.py [--size 256] [--samples 128]

Writes docs/images/<scene>.png: Cycles on the left, Optica on the right, same samples, both
through Blender's own colour management (Standard view) as PNGs Blender saves.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import conftest  # noqa: E402  (isolates Blender's user folders before bpy loads)

import bpy  # noqa: E402
import bpy_scenes as bs  # noqa: E402
from PIL import Image  # noqa: E402

SCENES = {
    "cornell_box": bs.cornell_box,
    "spheres": bs.spheres_sun_world,
    "area_light": lambda s: bs.lit_plane(s, "AREA", "RECTANGLE"),
}


def render_png(scene, path: Path) -> Image.Image:
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return Image.open(path).convert("RGB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=128)
    args = parser.parse_args()
    conftest.install_optica()
    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in SCENES.items():
            bpy.ops.wm.read_factory_settings(use_empty=True)
            conftest.enable_optica()
            scene = bs.new_empty_scene(args.size, args.size)
            build(scene)
            bs.configure_cycles(scene, args.samples)
            cycles = render_png(scene, Path(tmp) / "cycles.png")
            bs.configure_optica(scene, args.samples)
            optica = render_png(scene, Path(tmp) / "optica.png")
            pair = Image.new("RGB", (2 * args.size + 8, args.size), "white")
            pair.paste(cycles, (0, 0))
            pair.paste(optica, (args.size + 8, 0))
            pair.save(out / f"{name}.png", optimize=True)
            print(f"wrote {out / f'{name}.png'}")


if __name__ == "__main__":
    main()
