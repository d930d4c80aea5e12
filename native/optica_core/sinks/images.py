# SPDX-License-Identifier: GPL-3.0-or-later
"""Frames as image files: one file per frame, written atomically, with OpenImageIO.

    sequence = ImageSequence(folder, "EXR", processors)   # a Sink: frame k → folder/frame_00000k.exr
    sequence.write(frame)
    frame = sequence.read(k)                              # back as a Frame

Formats:
- EXR: scene-linear half-float RGB, ZIP-compressed (colour management happens when the frames
  are used, e.g. by a VideoSink);
- PNG: 16-bit RGB, display-referred: scene-linear frames are colour-managed on the way in
  (`processors`); read back, they are 8-bit display values rounded as OCIO rounds.

A file on disk is always complete: each is written under a temporary name and renamed, so a
sequence interrupted by a crash or a kill can be resumed from the files that exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .base import Frame, MissingDependency
from .colour import Processors

FORMATS = {"EXR": ".exr", "PNG": ".png"}


def import_oiio():
    try:
        import OpenImageIO
    except ImportError as e:
        raise MissingDependency(
            f"OpenImageIO is not available (`pip install optica-core[images]`; Blender ships it): {e}"
        ) from e
    return OpenImageIO


def png16_to_uint8(pixels: np.ndarray) -> np.ndarray:
    """16-bit display values → 8 bits, rounded as OCIO rounds float to 8 bits."""
    return np.floor(pixels.astype(np.float32) * np.float32(255.0 / 65535.0) + np.float32(0.5)).astype(np.uint8)


def write_image(path: Path, rgb: np.ndarray, fmt: str) -> Path:
    """Writes (h, w, 3+) pixels atomically: EXR from scene-linear float, PNG from display
    values in [0, 1]. Returns `path`."""
    oiio = import_oiio()
    path = Path(path)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    rgb = np.ascontiguousarray(rgb[..., :3])
    h, w = rgb.shape[:2]
    if fmt == "EXR":
        spec = oiio.ImageSpec(w, h, 3, "half")
        spec.attribute("compression", "zip")
        pixels = rgb.astype(np.float32, copy=False)
    elif fmt == "PNG":
        spec = oiio.ImageSpec(w, h, 3, "uint16")
        spec.attribute("png:compressionLevel", 1)  # temporary files: speed over size
        pixels = np.rint(np.clip(rgb, 0.0, 1.0) * 65535.0).astype(np.uint16)
    else:
        raise ValueError(f"unknown image format {fmt!r} ({', '.join(FORMATS)})")
    out = oiio.ImageOutput.create(str(tmp))
    if out is None or not out.open(str(tmp), spec):
        raise OSError(f"cannot write {tmp}: {oiio.geterror()}")
    try:
        if not out.write_image(pixels):
            raise OSError(f"cannot write {tmp}: {out.geterror()}")
    finally:
        out.close()
    os.replace(tmp, path)
    return path


def read_image(path: Path, fmt: str) -> np.ndarray:
    """(h, w, 3): float32 scene-linear (EXR) or uint8 display values (PNG)."""
    oiio = import_oiio()
    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise OSError(f"cannot read {path}: {oiio.geterror()}")
    try:
        spec = inp.spec()
        pixels = inp.read_image(oiio.FLOAT if fmt == "EXR" else oiio.UINT16)
    finally:
        inp.close()
    if pixels is None:
        raise OSError(f"cannot read {path}")
    rgb = np.asarray(pixels).reshape(spec.height, spec.width, spec.nchannels)[..., :3]
    return rgb if fmt == "EXR" else png16_to_uint8(rgb)


class ImageSequence:
    """A Sink writing each frame to `folder/frame_<index:06d>.<ext>` (see the module docstring).
    Closing or aborting leaves the files: what to keep is the owner's decision."""

    def __init__(self, folder, fmt: str = "EXR", processors: Processors | None = None):
        if fmt not in FORMATS:
            raise ValueError(f"unknown frame format {fmt!r} ({', '.join(FORMATS)})")
        self.folder = Path(folder)
        self.format = fmt
        self.suffix = FORMATS[fmt]
        self.processors = processors

    def path(self, index: int) -> Path:
        return self.folder / f"frame_{index:06d}{self.suffix}"

    def existing(self, count: int) -> list[int]:
        """The indices below `count` whose file exists."""
        return [i for i in range(count) if self.path(i).is_file()]

    def write(self, frame: Frame) -> None:
        pixels = frame.pixels
        if self.format == "PNG" and not frame.display_referred:
            if self.processors is None:
                raise ValueError("PNG frames are display-referred: a scene-linear frame needs colour processors")
            pixels = self.processors.get(frame.view).to_display(pixels)
        elif self.format == "EXR" and frame.display_referred:
            raise ValueError("EXR frames are scene-linear: got a display-referred frame")
        write_image(self.path(frame.index), pixels, self.format)

    def read(self, index: int, view=None) -> Frame:
        """Frame `index` from disk: scene-linear (EXR, shown with `view`) or display-referred (PNG)."""
        pixels = read_image(self.path(index), self.format)
        return Frame(pixels, index=index, view=view, display_referred=self.format == "PNG")

    def bytes_per_frame(self, width: int, height: int) -> int:
        """An upper bound of one frame file's size (noise compresses badly)."""
        return width * height * 6 + 4096

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass
