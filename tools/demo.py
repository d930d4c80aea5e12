"""Render the built-in Cornell box with optica_core and save it as an sRGB PNG.

Run through `python build.py demo [--width W --height H --samples N --out PATH]`, which builds
everything first and runs this with .venv's Python.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

import optica_core
from optica_core.scenes import cornell_box

ROOT = Path(__file__).resolve().parent.parent


def linear_to_srgb8(rgb: np.ndarray) -> np.ndarray:
    """Linear Rec.709 RGB (float) -> 8-bit sRGB: clip to [0, 1], sRGB OETF, round."""
    x = np.clip(np.nan_to_num(rgb, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    s = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)
    return np.clip(np.rint(s * 255.0), 0, 255).astype(np.uint8)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--samples", type=int, default=64, help="samples per pixel")
    ap.add_argument("--chunk", type=int, default=8, help="samples per accumulate() call")
    ap.add_argument("--threads", type=int, default=0, help="0 = all cores")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "demo.png")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    scene = cornell_box(width=a.width, height=a.height)
    r = optica_core.Renderer(threads=a.threads)
    r.set_scene(scene)
    print(f"demo: Cornell box {a.width}x{a.height}, scene set in {time.perf_counter() - t0:.2f} s",
          flush=True)

    t1 = time.perf_counter()
    while r.samples < a.samples:
        before = r.samples
        r.accumulate(min(a.chunk, a.samples - r.samples))
        if r.samples <= before:
            raise RuntimeError(f"accumulate() added no samples (still {r.samples} spp)")
        dt = time.perf_counter() - t1
        rate = a.width * a.height * r.samples / dt / 1e6 if dt > 0 else float("inf")
        print(f"demo: {r.samples:4d}/{a.samples} spp  {dt:6.2f} s  {rate:6.2f} M samples/s", flush=True)

    img = linear_to_srgb8(np.asarray(r.color)[..., :3])  # row 0 is the top, as PNG wants
    a.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img, "RGB").save(a.out)
    print(f"demo: wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
