# SPDX-License-Identifier: GPL-3.0-or-later
"""Render passes: which of Blender's passes Optica writes, and their pixels from the core.

Pass names and channel ids are Blender's own (the compositor and multilayer EXR files know
them): "Combined" RGBA, "Depth" Z, "Normal" XYZ, "IndexOB" X, and Cycles' "Denoising Albedo"
RGB / "Denoising Normal" XYZ, and "Noisy Image" RGBA (the image before denoising, written when
`scene.optica.use_denoiser` is on; Combined is then the denoised image). Pixels go to Blender
as (w*h, channels) float32 rows, bottom row first; the core's images run top row first.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pass:
    name: str  # Blender's pass name
    channels: int
    chan_id: str  # one letter per channel
    kind: str  # 'COLOR', 'VECTOR' or 'VALUE' (RenderEngine.register_pass)
    aov: str  # the optica_core.Renderer image it comes from


COMBINED = Pass("Combined", 4, "RGBA", 'COLOR', "color")
DEPTH = Pass("Depth", 1, "Z", 'VALUE', "depth")  # camera-space Z, 1e10 on a miss (Cycles)
NORMAL = Pass("Normal", 3, "XYZ", 'VECTOR', "normal")  # world space
OBJECT_INDEX = Pass("IndexOB", 1, "X", 'VALUE', "object_id")  # the exporter's object id: pass_index
DENOISING_ALBEDO = Pass("Denoising Albedo", 3, "RGB", 'COLOR', "albedo")
DENOISING_NORMAL = Pass("Denoising Normal", 3, "XYZ", 'VECTOR', "normal")
NOISY_IMAGE = Pass("Noisy Image", 4, "RGBA", 'COLOR', "color")  # the raw image when denoising


def enabled_passes(view_layer, scene=None) -> list[Pass]:
    """The passes a view layer asks for, Combined first. `scene`: the view layer's scene (by
    default its owner; the view layer update_render_passes receives has none)."""
    passes = [COMBINED]
    if view_layer.use_pass_z:
        passes.append(DEPTH)
    if view_layer.use_pass_normal:
        passes.append(NORMAL)
    if view_layer.use_pass_object_index:
        passes.append(OBJECT_INDEX)
    settings = getattr(view_layer, "optica", None)
    if settings is not None and settings.use_denoising_passes:
        passes += [DENOISING_ALBEDO, DENOISING_NORMAL]
    scene_settings = getattr(scene if scene is not None else view_layer.id_data, "optica", None)
    if scene_settings is not None and scene_settings.use_denoiser:
        passes.append(NOISY_IMAGE)
    return passes


def register_passes(engine, scene, view_layer) -> None:
    """RenderEngine.update_render_passes: declare the passes the view layer will get."""
    for p in enabled_passes(view_layer, scene):
        engine.register_pass(scene, view_layer, p.name, p.channels, p.chan_id, p.kind)


def image(p: Pass, renderer, bottom_up: bool = False) -> np.ndarray:
    """The pass as an (h, w, channels) float32 copy, top row first.

    bottom_up: the copy's memory holds the bottom row first (the array is a flipped view of
    it), so `blender_rows` hands it to Blender without a second copy of the image.

    IndexOB: the exporter gives every instance its object's pass_index as object id, so the
    id is the value; a miss (-1) is 0, as in Blender.
    """
    src = np.asarray(getattr(renderer, p.aov))
    if src.ndim == 2:
        src = src[..., None]
    out = np.empty(src.shape, np.float32)
    target = out[::-1] if bottom_up else out
    if p is OBJECT_INDEX:
        np.maximum(src, 0, out=target, casting="unsafe")
    else:
        np.copyto(target, src, casting="unsafe")
    return target


def blender_rows(img: np.ndarray) -> np.ndarray:
    """(h, w, c) top-row-first → (w*h, c) bottom-row-first, C-contiguous (RenderPass.rect)."""
    h, w, c = img.shape
    return np.ascontiguousarray(img[::-1]).reshape(h * w, c)
