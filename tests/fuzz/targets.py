# SPDX-License-Identifier: GPL-3.0-or-later
"""What the structured fuzzer checks: one function per target, taking a recipe (mutators.py) and
raising `Finding` when the core does anything but what it promises.

The promise (docs/scene-dict.md, docs/core-api.md): bad input is a `ValueError` naming what is
wrong (the ray arrays of `intersect` may also be a `TypeError`); a valid scene validates to a
normalised form that validates to itself, saves and loads back bit-exactly, renders without NaN
pixels. A `MemoryError` is an honest answer only for input that declares more memory than the
child may use (a zero-stride array of 2^33 rows, a film of 2^31 pixels). Anything else — another
exception, a crash, a hang — is a finding.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings

import numpy as np

import optica_core
from optica_core import sequence
from optica_core.scene import SceneWarning

import mutators

HONEST_MEMORY_ERROR = 256 << 20  # bytes an input must declare before a MemoryError is fair (children get 3 GiB)
RENDER_PIXELS = 64 * 64  # films larger than this are built but not sampled (time, not safety)


class Finding(Exception):
    """The core broke its promise on this input."""


def _expected(error: BaseException, declared: int, allowed=(ValueError,)) -> bool:
    if isinstance(error, allowed):
        return True
    return isinstance(error, MemoryError) and declared > HONEST_MEMORY_ERROR


def _guard(fn, declared: int, allowed=(ValueError,)):
    """fn()'s result, None when it raised an error it may raise; a Finding otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SceneWarning)
            return fn()
    except Exception as error:  # noqa: BLE001 - classifying is the point
        if _expected(error, declared, allowed):
            return None
        raise Finding(f"{type(error).__name__}: {error}"[:2000]) from error


def _same(a, b, path="scene") -> None:
    """a and b equal, arrays bit-exactly with the same dtype; Finding otherwise."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and a.tobytes() == b.tobytes()):
            raise Finding(f"{path}: arrays differ after a round trip")
    elif isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            raise Finding(f"{path}: keys differ after a round trip: {list(a)} vs {list(b)}")
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            raise Finding(f"{path}: lengths differ after a round trip")
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif a != b:
        raise Finding(f"{path}: {a!r} became {b!r}")


# --------------------------------------------------------------------------------------------
# Targets


def validate(recipe: dict) -> None:
    """validate_scene, strict and not; a valid scene's normal form is valid and equal to itself."""
    scene = mutators.build(recipe)
    declared = mutators.declared_bytes(scene)
    _guard(lambda: optica_core.validate_scene(scene, strict=False), declared)
    valid = _guard(lambda: optica_core.validate_scene(scene), declared)
    if valid is not None:
        again = _guard(lambda: optica_core.validate_scene(valid), declared)
        if again is None:
            raise Finding("the normalised form of a valid scene is not valid")
        _same(valid, again)


def files(recipe: dict) -> None:
    """save_scene / load_scene and an animation folder of one frame: complete or absent, and
    bit-exact when written."""
    scene = mutators.build(recipe)
    declared = mutators.declared_bytes(scene)
    with tempfile.TemporaryDirectory(prefix="optica-fuzz-") as folder:
        path = os.path.join(folder, "s.optica")
        saved = _guard(lambda: optica_core.save_scene(scene, path) or True, declared)
        leftovers = [name for name in os.listdir(folder) if name != "s.optica"]
        if leftovers:
            raise Finding(f"save_scene left {leftovers}")
        if saved is None:
            if os.path.exists(path):
                raise Finding("a failed save_scene left a file")
            return
        loaded = _guard(lambda: optica_core.load_scene(path), 0)
        if loaded is None:
            raise Finding("a saved scene does not load back")
        _same(optica_core.validate_scene(scene), loaded)
        shot = os.path.join(folder, "shot")
        writer = sequence.SequenceWriter(shot, frames=[1])
        writer.write_frame(1, scene)
        _same(loaded, sequence.Sequence(shot).load_frame(1))


_renderer = None


def render(recipe: dict) -> None:
    """Renderer.set_scene (one renderer across cases, so geometry reuse between unrelated scenes
    is fuzzed too), one sample, no NaN in any pass."""
    global _renderer
    if _renderer is None:
        _renderer = optica_core.Renderer(threads=2)
    r = _renderer
    scene = mutators.build(recipe)
    declared = mutators.declared_bytes(scene)
    valid = _guard(lambda: optica_core.validate_scene(scene), declared)
    if valid is None:
        _guard(lambda: r.set_scene(scene), declared)  # must refuse it the same way
        return
    _x, _y, w, h = valid["render"]["region"]
    film_bytes = w * h * 64
    if _guard(lambda: r.set_scene(scene) or True, max(declared, film_bytes)) is None:
        return
    if w * h > RENDER_PIXELS:
        return
    if r.accumulate(1) != 1:
        raise Finding("accumulate(1) did not add one sample")
    for name in ("color", "albedo", "normal", "depth"):
        image = getattr(r, name)
        if np.isnan(image).any():
            raise Finding(f"NaN in the {name} pass")


_scene_renderers: dict = {}


def intersect(recipe: dict) -> None:
    """Renderer.intersect with mutated ray arrays."""
    base = recipe["base"]
    if base not in _scene_renderers:
        r = optica_core.Renderer(threads=2)
        r.set_scene(mutators.base_scene(base))
        _scene_renderers[base] = r
    r = _scene_renderers[base]
    rays = mutators.build_rays(recipe)
    declared = mutators.declared_bytes(rays)
    out = _guard(lambda: r.intersect(rays.get("origins"), rays.get("directions")), declared, (ValueError, TypeError))
    if out is None:
        return
    t, prim, obj = out
    if not (len(t) == len(prim) == len(obj)):
        raise Finding("intersect returned arrays of different lengths")
    if np.isnan(t).any() or (t < 0).any():
        raise Finding("intersect returned a NaN or negative distance")
    if ((prim < 0) != np.isinf(t)).any() or ((obj < 0) != (prim < 0)).any():
        raise Finding("intersect: misses and hits disagree between t, prim and obj")


def canary(recipe: dict) -> None:
    """Misbehaves on purpose as `recipe["base"]` says: the runner's own test (a crash, a hang and
    a finding must each be caught and their input kept; a noisy case is none of them)."""
    import signal
    import time

    how = recipe["base"]
    if how == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif how == "hang":
        time.sleep(3600)
    elif how == "finding":
        raise Finding("canary")
    elif how == "noisy":
        # More than a pipe's buffer on stderr in one case: the runner must not take it for a hang.
        sys.stderr.write("canary warning line\n" * 20000)
        sys.stderr.flush()


TARGETS = {"validate": validate, "files": files, "render": render, "intersect": intersect, "canary": canary}
STRATEGIES = {"validate": mutators.recipes, "files": mutators.recipes, "render": mutators.recipes,
              "intersect": mutators.ray_recipes,
              "canary": lambda: __import__("hypothesis").strategies.sampled_from(
                  [{"base": os.environ.get("OPTICA_FUZZ_CANARY", "crash"), "mutations": []}])}
