"""Optica's native path-tracing core.

`Renderer` renders a scene dictionary (docs/scene-dict.md) progressively; `validate_scene`,
`save_scene` and `load_scene` handle the dictionary itself. This package never imports bpy.
See docs/core-api.md for the whole API.
"""

import warnings

from . import _native
from . import cuda_arrays, scenes, shading
from . import device as device_module
from .device import Device, devices
from .io import load_scene, save_scene
from .programs import ProgramCache
from .scene import (NOT_RENDERED_NOTE, SCENE_VERSION, CheckedArrays, SceneWarning, drawn_part, is_normalised,
                    not_rendered, validate_scene)

__all__ = ["Renderer", "Device", "devices", "SceneWarning", "validate_scene", "save_scene", "load_scene", "SCENE_VERSION",
           "scenes", "shading"]
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
    device: "CPU", "OPTIX" (RuntimeError naming what is missing where OptiX cannot run) or
    "AUTO" (OptiX where it runs, else the CPU, said once in `device_note` and the log);
    see docs/gpu.md.
    """

    def __init__(self, threads: int = 0, device: str = "CPU"):
        if int(threads) < 0:
            raise ValueError(f"threads: expected >= 0, got {threads}")
        self.device, self.device_note = device_module.select(device)
        native_class = _native.OptixRenderer if self.device == "OPTIX" else _native.Renderer
        self._native = native_class(int(threads))
        self._scene = None
        self._programs = ProgramCache()
        self._checked = CheckedArrays()
        self.interop_note = ""  # what set_scene/intersect last copied out of device memory
        self.not_rendered: list[str] = []  # what the last scene holds that the core does not draw yet
        self._not_rendered_said = False

    @property
    def threads(self) -> int:
        return self._native.threads

    def set_scene(self, scene: dict) -> None:
        """Validates `scene` (unless it is validate_scene's result; arrays checked by the last
        call are not checked again), compiles its shaders (unchanged ones are reused), builds
        its BVHs (unchanged geometry keeps its own) and clears the film. CUDA arrays are copied
        to the host first (said in `interop_note`)."""
        self.interop_note = ""
        if not is_normalised(scene):
            scene, copied = cuda_arrays.scene_to_host(scene)
            if copied:
                self.interop_note = f"set_scene: {copied} CUDA arrays copied to the host"
            scene = validate_scene(scene, checked=self._checked)
        valid = scene
        device_module.check_scene(self.device, valid)
        missing = not_rendered(valid)
        if missing and not self._not_rendered_said:
            # Said once per renderer (the viewport sets a scene after every edit).
            self._not_rendered_said = True
            warnings.warn(f"{NOT_RENDERED_NOTE}: this scene's {' and '.join(missing)} are left out of the image",
                          SceneWarning, stacklevel=2)
        self.not_rendered = missing
        drawn = drawn_part(valid)
        self._native.set_scene(drawn, self._programs.for_scene(drawn))
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
        if self.device == "OPTIX" and threshold > 0:
            device_module.log.warning("noise threshold: the OptiX backend has no adaptive sampling yet; every pixel "
                                      "gets all samples (docs/gpu.md)")
        self._native.set_adaptive(float(threshold), int(min_samples))

    FILM_AOVS = ("noise", "albedo", "normal", "depth", "object_id")

    def set_film_aovs(self, names) -> None:
        """Which buffers the film keeps besides colour (`FILM_AOVS`; all by default): "noise"
        (what adaptive sampling and `converged_fraction` need), "albedo", "normal", "depth",
        "object_id". A film without a buffer does not offer its view (RuntimeError); without
        "noise" adaptive sampling is off and `set_adaptive` refuses a threshold (ValueError); a
        change clears the film. The OptiX backend keeps every buffer (this call is ignored there)."""
        names = [names] if isinstance(names, str) else list(names)
        if self.device == "OPTIX":
            unknown = [n for n in names if n not in self.FILM_AOVS]
            if unknown:
                raise ValueError(f"set_film_aovs: unknown AOV {unknown[0]!r} (expected {', '.join(self.FILM_AOVS)})")
            return
        self._native.set_film_aovs(names)

    @property
    def film_aovs(self) -> list[str]:
        """The buffers the film keeps besides colour (see set_film_aovs)."""
        return list(self.FILM_AOVS) if self.device == "OPTIX" else self._native.film_aovs

    @property
    def memory(self) -> dict:
        """Bytes of host memory the core holds: "geometry" (its own copies: index arrays,
        normalised normals, spheres), "borrowed" (float arrays of the scene dict read in place,
        not copied), "bvh" (nodes, leaf blocks, the instances' BVH), "other" (textures,
        instances, light tables), "film" (colour and the kept AOV buffers). CPU backend only."""
        if self.device == "OPTIX":
            raise RuntimeError("memory: only the CPU backend reports its host memory")
        return dict(self._native.memory)

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
    def world_map_size(self) -> tuple:
        """(width, height) of the world's importance map, Cycles' automatic resolution: the
        largest image the world reads, at least 4096 × 2048 (512 × 256 beside a sampled sun
        disc); (0, 0) for a world that is not sampled as a light (constant or black)."""
        return tuple(self._native.world_map_size)

    @property
    def world_map_reused(self) -> bool:
        """Whether the last set_scene took the world's importance map over from the previous
        scene (the same world program reading the same pixels) instead of evaluating it again."""
        return self._native.world_map_reused

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

    @property
    def color_device(self) -> cuda_arrays.DeviceArray:
        """The OptiX film's RGBA running mean in device memory, (height, width, 4) float32, as
        an object with `__cuda_array_interface__` (e.g. `cupy.asarray(r.color_device)`)."""
        if self.device != "OPTIX":
            raise RuntimeError("color_device: this renderer runs on the CPU; only the OptiX backend keeps its film "
                               "in device memory (use `color`)")
        pointer, height, width = self._native.color_device
        return cuda_arrays.DeviceArray(pointer, (height, width, 4), "<f4", self)

    def intersect(self, origins, directions):
        """Nearest hits of rays: returns (t, prim, obj); t = inf, prim = obj = -1 on a miss.
        CUDA device arrays are accepted: on the OptiX backend, with CuPy, they stay on the
        device (results are CuPy arrays); elsewhere they are copied to the host once."""
        on_device = [cuda_arrays.is_device_array(a) for a in (origins, directions)]
        if self.device == "OPTIX" and all(on_device):
            return self._intersect_on_device(origins, directions)
        if any(on_device):
            origins = cuda_arrays.to_host(origins, "origins") if on_device[0] else origins
            directions = cuda_arrays.to_host(directions, "directions") if on_device[1] else directions
            self.interop_note = "intersect: CUDA ray arrays copied to the host"
        return self._native.intersect(origins, directions)

    def _intersect_on_device(self, origins, directions):
        import cupy  # the results need device memory someone owns: CuPy's

        o = cupy.ascontiguousarray(cupy.asarray(origins, dtype=cupy.float32))
        d = cupy.ascontiguousarray(cupy.asarray(directions, dtype=cupy.float32))
        if o.ndim != 2 or o.shape[1] != 3 or d.shape != o.shape:
            raise ValueError(f"origins, directions: expected two (N, 3) arrays, got {o.shape} and {d.shape}")
        n = o.shape[0]
        t = cupy.empty(n, cupy.float32)
        prim = cupy.empty(n, cupy.int32)
        obj = cupy.empty(n, cupy.int32)
        self._native.intersect_device(o.data.ptr, d.data.ptr, n, t.data.ptr, prim.data.ptr, obj.data.ptr)
        return t, prim, obj
