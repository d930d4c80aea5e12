"""Curve sets in the core (issue 15): intersection of round and ribbon curves with known hits,
radius interpolation, the ends, every segment basis, shading through ordinary materials, and
the OptiX backend's refusal. No bpy."""

from __future__ import annotations

import numpy as np
import pytest

import optica_core as oc
from optica_core import device, scenes
from optica_core.scene import validate_scene


def scene_with(curves: dict, *, width: int = 16, height: int = 12) -> dict:
    return {
        "version": 2,
        "render": {"width": width, "height": height, "seed": 1},
        "camera": {"matrix": scenes.look_at((0, -6, 1.5), (0, 0, 1.5))},
        "curves": curves,
        "instances": [{"geometry": name, "transforms": np.eye(4, dtype=np.float32)[None]} for name in curves],
        "lights": {"sun": {"type": "sun", "strength": 3.0, "matrix": scenes.look_at((0, -3, 3), (0, 0, 0))}},
    }


def strand(radii, segments="catmull_rom", shape="round") -> dict:
    """One straight strand up the z axis, points at z = 0, 1, 2, …"""
    n = len(radii)
    points = np.zeros((n, 3), np.float32)
    points[:, 2] = np.arange(n)
    return {"points": points, "radii": np.asarray(radii, np.float32), "offsets": [0, n], "segments": segments,
            "shape": shape}


def hits(curves: dict, origins, directions):
    r = oc.Renderer(threads=1)
    r.set_scene(scene_with(curves))
    t, prim, obj = r.intersect(np.asarray(origins, np.float32), np.asarray(directions, np.float32))
    return t, prim, obj


def across(z, y=0.0):
    """A ray along +x at height z (offset y), 5 m before the strand's axis."""
    return [[-5.0, y, z]], [[1.0, 0.0, 0.0]]


def test_round_catmull_rom_hit_at_known_t_with_interpolated_radius():
    # Collinear, evenly spaced points: the Catmull-Rom curve is the straight line and the radius
    # (0.1, 0.2, 0.3, 0.4 at z = 0..3) is linear in z.
    c = {"s": strand([0.1, 0.2, 0.3, 0.4])}
    for z, segment in [(0.5, 0), (1.5, 1), (2.25, 2)]:
        t, prim, obj = hits(c, *across(z))
        assert prim[0] == segment and obj[0] >= 0
        assert t[0] == pytest.approx(5.0 - (0.1 + 0.1 * z), abs=2e-5)


def test_round_linear_cone_and_no_hit_past_the_tip_or_root():
    c = {"s": strand([0.1, 0.3], segments="linear")}
    t, prim, _ = hits(c, *across(0.5))
    assert prim[0] == 0 and t[0] == pytest.approx(5.0 - 0.2, abs=2e-5)
    for z in (1.02, -0.02, 1.5):
        t, prim, _ = hits(c, *across(z))
        assert prim[0] == -1 and np.isinf(t[0]), z
    # Beside the tube (outside the radius there), and along its axis (the open end): misses.
    t, prim, _ = hits(c, *across(0.5, y=0.25))
    assert prim[0] == -1
    t, prim, _ = hits(c, [[0.0, 0.0, 5.0]], [[0.0, 0.0, -1.0]])
    assert prim[0] == -1


def test_ribbon_is_the_strip_through_the_axis_facing_the_ray():
    c = {"s": strand([0.1, 0.2, 0.3, 0.4], shape="ribbon")}
    t, prim, _ = hits(c, *across(1.5, y=0.2))  # radius 0.25 there
    assert prim[0] == 1 and t[0] == pytest.approx(5.0, abs=2e-5)
    t, prim, _ = hits(c, *across(1.5, y=0.3))
    assert prim[0] == -1


def test_b_spline_does_not_reach_its_end_points():
    # Clamped B-spline: the curve starts at p0 + (p1 − p0) / 6 (z = 1/6), Catmull-Rom at p0.
    cr, bs = {"s": strand([0.1] * 4)}, {"s": strand([0.1] * 4, segments="b_spline")}
    assert hits(cr, *across(0.1))[1][0] == 0
    assert hits(bs, *across(0.1))[1][0] == -1
    t, prim, _ = hits(bs, *across(1.5))
    assert prim[0] == 1 and t[0] == pytest.approx(4.9, abs=2e-5)


def test_bent_curve_is_hit_where_catmull_rom_passes():
    # A quarter circle's points: the curve passes through every control point.
    angles = np.linspace(0.0, 0.5 * np.pi, 5)
    points = np.stack([np.cos(angles), np.zeros(5), np.sin(angles)], axis=1).astype(np.float32) * 2.0
    c = {"arc": {"points": points, "radii": np.full(5, 0.02, np.float32), "offsets": [0, 5]}}
    r = oc.Renderer(threads=1)
    r.set_scene(scene_with(c))
    origins = points - np.array([0.0, 5.0, 0.0], np.float32)
    t, prim, _ = r.intersect(origins, np.tile(np.array([[0.0, 1.0, 0.0]], np.float32), (5, 1)))
    np.testing.assert_allclose(t, 5.0 - 0.02, atol=1e-4)
    assert list(prim) == [0, 1, 2, 3, 3] or list(prim) == [0, 0, 1, 2, 3]


def hair_ball(n_curves=300, points_per_curve=6, seed=0, shape="round") -> dict:
    rng = np.random.default_rng(seed)
    roots = rng.normal(size=(n_curves, 3))
    roots /= np.linalg.norm(roots, axis=1, keepdims=True)
    steps = np.linspace(0.0, 0.6, points_per_curve)
    bend = rng.normal(scale=0.15, size=(n_curves, 3))
    points = roots[:, None, :] * (1.0 + steps[None, :, None]) + bend[:, None, :] * steps[None, :, None] ** 2
    points = points.reshape(-1, 3).astype(np.float32) + np.array([0, 0, 1.5], np.float32)
    radii = np.tile(np.linspace(0.02, 0.005, points_per_curve), n_curves).astype(np.float32)
    offsets = np.arange(0, n_curves * points_per_curve + 1, points_per_curve, dtype=np.int32)
    return {"points": points, "radii": radii, "offsets": offsets, "shape": shape}


@pytest.mark.parametrize("shape", ["round", "ribbon"])
def test_hair_ball_renders_lit_and_says_nothing_is_left_out(shape):
    d = scene_with({"ball": hair_ball(shape=shape)}, width=48, height=36)
    r = oc.Renderer(threads=2)
    r.set_scene(d)
    assert r.not_rendered == []
    r.accumulate(4)
    img = np.asarray(r.color)[..., :3]
    assert np.isfinite(img).all()
    covered = (img.sum(axis=2) > 0).mean()
    assert 0.05 < covered < 0.9, covered


def test_a_scene_without_curves_renders_bit_identically_beside_an_unplaced_curve_set():
    base = scenes.spheres_and_plane(32, 24)
    r = oc.Renderer(threads=2)
    r.set_scene(base)
    r.accumulate(2)
    a = np.array(r.color)
    with_curves = dict(base)
    with_curves["version"] = 2
    v = validate_scene(base)
    d = dict(v)
    d["curves"] = {"unused": hair_ball(20)}
    r2 = oc.Renderer(threads=2)
    r2.set_scene(d)
    r2.accumulate(2)
    np.testing.assert_array_equal(a, np.array(r2.color))


def test_material_ids_pick_each_curves_material():
    d = scene_with({"pair": {**strand([0.3, 0.3], segments="linear"), "material_ids": [0]}})
    red = {"nodes": {"Shader": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": (0.8, 0.0, 0.0)}},
                     "Material Output": {"type": "ShaderNodeOutputMaterial"}},
           "links": [["Shader", "BSDF", "Material Output", "Surface"]], "output": "Material Output"}
    d["materials"] = {"red": red}
    d["curves"]["pair"]["materials"] = ["red"]
    r = oc.Renderer(threads=1)
    r.set_scene(d)
    r.accumulate(4)
    img = np.asarray(r.color)[..., :3]
    lit = img[img.sum(axis=2) > 0]
    assert len(lit) and (lit[:, 0] > 5 * lit[:, 1]).all()


def test_optix_refuses_curves_and_cpu_takes_them():
    v = validate_scene(scene_with({"s": strand([0.1, 0.1])}))
    with pytest.raises(ValueError, match="curves: the OptiX backend does not render curve sets yet"):
        device.check_scene("OPTIX", v)
    device.check_scene("CPU", v)


def hair_info_image(output: str, radius=0.3, transform=None, eye_y=-5.0):
    """A 2 m linear strand seen from the front by an orthographic camera, emitting Curves Info's
    `output` (no lights, black world); returns the image and the validated scene."""
    d = scene_with({"s": {**strand([radius, radius, radius], segments="linear")}}, width=24, height=48)
    d["camera"] = {"type": "orthographic", "ortho_scale": 4.0, "matrix": scenes.look_at((0, eye_y, 1), (0, 0, 1))}
    d["lights"] = {}
    link = ["Info", output, "Emission", "Color"]
    d["materials"] = {"info": {"nodes": {"Info": {"type": "ShaderNodeHairInfo"},
                                         "Emission": {"type": "ShaderNodeEmission"},
                                         "Material Output": {"type": "ShaderNodeOutputMaterial"}},
                               "links": [link, ["Emission", "Emission", "Material Output", "Surface"]],
                               "output": "Material Output"}}
    d["curves"]["s"]["materials"] = ["info"]
    if transform is not None:
        d["instances"][0]["transforms"] = transform[None]
    v = validate_scene(d)
    r = oc.Renderer(threads=1)
    r.set_scene(v)
    r.accumulate(8)
    return np.asarray(r.color)[..., :3].copy(), v


def strand_pixels(img):
    """The strand's column of pixels (the image's middle), top row first."""
    return img[:, img.shape[1] // 2, 0]


def test_curves_info_intercept_grows_from_root_to_tip():
    img, _ = hair_info_image("Intercept")
    col = strand_pixels(img)
    # Rows 0..47 span z = 3 .. -1 (ortho scale 4 over 48 rows): the strand covers z 0..2.
    z = 3.0 - (np.arange(48) + 0.5) * 4.0 / 48
    inside = (z > 0.1) & (z < 1.9)
    np.testing.assert_allclose(col[inside], z[inside] / 2.0, atol=0.03)
    assert (img[z < -0.1] == 0).all() and (img[z > 2.1] == 0).all()


@pytest.mark.parametrize("output", ["Is Strand", "Length", "Thickness", "Random"])
def test_curves_info_per_curve_values(output):
    img, v = hair_info_image(output)
    col = strand_pixels(img)
    z = 3.0 - (np.arange(48) + 0.5) * 4.0 / 48
    expected = {"Is Strand": 1.0, "Length": 2.0, "Thickness": 0.6,
                "Random": float(v["curves"]["s"]["random"][0])}[output]
    np.testing.assert_allclose(col[(z > 0.1) & (z < 1.9)], expected, rtol=1e-3)


def test_curves_info_thickness_follows_the_object_scale():
    scale = np.diag([2.0, 2.0, 2.0, 1.0]).astype(np.float32)
    img, _ = hair_info_image("Thickness", radius=0.1, transform=scale)
    z = 3.0 - (np.arange(48) + 0.5) * 4.0 / 48
    # Scaled twice: the strand spans z 0..4 and is 0.4 wide (Cycles: the radius along object X).
    np.testing.assert_allclose(strand_pixels(img)[(z > 0.2) & (z < 2.8)], 0.4, rtol=1e-3)


def test_curves_info_tangent_normal_faces_the_viewer_across_the_strand():
    img, _ = hair_info_image("Tangent Normal", eye_y=5.0)
    # A vertical strand seen from +y: the normal across it facing the camera is +y (green).
    z = 3.0 - (np.arange(48) + 0.5) * 4.0 / 48
    rgb = img[(z > 0.1) & (z < 1.9), img.shape[1] // 2]
    np.testing.assert_allclose(rgb, np.tile([0.0, 1.0, 0.0], (len(rgb), 1)), atol=1e-4)


BLACK = {"nodes": {"Shader": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": (0.0, 0.0, 0.0)}},
                   "Material Output": {"type": "ShaderNodeOutputMaterial"}},
         "links": [["Shader", "BSDF", "Material Output", "Surface"]], "output": "Material Output"}


def moving_strand_scene(motion: dict) -> dict:
    """A black strand 0.1 wide before a white world, seen by an orthographic camera 4 units wide."""
    d = scene_with({"s": {**strand([0.05, 0.05, 0.05]), "motion": motion, "materials": ["black"]}}, width=64,
                   height=16)
    d["materials"] = {"black": BLACK}
    d["camera"] = {"type": "orthographic", "ortho_scale": 4.0, "matrix": scenes.look_at((0, -5, 1), (0, 0, 1))}
    d["motion"] = {"shutter": 1.0, "position": "CENTER"}
    d["lights"] = {}
    d["world"] = {"nodes": {"Background": {"type": "ShaderNodeBackground", "inputs": {"Color": (1.0, 1.0, 1.0)}},
                            "World Output": {"type": "ShaderNodeOutputWorld"}},
                  "links": [["Background", "Background", "World Output", "Surface"]], "output": "World Output"}
    return d


def coverage_columns(d: dict) -> np.ndarray:
    """How much of each image column the strand covers (1 − brightness), middle row."""
    r = oc.Renderer(threads=1)
    r.set_scene(d)
    r.accumulate(64)
    img = np.asarray(r.color)[..., :3]
    lit = img[8, :, :].mean(axis=1)
    return 1.0 - lit / lit.max()


@pytest.mark.parametrize("kind", ["points", "velocities"])
def test_deforming_curves_blur_over_the_shutter(kind):
    n = 3
    still = strand([0.05] * n)["points"]
    if kind == "points":  # from x = −1 to x = +1 over the shutter: the frame (its middle) at 0
        motion = {"points": np.stack([still + (-1.0, 0, 0), still + (1.0, 0, 0)]).astype(np.float32)}
    else:  # 2 units a frame over a one-frame centred shutter: the same sweep
        motion = {"velocities": np.tile(np.array([[2.0, 0.0, 0.0]], np.float32), (n, 1))}
    d = moving_strand_scene(motion)
    r = oc.Renderer(threads=1)
    r.set_scene(d)
    # intersect() traces at the frame's time: the strand is at x = 0 then.
    t, prim, _ = r.intersect(np.array([[0.0, -5.0, 1.0], [-0.9, -5.0, 1.0]], np.float32),
                             np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], np.float32))
    assert prim[0] >= 0 and prim[1] == -1
    blurred = coverage_columns(d)
    sharp = coverage_columns(dict(d, motion=None, curves={"s": {**strand([0.05] * n), "materials": ["black"]}}))
    # Columns span x −2 … 2 (16 per unit): the sharp strand covers ~2 columns, the blurred one
    # sweeps its 0.1 width over x −1 … 1 (columns 16 … 47), covering each a twentieth of the time.
    assert (sharp > 0.3).sum() <= 3 and (sharp > 0.01).sum() <= 4
    swept = blurred[17:47]
    assert (swept > 0.01).all() and swept.max() < 0.15
    assert (blurred[:14] == 0).all() and (blurred[50:] == 0).all()
    np.testing.assert_allclose(blurred.sum(), sharp.sum(), rtol=0.1)  # the same area, spread


def native_curves_scene(change) -> tuple[dict, dict]:
    """A plain copy of a validated two-curve scene (the native reader checks it again), changed."""
    from optica_core import ProgramCache

    two = {**strand([0.05, 0.05, 0.05, 0.05]), "offsets": [0, 2, 4], "material_ids": np.int32([0, 0])}
    moving = {**strand([0.05, 0.05, 0.05]), "motion": {"velocities": np.zeros((3, 3), np.float32)}}
    d = scene_with({"s": two, "m": moving})
    d["motion"] = {"shutter": 0.5}
    valid = validate_scene(d)
    programs = ProgramCache().for_scene(valid)
    plain = dict(valid)
    plain["curves"] = {name: dict(c) for name, c in valid["curves"].items()}
    plain["curves"]["m"]["motion"] = dict(valid["curves"]["m"]["motion"])
    change(plain["curves"])
    return plain, programs


@pytest.mark.parametrize("change, message", [
    (lambda c: c["s"].update(radii=np.float32([0.05, 0.05])), r"curves\['s'\]\.radii: expected one radius per point"),
    (lambda c: c["s"].update(radii=np.float32([0.05, -1.0, 0.05, 0.05])), r"\.radii: expected finite radii >= 0"),
    (lambda c: c["s"].update(offsets=np.int32([1, 2, 4])), r"\.offsets: expected 0 first and the number of points"),
    (lambda c: c["s"].update(offsets=np.int32([0, 3, 2, 4])), r"\.offsets: expected strictly increasing offsets"),
    (lambda c: c["s"].update(shape="square"), r"\.shape: unknown curve shape 'square'"),
    (lambda c: c["s"].update(segments="nurbs"), r"\.segments: unknown curve segments 'nurbs'"),
    (lambda c: c["s"].update(material_ids=np.int32([0])), r"\.material_ids: expected one per curve"),
    (lambda c: c["s"].update(intercept=np.float32([0.0, 1.0])), r"\.intercept: expected one value per row"),
    (lambda c: c["m"]["motion"].update(velocities=np.zeros((2, 3), np.float32)),
     r"curves\['m'\]\.motion\.velocities: expected one velocity per point"),
    (lambda c: c["m"].update(motion={"points": np.zeros((1, 3, 3), np.float32)}),
     r"curves\['m'\]\.motion\.points: expected \(S, P, 3\)"),
])
def test_the_native_reader_refuses_broken_curves(change, message):
    """validate_scene refuses all of these first; the native reader, handed a plain dict, says
    what is wrong too (a ValueError naming the curve set and key, never a crash)."""
    from optica_core import _native

    plain, programs = native_curves_scene(change)
    with pytest.raises(ValueError, match=message):
        _native.Renderer(1).set_scene(plain, programs)


def test_the_native_reader_takes_the_unchanged_plain_curves():
    from optica_core import _native

    plain, programs = native_curves_scene(lambda c: None)
    _native.Renderer(1).set_scene(plain, programs)
