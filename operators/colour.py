# SPDX-License-Identifier: GPL-3.0-or-later
"""Colour management for files: scene-linear renders → the 8-bit display image Blender saves.

    settings, notes = ViewSettings.from_scene(scene)   # view transform, look, exposure, gamma
    processor = DisplayProcessor(settings)             # build once per export (~0.2 s)
    rgb8 = processor.to_uint8(linear)                  # (h, w, 3|4) float32 → (h, w, 3) uint8
    display = processor.to_display(linear)             # the same, float in [0, 1] (16-bit files)

The chain is Blender 5.0's own display processor (intern/opencolorio, `create_ocio_display_processor`)
rebuilt with PyOpenColorIO on Blender's own OCIO configuration (the `config.ocio` inside the
`bpy` package / Blender install):

    MatrixTransform(2**exposure) → LookTransform(look) → DisplayViewTransform(scene_linear →
    display, view) → ExponentTransform(1/gamma) → clamp, round to 8 bits

which reproduces the PNG Blender writes for the same render to the level (0 levels with the
scene's dither off; Blender's default dither of 1.0 adds noise of ±1 level that is not copied).
Not applied, and reported as a note when used: curve mapping and white balance.

Nothing here imports bpy at module level or knows where images come from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .encoder import MissingDependency

CONFIG_SUBPATH = os.path.join("datafiles", "colormanagement", "config.ocio")
SCENE_LINEAR = "scene_linear"  # OCIO role: the space Optica renders in (Linear Rec.709)


def import_ocio():
    try:
        import PyOpenColorIO
    except ImportError as e:
        raise MissingDependency(
            "PyOpenColorIO is not available (the Optica extension bundles the `opencolorio` wheel; "
            f"reinstall the extension or `pip install opencolorio`): {e}") from e
    return PyOpenColorIO


def blender_config_path() -> str:
    """The OCIO configuration Blender itself uses (OCIO environment variable first, as Blender)."""
    env = os.environ.get("OCIO")
    if env and os.path.isfile(env):
        return env
    import bpy

    path = os.path.join(bpy.utils.resource_path("LOCAL"), CONFIG_SUBPATH)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Blender's OCIO configuration was not found at {path}")
    return path


@dataclass(frozen=True)
class ViewSettings:
    """What turns scene-linear light into display values (Blender's Color Management panel)."""

    view: str = "AgX"
    display: str = "sRGB"
    look: str = "None"
    exposure: float = 0.0  # stops
    gamma: float = 1.0

    @classmethod
    def from_scene(cls, scene) -> tuple["ViewSettings", list[str]]:
        """The settings Blender applies when it saves this scene's render as an image (the
        output's override when Output > Color Management is 'Override'), and notes on what
        is not reproduced."""
        owner = scene
        im = scene.render.image_settings
        if getattr(im, "color_management", "FOLLOW_SCENE") == "OVERRIDE":
            owner = im
        vs, ds = owner.view_settings, owner.display_settings
        notes = []
        if vs.use_curve_mapping:
            notes.append("the colour management curve is not applied to the video")
        if getattr(vs, "use_white_balance", False):
            notes.append("white balance is not applied to the video")
        return cls(view=vs.view_transform, display=ds.display_device, look=vs.look or "None",
                   exposure=float(vs.exposure), gamma=float(vs.gamma)), notes

    @property
    def uses_look(self) -> bool:
        return bool(self.look) and self.look != "None"


class DisplayProcessor:
    """Scene-linear RGB(A) float images → display-referred RGB (see the module docstring).
    Thread-safe after construction (OCIO CPU processors are; they release the GIL)."""

    def __init__(self, settings: ViewSettings, config_path: str | None = None):
        ocio = import_ocio()
        self.settings = settings
        self.config_path = config_path or blender_config_path()
        config = ocio.Config.CreateFromFile(self.config_path)
        processor = config.getProcessor(_group(ocio, config, settings))
        self._f32 = processor.getDefaultCPUProcessor()
        self._u8 = processor.getOptimizedCPUProcessor(ocio.BIT_DEPTH_F32, ocio.BIT_DEPTH_UINT8,
                                                      ocio.OPTIMIZATION_DEFAULT)
        self._ocio = ocio

    def to_uint8(self, image: np.ndarray) -> np.ndarray:
        """(h, w, 3|4) scene-linear float → (h, w, 3) uint8 display values (clamped, rounded)."""
        src = _rgb32(image)
        h, w, _ = src.shape
        dst = np.empty((h, w, 3), np.uint8)
        o = self._ocio
        self._u8.apply(o.PackedImageDesc(src, w, h, 3),
                       o.PackedImageDesc(dst, w, h, 3, o.BIT_DEPTH_UINT8, 1, 3, 3 * w))
        return dst

    def to_display(self, image: np.ndarray) -> np.ndarray:
        """(h, w, 3|4) scene-linear float → (h, w, 3) float32 display values in [0, 1]."""
        out = _rgb32(image, copy=True)
        self._f32.applyRGB(out)
        return np.clip(out, 0.0, 1.0, out=out)


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
        k = 2.0 ** s.exposure
        group.appendTransform(ocio.MatrixTransform(
            [k, 0, 0, 0, 0, k, 0, 0, 0, 0, k, 0, 0, 0, 0, 1.0]))
    use_look = s.uses_look
    if use_look:
        look = config.getLook(s.look)
        if look is None:
            raise ValueError(f"look {s.look!r} is not in Blender's OCIO configuration")
        # LookTransform.GetLooksResultColorSpace (not in the Python API) is, for one look,
        # the look's process space.
        out = look.getProcessSpace()
        if out:
            group.appendTransform(ocio.LookTransform(src=src, dst=out, looks=s.look))
            src = out
        else:
            use_look = False
    if s.display not in config.getDisplays():
        raise ValueError(f"display {s.display!r} is not in Blender's OCIO configuration")
    if s.view not in config.getViews(s.display):
        raise ValueError(f"view transform {s.view!r} is not available for display {s.display!r}")
    group.appendTransform(ocio.DisplayViewTransform(src=src, display=s.display, view=s.view,
                                                    looksBypass=use_look))
    if s.gamma != 1.0:
        e = 1.0 / s.gamma
        group.appendTransform(ocio.ExponentTransform([e, e, e, 1.0]))
    return group
