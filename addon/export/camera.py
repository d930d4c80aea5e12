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
    r["max_bounces"] = int(getattr(opt, "max_bounces", 12))
    seed = int(getattr(opt, "seed", 0))
    if getattr(opt, "use_animated_seed", False):
        seed += b_scene.frame_current
    r["seed"] = max(0, seed) & 0x7FFFFFFF
    filt = str(getattr(opt, "filter_type", getattr(opt, "filter", "blackman_harris"))).lower()
    r["filter"] = filt if filt in FILTERS else "blackman_harris"
    width_px = getattr(opt, "filter_width", None)
    if width_px is None:
        width_px = getattr(b_render, "filter_size", 1.5)
    r["filter_width"] = float(width_px) if width_px > 0 else 1.5
    for key in ("clamp_direct", "clamp_indirect"):
        if opt is not None and hasattr(opt, key):
            r[key] = max(0.0, float(getattr(opt, key)))
    if b_render.pixel_aspect_x != b_render.pixel_aspect_y:
        report("WARNING", "pixel-aspect", "Non-square pixel aspect is not supported: rendering square pixels")
    return r


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
        report("WARNING", ("camera-type", name),
               f"Camera '{name}': {kind} cameras are not supported; rendering perspective")
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
