# SPDX-License-Identifier: GPL-3.0-or-later
"""The viewport render: a background session that accumulates while the user works.

    session = ViewportSession(on_redraw=callback)   # callback: "a new frame is ready" (any thread)
    report = session.update(depsgraph, view)        # main thread; view: a ViewState
    session.update_view(view)                       # the view alone changed (navigation)
    frame = session.draw_data()                     # newest DrawFrame, or None
    session.stop()                                  # joins the worker thread

The engine (engine.py → `view_update` / `view_draw` below) is a thin layer over this: it turns
Blender's context into a `ViewState` and draws `DrawFrame`s with the `gpu` module. Everything
else runs without a window, so tests drive sessions with real depsgraphs.

Updates, driven by `depsgraph.updates` (`Changes`):
- a view change (navigation, zoom, region size, border) re-derives the camera only;
- a camera object or camera data change re-reads the camera only;
- objects whose transform alone changed are patched into the previous scene dict: one row of
  one instance group (or one light) per object, the exporter is not called (`SceneSync`); an
  object that takes part in instancing, or one whose row cannot be found, falls back to:
- anything else: the exporter re-exports (it re-converts only what changed and returns the very
  same arrays for unchanged meshes) and the result is compared with the previous scene
  (`scene_diff`): nothing changed (a selection click) means no restart.
The core rebuilds only what changed: unchanged geometry keeps its BVH (`Renderer.geometry_reused`).

Framing (`view_frame`) is Blender's own view plane (export/camera.py): user perspective and
orthographic views, the camera view with its zoom and offset, and the render border (View3D's
in user views, the scene's inside the camera frame); only the bordered part is rendered.

Sampling (`_Worker`, one thread per session; only it touches the renderer): after every change,
one sample at pixel size 4, one at 2, then progressive batches at full resolution (Cycles'
reduced-resolution start) up to `scene.optica.viewport_samples`, then it rests. With the
denoiser on, the image is denoised (OIDN, quality `viewport_denoiser_quality`) from
`denoiser_start` samples on, as often as the denoiser's cost allows, and at the end.

Teardown without `__del__`: the engine keeps its session; `weakref.finalize(engine, session.stop)`
stops it when Blender frees the engine (RE_engine_free drops the Python instance: closing the
viewport, leaving Rendered shading, switching engine); the worker also stops by itself once the
engine's RNA is invalidated (a Python reference outlived the engine), and `stop_all()` runs on
file load, add-on unregister and interpreter exit. The worker never holds the engine: it asks
for redraws through a weak reference.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

PIXEL_SIZES = (4, 2, 1)  # reduced-resolution start after every change, as Cycles does
BATCH_SECONDS = 0.1  # target duration of one full-resolution accumulate() batch
DENOISE_INTERVAL = 0.5  # seconds between viewport denoises (at least 2× their cost)
JOIN_SECONDS = 5.0  # how long stop() waits for the worker
ALIVE_POLL = 0.5  # how often a resting worker checks that its engine still exists


# ---------------------------------------------------------------------------------------------
# the view: what Blender's 3D view says about framing (plain values)


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

    @classmethod
    def from_context(cls, context) -> "ViewState":
        region, rv3d, v3d = context.region, context.region_data, context.space_data
        camera = None
        if getattr(v3d, "use_local_camera", False) and v3d.camera is not None:
            camera = v3d.camera.name
        return cls(
            width=int(region.width), height=int(region.height),
            perspective=str(rv3d.view_perspective),
            view_matrix=tuple(float(v) for row in rv3d.view_matrix for v in row),
            view_distance=float(rv3d.view_distance), lens=float(v3d.lens),
            clip_start=float(v3d.clip_start), clip_end=float(v3d.clip_end),
            camera_zoom=float(rv3d.view_camera_zoom), camera_offset=tuple(float(v) for v in rv3d.view_camera_offset),
            use_border=bool(v3d.use_render_border),
            border=(float(v3d.render_border_min_x), float(v3d.render_border_min_y),
                    float(v3d.render_border_max_x), float(v3d.render_border_max_y)),
            camera=camera,
        )


@dataclass(frozen=True)
class SceneView:
    """What the scene contributes to a view's framing: the active camera (scene-dict camera,
    for the camera view), the render size and the render border (camera view)."""

    camera: dict | None = None
    resolution: tuple = (1920, 1080)
    border: tuple | None = None  # (min_x, min_y, max_x, max_y) of the camera frame, or None

    def same_as(self, other) -> bool:
        return (isinstance(other, SceneView) and self.resolution == other.resolution
                and self.border == other.border and _same(self.camera, other.camera))


@dataclass(frozen=True, eq=False)
class Frame:
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
        from .export import camera as _camera

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


def view_frame(view: ViewState, scene_view: SceneView) -> Frame:
    """The Frame of `view` (Blender's framing; see export/camera.py)."""
    from .export import camera as _camera

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
    return Frame(matrix=matrix, ortho=ortho, plane=plane, region=(W, H), rect=rect, base=base)


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


# ---------------------------------------------------------------------------------------------
# what changed: depsgraph.updates → Changes (plain data)

_IGNORED_TYPES = frozenset({"WindowManager", "Screen", "WorkSpace", "Text", "Brush", "Palette", "PaintCurve"})


@dataclass(frozen=True)
class Changes:
    """What one depsgraph update touched.

    moved: objects whose transform alone changed; camera: a camera object or camera data;
    other: anything else (an export decides what it means); ids: (type, name, transform,
    geometry, shading) of every update, for messages and tests."""

    moved: tuple = ()
    camera: bool = False
    other: bool = False
    ids: tuple = ()

    @classmethod
    def everything(cls) -> "Changes":
        return cls(other=True)

    @classmethod
    def from_depsgraph(cls, depsgraph) -> "Changes":
        import bpy

        moved, camera, other, ids = [], False, False, []
        for u in depsgraph.updates:
            b_id = u.id
            kind = type(b_id).__name__
            flags = (bool(u.is_updated_transform), bool(u.is_updated_geometry), bool(u.is_updated_shading))
            name = getattr(getattr(b_id, "original", b_id), "name", b_id.name)
            ids.append((kind, name) + flags)
            if kind in _IGNORED_TYPES:
                continue
            if isinstance(b_id, bpy.types.Object):
                if b_id.type == "CAMERA":
                    camera = True
                elif flags == (True, False, False):
                    moved.append(name)
                else:
                    other = True
            elif isinstance(b_id, bpy.types.Camera):
                camera = True
            else:
                other = True
        return cls(tuple(moved), camera, other, tuple(ids))

    def __bool__(self) -> bool:
        return bool(self.moved or self.camera or self.other)


# ---------------------------------------------------------------------------------------------
# scene dicts: what differs between two, and the transform patch


def _same(a, b) -> bool:
    """Deep equality of scene-dict values (numpy arrays compared by identity, then content)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _named_diff(old: dict, new: dict) -> tuple:
    names = set(old) | set(new)
    return tuple(sorted(n for n in names if n not in old or n not in new or not _same(old[n], new[n])))


def scene_diff(old: dict | None, new: dict) -> dict[str, tuple]:
    """Which parts of scene dict `new` differ from `old` (the camera is the viewport's own and
    not compared): {'render': ('render',), 'world': ('world',), 'materials': names, 'textures':
    names, 'meshes': names, 'spheres': names, 'instances': geometry names, 'lights': names};
    only the parts that differ are present."""
    if old is None:
        return {"all": ("all",)}
    out = {}
    if not _same(_integrator(old), _integrator(new)):
        out["render"] = ("render",)
    if not _same(old.get("world"), new.get("world")):
        out["world"] = ("world",)
    for key in ("materials", "textures", "meshes", "spheres", "lights"):
        names = _named_diff(old.get(key) or {}, new.get(key) or {})
        if names:
            out[key] = names
    groups = _named_diff(_groups_by_key(old.get("instances") or []), _groups_by_key(new.get("instances") or []))
    if groups:
        out["instances"] = tuple(sorted({g[0] for g in groups}))
    return out


def _integrator(d: dict) -> dict:
    """`render` without the frame size and border (the viewport sets its own)."""
    return {k: v for k, v in (d.get("render") or {}).items() if k not in ("width", "height", "region")}


def _groups_by_key(groups: list) -> dict:
    out = {}
    for g in groups:
        key = (g["geometry"], tuple(g.get("materials") or ()))
        while key in out:
            key = key + ("+",)
        out[key] = g
    return out


@dataclass
class UpdateReport:
    """What one `ViewportSession.update` / `update_view` did (for status messages and tests).

    kind: 'initial', 'none', 'view', 'camera', 'transform', 'export', 'settings';
    changed: scene_diff-style parts that changed (plus 'camera' / 'view');
    exported: the exporter's last_stats when an export ran, else None; moved_rows: transform
    rows patched; restarted: accumulation restarted; generation: the job's number."""

    kind: str = "none"
    changed: dict = field(default_factory=dict)
    exported: dict | None = None
    moved_rows: int = 0
    restarted: bool = False
    generation: int = 0
    seconds: float = 0.0


class SceneSync:
    """The viewport's side of the export: the exporter, the last scene dict and where its
    objects are placed. Main thread only (reads bpy); hands plain dicts to the worker."""

    def __init__(self, log_fn=None):
        from .export import SceneExporter

        self._log = log_fn or (lambda level, text: log.log(logging.getLevelName(level), "%s", text))
        self.exporter = SceneExporter(log=self._log)
        self.scene: dict | None = None
        self._matrices: dict[str, np.ndarray] = {}  # object name → its placement matrix (float32)
        self._instanced: set[str] = set()  # objects that other objects instance

    def export(self, depsgraph) -> tuple[dict, dict]:
        """A full (cached) export: (scene dict, the exporter's stats)."""
        d = self.exporter.export(depsgraph)
        self.scene = d
        self._record(depsgraph)
        return d, dict(self.exporter.last_stats)

    def _record(self, depsgraph) -> None:
        """Placement matrices of the plain objects and the set of instanced objects, for patches."""
        from .export import instances as _instances

        matrices, instanced = {}, set()
        for ob in depsgraph.objects:
            if ob.type in ("MESH", "POINTCLOUD", "LIGHT"):
                matrices[ob.name] = memoryview(ob.matrix_world).tobytes("A")
            coll = ob.instance_collection if ob.instance_type == "COLLECTION" else None
            if coll is not None:
                instanced.update(o.name for o in coll.all_objects)
            for psys in getattr(ob, "particle_systems", ()):
                part = psys.settings
                if part.instance_object is not None:
                    instanced.add(part.instance_object.name)
                if part.instance_collection is not None:
                    instanced.update(o.name for o in part.instance_collection.all_objects)
        names = list(matrices)
        stacked = _instances._stack_matrices([matrices[n] for n in names])
        self._matrices = dict(zip(names, stacked))
        self._instanced = instanced

    def patch_moves(self, depsgraph, names) -> tuple[dict, int, tuple] | None:
        """The previous scene with the moved objects' new transforms, or None when a full
        export is needed. Returns (scene dict, rows patched, geometry/light names touched).
        Copy-on-write: arrays handed to the core before are never modified."""
        import bpy

        from .export import instances as _instances
        from .export import lights as _lights

        if self.scene is None:
            return None
        d = dict(self.scene)
        groups = list(d.get("instances") or [])
        lights = dict(d.get("lights") or {})
        touched, rows, matrices = set(), 0, {}
        for name in names:
            b_ob = bpy.data.objects.get(name)
            if b_ob is None:
                return None
            ob = b_ob.evaluated_get(depsgraph)
            if ob.type in ("EMPTY", "CAMERA") and not ob.is_instancer:
                continue  # places nothing itself (its children report their own moves)
            if not self._plain(ob) or name not in self._matrices:
                return None
            old = self._matrices[name]
            new = _instances._stack_matrices([memoryview(ob.matrix_world).tobytes("A")])[0]
            if ob.type == "LIGHT":
                if name not in lights:
                    return None
                params = _lights.light_params(ob.data, lambda *_a: None)
                placed = None if params is None else _lights.place_light(params, new)
                if placed is None:
                    return None
                lights[name] = placed
                touched.add(name)
            else:
                if not bool(_instances.invertible(new[None])[0]):
                    return None
                data = ob.data.original.name if ob.data is not None else ""
                hits = [(gi, np.flatnonzero((g["transforms"] == old).all(axis=(1, 2))))
                        for gi, g in enumerate(groups) if _named_after(g["geometry"], data)]
                hits = [(gi, r) for gi, r in hits if len(r)]
                if len(hits) != 1 or len(hits[0][1]) != 1:
                    return None  # not placed, or placed twice at the same spot: ambiguous
                gi, (row,) = hits[0]
                g = dict(groups[gi])
                g["transforms"] = g["transforms"].copy()
                g["transforms"][row] = new
                groups[gi] = g
                touched.add(g["geometry"])
            rows += 1
            matrices[name] = new
        d["instances"] = groups
        d["lights"] = lights
        self.scene = d
        self._matrices.update(matrices)
        return d, rows, tuple(sorted(touched))

    def _plain(self, ob) -> bool:
        """True when `ob` is placed once, by its own matrix: not an instancer, not instanced
        (collection or particle instancing), no instancing parent (vertex/face instancing)."""
        if ob.is_instancer or ob.name in self._instanced:
            return False
        p = ob.parent
        while p is not None:
            if p.is_instancer or p.instance_type in ("VERTS", "FACES"):
                return False
            p = p.parent
        return True


def _named_after(geometry: str, data_name: str) -> bool:
    """Whether the exporter may have named `geometry` after datablock `data_name` (it takes the
    datablock's name, made unique with ".1", ".2", ...)."""
    return geometry == data_name or (geometry.startswith(data_name + ".") and geometry[len(data_name) + 1:].isdigit())


def scene_view(depsgraph, view: ViewState, report=None) -> SceneView:
    """The SceneView of the depsgraph's scene for `view` (the camera only in camera view)."""
    import bpy

    from .export import camera as _camera

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


# ---------------------------------------------------------------------------------------------
# settings the session reads from scene.optica


@dataclass(frozen=True)
class Settings:
    samples: int = 64
    threads: int = 0
    denoise: bool = False
    denoise_start: int = 1
    denoise_quality: str = "balanced"

    @classmethod
    def from_scene(cls, scene) -> "Settings":
        s = getattr(scene, "optica", None)
        if s is None:
            return cls()
        quality = str(getattr(s, "viewport_denoiser_quality", "BALANCED")).lower()
        return cls(samples=max(1, int(s.viewport_samples)), threads=max(0, int(s.threads)),
                   denoise=bool(s.use_denoiser), denoise_start=max(1, int(s.denoiser_start)),
                   denoise_quality=quality if quality in ("fast", "balanced", "high") else "balanced")


# ---------------------------------------------------------------------------------------------
# what the display draws


@dataclass(frozen=True, eq=False)
class DrawFrame:
    """One image for the display: `pixels` (h, w, 4) float32 linear RGBA, top row first, to be
    drawn over region rectangle `rect` (x, y from the bottom-left, w, h) — `pixel_size` region
    pixels per film pixel."""

    pixels: np.ndarray
    pixel_size: int
    rect: tuple
    samples: int
    target: int
    denoised: bool
    generation: int
    serial: int

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]


@dataclass
class _Job:
    generation: int
    scene: dict  # exported scene (its camera and frame size are replaced per pixel size)
    frame: Frame
    threads: int
    posted: float  # perf_counter when update() began


@dataclass
class JobStats:
    """What the worker did for one generation (tests and bench/viewport.py read it)."""

    generation: int
    posted: float = 0.0  # perf_counter when update() began
    taken: float | None = None  # when the worker took the job (after the running batch returned)
    first_pixels: float | None = None  # when the first image was published
    first_accumulate: float | None = None  # seconds of the first (reduced-resolution) accumulate
    set_scene_seconds: list = field(default_factory=list)
    geometry_reused: int | None = None  # Renderer.geometry_reused after the job's first set_scene
    geometries: int = 0
    pixel_sizes: list = field(default_factory=list)  # of the published images, in order
    samples: int = 0
    denoised: int = 0
    done: bool = False


class ViewportSession:
    """See the module docstring. `update`/`update_view`/`stop` are called from the main thread."""

    def __init__(self, on_redraw=None, alive=None, log_fn=None):
        self.sync = SceneSync(log_fn)
        self.view: ViewState | None = None
        self.scene_view: SceneView | None = None
        self.settings = Settings()
        self.last_report = UpdateReport()
        self.message = ""  # the latest problem worth showing (export error, denoiser missing)
        self._generation = 0
        self._worker = _Worker(self, on_redraw, alive)
        self._worker.start()

    # ---- main thread --------------------------------------------------------------------------

    def update(self, depsgraph, view: ViewState, changes: Changes | None = None) -> UpdateReport:
        """Brings the session up to date with `depsgraph` (its `updates`, unless `changes` are
        given) and `view`; restarts accumulation when the image changes."""
        t0 = time.perf_counter()
        first = self.sync.scene is None
        if changes is None:
            changes = Changes.everything() if first else Changes.from_depsgraph(depsgraph)
        settings = Settings.from_scene(depsgraph.scene)
        rep = UpdateReport(kind="initial" if first else "none")
        old = new = self.sync.scene
        patched = None
        if not first and not changes.other and changes.moved:
            patched = self.sync.patch_moves(depsgraph, changes.moved)
            if patched is not None:
                new, rep.moved_rows, touched = patched
                if rep.moved_rows:
                    rep.kind, rep.changed = "transform", {"instances": touched}
        if first or changes.other or (changes.moved and patched is None):
            new, rep.exported = self.sync.export(depsgraph)
            rep.changed = scene_diff(old, new)
            if not first and rep.changed:
                rep.kind = "export"  # (an export that found nothing new, a selection say, is 'none')
        sv = scene_view(depsgraph, view, self.sync._log) if (first or changes or view != self.view) else self.scene_view
        if not first:
            if not sv.same_as(self.scene_view):
                rep.changed["camera"] = ("camera",)
            elif view != self.view:
                rep.changed["view"] = ("view",)
            if rep.kind == "none" and rep.changed:
                rep.kind = "camera" if "camera" in rep.changed else "view"
        restart = first or bool(rep.changed) or settings.threads != self.settings.threads
        if rep.kind == "none" and settings != self.settings:
            rep.kind = "settings"
        self.view, self.scene_view, self.settings = view, sv, settings
        if restart:
            self._post(new, t0)
            rep.restarted = True
        else:
            self._worker.wake()  # a new sample target or denoiser setting: go on from here
        rep.generation = self._generation
        rep.seconds = time.perf_counter() - t0
        self.last_report = rep
        return rep

    def update_view(self, view: ViewState) -> UpdateReport:
        """The view alone changed (navigation, region resize): only the camera is re-derived."""
        t0 = time.perf_counter()
        rep = UpdateReport(kind="view")
        if self.sync.scene is None or self.needs_scene_view(view):
            rep.kind = "none"  # nothing exported yet, or camera view entered or left: update() it is
        elif view != self.view:
            self.view = view
            rep.changed = {"view": ("camera",)}
            self._post(self.sync.scene, t0)
            rep.restarted = True
        rep.generation = self._generation
        rep.seconds = time.perf_counter() - t0
        self.last_report = rep
        return rep

    def needs_scene_view(self, view: ViewState) -> bool:
        """True when `view` needs what only update() reads from the scene: the first view, or
        entering or leaving the camera view (the camera, render size and border)."""
        if self.view is None or self.scene_view is None:
            return True
        if (view.perspective == "CAMERA") != (self.view.perspective == "CAMERA"):
            return True
        return view.perspective == "CAMERA" and (view.camera != self.view.camera or self.scene_view.camera is None)

    def _post(self, scene: dict, t0: float) -> None:
        self._generation += 1
        frame = view_frame(self.view, self.scene_view or SceneView())
        self._worker.post(_Job(self._generation, scene, frame, self.settings.threads, t0))

    def draw_data(self) -> DrawFrame | None:
        """The newest image to draw (None before the first)."""
        self._worker.nudge()
        return self._worker.frame

    def stop(self) -> None:
        """Stops the worker thread and waits for it (idempotent; any thread but the worker)."""
        self._worker.stop()

    # ---- read by the display, tests and the benchmark ------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker.is_alive()

    @property
    def busy(self) -> bool:
        """True while the newest job is still sampling or denoising."""
        return self._worker.busy

    @property
    def generation(self) -> int:
        return self._generation

    def stats(self, generation: int | None = None) -> JobStats | None:
        return self._worker.stats.get(self._generation if generation is None else generation)

    def status(self) -> str:
        f = self._worker.frame
        if self._worker.error:
            return f"Error: {self._worker.error}"
        if f is None:
            return "Preparing"
        text = f"Sample {max(f.samples, self._worker.samples)}/{f.target}"
        if f.pixel_size > 1:
            text += f" (1/{f.pixel_size} resolution)"
        if f.denoised:
            text += " | Denoised"
        message = self.message or self._worker.message
        return f"{text} | {message}" if message else text

    def wait(self, generation: int | None = None, *, pixel_size: int | None = None, done: bool = False,
             timeout: float = 30.0) -> JobStats:
        """Waits until the worker published an image of `generation` (the newest by default) —
        at `pixel_size` when given, or until the job is finished when `done`. For tests and
        benchmarks; raises TimeoutError."""
        gen = self._generation if generation is None else generation
        deadline = time.perf_counter() + timeout
        while True:
            self._worker.published.clear()  # before looking: a publish after the look wakes the wait
            st = self._worker.stats.get(gen)
            if self._worker.error:
                raise RuntimeError(self._worker.error)
            if st is not None and (st.done if done else
                                   (pixel_size in st.pixel_sizes if pixel_size else bool(st.pixel_sizes))):
                return st
            if not self._worker.is_alive():
                raise RuntimeError("the viewport worker is not running")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"viewport generation {gen}: {st}")
            self._worker.nudge()
            self._worker.published.wait(0.01)


class _Worker(threading.Thread):
    """The sampling thread: owns the renderer and the denoiser; never touches bpy."""

    def __init__(self, session: ViewportSession, on_redraw, alive):
        super().__init__(name="optica-viewport", daemon=True)
        self._session = weakref.ref(session)  # the session may be dropped without stop()
        self._on_redraw = on_redraw
        self._alive = alive
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.published = threading.Event()
        self._pending: _Job | None = None
        self._posted_at = 0.0
        self._renderer = None
        self._threads = None
        self._denoiser = None
        self._denoiser_failed = False
        self.frame: DrawFrame | None = None
        self.stats: dict[int, JobStats] = {}
        self.samples = 0  # samples of the image being refined (the drawn one may be older)
        self.error = ""
        self.message = ""
        self.busy = False
        self._serial = 0

    # ---- called from other threads ----------------------------------------------------------

    def post(self, job: _Job) -> None:
        with self._lock:
            self._pending = job
            self._posted_at = time.perf_counter()
            self.busy = True
            self.error = ""
            self.stats[job.generation] = JobStats(job.generation, posted=job.posted)
            for old in [g for g in self.stats if g < job.generation - 8]:
                del self.stats[old]
        self._cancel()
        self._wake.set()

    def nudge(self) -> None:
        """Cancels again while a posted job waits: a cancel that reached the renderer just
        before an accumulate() began is cleared by it (the core resets its flag on entry)."""
        if self._pending is not None and time.perf_counter() - self._posted_at > 0.005:
            self._cancel()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._cancel()
        self._wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(JOIN_SECONDS)
            if self.is_alive():
                log.error("Optica viewport thread did not stop within %.0f s", JOIN_SECONDS)

    def _cancel(self) -> None:
        r = self._renderer
        if r is not None:
            r.cancel()

    # ---- the thread ---------------------------------------------------------------------------

    def run(self):
        try:
            self._loop()
        except BaseException as e:  # noqa: BLE001 - reported in the viewport, never raised into Blender
            log.exception("Optica viewport thread failed")
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.busy = False
            if self._denoiser is not None:
                self._denoiser.close()
                self._denoiser = None
            self._renderer = None
            self.published.set()

    def _should_stop(self) -> bool:
        if self._stopping.is_set() or self._session() is None:
            return True
        if self._alive is not None and not self._alive():
            log.info("Optica viewport: the render engine is gone, stopping")
            return True
        return False

    def _take(self) -> _Job | None:
        with self._lock:
            job, self._pending = self._pending, None
            return job

    def _loop(self):
        job, state = None, None
        while not self._should_stop():
            new = self._take()
            if new is not None:
                job, state = new, _Progress()
                st = self.stats.get(job.generation)
                if st is not None:
                    st.taken = time.perf_counter()
            if job is None or state.finished:
                with self._lock:
                    self.busy = self._pending is not None
                self._wake.wait(ALIVE_POLL)
                self._wake.clear()
                if job is not None and state.finished and self._pending is None:
                    state.finished = not self._more_to_do(state)
                continue
            try:
                self._step(job, state)
            except Exception as e:  # noqa: BLE001 - a bad scene: say so, wait for the next change
                log.exception("Optica viewport render failed")
                self.error = f"{type(e).__name__}: {e}"
                state.finished = True
                self.published.set()
                self._redraw()

    def _settings(self) -> Settings:
        session = self._session()
        return session.settings if session is not None else Settings()

    def _more_to_do(self, state: "_Progress") -> bool:
        """A finished job goes on when the settings now ask for more samples, for a denoised
        image, or for the noisy one again."""
        s, r = self._settings(), self._renderer
        if r is None or state.pixel_size != 1:
            return False
        if r.samples < s.samples:
            return True
        if self._denoising(s, r):
            return state.denoised_at != r.samples
        return self.frame is not None and self.frame.denoised

    def _denoising(self, settings: Settings, r) -> bool:
        return settings.denoise and not self._denoiser_failed and r.samples >= settings.denoise_start

    def _renderer_for(self, threads: int):
        import optica_core

        if self._renderer is None or self._threads != threads:
            self._renderer = optica_core.Renderer(threads)
            self._threads = threads
        return self._renderer

    def _step(self, job: _Job, state: "_Progress") -> None:
        """One unit of work: the scene for the next pixel size, one reduced-resolution sample,
        one full-resolution batch, or one denoise; each publishes what it produced."""
        r = self._renderer_for(job.threads)
        st = self.stats.get(job.generation)
        if st is None:
            st = self.stats[job.generation] = JobStats(job.generation)
        settings = self._settings()
        if not state.scene_set:
            self._set_scene(r, job, st, state)
            return
        if self._pending is not None:
            return
        if state.pixel_size > 1:
            t = time.perf_counter()
            r.accumulate(1)
            if st.first_accumulate is None:
                st.first_accumulate = time.perf_counter() - t
            if self._pending is None and r.samples >= 1:
                self._publish(job, st, state, r.color, denoised=False, target=settings.samples)
                state.index += 1
                state.scene_set = False
            return
        if r.samples < settings.samples:
            k = 1 if state.per_sample is None else max(1, int(BATCH_SECONDS / max(state.per_sample, 1e-9)))
            k = min(k, settings.samples - r.samples)
            t = time.perf_counter()
            done = r.accumulate(k)
            if done > 0:
                state.per_sample = (time.perf_counter() - t) / done
            self.samples = r.samples
            if self._pending is not None:
                return
            if not self._denoising(settings, r):
                self._publish(job, st, state, r.color, denoised=False, target=settings.samples)
        denoising = self._denoising(settings, r)
        if denoising and state.denoised_at != r.samples:
            last = r.samples >= settings.samples
            due = time.perf_counter() - state.denoised_time >= max(DENOISE_INTERVAL, 2.0 * state.denoise_cost)
            if last or due or state.denoised_at < 0:
                self._denoise(job, st, state, r, settings)
                denoising = self._denoising(settings, r)
        elif not denoising and self.frame is not None and self.frame.denoised:
            self._publish(job, st, state, r.color, denoised=False, target=settings.samples)
        if r.samples >= settings.samples and (not denoising or state.denoised_at == r.samples):
            state.finished = True
            st.done = True
            st.samples = r.samples
            self.published.set()

    def _set_scene(self, r, job: _Job, st: JobStats, state: "_Progress") -> None:
        state.pixel_size = PIXEL_SIZES[state.index]
        cam, (fw, fh), state.rect = job.frame.at(state.pixel_size)
        d = dict(job.scene)
        d["camera"] = cam
        d["render"] = {k: v for k, v in (job.scene.get("render") or {}).items() if k != "region"}
        d["render"].update(width=fw, height=fh)
        t = time.perf_counter()
        r.set_scene(d)
        st.set_scene_seconds.append(time.perf_counter() - t)
        if st.geometry_reused is None:
            st.geometry_reused = r.geometry_reused
            st.geometries = len(job.scene.get("meshes") or {}) + len(job.scene.get("spheres") or {})
        self.error = ""
        self.samples = 0
        state.scene_set = True
        state.per_sample = None

    def _denoise(self, job: _Job, st: JobStats, state: "_Progress", r, settings: Settings) -> None:
        from . import denoise

        t = time.perf_counter()
        try:
            if self._denoiser is not None and self._denoiser.quality != settings.denoise_quality:
                self._denoiser.close()
                self._denoiser = None
            if self._denoiser is None:
                self._denoiser = denoise.Denoiser(settings.denoise_quality, threads=job.threads)
            image = denoise.denoise_renderer(self._denoiser, r)
        except Exception as e:  # noqa: BLE001 - keep showing the noisy image
            self._denoiser_failed = True
            self.message = str(e) if isinstance(e, denoise.DenoiserError) else f"Denoising failed: {e}"
            log.warning("Optica viewport: %s", self.message)
            self._publish(job, st, state, r.color, denoised=False, target=settings.samples)
            return
        state.denoise_cost = time.perf_counter() - t
        state.denoised_time = time.perf_counter()
        state.denoised_at = r.samples
        st.denoised += 1
        self._publish(job, st, state, image, denoised=True, target=settings.samples)

    def _publish(self, job: _Job, st: JobStats, state: "_Progress", image, *, denoised: bool, target: int) -> None:
        pixels = np.array(image, dtype=np.float32, copy=True)
        self._serial += 1
        samples = self._renderer.samples if self._renderer is not None else 0
        self.frame = DrawFrame(pixels, state.pixel_size, state.rect, samples, target, denoised,
                               job.generation, self._serial)
        if st.first_pixels is None:
            st.first_pixels = time.perf_counter()
        st.pixel_sizes.append(state.pixel_size)
        st.samples = samples
        self.published.set()
        self._redraw()

    def _redraw(self) -> None:
        if self._on_redraw is not None:
            try:
                self._on_redraw()
            except Exception:  # noqa: BLE001 - the engine may be going away
                pass


@dataclass
class _Progress:
    """Where the worker is in one job."""

    index: int = 0  # into PIXEL_SIZES
    pixel_size: int = PIXEL_SIZES[0]
    scene_set: bool = False
    rect: tuple = (0, 0, 1, 1)
    per_sample: float | None = None
    denoised_at: int = -1  # sample count of the last denoised image
    denoised_time: float = 0.0
    denoise_cost: float = 0.0
    finished: bool = False


# ---------------------------------------------------------------------------------------------
# drawing (needs a window: Blender's gpu module refuses to work in background mode)


class Display:
    """Draws DrawFrames in the 3D view: one GPU texture, made again only when a new frame
    arrives (bpy 5.0's GPUTexture has no way to overwrite its pixels), drawn with the builtin
    IMAGE shader between the engine's bind/unbind_display_space_shader, so Blender's colour
    management applies. Main thread, inside view_draw."""

    def __init__(self):
        self._texture = None
        self._serial = None

    def draw(self, engine, scene, frame: DrawFrame) -> None:
        import gpu
        from gpu_extras.presets import draw_texture_2d

        if frame.serial != self._serial:
            h, w = frame.pixels.shape[:2]
            rows = np.ascontiguousarray(frame.pixels[::-1])  # GPU textures start at the bottom row
            buffer = gpu.types.Buffer("FLOAT", w * h * 4, rows.ravel())
            self._texture = gpu.types.GPUTexture((w, h), format="RGBA16F", data=buffer)
            self._serial = frame.serial
        x, y, w, h = frame.rect
        gpu.state.blend_set("ALPHA_PREMULT")
        engine.bind_display_space_shader(scene)
        try:
            draw_texture_2d(self._texture, (x, y), w, h)
        finally:
            engine.unbind_display_space_shader()
            gpu.state.blend_set("NONE")


# ---------------------------------------------------------------------------------------------
# sessions of engines, and teardown

_sessions: "weakref.WeakSet[ViewportSession]" = weakref.WeakSet()


def _engine_alive(ref) -> bool:
    """False once the engine's Python object is gone or Blender invalidated its RNA."""
    engine = ref()
    if engine is None:
        return False
    try:
        engine.is_preview  # raises ReferenceError once RE_engine_free invalidated it
    except ReferenceError:
        return False
    return True


def _redraw(ref) -> None:
    engine = ref()
    if engine is not None:
        try:
            engine.tag_redraw()  # sets a flag Blender's draw loop reads (as Cycles' threads do)
        except ReferenceError:
            pass


def session_for(engine, create: bool = True) -> ViewportSession | None:
    """The engine's viewport session, made (and tied to the engine's lifetime) on first use."""
    session = getattr(engine, "_optica_viewport", None)
    if session is None and create:
        ref = weakref.ref(engine)
        session = ViewportSession(on_redraw=lambda: _redraw(ref), alive=lambda: _engine_alive(ref),
                                  log_fn=_reporter(ref))
        engine._optica_viewport = session
        engine._optica_display = Display()
        _sessions.add(session)
        # Runs when Blender frees the engine (its Python instance is dropped), at most once,
        # and at interpreter exit: no __del__ involved.
        weakref.finalize(engine, session.stop)
    return session


def _reporter(ref):
    """The exporter's log(level, message): to Python logging; errors also to the viewport's
    status line (warnings are said once per subject by the exporter and not repeated there)."""
    def report(level, text):
        level = level.upper() if str(level).upper() in ("INFO", "WARNING", "ERROR") else "WARNING"
        log.log(logging.getLevelName(level), "%s", text)
        engine = ref()
        if engine is not None and level == "ERROR":
            session = getattr(engine, "_optica_viewport", None)
            if session is not None:
                session.message = str(text)
    return report


def stop_all() -> None:
    """Stops every viewport session (file load, add-on unregister, interpreter exit)."""
    for session in list(_sessions):
        session.stop()


def view_update(engine, context, depsgraph) -> None:
    """RenderEngine.view_update: the depsgraph changed (or the viewport render just started)."""
    session = session_for(engine)
    try:
        session.update(depsgraph, ViewState.from_context(context))
        session.message = ""
    except Exception as e:  # noqa: BLE001 - never raise into Blender's draw loop
        log.exception("Optica viewport update failed")
        session.message = f"{type(e).__name__}: {e}"
    engine.update_stats("", f"Optica: {session.status()}")


def view_draw(engine, context, depsgraph) -> None:
    """RenderEngine.view_draw: draw the newest image; a changed view restarts sampling."""
    session = session_for(engine)
    view = ViewState.from_context(context)
    if view != session.view:
        try:
            if session.needs_scene_view(view):
                session.update(depsgraph, view, Changes(camera=True))
            else:
                session.update_view(view)
        except Exception as e:  # noqa: BLE001
            log.exception("Optica viewport update failed")
            session.message = f"{type(e).__name__}: {e}"
    frame = session.draw_data()
    if frame is not None:
        engine._optica_display.draw(engine, depsgraph.scene, frame)
    engine.update_stats("", f"Optica: {session.status()}")


__all__ = ["ViewState", "SceneView", "Frame", "view_frame", "Changes", "scene_diff", "SceneSync", "Settings",
           "ViewportSession", "DrawFrame", "JobStats", "UpdateReport", "Display", "session_for", "stop_all",
           "view_update", "view_draw"]


atexit.register(stop_all)
