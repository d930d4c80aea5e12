"""Image files of rendered frames: linear multichannel OpenEXR, or colour-managed PNG/JPEG.

    out = ImageOutput("shot.exr")                                   # or .png / .jpg
    out = ImageOutput("shot.png", View(config=path, view="AgX"))    # PNG/JPEG need an OCIO config
    out.check(passes)      # before rendering: libraries present, folder writable, passes fit
    out.write(path, rendered_frame)   # atomic: the file is complete or absent

EXR (the `OpenEXR` bindings): 32-bit float, ZIP-compressed, one channel per pass component,
named as `optica_core.render.PASSES` says (Combined as plain R, G, B, A so every viewer shows it;
the object id as a float, -1 where nothing was hit). PNG (8-bit) and JPEG (quality 95) hold the
Combined pass turned into display values by PyOpenColorIO with the given configuration (Blender's
own when asked: `find_blender_config`), view transform, look, exposure and gamma, in Blender's
order; Pillow writes them.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
from dataclasses import dataclass

import numpy as np

from .io import atomic_path
from .render import PASSES, RenderedFrame

FORMATS = {".exr": "EXR", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
BLENDER_CONFIG = os.path.join("datafiles", "colormanagement", "config.ocio")


class OutputError(ValueError):
    """An output that cannot be written as asked, said before anything renders."""


@dataclass(frozen=True)
class View:
    """How scene-linear light becomes display values (Blender's Color Management panel).
    `view` None: AgX where the configuration has it (Blender's default), else its default view."""

    config: str | None = None  # a path, "ocio://…", "blender", or None for $OCIO
    view: str | None = None
    display: str | None = None
    look: str = "None"
    exposure: float = 0.0
    gamma: float = 1.0

    @classmethod
    def from_manifest(cls, color: dict, config: str | None) -> "View":
        known = {"view", "display", "look", "exposure", "gamma"}
        return cls(config=config, **{k: v for k, v in color.items() if k in known})


def format_of(path) -> str:
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        raise OutputError(f"{path}: unknown image format {ext or '(none)'!r} (expected .exr, .png, .jpg or .jpeg)")
    return FORMATS[ext]


class ImageOutput:
    """Writes frames in one format (the suffix of `example`) with one view for PNG/JPEG."""

    def __init__(self, example, view: View = View()):
        self.format = format_of(example)
        self.view = view
        self._processor = None

    def check(self, passes, folder) -> None:
        """Everything that can be known before rendering: a clear OutputError, or nothing."""
        if not os.path.isdir(folder):
            raise OutputError(f"cannot write into {folder}: it is not an existing folder")
        if not os.access(folder, os.W_OK):
            raise OutputError(f"cannot write into {folder}: permission denied")
        if self.format == "EXR":
            _require("OpenEXR", "openexr", "EXR files")
            return
        extra = [p for p in passes if p != "combined"]
        if extra:
            raise OutputError(f"{self.format} holds the combined image only (asked for {', '.join(extra)}): use .exr")
        _require("PIL", "pillow", f"{self.format} files")
        self._display_processor()

    def write(self, path, frame: RenderedFrame) -> None:
        path = os.fspath(path)
        with atomic_path(path) as temp:
            if self.format == "EXR":
                _write_exr(temp, frame)
            else:
                self._write_display(temp, frame.passes["combined"])

    def _write_display(self, path: str, rgba: np.ndarray) -> None:
        from PIL import Image

        image = Image.fromarray(self._display_processor()(rgba), "RGB")
        if self.format == "JPEG":
            image.save(path, "JPEG", quality=95)
        else:
            image.save(path, "PNG")

    def _display_processor(self):
        if self._processor is None:
            self._processor = display_processor(self.view)
        return self._processor


def _require(module: str, package: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise OutputError(f"{what} need the `{package}` package: pip install {package} "
                          "(or install optica_core with the [farm] extra)")


def _write_exr(path: str, frame: RenderedFrame) -> None:
    import OpenEXR

    channels = {}
    for name, image in frame.passes.items():
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels if pixels.ndim == 3 else pixels[..., None]
        for c, channel in enumerate(PASSES[name][1]):
            channels[channel] = np.ascontiguousarray(pixels[..., c])
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
              "optica:frame": str(frame.frame), "optica:samples": str(frame.samples)}
    with OpenEXR.File(header, channels) as f:
        f.write(path)


def read_exr(path) -> dict[str, np.ndarray]:
    """{channel name: (h, w) float32} of an EXR file (for tests and tools)."""
    import OpenEXR

    with OpenEXR.File(os.fspath(path), separate_channels=True) as f:
        return {name: np.array(channel.pixels, dtype=np.float32) for name, channel in f.channels().items()}


# --------------------------------------------------------------------------------------------
# Display values with PyOpenColorIO. One function on purpose: the colour management of the
# video export (PyOpenColorIO with Blender's config) replaces it once it lives in the core.


def display_processor(view: View):
    """A function (h, w, 3|4) scene-linear float → (h, w, 3) uint8 display values, built once:
    2^exposure → look → display/view → 1/gamma (Blender's order), clamped and rounded."""
    try:
        import PyOpenColorIO as ocio
    except ImportError as error:
        raise OutputError("PNG/JPEG files need PyOpenColorIO: pip install opencolorio") from error
    path = resolve_config(view.config)
    try:
        config = ocio.Config.CreateFromFile(path)
        display = view.display or config.getDefaultDisplay()
        views = list(config.getViews(display))
        name = view.view or ("AgX" if "AgX" in views else config.getDefaultView(display))
        if name not in views:
            raise OutputError(f"view {name!r} is not offered for display {display!r} by {path} "
                              f"(it has {', '.join(views)})")
        group, source = ocio.GroupTransform(), "scene_linear"
        k = 2.0 ** view.exposure
        group.appendTransform(ocio.MatrixTransform([k, 0, 0, 0, 0, k, 0, 0, 0, 0, k, 0, 0, 0, 0, 1]))
        look = config.getLook(view.look) if view.look not in ("", "None") else None
        if view.look not in ("", "None") and look is None:
            raise OutputError(f"look {view.look!r} is not in {path}")
        if look is not None and look.getProcessSpace():
            group.appendTransform(ocio.LookTransform(src=source, dst=look.getProcessSpace(), looks=view.look))
            source = look.getProcessSpace()
        group.appendTransform(ocio.DisplayViewTransform(src=source, display=display, view=name,
                                                        looksBypass=look is not None))
        group.appendTransform(ocio.ExponentTransform([1.0 / view.gamma] * 3 + [1.0]))
        cpu = config.getProcessor(group).getOptimizedCPUProcessor(ocio.BIT_DEPTH_F32, ocio.BIT_DEPTH_UINT8,
                                                                   ocio.OPTIMIZATION_DEFAULT)
    except ocio.Exception as error:
        raise OutputError(f"OCIO configuration {path}: {error}") from error

    def to_uint8(image: np.ndarray) -> np.ndarray:
        rgb = np.nan_to_num(np.ascontiguousarray(image[..., :3], dtype=np.float32), nan=0.0, posinf=65504.0)
        h, w, _ = rgb.shape
        out = np.empty((h, w, 3), np.uint8)
        cpu.apply(ocio.PackedImageDesc(rgb, w, h, 3),
                  ocio.PackedImageDesc(out, w, h, 3, ocio.BIT_DEPTH_UINT8, 1, 3, 3 * w))
        return out

    return to_uint8


def resolve_config(config: str | None) -> str:
    """A path to an OCIO configuration: the given one, Blender's for "blender", else $OCIO."""
    if config == "blender":
        return find_blender_config()
    if config is None:
        config = os.environ.get("OCIO")
        if not config:
            raise OutputError("PNG/JPEG files need an OCIO configuration: --ocio PATH, --ocio blender "
                              "(Blender's own), or the OCIO environment variable")
    if not config.startswith("ocio://") and not os.path.isfile(config):
        raise OutputError(f"OCIO configuration {config} does not exist")
    return config


def find_blender_config() -> str:
    """Blender's config.ocio without importing Blender: from the `bpy` package, else next to
    the `blender` program on PATH."""
    roots = []
    spec = importlib.util.find_spec("bpy")
    if spec is not None and spec.submodule_search_locations:
        roots += list(spec.submodule_search_locations)
    program = shutil.which("blender")
    if program:
        roots.append(os.path.dirname(os.path.realpath(program)))
    for root in roots:
        found = sorted(glob.glob(os.path.join(root, "[0-9]*", BLENDER_CONFIG)))
        if found:
            return found[-1]
    raise OutputError("Blender's OCIO configuration was not found (no `bpy` package and no `blender` "
                      "program on PATH): give its path with --ocio")
