# SPDX-License-Identifier: GPL-3.0-or-later
"""Frames as image files, with one writer: linear OpenEXR with the passes (the `OpenEXR`
bindings), or colour-managed 8-bit PNG / JPEG (Pillow); and `ImageSequence`, the sink that
writes one file per frame and remembers which frames are done.

    writer = ImageWriter("EXR")                          # or ImageWriter("PNG", processors)
    writer.check(passes, folder)                         # before rendering: a clear OutputError
    writer.write(path, frame)                            # atomic: the file is complete or absent
    sequence = ImageSequence(folder, writer, keys)       # a Sink: frame n → folder/frame_00000n.exr
    todo = sequence.pending(frames)                      # missing, or written for another key
    frame = sequence.read(n)                             # back as a Frame

EXR: 32-bit float (16-bit with `half`, for temporary frames), ZIP-compressed, one channel per
pass component — Combined as plain R, G, B(, A) so every viewer shows it, the others as
`EXR_CHANNELS` names them. PNG (8-bit) and JPEG (quality 95) hold display values: a scene-linear
frame goes through the display processor of its view (`colour.Processors`), a display-referred
one is written as it is, so a PNG holds exactly the 8-bit values a video encoder is handed.

Every file is written under a temporary name, fsynced and renamed (`optica_core.io`): a file
on disk is always complete, so a sequence stopped by a crash, a kill or a full disk resumes from
the files that exist. With `keys` (a digest per frame of everything its image depends on), an
append-only log beside the frames (`DONE_LOG`) records which key each file was written for, so a
re-run after a changed frame or setting renders exactly the frames that are stale.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import atomic_path
from .base import Frame, MissingDependency
from .colour import Processors

FORMATS = {"EXR": ".exr", "PNG": ".png", "JPEG": ".jpg"}
SUFFIXES = {".exr": "EXR", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
DONE_LOG = ".optica-done.jsonl"

# Pass name (optica_core.render.PASSES) → its channels in an EXR file.
EXR_CHANNELS = {
    "combined": ("R", "G", "B", "A"),
    "albedo": ("Albedo.R", "Albedo.G", "Albedo.B"),
    "normal": ("Normal.X", "Normal.Y", "Normal.Z"),
    "depth": ("Depth.Z",),
    "object_id": ("ObjectID.X",),
    "noisy": ("Noisy.R", "Noisy.G", "Noisy.B", "Noisy.A"),
}
# What each format needs: (module, pip package).
_LIBRARIES = {"EXR": ("OpenEXR", "openexr"), "PNG": ("PIL.Image", "pillow"), "JPEG": ("PIL.Image", "pillow")}


class OutputError(ValueError):
    """An output that cannot be written as asked, said before anything renders."""


def format_of(path) -> str:
    """'EXR', 'PNG' or 'JPEG' from a file name; an OutputError for anything else."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in SUFFIXES:
        raise OutputError(f"{path}: unknown image format {ext or '(none)'!r} (expected .exr, .png, .jpg or .jpeg)")
    return SUFFIXES[ext]


def import_library(fmt: str):
    """The module that writes `fmt`, or MissingDependency naming the package to install."""
    module, package = _LIBRARIES[fmt]
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:  # the parent package (PIL) is missing
        found = False
    if not found:
        raise MissingDependency(
            f"{fmt} files need the `{package}` package: pip install {package} "
            "(or install optica-core with the [render] or [images] extra; the Optica extension bundles it)"
        )
    return importlib.import_module(module)


@dataclass(frozen=True)
class ImageWriter:
    """Writes frames as files of one format (see the module docstring)."""

    format: str = "EXR"
    processors: Processors | None = None  # PNG/JPEG of scene-linear frames
    half: bool = False  # EXR: 16-bit floats

    def __post_init__(self):
        if self.format not in FORMATS:
            raise OutputError(f"unknown image format {self.format!r} ({', '.join(FORMATS)})")

    @property
    def suffix(self) -> str:
        return FORMATS[self.format]

    @property
    def display_referred(self) -> bool:
        return self.format != "EXR"

    def check(self, passes=("combined",), folder=None) -> None:
        """Everything that can be known before rendering: the library, the passes the format
        holds, the colour management, the folder. A clear OutputError (or MissingDependency)."""
        if folder is not None:
            if not os.path.isdir(folder):
                raise OutputError(f"cannot write into {folder}: it is not an existing folder")
            if not os.access(folder, os.W_OK):
                raise OutputError(f"cannot write into {folder}: permission denied")
        import_library(self.format)
        if not self.display_referred:
            return
        extra = [p for p in passes if p != "combined"]
        if extra:
            raise OutputError(f"{self.format} holds the combined image only (asked for {', '.join(extra)}): use .exr")
        if self.processors is None:
            raise OutputError(f"{self.format} files hold display values: they need colour management (an OCIO view)")
        self.processors.get(None)  # builds the default view's processor: a bad configuration says so now

    def write(self, path, frame: Frame) -> None:
        """Writes `frame` to `path` atomically."""
        with atomic_path(path) as temp:
            if self.display_referred:
                self._write_display(temp, self._display_values(frame))
            else:
                self._write_exr(temp, frame)

    def _display_values(self, frame: Frame) -> np.ndarray:
        if frame.display_referred:
            pixels = np.asarray(frame.pixels)[..., :3]
            return pixels if pixels.dtype == np.uint8 else np.rint(np.clip(pixels, 0, 1) * 255).astype(np.uint8)
        if self.processors is None:
            raise ValueError(f"{self.format} frames are display-referred: a scene-linear frame needs colour processors")
        return self.processors.get(frame.view).to_uint8(frame.pixels)

    def _write_display(self, path: str, rgb8: np.ndarray) -> None:
        image = import_library(self.format).fromarray(np.ascontiguousarray(rgb8), "RGB")
        if self.format == "JPEG":
            image.save(path, "JPEG", quality=95)
        else:
            image.save(path, "PNG", compress_level=1)  # speed over size: frames are many

    def _write_exr(self, path: str, frame: Frame) -> None:
        if frame.display_referred:
            raise ValueError("EXR frames are scene-linear: got a display-referred frame")
        exr = import_library("EXR")
        dtype = np.float16 if self.half else np.float32
        channels = {}
        for name, image in {"combined": frame.pixels, **frame.passes}.items():
            pixels = np.asarray(image)
            pixels = pixels if pixels.ndim == 3 else pixels[..., None]
            for c, channel in enumerate(_channel_names(name, pixels.shape[2])):
                channels[channel] = np.ascontiguousarray(pixels[..., c], dtype=dtype)
        header = {
            "compression": exr.ZIP_COMPRESSION,
            "type": exr.scanlineimage,
            "optica:frame": str(frame.index),
            "optica:samples": str(frame.samples),
        }
        with exr.File(header, channels) as f:
            f.write(path)


def _channel_names(name: str, count: int) -> tuple[str, ...]:
    known = EXR_CHANNELS.get(name)
    if known is not None and count <= len(known):
        return known[:count]
    return tuple(f"{name}.{c}" for c in range(count))


def read_exr(path) -> dict[str, np.ndarray]:
    """{channel name: (h, w) float32} of an EXR file."""
    exr = import_library("EXR")
    with exr.File(os.fspath(path), separate_channels=True) as f:
        return {name: np.array(channel.pixels, dtype=np.float32) for name, channel in f.channels().items()}


def read_image(path, fmt: str) -> np.ndarray:
    """(h, w, c) pixels of a file: float32 scene-linear RGB(A) for EXR (Combined), uint8
    display RGB for PNG/JPEG."""
    if fmt == "EXR":
        channels = read_exr(path)
        names = [c for c in EXR_CHANNELS["combined"] if c in channels]
        if len(names) < 3:
            raise OSError(f"{path}: no R, G, B channels")
        return np.stack([channels[c] for c in names], axis=-1)
    with import_library(fmt).open(path) as image:
        return np.asarray(image.convert("RGB"))


class ImageSequence:
    """A Sink writing frame n to `folder/frame_<n:06d>.<ext>` (see the module docstring).
    Closing or aborting leaves the files: what to keep is the owner's decision."""

    def __init__(self, folder, writer: ImageWriter, keys: dict[int, str] | None = None):
        self.folder = Path(folder)
        self.writer = writer
        self.keys = dict(keys or {})
        self.written: list[int] = []

    def path(self, index: int) -> Path:
        return self.folder / f"frame_{index:06d}{self.writer.suffix}"

    def existing(self, indices) -> list[int]:
        """The indices whose file exists."""
        return [n for n in indices if self.path(n).is_file()]

    def pending(self, indices) -> list[int]:
        """The indices whose file is missing or, with keys, was written for another key."""
        done = self._done_keys() if self.keys else {}
        return [n for n in indices if not self.path(n).is_file() or done.get(n) != self.keys.get(n)]

    def write(self, frame: Frame) -> None:
        self.writer.write(self.path(frame.index), frame)
        if self.keys:
            with open(self.folder / DONE_LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps({"frame": frame.index, "key": self.keys.get(frame.index)}) + "\n")
                log.flush()
                os.fsync(log.fileno())
        self.written.append(frame.index)

    def read(self, index: int, view=None) -> Frame:
        """Frame `index` from disk: scene-linear (EXR, shown with `view`) or display-referred."""
        pixels = read_image(self.path(index), self.writer.format)
        return Frame(pixels, index=index, view=view, display_referred=self.writer.display_referred)

    def bytes_per_frame(self, width: int, height: int) -> int:
        """An upper bound of one frame file's size (noise compresses badly)."""
        per_pixel = 3 if self.writer.display_referred else 4 * (2 if self.writer.half else 4)
        return width * height * per_pixel + 4096

    def close(self) -> None:
        pass  # every frame is complete once written

    def abort(self) -> None:
        pass  # the same: no file is ever half-written, the log lists complete frames only

    def _done_keys(self) -> dict[int, str]:
        try:
            lines = (self.folder / DONE_LOG).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
        done = {}
        for line in lines:
            try:
                entry = json.loads(line)
                done[int(entry["frame"])] = entry["key"]
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash: that frame is simply rendered again
        return done
