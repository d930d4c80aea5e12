# SPDX-License-Identifier: GPL-3.0-or-later
"""Colour management for files: scene-linear renders → the display image Blender saves.

    settings = ViewSettings(view="AgX", look="None", exposure=0.0, gamma=1.0)
    processor = DisplayProcessor(settings, config_path)  # build once per export (~0.2 s)
    rgb8 = processor.to_uint8(linear)                    # (h, w, 3|4) float32 → (h, w, 3) uint8
    display = processor.to_display(linear)               # the same, float in [0, 1] (16-bit files)
    processors = Processors(config_path)                 # one processor per ViewSettings, on demand
    config_path = resolve_config("blender")              # a path, "blender" (Blender's own) or None ($OCIO)
    settings = default_view(config_path)                 # AgX where the configuration has it

The chain is Blender 5.0's own display processor (intern/opencolorio,
`create_ocio_display_processor`) rebuilt with PyOpenColorIO on an OCIO configuration — Blender's
own `config.ocio` when frames must match what Blender saves:

    MatrixTransform(2**exposure) → LookTransform(look) → DisplayViewTransform(scene_linear →
    display, view) → ExponentTransform(1/gamma) → clamp, round to 8 bits

which reproduces the PNG Blender writes for the same render to the level (0 levels with the
scene's dither off). Curve mapping and white balance are not applied. Nothing here imports
Blender: the caller says which configuration (or the OCIO environment variable does);
`find_blender_config` finds Blender's own through an installed `bpy` package or the `blender`
program on PATH, without starting Blender.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import threading
from dataclasses import dataclass

import numpy as np

from .base import MissingDependency

SCENE_LINEAR = "scene_linear"  # OCIO role: the space Optica renders in (Linear Rec.709)
BLENDER_CONFIG = os.path.join("datafiles", "colormanagement", "config.ocio")
VIEW_FIELDS = ("view", "display", "look", "exposure", "gamma")  # ViewSettings' fields


def import_ocio():
    try:
        import PyOpenColorIO
    except ImportError as e:
        raise MissingDependency(
            "PyOpenColorIO is not available (`pip install optica-core[video]` or `pip install opencolorio`; "
            f"the Optica extension bundles it): {e}"
        ) from e
    return PyOpenColorIO


def resolve_config(spec: str | None = None) -> str:
    """A path (or ocio:// URI) to an OCIO configuration: `spec` itself, Blender's own for
    "blender", or, for None, the one the OCIO environment variable names (as Blender and OCIO
    read it). A ValueError says what is missing."""
    if spec == "blender":
        return find_blender_config()
    if not spec:
        spec = os.environ.get("OCIO")
        if not spec:
            raise ValueError(
                "no OCIO configuration: give a config.ocio path ('blender' for Blender's own) "
                "or set the OCIO environment variable"
            )
    if not spec.startswith("ocio://") and not os.path.isfile(spec):
        raise ValueError(f"OCIO configuration {spec} does not exist")
    return spec


def find_blender_config() -> str:
    """Blender's config.ocio without starting Blender: from the `bpy` package, else next to
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
    raise ValueError(
        "Blender's OCIO configuration was not found (no `bpy` package and no `blender` program on PATH): "
        "give the path of its config.ocio"
    )


@dataclass(frozen=True)
class ViewSettings:
    """What turns scene-linear light into display values (Blender's Color Management panel)."""

    view: str = "AgX"
    display: str = "sRGB"
    look: str = "None"
    exposure: float = 0.0  # stops
    gamma: float = 1.0

    @property
    def uses_look(self) -> bool:
        return bool(self.look) and self.look != "None"


def default_view(config_path: str, view: str | None = None, display: str | None = None, **rest) -> ViewSettings:
    """ViewSettings on a configuration: `view` on `display`, or where not given, AgX where the
    configuration offers it (Blender's default for new files), else its default view, on its
    default display. `rest`: look, exposure, gamma."""
    ocio = import_ocio()
    config = _load_config(ocio, config_path)
    display = display or config.getDefaultDisplay()
    if not view:
        view = "AgX" if "AgX" in config.getViews(display) else config.getDefaultView(display)
    return ViewSettings(view=view, display=display, **rest)


class DisplayProcessor:
    """Scene-linear RGB(A) float images → display-referred RGB (see the module docstring).
    Thread-safe after construction (OCIO CPU processors are; they release the GIL)."""

    def __init__(self, settings: ViewSettings, config_path: str | None = None):
        ocio = import_ocio()
        self.settings = settings
        self.config_path = resolve_config(config_path)
        config = _load_config(ocio, self.config_path)
        try:
            processor = config.getProcessor(_group(ocio, config, settings))
            self._f32 = processor.getDefaultCPUProcessor()
            self._u8 = processor.getOptimizedCPUProcessor(
                ocio.BIT_DEPTH_F32, ocio.BIT_DEPTH_UINT8, ocio.OPTIMIZATION_DEFAULT
            )
        except ocio.Exception as e:
            raise ValueError(f"OCIO configuration {self.config_path}: {e}") from e
        self._ocio = ocio

    def to_uint8(self, image: np.ndarray) -> np.ndarray:
        """(h, w, 3|4) scene-linear float → (h, w, 3) uint8 display values (clamped, rounded)."""
        src = _rgb32(image)
        h, w, _ = src.shape
        dst = np.empty((h, w, 3), np.uint8)
        o = self._ocio
        self._u8.apply(o.PackedImageDesc(src, w, h, 3), o.PackedImageDesc(dst, w, h, 3, o.BIT_DEPTH_UINT8, 1, 3, 3 * w))
        return dst

    def to_display(self, image: np.ndarray) -> np.ndarray:
        """(h, w, 3|4) scene-linear float → (h, w, 3) float32 display values in [0, 1]."""
        out = _rgb32(image, copy=True)
        self._f32.applyRGB(out)
        return np.clip(out, 0.0, 1.0, out=out)


class Processors:
    """One DisplayProcessor per ViewSettings, built on first use (building one costs ~0.2 s)
    and shared by every sink of an export. Thread-safe. `default` serves frames without a view."""

    def __init__(self, config_path: str | None = None, default: ViewSettings | None = None):
        self.config_path = config_path
        self.default = default
        self._lock = threading.Lock()
        self._made: dict[ViewSettings, DisplayProcessor] = {}

    def get(self, view: ViewSettings | None) -> DisplayProcessor:
        view = view if view is not None else self.default
        if view is None:
            raise ValueError("a scene-linear frame without view settings, and no default view")
        with self._lock:
            made = self._made.get(view)
            if made is None:
                made = self._made[view] = DisplayProcessor(view, self.config_path)
            return made


def _load_config(ocio, path: str):
    try:
        return ocio.Config.CreateFromFile(path)
    except ocio.Exception as e:
        raise ValueError(f"OCIO configuration {path}: {e}") from e


def _rgb32(image: np.ndarray, copy: bool = False) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an (h, w, 3|4) image, got shape {a.shape}")
    rgb = a[..., :3]
    if copy or rgb.dtype != np.float32 or not rgb.flags.c_contiguous:
        rgb = np.array(rgb, dtype=np.float32, order="C", copy=True)
    # NaN/inf would come out as arbitrary levels; the renderer should never produce them.
    if not np.isfinite(rgb).all():
        rgb = np.nan_to_num(rgb, nan=0.0, posinf=65504.0, neginf=0.0)  # a copy
    return rgb


def _group(ocio, config, s: ViewSettings):
    """Blender 5.0's display transform group (see the module docstring)."""
    group = ocio.GroupTransform()
    src = SCENE_LINEAR
    if s.exposure != 0.0:
        k = 2.0**s.exposure
        group.appendTransform(ocio.MatrixTransform([k, 0, 0, 0, 0, k, 0, 0, 0, 0, k, 0, 0, 0, 0, 1.0]))
    use_look = s.uses_look
    if use_look:
        look = config.getLook(s.look)
        if look is None:
            raise ValueError(f"look {s.look!r} is not in the OCIO configuration")
        # LookTransform.GetLooksResultColorSpace (not in the Python API) is, for one look,
        # the look's process space.
        out = look.getProcessSpace()
        if out:
            group.appendTransform(ocio.LookTransform(src=src, dst=out, looks=s.look))
            src = out
        else:
            use_look = False
    if s.display not in config.getDisplays():
        raise ValueError(f"display {s.display!r} is not in the OCIO configuration")
    if s.view not in config.getViews(s.display):
        raise ValueError(f"view transform {s.view!r} is not available for display {s.display!r}")
    group.appendTransform(ocio.DisplayViewTransform(src=src, display=s.display, view=s.view, looksBypass=use_look))
    if s.gamma != 1.0:
        e = 1.0 / s.gamma
        group.appendTransform(ocio.ExponentTransform([e, e, e, 1.0]))
    return group
