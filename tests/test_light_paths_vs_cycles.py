# SPDX-License-Identifier: GPL-3.0-or-later
"""Light Paths › Max Bounces against Cycles, in real Blender, both engines rendering the same
scene through Blender in one process.

- Default settings on both sides (Total 12, Diffuse 4, Glossy 4, Transmission 12, Transparent
  8): a closed, diffuse room lit by a small light (the diffuse limit decides how much light
  the room keeps) and a room with glossy walls and a glass ball (glossy and transmission
  limits): image and tile means agree with Cycles.
- Each limit by type changes the image in both engines the same way (diffuse 0, glossy 0,
  transparent 2 against the defaults): a test that fails when Optica ignores a limit.
- The per-object Shadow Terminator offsets (Geometry, Shading) are exported and used as Cycles
  uses them.

Cycles is otherwise set up as bpy_scenes.configure_cycles does (no adaptive sampling,
denoising, clamping or glossy blur), except for its Light Paths, which keep their defaults.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import read_image_file

bpy = pytest.importorskip("bpy")
import bpy_scenes as bs  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import convergence as cv  # noqa: E402

SIZE = (48, 48)
TILES = 4  # tiles per side for the tile means
# Cycles' Light Paths › Max Bounces: the property, and its default in Blender 5.0.
CYCLES_LIMITS = {"max_bounces": 12, "diffuse_bounces": 4, "glossy_bounces": 4, "transmission_bounces": 12,
                 "transparent_max_bounces": 8}


@pytest.fixture
def scene(optica_scene):
    return bs.new_empty_scene(*SIZE)


# ---- scenes -----------------------------------------------------------------------------------

def _room(scene, walls: dict):
    """A closed 4 × 4 × 3 m room (every wall a separate quad facing in); `walls` maps floor,
    ceiling, back, front, left, right to materials. The camera stands inside by the front wall."""
    h, z = 2.0, 3.0
    quads = {
        "floor": [(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)],
        "ceiling": [(-h, -h, z), (-h, h, z), (h, h, z), (h, -h, z)],
        "back": [(-h, h, 0), (h, h, 0), (h, h, z), (-h, h, z)],
        "front": [(-h, -h, 0), (-h, -h, z), (h, -h, z), (h, -h, 0)],
        "left": [(-h, -h, 0), (-h, h, 0), (-h, h, z), (-h, -h, z)],
        "right": [(h, -h, 0), (h, -h, z), (h, h, z), (h, h, 0)],
    }
    for name, quad in quads.items():
        bs.mesh_object(scene, name.title(), quad, [(0, 1, 2, 3)], walls[name])
    bs.camera(scene, (0.0, -1.9, 1.5), (90, 0, 0), lens=14)
    bs.world(scene, (0.0, 0.0, 0.0))


def diffuse_room(scene):
    """Diffuse walls and a small ceiling light: most of the light has bounced more than once."""
    white = bs.diffuse("White", (0.8, 0.8, 0.8))
    _room(scene, {"floor": white, "ceiling": white, "back": white, "front": white,
                  "left": bs.diffuse("Red", (0.8, 0.2, 0.15)), "right": bs.diffuse("Green", (0.2, 0.7, 0.2))})
    bs.uv_sphere(scene, "Ball", 0.5, (0.6, 0.8, 0.5), bs.diffuse("Ball", (0.3, 0.4, 0.8)), segments=32, rings=16)
    bs.light(scene, "AREA", energy=60.0, location=(0.0, 0.3, 2.95), size=0.4)


def glossy_room(scene):
    """Rough metal side walls facing each other (glossy inter-reflections), a glass ball
    (transmission) and a rough glossy floor, lit by a ceiling panel."""
    white = bs.diffuse("White", (0.8, 0.8, 0.8))
    metal = bs.principled("Metal", (0.9, 0.85, 0.8), metallic=1.0, roughness=0.4)
    floor = bs.principled("Floor", (0.3, 0.3, 0.35), roughness=0.3)
    _room(scene, {"floor": floor, "ceiling": white, "back": white, "front": white, "left": metal, "right": metal})
    glass = bs.principled("Glass", (0.95, 0.95, 0.9), roughness=0.3, transmission=1.0, ior=1.45)
    bs.uv_sphere(scene, "Ball", 0.55, (-0.2, 0.6, 0.6), glass, segments=32, rings=16)
    bs.light(scene, "AREA", energy=150.0, location=(0.0, 0.4, 2.95), size=1.2)


def alpha_layers(scene):
    """Five half-transparent diffuse sheets before a lit wall: how many the camera path and the
    shadow rays may pass is the transparent limit."""
    bs.world(scene, (0.05, 0.05, 0.05))
    sheet = bs.principled("Sheet", (0.9, 0.5, 0.3), specular=0.0, roughness=1.0)
    sheet.node_tree.nodes["Principled BSDF"].inputs["Alpha"].default_value = 0.6
    for k in range(5):
        y = -0.6 + 0.25 * k
        bs.mesh_object(scene, f"Sheet{k}", [(-1, y, -1), (-1, y, 1), (1, y, 1), (1, y, -1)], [(0, 1, 2, 3)], sheet)
    bs.mesh_object(scene, "Wall", [(-3, 1, -3), (-3, 1, 3), (3, 1, 3), (3, 1, -3)], [(0, 1, 2, 3)],
                   bs.diffuse("Wall", (0.8, 0.8, 0.8)))
    bs.light(scene, "SUN", energy=3.0, location=(0, -3, 0), rotation_deg=(80, 0, 10))
    bs.camera(scene, (0.0, -4.0, 0.0), (90, 0, 0), lens=50)


# ---- rendering --------------------------------------------------------------------------------

def configure(scene, engine: str, samples: int, seed: int, **limits):
    """The matched settings of bpy_scenes, with Light Paths at each engine's defaults unless
    `limits` (Cycles' property names) are given; both engines get the same."""
    if engine == "cycles":
        bs.configure_cycles(scene, samples, seed)
        settings = scene.cycles
    else:
        bs.configure_optica(scene, samples, seed)
        settings = scene.optica
    for prop in CYCLES_LIMITS:
        settings.property_unset(prop)
        assert getattr(settings, prop) == CYCLES_LIMITS[prop], f"{engine}'s default {prop} is not Cycles'"
    for prop, value in limits.items():
        setattr(settings, prop, value)


def render(scene, tmp_path, engine: str, samples: int, seed: int = 1, **limits) -> np.ndarray:
    configure(scene, engine, samples, seed, **limits)
    return bs.render(scene, tmp_path / f"{engine}_{samples}_{seed}.exr", read_image_file)


def tile_means(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // TILES, image.shape[1] // TILES
    return image[: h * TILES, : w * TILES].reshape(TILES, h, TILES, w, -1).mean(axis=(1, 3, 4)).ravel()


def tile_noise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each tile's relative noise: the standard deviation of one render's tile mean over that mean,
    from two renders of one engine with different seeds. Pixels are independent, so a pixel's
    variance is half its squared difference between the renders and a tile mean's variance is
    their mean over the tile's pixel count. Per tile and from every pixel: the glass ball's
    caustics make the ceiling tiles several times noisier than the floor's, which a spread pooled
    over tiles, or the difference of two tile means (one degree of freedom), misjudges."""
    h, w = a.shape[0] // TILES, a.shape[1] // TILES
    d = (a - b)[: h * TILES, : w * TILES].mean(axis=-1).reshape(TILES, h, TILES, w)
    variance = (d**2).mean(axis=(1, 3)).ravel() / 2.0 / (h * w)
    mean = 0.5 * (tile_means(a) + tile_means(b))
    return np.sqrt(variance) / np.maximum(mean, 1e-12)


def matched_pair(scene, tmp_path, samples: int, **limits):
    """Two renders per engine (seeds 1 and 2) and the relative noise of the difference of their
    means, per tile: (Optica's mean, Cycles' mean, noise)."""
    halves = {engine: [render(scene, tmp_path, engine, samples, seed=s, **limits) for s in (1, 2)]
              for engine in ("cycles", "optica")}
    noise = np.hypot(tile_noise(*halves["optica"]), tile_noise(*halves["cycles"])) / math.sqrt(2.0)
    optica, cycles = (0.5 * (h[0] + h[1]) for h in (halves["optica"], halves["cycles"]))
    return optica, cycles, noise


def compare_means(optica: np.ndarray, cycles: np.ndarray, what: str, *, image_tol=0.01, tile_tol=0.01,
                  noise=0.0) -> list[str]:
    """Image and tile means; a tile may differ by tile_tol or 3 × `noise` (the expected relative
    spread of a tile's difference between the two images, a number or one per tile), whichever
    is larger."""
    ratio = optica.mean() / cycles.mean()
    o, c = tile_means(optica), tile_means(cycles)
    dark = c < 1e-4 * cycles.mean()  # black in Cycles (e.g. a ceiling with no diffuse bounce): black in Optica
    tiles = np.where(dark, np.where(o < 1e-3 * cycles.mean(), 1.0, np.inf), o / np.where(dark, 1.0, c))
    tol = np.maximum(tile_tol, 3.0 * np.asarray(noise, dtype=float)) * np.ones_like(tiles)
    print(f"{what}: mean Optica/Cycles {ratio:.4f}; tiles {np.round(tiles, 3).tolist()}, "
          f"tolerances {np.round(tol, 4).tolist()}")
    failures = []
    if abs(ratio - 1) > image_tol:
        failures.append(f"{what}: image mean Optica/Cycles {ratio:.4f}")
    worst = int(np.argmax(np.abs(tiles - 1) / tol))
    if abs(tiles[worst] - 1) > tol[worst]:
        failures.append(f"{what}: tile {worst} mean Optica/Cycles {tiles[worst]:.4f} (tolerance {tol[worst]:.4f})")
    return failures


SCENES = {"diffuse room": diffuse_room, "glossy room": glossy_room}


@pytest.mark.parametrize("name", list(SCENES))
def test_default_light_paths_match_cycles(scene, tmp_path, name):
    SCENES[name](scene)
    # Tiles within 1 %, or 3 σ of their difference where caustics make them noisier than that.
    optica, cycles, noise = matched_pair(scene, tmp_path, 1024)
    assert cycles.mean() > 1e-3, "the reference is black: the scene is broken"
    failures = compare_means(optica, cycles, name, noise=noise)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("name", "limit", "value"), [("diffuse room", "diffuse_bounces", 0),
                                                      ("glossy room", "glossy_bounces", 0),
                                                      ("glossy room", "transmission_bounces", 1),
                                                      ("alpha layers", "transparent_max_bounces", 2)])
def test_limit_by_type_matches_cycles(scene, tmp_path, name, limit, value):
    """The limit changes Cycles' image clearly, and Optica's the same way: ignoring it fails."""
    {**SCENES, "alpha layers": alpha_layers}[name](scene)
    cycles_default = render(scene, tmp_path, "cycles", 256, seed=3)
    optica, cycles, noise = matched_pair(scene, tmp_path, 1024, **{limit: value})
    change = cycles.mean() / cycles_default.mean()
    print(f"{name}, {limit} = {value}: Cycles' mean ×{change:.3f} against the defaults")
    assert abs(change - 1) > 0.05, "the limit hardly changes Cycles' image: the scene does not test it"
    failures = compare_means(optica, cycles, f"{name}, {limit} = {value}", noise=noise)
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENES))
def test_default_light_paths_converge_to_cycles(scene, tmp_path, name):
    """Against a 2 × 2048-sample Cycles reference (its own noise subtracted), Optica's image mean
    is within 1 % at 1024 samples, its tile means within 1 % (or 3 σ of their noise, where the
    glass ball's caustics make that larger), and its error falls like 1/√spp from 64 to 1024."""
    SCENES[name](scene)
    halves = [render(scene, tmp_path, "cycles", 2048, seed=s) for s in (1, 2)]
    reference, reference_noise = cv.reference_from_halves(*halves)
    counts = (64, 256, 1024)
    images = [render(scene, tmp_path, "optica", n, seed=n) for n in counts]
    errors = [cv.corrected_rmse(image, reference, reference_noise) for image in images]
    check = cv.convergence_check(counts, errors)
    print(f"{name}: errors {errors}, check {check}")
    # Optica at 1024 samples (σ of a 2048-sample half × √2) against the mean of the two halves
    # (σ / √2): the difference's spread is √(2 + 1/2) σ.
    noise = tile_noise(*halves) * math.sqrt(2.5)
    failures = compare_means(images[-1], reference, name, noise=noise)
    if check["plateau"]:
        failures.append(f"{name}: the error plateaus: {errors} ({check})")
    assert not failures, "\n".join(failures)


# ---- shadow terminator offsets ----------------------------------------------------------------

def _binned(x: np.ndarray) -> np.ndarray:
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    return x[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3, 4))


def binned_rmse(a: np.ndarray, b: np.ndarray, band: np.ndarray) -> float:
    """RMSE over 2 × 2-pixel bins in `band` (a mask of bins), relative to b's mean there."""
    a, b = _binned(a)[band], _binned(b)[band]
    return float(np.sqrt(np.mean((a - b) ** 2)) / max(b.mean(), 1e-6))


@pytest.mark.parametrize(("geometry", "shading"), [(0.0, 0.0), (0.0, 0.25), (0.1, 0.5)])
def test_shadow_terminator_offsets_match_cycles(scene, tmp_path, geometry, shading):
    """A coarse smooth sphere under a low sun, direct light only: the terminator's shape is what
    the object's offsets make it. Optica's difference from Cycles stays within the noise (Cycles
    against itself, two seeds), and the offsets move Cycles' image by clearly more than that:
    an ignored offset fails."""
    ball = bs.uv_sphere(scene, "Ball", 1.0, (0, 0, 0), bs.diffuse("Ball"), segments=8, rings=5)
    bs.light(scene, "SUN", energy=3.0, location=(0, 0, 4), rotation_deg=(75, 0, 40), angle=math.radians(0.5))
    bs.camera(scene, (0.0, -5.0, 0.0), (90, 0, 0), lens=60)
    bs.world(scene, (0.0, 0.0, 0.0))
    limits = dict.fromkeys(CYCLES_LIMITS, 0)
    defaults = render(scene, tmp_path, "cycles", 256, seed=3, **limits)
    ball.shadow_terminator_geometry_offset = geometry
    ball.shadow_terminator_shading_offset = shading
    cycles = [render(scene, tmp_path, "cycles", 256, seed=s, **limits) for s in (1, 2)]
    optica = render(scene, tmp_path, "optica", 256, **limits)
    # The band the offsets act on: lit, but less than half as bright as the brightest bin
    # (cos(N·L) below the offsets' cutoffs); the silhouette's edge bins are left out too.
    c, d = _binned(cycles[0]), _binned(defaults)
    top = max(c.max(), d.max())
    band = (np.maximum(c, d) > 0.02 * top) & (np.maximum(c, d) < 0.5 * top)
    noise, error = binned_rmse(cycles[1], cycles[0], band), binned_rmse(optica, cycles[0], band)
    moved = binned_rmse(defaults, cycles[0], band)
    bound = 2.0 * noise + 0.005
    print(f"offsets {geometry}, {shading}: rel. RMSE Optica–Cycles {error:.4f}, Cycles–Cycles {noise:.4f}, "
          f"Cycles with Blender's default offsets {moved:.4f}; mean Optica/Cycles {optica.mean() / cycles[0].mean():.4f}")
    assert abs(optica.mean() / cycles[0].mean() - 1) < 0.01
    assert error <= bound, f"Optica differs from Cycles by {error:.4f} (noise bound {bound:.4f})"
    assert moved > 2 * bound, "the offsets hardly change Cycles' image: the scene does not test them"
