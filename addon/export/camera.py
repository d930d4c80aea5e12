# SPDX-License-Identifier: GPL-3.0-or-later
"""The scene camera and render settings → `camera` and `render` of the scene dict.

As Cycles' `blender/camera.cpp`: perspective (lens, sensor size and fit, shift) or
orthographic (ortho_scale); depth of field from the f-stop (aperture radius
lens·1e-3 / (2·fstop), or 1 / (2·fstop) for an orthographic camera), focus distance or the
focus object's distance along the view axis; the camera matrix without scale.

Frame size and render border as Blender's render pipeline computes them
(`render_init_from_main`, `re_init_resolution`): size = resolution × percentage / 100
(integer division); border pixels = border fraction × size in float32, truncated; Blender's
border y runs from the bottom, the scene dict's region from the top.
"""

from __future__ import annotations

import math

import numpy as np

FILTERS = ("box", "gaussian", "blackman_harris")


def resolution(b_render) -> tuple[int, int]:
    pct = b_render.resolution_percentage
    return max(1, b_render.resolution_x * pct // 100), max(1, b_render.resolution_y * pct // 100)


def render_region(b_render, report) -> list[int] | None:
    """[x, y, w, h] of the render border, pixels from the top-left; None for the whole frame."""
    if not b_render.use_border:
        return None
    width, height = resolution(b_render)
    f32 = np.float32
    xmin = int(f32(b_render.border_min_x) * f32(width))
    xmax = int(f32(b_render.border_max_x) * f32(width))
    ymin = int(f32(b_render.border_min_y) * f32(height))
    ymax = int(f32(b_render.border_max_y) * f32(height))
    xmin, ymin = max(0, xmin), max(0, ymin)
    xmax, ymax = min(width, xmax), min(height, ymax)
    if xmax - xmin < 1 or ymax - ymin < 1:
        report("WARNING", "empty-border", "Render border is empty: rendering the whole frame")
        return None
    return [xmin, height - ymax, xmax - xmin, ymax - ymin]


# scene-dict key, `scene.optica` property (Cycles' name), Cycles' default
_BOUNCES = (
    ("max_bounces", "max_bounces", 12),
    ("max_diffuse_bounces", "diffuse_bounces", 4),
    ("max_glossy_bounces", "glossy_bounces", 4),
    ("max_transmission_bounces", "transmission_bounces", 12),
    ("max_transparent_bounces", "transparent_max_bounces", 8),
)


def render_settings(b_scene, report) -> dict:
    """`render`: frame size, border, and the integrator settings of `scene.optica` (defaults
    when the engine's settings are not registered)."""
    b_render = b_scene.render
    width, height = resolution(b_render)
    r = {"width": width, "height": height}
    region = render_region(b_render, report)
    if region is not None:
        r["region"] = region
    opt = getattr(b_scene, "optica", None)
    # Light Paths › Max Bounces; Cycles' defaults when the engine's settings are not registered.
    for key, prop, default in _BOUNCES:
        r[key] = max(0, int(getattr(opt, prop, default)))
    seed = int(getattr(opt, "seed", 0))
    if getattr(opt, "use_animated_seed", False):
        seed += b_scene.frame_current
    r["seed"] = max(0, seed) & 0x7FFFFFFF
    filt = str(getattr(opt, "filter_type", getattr(opt, "filter", "blackman_harris"))).lower()
    r["filter"] = filt if filt in FILTERS else "blackman_harris"
    width_px = getattr(opt, "filter_width", None)
    if width_px is None:
        width_px = getattr(b_render, "filter_size", 1.5)
    # Blender's Cycles sync makes the box filter one pixel wide whatever the width says.
    r["filter_width"] = 1.0 if r["filter"] == "box" else (float(width_px) if width_px > 0 else 1.5)
    r["transparent"] = bool(getattr(b_render, "film_transparent", False))
    for key in ("clamp_direct", "clamp_indirect"):
        if opt is not None and hasattr(opt, key):
            r[key] = max(0.0, float(getattr(opt, key)))
    if b_render.pixel_aspect_x != b_render.pixel_aspect_y:
        report("WARNING", "pixel-aspect", "Non-square pixel aspect is not supported: rendering square pixels")
    return r


def unscaled_matrix(matrix) -> np.ndarray:
    """A camera matrix without its scale (float32), as `camera.matrix` holds it."""
    return _unscaled(matrix).astype(np.float32)


def _unscaled(matrix) -> np.ndarray:
    m = np.array(matrix, np.float64)
    cols = np.linalg.norm(m[:3, :3], axis=0)
    cols[cols < 1e-12] = 1.0
    m[:3, :3] /= cols
    m[3] = (0.0, 0.0, 0.0, 1.0)
    return m


def _focus_distance(b_cam, cam_matrix: np.ndarray) -> float:
    dof = b_cam.dof
    target = dof.focus_object
    if target is None:
        return float(dof.focus_distance)
    m = np.array(target.matrix_world, np.float64)
    sub = dof.focus_subtarget
    if sub and target.pose is not None:
        bone = target.pose.bones.get(sub)
        if bone is not None:
            m = m @ np.array(bone.matrix, np.float64)
    view_dir = cam_matrix[:3, 2] / max(np.linalg.norm(cam_matrix[:3, 2]), 1e-12)
    return abs(float(np.dot(view_dir, cam_matrix[:3, 3] - m[:3, 3])))


def default_camera() -> dict:
    """A camera at z = 10 looking down −Z, for a scene without a camera (Blender itself refuses
    to render one; a viewport session passes its own view instead)."""
    m = np.eye(4, dtype=np.float32)
    m[2, 3] = 10.0
    return {"type": "perspective", "matrix": m}


def convert_camera(b_cam_ob, report) -> dict:
    """`camera` from evaluated camera object `b_cam_ob` (a camera, or a light looked through as
    Cycles allows: a spot's cone sets the lens)."""
    matrix = _unscaled(b_cam_ob.matrix_world)
    data = b_cam_ob.data
    c = {"matrix": matrix.astype(np.float32)}
    if b_cam_ob.type != "CAMERA":
        c["type"] = "perspective"
        if b_cam_ob.type == "LIGHT" and data.type == "SPOT":
            lens = 16.0 / math.tan(data.spot_size * 0.5)
            if lens > 0:
                c["lens"] = lens
        return c
    name = data.name
    kind = data.type
    if kind not in ("PERSP", "ORTHO"):
        report(
            "WARNING",
            ("camera-type", name),
            f"Camera '{name}': {kind} cameras are not supported; rendering perspective",
        )
    ortho = kind == "ORTHO"
    c["type"] = "orthographic" if ortho else "perspective"
    c["lens"] = max(float(data.lens), 1e-6)
    c["ortho_scale"] = max(float(data.ortho_scale), 1e-6)
    c["sensor_width"] = max(float(data.sensor_width), 1e-6)
    c["sensor_height"] = max(float(data.sensor_height), 1e-6)
    c["sensor_fit"] = data.sensor_fit
    c["shift_x"] = float(data.shift_x)
    c["shift_y"] = float(data.shift_y)
    clip_start = max(0.0, float(data.clip_start))
    c["clip_start"] = clip_start
    c["clip_end"] = max(float(data.clip_end), clip_start * (1 + 1e-6) + 1e-6)
    dof = data.dof
    if dof.use_dof:
        fstop = max(float(dof.aperture_fstop), 1e-5)
        c["aperture_radius"] = 1.0 / (2.0 * fstop) if ortho else c["lens"] * 1e-3 / (2.0 * fstop)
        c["focus_distance"] = max(_focus_distance(data, matrix), 1e-6)
        blades = int(dof.aperture_blades)
        c["aperture_blades"] = blades if blades >= 3 else 0
        c["aperture_rotation"] = float(dof.aperture_rotation)
        if abs(dof.aperture_ratio - 1.0) > 1e-6:
            report("WARNING", ("camera-ratio", name), f"Camera '{name}': anamorphic aperture ratio is not supported")
    return c


# ---------------------------------------------------------------------------------------------
# viewport views (pure functions of plain values; the viewport session feeds them)
#
# Blender frames a 3D view as `BKE_camera_params_from_view3d` + `BKE_camera_params_compute_viewplane`
# do: a user perspective view is a 36 mm sensor (AUTO fit) at the view's lens with zoom 2, an
# orthographic one has ortho_scale = view distance × 36 / lens (zoom 2) and clips at
# ±clip_end / 2 around the view origin, and the camera view uses the camera's parameters with
# the view's zoom (`BKE_screen_view3d_zoom_to_fac`) and offset. A view plane here is
# (xmin, xmax, ymin, ymax) at distance 1 in front of the camera (perspective) or in world units
# (orthographic): Blender's `params.viewplane` without its clip_start factor.

SENSOR_WIDTH, SENSOR_HEIGHT = 36.0, 24.0  # Blender's default sensor (DEFAULT_SENSOR_WIDTH/HEIGHT)
USER_VIEW_ZOOM = 2.0  # CAMERA_PARAM_ZOOM_INIT_PERSP


def view_zoom_factor(view_camera_zoom: float) -> float:
    """`BKE_screen_view3d_zoom_to_fac`: RegionView3D.view_camera_zoom → frame scale (1 at ≈29.29)."""
    return (math.sqrt(2.0) + view_camera_zoom / 50.0) ** 2 / 4.0


def viewplane(
    winx: float,
    winy: float,
    *,
    ortho: bool,
    lens: float = 50.0,
    ortho_scale: float = 6.0,
    sensor_width: float = SENSOR_WIDTH,
    sensor_height: float = SENSOR_HEIGHT,
    sensor_fit: str = "AUTO",
    shift=(0.0, 0.0),
    offset=(0.0, 0.0),
    zoom: float = 1.0,
):
    """(xmin, xmax, ymin, ymax) of a winx × winy image (square pixels), as Blender computes it."""
    fit = sensor_fit if sensor_fit in ("HORIZONTAL", "VERTICAL") else ("HORIZONTAL" if winx >= winy else "VERTICAL")
    sensor = sensor_height if sensor_fit == "VERTICAL" else sensor_width
    pixsize = ortho_scale if ortho else sensor / lens
    viewfac = winx if fit == "HORIZONTAL" else winy
    pixsize = pixsize / viewfac * zoom
    dx = shift[0] * viewfac + winx * offset[0]
    dy = shift[1] * viewfac + winy * offset[1]
    return (
        (-0.5 * winx + dx) * pixsize,
        (0.5 * winx + dx) * pixsize,
        (-0.5 * winy + dy) * pixsize,
        (0.5 * winy + dy) * pixsize,
    )


def camera_viewplane(
    cam: dict, winx: float, winy: float, *, zoom: float = 1.0, offset=(0.0, 0.0), shift_scale: float = 1.0
):
    """The view plane of scene-dict camera `cam` (as convert_camera returns it) on a winx × winy
    image; zoom/offset/shift_scale as a camera view applies them."""
    return viewplane(
        winx,
        winy,
        ortho=cam.get("type") == "orthographic",
        lens=cam.get("lens", 50.0),
        ortho_scale=cam.get("ortho_scale", 6.0),
        sensor_width=cam.get("sensor_width", SENSOR_WIDTH),
        sensor_height=cam.get("sensor_height", SENSOR_HEIGHT),
        sensor_fit=cam.get("sensor_fit", "AUTO"),
        shift=(cam.get("shift_x", 0.0) * shift_scale, cam.get("shift_y", 0.0) * shift_scale),
        offset=offset,
        zoom=zoom,
    )


def camera_for_plane(plane, *, ortho: bool, matrix, base: dict | None = None) -> dict:
    """A scene-dict camera whose frame is exactly view plane `plane` (any aspect: the image's
    width/height must match the plane's). `base` lends clipping and depth of field."""
    xmin, xmax, ymin, ymax = (float(v) for v in plane)
    width = xmax - xmin
    if not width > 0 or not ymax > ymin:
        raise ValueError(f"empty view plane {plane}")
    c = {
        k: v
        for k, v in (base or {}).items()
        if k in ("clip_start", "clip_end", "aperture_radius", "focus_distance", "aperture_blades", "aperture_rotation")
    }
    c.update(
        {
            "type": "orthographic" if ortho else "perspective",
            "matrix": np.asarray(matrix, np.float32).reshape(4, 4),
            "sensor_fit": "HORIZONTAL",
            "sensor_width": SENSOR_WIDTH,
            "shift_x": 0.5 * (xmin + xmax) / width,
            "shift_y": 0.5 * (ymin + ymax) / width,
        }
    )
    if ortho:
        c["ortho_scale"] = width
    else:
        c["lens"] = SENSOR_WIDTH / width
    return c
