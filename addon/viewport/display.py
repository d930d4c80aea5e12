# SPDX-License-Identifier: GPL-3.0-or-later
"""Drawing viewport images in the 3D view, as a frame sink: `write()` (the worker's thread)
keeps the newest DrawFrame, `draw()` (the main thread, inside view_draw) shows it.

One GPU texture, made again only when a new frame arrives (bpy 5.0's GPUTexture has no way to
overwrite its pixels), drawn with the builtin IMAGE shader between the engine's
bind/unbind_display_space_shader, so Blender's colour management applies; alpha is
premultiplied (the core's film is), blended over what the view shows. The film's rows run top
first, a texture's bottom first. A reduced-resolution frame is drawn stretched over its
rectangle (`pixel_size` region pixels per film pixel). Needs a GPU context: Blender's gpu
module refuses to work in background mode outside one (tests use a RenderEngine with
`bl_use_gpu_context = True`).
"""

from __future__ import annotations

import threading

import numpy as np


class Display:
    """The viewport texture (see the module docstring)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._newest = None
        self._texture = None
        self._serial = None

    # ---- the sink (any thread) ----------------------------------------------------------------

    def write(self, frame) -> None:
        with self._lock:
            self._newest = frame

    def close(self) -> None:
        with self._lock:
            self._newest = None

    def abort(self) -> None:
        self.close()

    @property
    def newest(self):
        with self._lock:
            return self._newest

    # ---- drawing (main thread, a GPU context) -------------------------------------------------

    def draw(self, engine, scene, frame=None) -> bool:
        """Draws `frame` (default: the newest written); False when there is none."""
        import gpu
        from gpu_extras.presets import draw_texture_2d

        frame = frame if frame is not None else self.newest
        if frame is None:
            return False
        if frame.index != self._serial or self._texture is None:
            self._texture = _texture(gpu, frame.pixels)
            self._serial = frame.index
        x, y, w, h = frame.rect
        gpu.state.blend_set("ALPHA_PREMULT")
        engine.bind_display_space_shader(scene)
        try:
            draw_texture_2d(self._texture, (x, y), w, h)
        finally:
            engine.unbind_display_space_shader()
            gpu.state.blend_set("NONE")
        return True


def _texture(gpu, pixels: np.ndarray):
    """An RGBA16F texture of (h, w, 4) top-row-first pixels."""
    h, w = pixels.shape[:2]
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"a viewport image must be (h, w, 4), got {pixels.shape}")
    rows = np.ascontiguousarray(pixels[::-1], dtype=np.float32)  # GPU textures start at the bottom row
    buffer = gpu.types.Buffer("FLOAT", w * h * 4, rows.ravel())
    return gpu.types.GPUTexture((w, h), format="RGBA16F", data=buffer)
