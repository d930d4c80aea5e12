# SPDX-License-Identifier: GPL-3.0-or-later
"""Framing of the viewport: what Blender's 3D view says (`ViewState`), what the scene adds in
camera view (`SceneView`), and the camera and rectangle that one view renders (`ViewFrame`).

Blender's own view plane (export/camera.py): user perspective and orthographic views, the
camera view with its zoom and offset, and the render border (View3D's in user views, the
scene's inside the camera frame); only the bordered part is rendered. `ViewState.pixel_size` is
Blender's viewport pixel size (`RenderEngine.get_preview_pixel_size`: Render > Performance >
Viewport Pixel Size, HiDPI for Automatic): region pixels per film pixel at full resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..export import camera as _camera
from ..export.changes import same


@dataclass(frozen=True)
class ViewState:
    """A 3D view's framing: region size, RegionView3D and View3D settings (plain values)."""

    width: int  # region size in pixels
    height: int
    perspective: str = "PERSP"  # RegionView3D.view_perspective: 'PERSP', 'ORTHO', 'CAMERA'
    view_matrix: tuple = tuple(np.eye(4).ravel())  # world → view, 16 floats, row-major
    view_distance: float = 10.0
    lens: float = 50.0  # View3D.lens, mm
    clip_start: float = 0.01
    clip_end: float = 1000.0
    camera_zoom: float = 0.0  # RegionView3D.view_camera_zoom
    camera_offset: tuple = (0.0, 0.0)  # RegionView3D.view_camera_offset
    use_border: bool = False  # View3D.use_render_border (user views)
    border: tuple = (0.0, 0.0, 1.0, 1.0)  # View3D.render_border_min_x, _min_y, _max_x, _max_y
    camera: str | None = None  # View3D.camera when it overrides the scene camera (local camera)
    pixel_size: int = 1  # region pixels per film pixel at full resolution (Blender's viewport pixel size)

    @classmethod
    def from_context(cls, context, pixel_size: int = 1) -> ViewState:
        region, rv3d, v3d = context.region, context.region_data, context.space_data
        camera = None
        if getattr(v3d, "use_local_camera", False) and v3d.camera is not None:
            camera = v3d.camera.name
        return cls(
            width=int(region.width),
            height=int(region.height),
            perspective=str(rv3d.view_perspective),
            view_matrix=tuple(float(v) for row in rv3d.view_matrix for v in row),
            view_distance=float(rv3d.view_distance),
            lens=float(v3d.lens),
            clip_start=float(v3d.clip_start),
            clip_end=float(v3d.clip_end),
            camera_zoom=float(rv3d.view_camera_zoom),
            camera_offset=tuple(float(v) for v in rv3d.view_camera_offset),
            use_border=bool(v3d.use_render_border),
            border=(
                float(v3d.render_border_min_x),
                float(v3d.render_border_min_y),
                float(v3d.render_border_max_x),
                float(v3d.render_border_max_y),
            ),
            camera=camera,
            pixel_size=max(1, int(pixel_size)),
        )


@dataclass(frozen=True)
class SceneView:
    """What the scene contributes to a view's framing: the active camera (scene-dict camera,
    for the camera view), the render size and the render border (camera view)."""

    camera: dict | None = None
    resolution: tuple = (1920, 1080)
    border: tuple | None = None  # (min_x, min_y, max_x, max_y) of the camera frame, or None

    def same_as(self, other) -> bool:
        return (
            isinstance(other, SceneView)
            and self.resolution == other.resolution
            and self.border == other.border
            and same(self.camera, other.camera)
        )


@dataclass(frozen=True, eq=False)
class ViewFrame:
    """What one view renders: a camera over the whole region (view plane `plane`) and the part
    of the region that is rendered and drawn (`rect`: x, y from the bottom-left, w, h)."""

    matrix: np.ndarray  # camera to world (4, 4)
    ortho: bool
    plane: tuple  # (xmin, xmax, ymin, ymax) of the whole region
    region: tuple  # (width, height)
    rect: tuple  # (x, y, w, h)
    base: dict  # clipping and depth of field

    def at(self, pixel_size: int) -> tuple[dict, tuple[int, int], tuple[int, int, int, int]]:
        """(camera dict, film size, drawn rectangle) at `pixel_size` region pixels per film
        pixel. The film covers whole film pixels from the rect's top-left corner, so the drawn
        rectangle may reach past the rect's right and bottom edges by less than one film pixel."""
        x, y, w, h = self.rect
        ps = max(1, int(pixel_size))
        fw, fh = -(-w // ps), -(-h // ps)
        xmin, xmax, ymin, ymax = self.plane
        px = (xmax - xmin) / self.region[0]
        py = (ymax - ymin) / self.region[1]
        x0 = xmin + x * px
        top = ymin + (y + h) * py
        plane = (x0, x0 + fw * ps * px, top - fh * ps * py, top)
        cam = _camera.camera_for_plane(plane, ortho=self.ortho, matrix=self.matrix, base=self.base)
        return cam, (fw, fh), (x, y + h - fh * ps, fw * ps, fh * ps)


def view_frame(view: ViewState, scene_view: SceneView) -> ViewFrame:
    """The ViewFrame of `view` (Blender's framing; see export/camera.py)."""
    W, H = max(1, view.width), max(1, view.height)
    camera = scene_view.camera
    rect = (0, 0, W, H)
    if view.perspective == "CAMERA" and camera is not None:
        fac = _camera.view_zoom_factor(view.camera_zoom)
        offset = (2.0 * view.camera_offset[0] * fac, 2.0 * view.camera_offset[1] * fac)
        plane = _camera.camera_viewplane(camera, W, H, zoom=1.0 / fac, offset=offset, shift_scale=fac)
        ortho = camera.get("type") == "orthographic"
        matrix = np.asarray(camera["matrix"], np.float64)
        base = camera
        if scene_view.border is not None:
            cam_plane = _camera.camera_viewplane(camera, *scene_view.resolution)
            fx0 = (cam_plane[0] - plane[0]) / (plane[1] - plane[0]) * W
            fx1 = (cam_plane[1] - plane[0]) / (plane[1] - plane[0]) * W
            fy0 = (cam_plane[2] - plane[2]) / (plane[3] - plane[2]) * H
            fy1 = (cam_plane[3] - plane[2]) / (plane[3] - plane[2]) * H
            rect = _border_rect(scene_view.border, (fx0, fy0, fx1 - fx0, fy1 - fy0), W, H)
    else:
        view_to_world = np.linalg.inv(np.asarray(view.view_matrix, np.float64).reshape(4, 4))
        if view.perspective == "ORTHO":
            ortho = True
            scale = view.view_distance * _camera.SENSOR_WIDTH / max(view.lens, 1e-6)
            plane = _camera.viewplane(W, H, ortho=True, ortho_scale=scale, zoom=_camera.USER_VIEW_ZOOM)
            # Blender clips an orthographic view at ±clip_end/2 around the view origin; the scene
            # dict's clipping starts at the camera: start clip_end/2 behind it.
            half = 0.5 * view.clip_end
            matrix = view_to_world @ _translation(0.0, 0.0, half)
            base = {"clip_start": 0.0, "clip_end": max(view.clip_end, 1e-3)}
        else:
            ortho = False
            plane = _camera.viewplane(W, H, ortho=False, lens=max(view.lens, 1e-6), zoom=_camera.USER_VIEW_ZOOM)
            matrix = view_to_world
            clip_start = max(0.0, view.clip_start)
            base = {"clip_start": clip_start, "clip_end": max(view.clip_end, clip_start * (1 + 1e-6) + 1e-6)}
        if view.use_border:
            rect = _border_rect(view.border, (0.0, 0.0, W, H), W, H)
    return ViewFrame(matrix=matrix, ortho=ortho, plane=plane, region=(W, H), rect=rect, base=base)


def _border_rect(border, frame, W, H):
    """ED_view3d_calc_render_border: border fractions of `frame` (x, y, w, h), truncated to
    pixels and clipped to the region; the whole region when that is empty."""
    fx, fy, fw, fh = frame

    def px(v):  # truncation as Blender's float → int, forgiving float64 noise below an integer
        return math.floor(v + 1e-3)

    x0, y0 = px(fx + border[0] * fw), px(fy + border[1] * fh)
    x1, y1 = px(fx + border[2] * fw), px(fy + border[3] * fh)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 <= x0 or y1 <= y0:
        return (0, 0, W, H)
    return (x0, y0, x1 - x0, y1 - y0)


def _translation(x, y, z) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


def scene_view(depsgraph, view: ViewState, report=None) -> SceneView:
    """The SceneView of the depsgraph's scene for `view` (the camera only in camera view)."""
    import bpy

    if view.perspective != "CAMERA":
        return SceneView()  # a user view owes nothing to the scene's camera or render size
    scene = depsgraph.scene_eval
    r = scene.render
    b_cam = bpy.data.objects.get(view.camera) if view.camera else scene.camera
    if b_cam is None:
        return SceneView()
    camera = _camera.convert_camera(b_cam.original.evaluated_get(depsgraph), report or (lambda *_a: None))
    border = None
    if r.use_border:
        border = (float(r.border_min_x), float(r.border_min_y), float(r.border_max_x), float(r.border_max_y))
    return SceneView(camera=camera, resolution=(max(1, r.resolution_x), max(1, r.resolution_y)), border=border)
