"""Optica's native path-tracing core.

`Renderer` renders a scene dictionary (docs/scene-dict.md) progressively; `validate_scene`,
`save_scene` and `load_scene` handle the dictionary itself. This package never imports bpy.
See docs/core-api.md for the whole API.
"""

from . import _native
from . import scenes, shading
from .io import load_scene, save_scene
from .programs import ProgramCache
from .scene import SCENE_VERSION, CheckedArrays, SceneWarning, is_normalised, validate_scene

__all__ = ["Renderer", "SceneWarning", "validate_scene", "save_scene", "load_scene", "SCENE_VERSION", "scenes",
           "shading"]
__version__ = "0.1.0"


def _read_only(value):
    """A structural copy of a validated scene whose arrays are read-only views."""
    if isinstance(value, dict):
        return {k: _read_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_read_only(v) for v in value]
    if hasattr(value, "__array_interface__"):
        view = value.view()
        view.flags.writeable = False
        return view
    return value


class Renderer:
    """Progressive path tracer over one scene.

    threads: worker threads, 0 = all cores. Rendering releases the GIL; `cancel()` may be
    called from any thread and makes a running `accumulate()` return within one tile.
    """

    def __init__(self, threads: int = 0):
        if int(threads) < 0:
            raise ValueError(f"threads: expected >= 0, got {threads}")
        self._native = _native.Renderer(int(threads))
        self._scene = None
        self._programs = ProgramCache()
        self._checked = CheckedArrays()

    @property
    def threads(self) -> int:
        return self._native.threads

    def set_scene(self, scene: dict) -> None:
        """Validates `scene` (unless it is validate_scene's result; arrays checked by the last
        call are not checked again), compiles its shaders (unchanged ones are reused), builds
        its BVHs (unchanged geometry keeps its own) and clears the film."""
        valid = scene if is_normalised(scene) else validate_scene(scene, checked=self._checked)
        self._native.set_scene(valid, self._programs.for_scene(valid))
        self._scene = valid

    @property
    def programs_compiled(self) -> int:
        """Shader programs the last set_scene compiled (the others were reused)."""
        return self._programs.compiled

    def get_scene(self) -> dict:
        """The validated dictionary last given to set_scene (arrays are read-only views)."""
        if self._scene is None:
            raise RuntimeError("get_scene: no scene; call set_scene() first")
        return _read_only(self._scene)

    def accumulate(self, n: int = 1) -> int:
        """Adds n samples per pixel; returns how many were added (fewer if cancelled)."""
        return self._native.accumulate(int(n))

    def set_adaptive(self, threshold: float, min_samples: int = 16) -> None:
        """Adaptive sampling: a 16×16 tile stops once every pixel's noise estimate (Cycles'
        metric) is below `threshold`, checked from `min_samples` on; 0 turns it off."""
        self._native.set_adaptive(float(threshold), int(min_samples))

    @property
    def converged(self) -> bool:
        """True once adaptive sampling has stopped every tile."""
        return self._native.converged

    def converged_fraction(self, threshold: float) -> float:
        """Fraction of pixels whose noise estimate is below `threshold` (any time)."""
        return self._native.converged_fraction(float(threshold))

    def cancel(self) -> None:
        self._native.cancel()

    def reset(self) -> None:
        self._native.reset()

    @property
    def geometry_reused(self) -> int:
        """Geometries the last set_scene took over from the previous scene (same array
        objects) instead of reading them and building their BVH again."""
        return self._native.geometry_reused

    @property
    def samples(self) -> int:
        return self._native.samples

    @property
    def color(self):
        return self._native.color

    @property
    def albedo(self):
        return self._native.albedo

    @property
    def normal(self):
        return self._native.normal

    @property
    def depth(self):
        return self._native.depth

    @property
    def object_id(self):
        return self._native.object_id

    def intersect(self, origins, directions):
        """Nearest hits of rays: returns (t, prim, obj); t = inf, prim = obj = -1 on a miss."""
        return self._native.intersect(origins, directions)
