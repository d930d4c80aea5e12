# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender's evaluated depsgraph → Optica's scene dictionary (docs/scene-dict.md).

    from .export import SceneExporter
    exporter = SceneExporter(log=None, evaluable=NODE_TYPES)  # log(level, message); default print
    d = exporter.export(depsgraph)       # version-2 scene dict: plain values and numpy arrays
    exporter.last_stats                  # what the last export did (converted, reused, counts, seconds)

    tracker = SceneExporter(track_changes=True, evaluable=NODE_TYPES)  # the viewport's change tracker
    tracker.export(depsgraph); tracker.last_changes   # what differs from the previous scene
    tracker.move(depsgraph, ["Cube"])    # transform-only update, or None: export instead

Scene dict version 2 (the default; `evaluable` is required: the node types the core evaluates,
`optica_core.shading.NODE_TYPES`, which addon/exporter.py passes — this package never imports
the core): materials and the world as node graphs (shading.py, shader_graph.py; a node whose
type is not in `evaluable` is treated as muted and counted in `materials_approximated`), meshes with every UV map, the
attributes and tangents their materials read and their texture space, instance groups with
Object Info values (object_info.py). `SceneExporter(version=1)` still emits the flat version-1
dict (a Principled BSDF per material, a world colour) that older files use.

One module per datablock kind (camera, mesh, pointcloud, lights, world, materials), each plain
functions returning plain dicts with no bpy references; `instances` walks the depsgraph and
groups placements; `cache` keeps converted data between exports; `placements` knows where each
plainly placed object sits (group and row) and patches transforms; `changes` says what differs
between two scenes. Keep one SceneExporter per scene/view layer for a whole render job or
viewport session: an export re-converts only what changed since the previous one, and
unchanged meshes come back as the very same numpy arrays (the core then keeps their BVHs).
Nothing here calls the renderer or validates against it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import camera as _camera
from . import changes as _changes
from . import curves as _curves
from . import instances as _instances
from . import lights as _lights
from . import materials as _materials
from . import mesh as _mesh
from . import motion as _motion
from . import placements as _placements
from . import pointcloud as _pointcloud
from . import world as _world
from .cache import Content, ConvertedStore, Names, Reporter
from .object_info import SourceInfo, placement_arrays, terminator_arrays
from .shader_graph import Requests
from .shading import GraphConverter

__all__ = ["SceneExporter"]

# Curves, text, surfaces and metaballs reach the depsgraph iterator twice in Blender 5.0: as
# themselves and as an instance of their evaluated mesh. Only that mesh instance is converted, so
# no to_mesh() is needed (measured on bpy 5.0.1; Cycles' `object_is_geometry` does the same).
MESH_TYPES = {"MESH"}
UNSUPPORTED_TYPES = {
    "VOLUME": "volumes",
    "GREASEPENCIL": "Grease Pencil",
    "GPENCIL": "Grease Pencil",
}


class _Pass:
    """The state of one export."""

    def __init__(self):
        self.geometry = {}  # evaluated data pointer -> Converted, or None (nothing to render)
        self.meshes = {}
        self.spheres = {}
        self.curves = {}
        self.hair: dict[int, tuple] = {}  # source object pointer -> particle hair curve sets it carries
        self.motion_plan: _motion.Plan | None = None
        self.max_material_id = {}  # geometry name -> highest material id
        self.materials = {}
        self.textures = {}
        self.texture_variants = {}  # (pixels name, *sampling fields) -> name
        self.requests = {}  # material name -> shader_graph.Requests (version 2)
        self.stats = dict.fromkeys(
            (
                "meshes_converted",
                "meshes_reused",
                "spheres_converted",
                "spheres_reused",
                "curves_converted",
                "curves_reused",
                "materials_converted",
                "materials_fallback",
                "materials_approximated",
                "textures_converted",
                "textures_reused",
            ),
            0,
        )
        self.seconds_geometry = 0.0


@dataclass
class _Layout:
    """Where an export's placements went (SceneExporter._lay_out)."""

    sources: list
    index: np.ndarray
    transforms: np.ndarray
    groups: list
    placed: list  # per instance group, the placements motion sampling follows
    plain: dict  # plainly placed object name -> its placement (change tracking)
    where: _placements.PlacementIndex
    seconds_gather: float


class SceneExporter:
    """Converts evaluated depsgraphs to scene dicts, keeping converted data between exports."""

    def __init__(self, log=None, track_changes: bool = False, version: int = 2, evaluable=None):
        if version not in (1, 2):
            raise ValueError(f"scene dict version {version!r} is not 1 or 2")
        self.version = version
        self._report = Reporter(log)
        self._graphs = GraphConverter(evaluable, self._report) if version == 2 else None
        self._geometry_names = Names()  # meshes and sphere sets share one namespace
        self._meshes = ConvertedStore(self._geometry_names)
        self._spheres = ConvertedStore(self._geometry_names)
        self._curves = ConvertedStore(self._geometry_names)
        self._images = ConvertedStore(Names())
        self._pass = _Pass()
        self.last_stats: dict = {}
        # The change tracker: the last scene (exported or moved), what it changed, where plain
        # objects sit. Kept only when asked (a final render's job has no use for it).
        self._track = track_changes
        self.scene: dict | None = None
        self.last_changes: dict = {}
        self.placements = _placements.PlacementIndex()

    # -----------------------------------------------------------------------------------------

    def export(self, depsgraph, frame_set=None) -> dict:
        """The scene dict of evaluated `depsgraph` (see the module docstring).

        With Render Properties › Motion Blur on (final renders and exports; the viewport, a
        change tracker, shows the frame alone) the depsgraph is evaluated again at the shutter's
        sub-frames through `frame_set(frame, subframe)` — a render engine passes its own
        `RenderEngine.frame_set`; the default is the scene's `frame_set` (motion.py)."""
        t0 = time.perf_counter()
        stores = self._begin_pass()
        p = self._pass
        b_scene = depsgraph.scene_eval
        motion = None if self._track or self.version < 2 else _motion.shutter(b_scene)
        plan = p.motion_plan = _motion.Plan(motion) if motion is not None else None
        # Add-on settings (Cycles' curve shape, per-object motion) are read from the originals:
        # editing them does not always refresh the evaluated copies.
        self._curve_style = _curves.curve_style(b_scene.original)
        self._render_mode = depsgraph.mode == "RENDER"

        layout = self._lay_out(depsgraph, plan)
        lights = self._place_lights(layout)
        cam = self._camera(b_scene, depsgraph, plan)
        if self._graphs:
            world, _approximated = self._graphs.world(b_scene.world, self._texture)
        else:
            world = _world.convert_world(b_scene.world, self._report)
        d = {
            "version": self.version,
            "render": _camera.render_settings(b_scene, self._report),
            "camera": cam,
            "world": world,
            "materials": p.materials,
            "textures": p.textures,
            "meshes": p.meshes,
            "spheres": p.spheres,
            "instances": layout.groups,
            "lights": lights,
        }
        if self.version >= 2:
            d["curves"] = p.curves
        if plan is not None:
            d["motion"] = motion
            self._sample_motion(d, plan, depsgraph, frame_set, layout.placed)
        self.last_stats = self._end_pass(stores, d, t0, layout.seconds_gather)
        if self._track:
            self.last_changes = _changes.diff(self.scene, d)
            self.scene, self.placements = d, layout.where
        return d

    def _begin_pass(self) -> tuple:
        stores = (self._meshes, self._spheres, self._curves, self._images) + ((self._graphs,) if self._graphs else ())
        for store in stores:
            store.begin_pass()
        self._report.count = 0
        self._pass = _Pass()
        return stores

    def _lay_out(self, depsgraph, plan) -> _Layout:
        """Every placement of the depsgraph grouped by geometry (converting what it meets), the
        placements motion sampling follows, and where plain objects sit (change tracking)."""
        t_gather = time.perf_counter()
        random_ids: list | None = [] if self._graphs else None
        sources, index, transforms, instanced = _instances.gather(
            depsgraph, self._first_sight, random_ids, plan.add_placement if plan is not None else None
        )
        t_gather = time.perf_counter() - t_gather
        infos = [s.info for s in sources]
        info = placement_arrays(infos, index, random_ids) if random_ids is not None else None
        terminator = terminator_arrays(infos, index) if random_ids is not None else None
        groups, slots = _instances.instance_groups(sources, index, transforms, self._pad_materials, info, terminator)
        hair_groups, hair_rows = self._hair_groups(sources, index, transforms)
        placed = _instances.placements_of_groups(slots, len(groups)) + hair_rows if plan is not None else []
        groups += hair_groups
        plain = _placements.plain_placements(sources, index, instanced) if self._track else {}
        where = _placements.PlacementIndex()
        _placements.index_geometry(plain, slots, where)
        return _Layout(sources, index, transforms, groups, placed, plain, where, t_gather)

    def _place_lights(self, layout: _Layout) -> dict:
        lights, light_names = {}, Names()
        for at, source, matrix in _instances.light_placements(layout.sources, layout.index, layout.transforms):
            d = _lights.place_light(source.light, matrix)
            if d is None:
                self._report("WARNING", ("light-scale", source.name), f"Light '{source.name}': zero scale, skipped")
                continue
            name = light_names.take(source.name)
            lights[name] = d
            if layout.plain.get(source.name) == at:
                layout.where.lights[source.name] = (name, source.light)
        return lights

    def _camera(self, b_scene, depsgraph, plan) -> dict:
        b_cam = _evaluated(b_scene.camera, depsgraph)
        if b_cam is None:
            self._report("WARNING", "no-camera", "The scene has no camera: using a default view")
            return _camera.default_camera()
        if plan is not None:
            plan.camera_steps = _motion.object_steps(b_cam)
        return _camera.convert_camera(b_cam, self._report)

    def _sample_motion(self, d: dict, plan, depsgraph, frame_set, placed) -> None:
        """Adds the shutter's steps to `d` (motion.py), evaluating the depsgraph at sub-frames."""
        b_scene = depsgraph.scene_eval
        started = time.perf_counter()
        if frame_set is None:
            frame_set = _scene_frame_set(depsgraph.scene)
        fps = b_scene.render.fps / (b_scene.render.fps_base or 1.0)
        stats = self._pass.stats
        stats.update(
            _motion.sample(
                d, plan, depsgraph, frame_set, b_scene.frame_current, b_scene.frame_subframe, fps, placed, self._report
            )
        )
        stats["seconds_motion"] = time.perf_counter() - started

    def _end_pass(self, stores, d: dict, started: float, seconds_gather: float) -> dict:
        """The export's stats; the pass's bpy references are dropped."""
        p = self._pass
        s = p.stats
        s.update(
            meshes=len(p.meshes),
            spheres=len(p.spheres),
            curves=len(p.curves),
            instances=int(sum(len(g["transforms"]) for g in d["instances"])),
            instance_groups=len(d["instances"]),
            lights=len(d["lights"]),
            materials=len(p.materials),
            textures=len(p.textures),
            cache_dropped=sum(store.end_pass() for store in stores),
            messages=self._report.count,
            seconds=time.perf_counter() - started,
            seconds_geometry=p.seconds_geometry,
            seconds_instances=max(0.0, seconds_gather - p.seconds_geometry),
        )
        self._pass = _Pass()  # no bpy data outlives the export
        return s

    def move(self, depsgraph, names) -> _placements.Moved | None:
        """The last scene with the objects `names` moved (a transform-only update, no export),
        or None when only an export can say (see placements.py). Needs track_changes."""
        import bpy

        if self.scene is None:
            return None
        matrices: dict[str, np.ndarray | None] = {}
        for name in names:
            b_ob = bpy.data.objects.get(name)
            if b_ob is None:
                return None
            ob = b_ob.evaluated_get(depsgraph)
            places_nothing = ob.type in ("EMPTY", "CAMERA") and not ob.is_instancer  # children move themselves
            matrices[name] = None if places_nothing else _placements.object_matrix(ob)
        moved = _placements.move(self.scene, self.placements, matrices)
        if moved is not None:
            self.scene, self.last_changes = moved.scene, moved.changed
        return moved

    # -----------------------------------------------------------------------------------------
    # sources (called by instances.gather, once per (object, data) pair)

    def _first_sight(self, b_ob, b_inst):
        """A Source for a newly met (object, data) pair, or None. One bad object is reported
        and skipped; the export goes on."""
        try:
            source = self._source(b_ob)
            plan = self._pass.motion_plan
            if plan is not None and source is not None and source.kind == "geometry" and not b_inst.is_instance:
                self._plan_deformation(plan, b_ob, source)
            return source
        except Exception as e:  # noqa: BLE001 - never fail a render on one object
            name = getattr(b_ob, "name", "?")
            self._report(
                "WARNING",
                ("object-error", name, str(e)),
                f"Object '{name}' could not be exported and is skipped: {type(e).__name__}: {e}",
            )
            return None

    def _source(self, b_ob):
        kind = b_ob.type
        if kind in MESH_TYPES:
            return self._geometry_source(b_ob, self._mesh_entry)
        if kind == "POINTCLOUD":
            return self._geometry_source(b_ob, self._points_entry)
        if kind == "CURVES" and self.version >= 2:
            return self._geometry_source(b_ob, self._curves_entry)
        if kind == "LIGHT":
            params = _lights.light_params(b_ob.data, self._report)
            if params is None:
                return None
            return _instances.Source("light", b_ob.name, light=params)
        if kind in UNSUPPORTED_TYPES:
            self._report(
                "WARNING",
                ("object-type", kind),
                f"Object '{b_ob.name}': {UNSUPPORTED_TYPES[kind]} are not supported and not rendered",
            )
        return None

    def _geometry_source(self, b_ob, convert):
        p = self._pass
        slots = self._slots(b_ob)
        ptr = b_ob.data.as_pointer()
        if ptr in p.geometry:
            entry = p.geometry[ptr]
        else:
            t = time.perf_counter()
            entry = p.geometry[ptr] = convert(b_ob, slots)
            p.seconds_geometry += time.perf_counter() - t
        if entry is None:
            return None
        info = SourceInfo(b_ob) if self._graphs else None
        source = _instances.Source("geometry", b_ob.name, entry.name, slots, b_ob.pass_index, info=info)
        if b_ob.type == "MESH" and self.version >= 2:
            source.hair = self._particle_hair(b_ob)
        return source

    @staticmethod
    def _fast_key(b_data, kind, *extra):
        """The evaluated datablock's session_uid when it identifies unchanged content (see
        cache.py), else None."""
        if b_data.is_runtime_data and not b_data.is_evaluated and not getattr(b_data, "is_editmode", False):
            return (kind, b_data.session_uid) + extra
        return None

    def _mesh_entry(self, b_ob, slots):
        p = self._pass
        b_mesh = b_ob.data
        if len(b_mesh.polygons) == 0:
            return None
        n = len(slots)
        requests = None
        if self._graphs:
            requests = Requests.union(p.requests[m] for m in slots if m is not None)
        entry, converted = self._meshes.fetch(
            self._fast_key(b_mesh, "mesh", n, requests),
            lambda: _mesh.read_mesh(b_mesh, n, requests),
            _mesh.convert_mesh,
            b_mesh.name,
        )
        p.stats["meshes_converted" if converted else "meshes_reused"] += 1
        if entry.name not in p.meshes:
            p.meshes[entry.name] = _mesh.mesh_dict(entry.data, self._pad(entry.data["max_material_id"], slots))
            p.max_material_id[entry.name] = entry.data["max_material_id"]
        return entry

    def _points_entry(self, b_ob, slots):
        p = self._pass
        b_cloud = b_ob.data
        if len(b_cloud.points) == 0:
            return None
        entry, converted = self._spheres.fetch(
            self._fast_key(b_cloud, "points"),
            lambda: _pointcloud.read_points(b_cloud),
            _pointcloud.convert_points,
            b_cloud.name,
        )
        p.stats["spheres_converted" if converted else "spheres_reused"] += 1
        if entry.name not in p.spheres:
            p.spheres[entry.name] = _pointcloud.spheres_dict(entry.data, slots[0] if slots else None)
            p.max_material_id[entry.name] = 0
        return entry

    def _curves_entry(self, b_ob, slots):
        p = self._pass
        b_curves = b_ob.data
        style = self._curve_style

        def read():
            d = _curves.read_curves(b_curves, style)
            parts = () if d is None else (d["points"], d["radii"], d["offsets"], d.get("material_ids"))
            return Content(("curves", style), parts), d

        entry, converted = self._curves.fetch(self._fast_key(b_curves, "curves", style), read, dict, b_curves.name)
        if not entry.data:
            return None
        p.stats["curves_converted" if converted else "curves_reused"] += 1
        if entry.name not in p.curves:
            highest = int(entry.data["material_ids"].max()) if "material_ids" in entry.data else 0
            p.curves[entry.name] = {**entry.data, "materials": self._pad(highest, slots)}
            p.max_material_id[entry.name] = highest
        return entry

    def _particle_hair(self, b_ob) -> tuple:
        """Curve-set names of the hair particle systems of mesh object `b_ob` (converted now)."""
        p = self._pass
        names = []
        for psys in _curves.hair_systems(b_ob):
            # The slot by its 1-based index: `material_slot` (an enum of slot names built from the
            # context's object) names no slot on an evaluated object.
            slots = b_ob.material_slots
            index = psys.settings.material - 1
            material = None
            if 0 <= index < len(slots) and slots[index].material is not None:
                material = self._material(slots[index].material)

            def read(psys=psys):
                d = _curves.read_particle_hair(b_ob, psys, self._render_mode, self._curve_style)
                return Content(("hair", self._curve_style), () if d is None else (d["points"], d["radii"])), d

            entry, converted = self._curves.fetch(None, read, dict, f"{b_ob.name} {psys.name}")
            if not entry.data:
                continue
            p.stats["curves_converted" if converted else "curves_reused"] += 1
            if entry.name not in p.curves:
                p.curves[entry.name] = {**entry.data, "materials": [material]}
                p.max_material_id[entry.name] = 0
            names.append(entry.name)
        return tuple(names)

    def _hair_groups(self, sources, index, transforms) -> tuple[list, list]:
        """Instance groups placing particle hair where its emitter is placed, and the placements
        that are their rows."""
        groups, rows_of_groups = [], []
        for i, s in enumerate(sources):
            for name in s.hair:
                rows = np.flatnonzero(index == i)
                rows = rows[_instances.invertible(transforms[rows])]
                if len(rows):
                    materials = list(self._pass.curves[name]["materials"])
                    groups.append(
                        {"geometry": name, "transforms": np.ascontiguousarray(transforms[rows]), "materials": materials}
                    )
                    rows_of_groups.append(rows)
        return groups, rows_of_groups

    def _plan_deformation(self, plan, b_ob, source) -> None:
        """Marks a plainly placed object whose geometry may deform over the shutter (motion.py)."""
        if _motion.object_steps(b_ob) < 2 or not _motion.can_deform(b_ob):
            return
        if b_ob.type == "MESH" and source.geometry in self._pass.meshes:
            plan.add_deforming(source.geometry, b_ob, "mesh", len(self._pass.meshes[source.geometry]["vertices"]))
        elif b_ob.type == "CURVES" and source.geometry in self._pass.curves:
            plan.add_deforming(source.geometry, b_ob, "curves", len(self._pass.curves[source.geometry]["points"]))

    # -----------------------------------------------------------------------------------------
    # materials and textures

    def _slots(self, b_ob) -> tuple:
        return tuple(None if slot.material is None else self._material(slot.material) for slot in b_ob.material_slots)

    def _material(self, b_mat) -> str:
        p = self._pass
        name = b_mat.name_full
        if name not in p.materials:
            if self._graphs:
                d, p.requests[name], approximated = self._graphs.material(b_mat, self._texture)
                supported = True
            else:
                try:
                    d, supported = _materials.convert_material(b_mat, self._texture, self._report)
                except Exception as e:  # noqa: BLE001 - a material never fails a render
                    self._report(
                        "WARNING",
                        ("material-error", name, str(e)),
                        f"Material '{name}' could not be converted ({type(e).__name__}: {e}); "
                        "using its viewport display colour",
                    )
                    d, supported = _materials.fallback_material(b_mat), False
                approximated = not supported
            p.materials[name] = d
            p.stats["materials_converted"] += 1
            p.stats["materials_fallback"] += not supported
            p.stats["materials_approximated"] += approximated
        return name

    def _texture(self, node, label):
        """The scene-dict texture of image node `node`, or None when it has no image or its
        image has no pixels; `label` names the material or world in messages."""
        p = self._pass
        b_image = node.image
        if b_image is None:
            self._report("WARNING", ("no-image", label), f"{label}: {node.bl_label} without an image")
            return None
        b_image = b_image.original
        as_bytes = self.version >= 2
        entry, converted = self._images.fetch(
            _materials.image_key(b_image),
            lambda: _materials.read_image(b_image, as_bytes),
            _materials.convert_image,
            b_image.name,
        )
        if entry.data["pixels"] is None:
            self._report(
                "WARNING", ("missing-image", b_image.name), f"Image '{b_image.name}' has no pixels (missing file?)"
            )
            return None
        fields = _materials.texture_fields(b_image, node, self.version, self._report, label)
        variant = (entry.name, *fields.values())
        name = p.texture_variants.get(variant)
        if name is None:
            if entry.name not in p.textures:
                name = entry.name
                p.stats["textures_converted" if converted else "textures_reused"] += 1
            else:  # the same pixels sampled another way: another texture sharing the array
                base = f"{entry.name} ({', '.join(fields.values())})"
                name, n = base, 1
                while name in p.textures:
                    n += 1
                    name = f"{base} {n}"
            p.texture_variants[variant] = name
            p.textures[name] = {"pixels": entry.data["pixels"], **fields}
        return name

    @staticmethod
    def _pad(max_id: int, slots) -> list:
        slots = list(slots)
        if max_id > 0 and len(slots) <= max_id:
            slots += [None] * (max_id + 1 - len(slots))
        return slots

    def _pad_materials(self, geometry: str, slots) -> list:
        return self._pad(self._pass.max_material_id.get(geometry, 0), slots)


def _scene_frame_set(b_scene):
    """frame_set(frame, subframe) through the scene (evaluates its view layers' depsgraphs)."""
    original = b_scene.original

    def frame_set(frame: int, subframe: float) -> None:
        original.frame_set(frame, subframe=subframe)

    return frame_set


def _evaluated(b_ob, depsgraph):
    if b_ob is None:
        return None
    try:
        return b_ob.original.evaluated_get(depsgraph)
    except (RuntimeError, ReferenceError, AttributeError):
        return b_ob
