"""Motion blur in the core, no Blender (docs/scene-dict.md, *Motion blur*): the kernel's
interpolation of transform steps (Cycles' decomposition), the boxes moving instances sweep, ray
times from the shutter curve and the rolling shutter, and renders whose blur is checked against
what motion blur means — the time average of still frames.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from helpers_scenes import trs
from optica_core import Renderer, SceneWarning, _native, device
from optica_core.scene import validate_scene

# ---- interpolation ------------------------------------------------------------------------------


def test_transforms_are_the_steps_at_their_times_and_decomposed_between():
    a = trs((0.0, 0.0, 0.0), angle=0.0, scale=1.0)
    b = trs((2.0, -4.0, 1.0), angle=math.pi / 2, scale=2.0)
    out = _native._testing_motion_transforms(np.stack([a, b]), np.array([0.0, 0.5, 1.0], np.float32))
    np.testing.assert_allclose(out[0], a, atol=1e-6)
    np.testing.assert_allclose(out[2], b, atol=1e-5)
    # Translation and scale linear, rotation along the arc (a matrix lerp would shrink it).
    np.testing.assert_allclose(out[1], trs((1.0, -2.0, 0.5), angle=math.pi / 4, scale=1.5), atol=1e-5)


def test_rotation_takes_the_shorter_arc_and_steps_are_piecewise():
    a, b = trs(angle=0.0), trs(angle=math.radians(350.0))  # −10°: the short way round
    mid = _native._testing_motion_transforms(np.stack([a, b]), np.array([0.5], np.float32))[0]
    np.testing.assert_allclose(mid, trs(angle=math.radians(-5.0)), atol=1e-5)
    steps = np.stack([trs((0, 0, 0)), trs((1, 0, 0)), trs((1, 3, 0))])  # S = 3: τ = 0, ½, 1
    out = _native._testing_motion_transforms(steps, np.array([0.25, 0.75], np.float32))
    np.testing.assert_allclose(out[:, :3, 3], [[0.5, 0, 0], [1.0, 1.5, 0]], atol=1e-6)


def test_a_mirrored_and_sheared_step_is_reproduced():
    m = trs((1, 2, 3), axis=(1, 1, 0), angle=0.7, scale=(1.0, -2.0, 0.5))
    m[:3, :3] = m[:3, :3] @ np.array([[1, 0.3, 0], [0, 1, 0.2], [0, 0, 1]], np.float32)
    out = _native._testing_motion_transforms(np.stack([m, m]), np.array([0.0, 0.3], np.float32))
    np.testing.assert_allclose(out[0], m, atol=1e-5)
    np.testing.assert_allclose(out[1], m, atol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_swept_bounds_hold_every_interpolated_position(seed):
    """A box far from its object's origin, turning by up to 170° per step: the TLAS box holds
    every point the interpolated transforms put it at (not just the steps'), and is not loose."""
    rng = np.random.default_rng(seed)
    steps = np.stack([trs(rng.uniform(-3, 3, 3), axis=rng.normal(size=3), angle=a, scale=rng.uniform(0.5, 2.0, 3))
                      for a in np.cumsum(rng.uniform(0.5, math.radians(170), 3))])
    lo, hi = np.array([1.0, 2.0, -0.5], np.float32), np.array([1.5, 2.2, 0.5], np.float32)
    box_lo, box_hi = map(np.array, _native._testing_motion_bounds(steps, lo, hi))
    times = np.linspace(0.0, 1.0, 4001, dtype=np.float32)
    xf = _native._testing_motion_transforms(steps, times).astype(np.float64)
    corners = np.array([[(hi if i & (1 << k) else lo)[k] for k in range(3)] for i in range(8)], np.float64)
    inner = rng.uniform(lo, hi, (64, 3))
    points = np.concatenate([corners, inner])
    world = np.einsum("tij,pj->tpi", xf[:, :3, :3], points) + xf[:, None, :3, 3]
    assert (world >= box_lo - 1e-6).all() and (world <= box_hi + 1e-6).all()
    sampled = world.reshape(-1, 3)
    extent = sampled.max(axis=0) - sampled.min(axis=0)
    assert ((box_hi - box_lo) <= extent * 1.25 + 0.05).all(), (box_hi - box_lo, extent)


def test_bounds_and_transforms_refuse_bad_steps():
    with pytest.raises(ValueError, match="steps"):
        _native._testing_motion_transforms(np.eye(4, dtype=np.float32)[None], np.zeros(1, np.float32))
    with pytest.raises(ValueError, match="lo, hi"):
        _native._testing_motion_bounds(np.stack([np.eye(4)] * 2).astype(np.float32), np.zeros(2), np.ones(3))


# ---- ray times ----------------------------------------------------------------------------------

def shutter_times(curve, u, rows=None, rolling=False, duration=0.1, height=100.0):
    u = np.asarray(u, np.float32)
    rows = np.zeros(len(u), np.int32) if rows is None else np.asarray(rows, np.int32)
    return _native._testing_shutter_times(curve, rolling, duration, u, rows, height)


def test_uniform_shutter_gives_the_sample_itself():
    u = np.linspace(0, 1, 101, dtype=np.float32)
    np.testing.assert_array_equal(shutter_times(None, u), u)


@pytest.mark.parametrize("curve", [np.linspace(0.0, 1.0, 8), np.array([0.0, 1.0, 0.0]),
                                   np.array([1.0, 0.2, 0.2, 3.0, 0.0])])
def test_ray_times_follow_the_shutter_curve(curve):
    """τ of evenly spread u has the curve's distribution: its histogram matches the density
    (linear between the curve's points) bin by bin."""
    n = 200_000
    u = (np.arange(n) + 0.5) / n
    tau = shutter_times(np.asarray(curve, np.float32), u)
    assert tau.min() >= 0.0 and tau.max() <= 1.0 and (np.diff(tau) >= 0).all()
    edges = np.linspace(0, 1, 41)
    fine = np.linspace(0, 1, 40_001)
    density = np.interp(fine, np.linspace(0, 1, len(curve)), curve)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]))])
    cdf /= cdf[-1]
    expected = np.diff(np.interp(edges, fine, cdf))
    got = np.histogram(tau, edges)[0] / n
    np.testing.assert_allclose(got, expected, atol=2e-3)


def test_rolling_shutter_scans_from_the_top():
    rows = np.array([0, 9, 50, 99])
    u = np.array([0.1, 0.9, 0.5, 0.3])
    scan = (rows + 1) / 100.0  # Cycles: 1 − y / height with y counted from the bottom
    np.testing.assert_allclose(shutter_times(None, u, rows, rolling=True, duration=0.0), scan, atol=1e-6)
    d = 0.3
    np.testing.assert_allclose(shutter_times(None, u, rows, rolling=True, duration=d),
                               (u - 0.5) * d + (scan - 0.5) * (1 - d) + 0.5, atol=1e-6)
    np.testing.assert_allclose(shutter_times(None, u, rows, rolling=True, duration=1.0), u, atol=1e-6)


# ---- renders ------------------------------------------------------------------------------------

def emission(strength: float) -> dict:
    return {"nodes": {"Emission": {"type": "ShaderNodeEmission", "inputs": {"Color": [1.0, 1.0, 1.0],
                                                                             "Strength": strength}},
                      "Output": {"type": "ShaderNodeOutputMaterial"}},
            "links": [["Emission", "Emission", "Output", "Surface"]], "output": "Output"}


def diffuse(color) -> dict:
    return {"nodes": {"Diffuse": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": list(color)}},
                      "Output": {"type": "ShaderNodeOutputMaterial"}},
            "links": [["Diffuse", "BSDF", "Output", "Surface"]], "output": "Output"}


BLACK_WORLD = {"nodes": {"Background": {"type": "ShaderNodeBackground", "inputs": {"Color": [0.0, 0.0, 0.0],
                                                                                   "Strength": 0.0}},
                         "World Output": {"type": "ShaderNodeOutputWorld"}},
               "links": [["Background", "Background", "World Output", "Surface"]], "output": "World Output"}

WIDTH = 48
HALF = 1.5  # the orthographic view spans x, y in [−1.5, 1.5]
STRIP = 0.1  # the strip's half width


def strip_scene(**motion) -> dict:
    """An emissive strip (x ∈ [−0.1, 0.1], the frame's full height) over black, seen from above
    by an orthographic camera: a streak's brightness along x is how long the strip spent there."""
    cam = np.eye(4, dtype=np.float32)
    cam[2, 3] = 5.0
    strip = np.array([[-STRIP, -2, 0], [STRIP, -2, 0], [STRIP, 2, 0], [-STRIP, 2, 0]], np.float32)
    return {
        "version": 2,
        "render": {"width": WIDTH, "height": WIDTH, "seed": 1, "filter": "box", "filter_width": 1.0,
                   "max_bounces": 0},
        "camera": {"type": "orthographic", "matrix": cam, "ortho_scale": 2 * HALF},
        "world": BLACK_WORLD,
        "materials": {"glow": emission(1.0)},
        "meshes": {"strip": {"vertices": strip, "triangles": np.array([[0, 1, 2], [0, 2, 3]], np.int32),
                             "materials": ["glow"]}},
        "instances": [{"geometry": "strip", "transforms": np.eye(4, dtype=np.float32)[None]}],
        "motion": dict(motion) if motion else None,
    }


def moving_strip(steps_x, **motion) -> dict:
    d = strip_scene(**motion)
    d["instances"][0]["motion"] = np.stack([trs((x, 0, 0)) for x in steps_x])[:, None]
    return d


def render(d: dict, samples: int, threads: int = 2) -> np.ndarray:
    r = Renderer(threads=threads)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SceneWarning)
        r.set_scene(d)
    r.accumulate(samples)
    return np.array(r.color)[..., :3].mean(axis=2)


def column_centres() -> np.ndarray:
    return -HALF + (np.arange(WIDTH) + 0.5) * (2 * HALF / WIDTH)


def streak_profile(tau_density, x_of_tau) -> np.ndarray:
    """Each column's expected brightness: the part of the column the strip covers, averaged over
    the shutter with the density of τ (box filter: a pixel is the mean over its footprint)."""
    px = 2 * HALF / WIDTH
    fine = (np.arange(20_000) + 0.5) / 20_000
    w = tau_density(fine)
    w = w / w.sum()
    x = x_of_tau(fine)[:, None]
    left = -HALF + np.arange(WIDTH)[None, :] * px
    overlap = np.clip(np.minimum(x + STRIP, left + px) - np.maximum(x - STRIP, left), 0.0, None) / px
    return (w[:, None] * overlap).sum(axis=0)


def test_a_motion_section_where_nothing_moves_renders_bit_identically():
    """The ray's time has a sampler dimension of its own: every other dimension is drawn as in a
    scene without motion, and nothing reads the time, so the image is the very same."""
    still = render(strip_scene(), 4)
    with_section = render(strip_scene(shutter=0.5, shutter_curve=np.array([0.0, 1.0, 0.2], np.float32)), 4)
    np.testing.assert_array_equal(with_section, still)


@pytest.mark.parametrize("curve", [None, np.array([0.0, 1.0], np.float32)])
def test_a_moving_instance_streaks_as_the_shutter_curve_says(curve):
    """The strip crosses x ∈ [−1, 1] over the shutter: with a uniform shutter the streak is flat,
    with a ramp curve it brightens towards the end as the curve's density."""
    d = moving_strip([-1.0, 1.0], shutter=1.0, shutter_curve=curve)
    image = render(d, 256)
    profile = image.mean(axis=0)
    density = (lambda t: np.ones_like(t)) if curve is None else (lambda t: t)
    expected = streak_profile(density, lambda t: -1.0 + 2.0 * t)
    assert abs(profile.sum() / expected.sum() - 1) < 0.01
    np.testing.assert_allclose(profile, expected, atol=0.08 * expected.max())


def test_rolling_shutter_slants_the_strip():
    """Duration 0: each row is exposed at one instant, τ = (row + 1) / height, so every row shows
    the strip where it is then."""
    d = moving_strip([-1.0, 1.0], shutter=1.0, rolling_shutter="TOP", rolling_shutter_duration=0.0)
    image = render(d, 64)
    rows = np.arange(WIDTH)
    where = (image * column_centres()).sum(axis=1) / image.sum(axis=1)
    expected = -1.0 + 2.0 * (rows + 1) / WIDTH
    assert np.abs(where - expected).max() <= 0.5 * 2 * HALF / WIDTH


def time_average(make, times, samples) -> np.ndarray:
    """The mean of still frames at the given times (each a scene without motion)."""
    return np.mean([render(make(t), samples) for t in times], axis=0)


@pytest.mark.parametrize("kind", ["instance", "vertices", "velocities", "camera"])
def test_every_kind_of_motion_blurs_as_the_time_average_of_still_frames(kind):
    """Over a centred shutter of 0.5 frames the strip moves from x = −0.8 to 0.8 (instance steps,
    vertex steps, velocities) or the camera moves the other way: each render equals the average
    of still frames at evenly spread times (the definition of motion blur), column by column."""
    shutter = 0.5
    verts = strip_scene()["meshes"]["strip"]["vertices"]

    def still(t):  # the scene at τ = t, nothing moving
        d = strip_scene()
        x = -0.8 + 1.6 * t
        if kind == "camera":
            d["camera"]["matrix"] = trs((-x, 0, 5.0))
        else:
            d["instances"][0]["transforms"] = trs((x, 0, 0))[None]
        return d

    d = strip_scene(shutter=shutter)
    if kind == "instance":
        d["instances"][0]["motion"] = np.stack([trs((x, 0, 0)) for x in (-0.8, 0.0, 0.8)])[:, None]
    elif kind == "vertices":
        d["meshes"]["strip"]["motion"] = {"vertices": np.stack([verts + (x, 0, 0) for x in (-0.8, 0.8)]).astype(np.float32)}
    elif kind == "velocities":  # units per frame: 1.6 over half a frame
        d["meshes"]["strip"]["motion"] = {"velocities": np.tile(np.float32([3.2, 0, 0]), (4, 1))}
    else:
        d["camera"]["motion"] = np.stack([trs((x, 0, 5.0)) for x in (0.8, -0.8)])
    blurred = pairs(render(d, 1024).mean(axis=0))
    reference = pairs(time_average(still, (np.arange(64) + 0.5) / 64, 64).mean(axis=0))
    assert abs(blurred.sum() / reference.sum() - 1) < 0.01
    np.testing.assert_allclose(blurred, reference, atol=0.05 * reference.max())


def pairs(columns: np.ndarray) -> np.ndarray:
    return columns.reshape(-1, 2).mean(axis=1)


def lamp_scene(lamp_x: float, **motion) -> dict:
    """A diffuse floor lit only by a small emissive quad above it (a mesh light, sampled by next-
    event estimation), seen from above."""
    cam = np.eye(4, dtype=np.float32)
    cam[2, 3] = 6.0
    floor = np.array([[-4, -4, 0], [4, -4, 0], [4, 4, 0], [-4, 4, 0]], np.float32)
    lamp = np.array([[-0.2, -0.2, 0], [-0.2, 0.2, 0], [0.2, 0.2, 0], [0.2, -0.2, 0]], np.float32)  # faces down
    quad = np.array([[0, 1, 2], [0, 2, 3]], np.int32)
    return {
        "version": 2,
        "render": {"width": 32, "height": 32, "seed": 2, "max_bounces": 1},
        "camera": {"type": "orthographic", "matrix": cam, "ortho_scale": 6.0},
        "world": BLACK_WORLD,
        "materials": {"floor": diffuse((0.8, 0.8, 0.8)), "lamp": emission(20.0)},
        "meshes": {"floor": {"vertices": floor, "triangles": quad, "materials": ["floor"]},
                   "lamp": {"vertices": lamp, "triangles": quad, "materials": ["lamp"]}},
        "instances": [{"geometry": "floor", "transforms": np.eye(4, dtype=np.float32)[None]},
                      {"geometry": "lamp", "transforms": trs((lamp_x, 0, 1.0))[None]}],
        "motion": dict(motion) if motion else None,
    }


def test_a_moving_mesh_light_lights_as_its_time_average():
    """The lamp turns and slides over the shutter: light sampling places it at each path's time,
    so the floor's light is the average of still frames (a lamp sampled where it is in the frame
    would light the floor under the frame's position only)."""
    d = lamp_scene(0.0, shutter=1.0, position="START")
    d["instances"][1]["motion"] = np.stack([trs((x, 0, 1.0), angle=a) for x, a in ((-1.5, 0.0), (1.5, 1.2))])[:, None]
    d["instances"][1]["transforms"] = d["instances"][1]["motion"][0]
    blurred = render(d, 512)

    def still(t):
        s = lamp_scene(0.0)
        xf = _native._testing_motion_transforms(d["instances"][1]["motion"][:, 0], np.float32([t]))
        s["instances"][1]["transforms"] = xf.astype(np.float32)
        return s

    reference = time_average(still, (np.arange(32) + 0.5) / 32, 64)
    floor_rows = np.r_[0:12, 20:32]  # away from the band where the camera sees the lamp itself
    blurred, reference = blurred[floor_rows], reference[floor_rows]
    assert abs(blurred.mean() / reference.mean() - 1) < 0.01
    cols_b, cols_r = blurred.mean(axis=0), reference.mean(axis=0)
    np.testing.assert_allclose(cols_b, cols_r, atol=0.03 * cols_r.max())


def test_optix_refuses_a_scene_with_motion():
    v = validate_scene(moving_strip([-1.0, 1.0], shutter=1.0))
    with pytest.raises(ValueError, match="motion blur: the OptiX backend"):
        device.check_scene("OPTIX", v)
    device.check_scene("CPU", v)
    device.check_scene("OPTIX", validate_scene(strip_scene()))


def test_scene_with_motion_says_nothing_is_left_out():
    r = Renderer(threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SceneWarning)
        r.set_scene(moving_strip([-1.0, 1.0], shutter=1.0))
    assert r.not_rendered == []


def test_camera_steps_are_used_without_their_scale():
    """A camera matrix with scale is rendered as without it (Cycles clears it), steps too."""
    base = moving_strip([-1.0, 1.0], shutter=1.0)
    base["camera"]["motion"] = np.stack([trs((0, 0, 5.0)), trs((0.5, 0, 5.0))])
    scaled = dict(base, camera=dict(base["camera"]))
    scaled["camera"]["motion"] = np.stack([trs((0, 0, 5.0), scale=2.0), trs((0.5, 0, 5.0), scale=3.0)])
    np.testing.assert_allclose(render(scaled, 8), render(base, 8), atol=1e-5)


def test_a_moving_look_at_camera_keeps_its_rotation():
    """Steps of a camera turning by 90° about Z: τ = ½ sees what a still camera at 45° sees."""
    eye = (0.0, 0.0, 5.0)
    d = strip_scene(shutter=1.0, rolling_shutter="TOP", rolling_shutter_duration=0.0)
    # Rolling with duration 0 gives every row its own time; row r sees τ = (r + 1) / H.
    d["camera"]["motion"] = np.stack([trs(eye, angle=a) for a in (0.0, math.pi / 2)])
    image = render(d, 4)
    mid = WIDTH // 2 - 1  # τ = ½ exactly
    still = strip_scene()
    still["camera"]["matrix"] = trs(eye, angle=math.pi / 4)
    np.testing.assert_allclose(image[mid], render(still, 4)[mid], atol=1e-5)


def test_velocities_follow_the_shutter_of_each_scene():
    """Velocities become positions at shutter open and close, so the same mesh arrays under
    another shutter are another geometry (the renderer's geometry cache must not reuse them)."""
    d = strip_scene(shutter=0.25)
    d["meshes"]["strip"]["motion"] = {"velocities": np.tile(np.float32([3.2, 0, 0]), (4, 1))}
    longer = dict(d, motion={"shutter": 1.0})
    r = Renderer(threads=2)
    r.set_scene(d)
    r.accumulate(64)
    short_image = np.array(r.color)
    r.set_scene(longer)
    r.accumulate(64)
    np.testing.assert_array_equal(np.array(r.color), render_color(longer, 64))
    assert not np.array_equal(np.array(r.color), short_image)


def render_color(d: dict, samples: int) -> np.ndarray:
    r = Renderer(threads=2)
    r.set_scene(d)
    r.accumulate(samples)
    return np.array(r.color)


def native_scene(change) -> tuple[dict, dict]:
    """A plain copy of a validated motion scene (the native reader checks it again), changed."""
    from optica_core import ProgramCache

    d = moving_strip([-1.0, 1.0], shutter=1.0)
    d["camera"]["motion"] = np.stack([trs((0, 0, 5.0)), trs((0.1, 0, 5.0))])
    d["meshes"]["strip"]["motion"] = {"vertices": np.stack([d["meshes"]["strip"]["vertices"]] * 2)}
    valid = validate_scene(d)
    programs = ProgramCache().for_scene(valid)
    plain = dict(valid)
    plain["motion"] = dict(valid["motion"])
    plain["camera"] = dict(valid["camera"])
    plain["meshes"] = {"strip": dict(valid["meshes"]["strip"], motion=dict(valid["meshes"]["strip"]["motion"]))}
    plain["instances"] = [dict(valid["instances"][0])]
    change(plain)
    return plain, programs


@pytest.mark.parametrize("change, message", [
    (lambda d: d["motion"].update(shutter=0.0), r"motion\.shutter: must be > 0"),
    (lambda d: d["motion"].update(shutter_curve=np.zeros(4, np.float32)), "at least one value > 0"),
    (lambda d: d["motion"].update(shutter_curve=np.float32([1, -1, 1])), "finite values >= 0"),
    (lambda d: d["motion"].update(shutter_curve=np.float32([1])), "at least 2 values"),
    (lambda d: d["camera"].update(motion=np.eye(4, dtype=np.float32)[None]), r"camera\.motion: expected \(S, 4, 4\)"),
    (lambda d: d["camera"].update(motion=np.zeros((2, 4, 4), np.float32)), r"camera\.motion: singular rotation"),
    (lambda d: d["meshes"]["strip"]["motion"].update(vertices=np.zeros((2, 3, 3), np.float32)),
     r"meshes\['strip'\]\.motion\.vertices: expected \(S, V, 3\)"),
    (lambda d: d["meshes"]["strip"]["motion"].update(vertices=None, velocities=np.zeros((5, 3), np.float32)),
     r"meshes\['strip'\]\.motion\.velocities: expected one velocity per vertex"),
    (lambda d: d["instances"][0].update(motion=np.zeros((2, 2, 4, 4), np.float32)),
     r"instances\[0\]\.motion: expected \(S, N, 4, 4\)"),
])
def test_the_native_reader_refuses_broken_motion(change, message):
    """validate_scene refuses all of these first; the native reader, handed a plain dict, says
    what is wrong too (a ValueError naming the key, never a crash)."""
    plain, programs = native_scene(change)
    with pytest.raises(ValueError, match=message):
        _native.Renderer(1).set_scene(plain, programs)


def test_the_native_reader_takes_the_unchanged_plain_copy():
    plain, programs = native_scene(lambda d: None)
    _native.Renderer(1).set_scene(plain, programs)
