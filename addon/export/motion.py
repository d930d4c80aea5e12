# SPDX-License-Identifier: GPL-3.0-or-later
"""Motion blur: the shutter from Render Properties › Motion Blur and the motion steps of
placements, the camera and deforming geometry, sampled from the depsgraph at sub-frame times as
Cycles samples them (docs/scene-dict.md, *Motion blur*; docs/export.md).

Cycles' scheme, kept so both see the same times: an object with Object › Motion Blur › Steps k
has 2^k + 1 steps spread evenly over the shutter (so the steps of every object fall on the
times of the one with the most); the camera likewise with its own object settings. The shutter
lasts `motion_blur_shutter` frames and starts at the frame (Start), is centred on it (Center) or
ends at it (End). The depsgraph is evaluated once per distinct step time (`frame_set` with a
sub-frame), every step time being read for every object at once; the frame itself is never
evaluated again. With motion blur off nothing here runs: the export costs what it did.

Per step: one walk over `object_instances` (the matrices of every placement, matched to the
frame's placements by object and persistent id, as Cycles matches them); the camera's matrix;
positions (`foreach_get`) only of geometry that can deform — an object with modifiers or shape
keys whose Deformation toggle is on — so a static mesh is never read again. Steps equal to
the frame everywhere are dropped: unchanged geometry and still objects carry no motion.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .camera import unscaled_matrix
from .instances import invertible, stack_matrices
from .mesh import finite

SHUTTER_CURVE_SAMPLES = 256  # Cycles bakes the shutter curve into a 256-entry table


def shutter(b_scene) -> dict | None:
    """The scene dict's `motion` section, or None when motion blur is off."""
    r = b_scene.render
    if not r.use_motion_blur or r.motion_blur_shutter <= 0:
        return None
    cycles = getattr(b_scene.original, "cycles", None)  # add-on settings: the original is current
    return {
        "shutter": float(r.motion_blur_shutter),
        "position": r.motion_blur_position,
        "shutter_curve": shutter_curve(r.motion_blur_shutter_curve),
        "rolling_shutter": getattr(cycles, "rolling_shutter_type", "NONE"),
        "rolling_shutter_duration": float(getattr(cycles, "rolling_shutter_duration", 0.1)),
    }


def shutter_curve(mapping) -> np.ndarray | None:
    """The shutter curve at 256 evenly spaced shutter times, clamped to >= 0; None when it is
    flat (a uniform shutter) or cannot be read."""
    try:
        mapping.initialize()
        curve = mapping.curves[0]
        xs = np.linspace(0.0, 1.0, SHUTTER_CURVE_SAMPLES)
        values = np.array([mapping.evaluate(curve, float(x)) for x in xs], np.float32)
    except (AttributeError, IndexError, RuntimeError):
        return None
    values = np.maximum(values, 0.0)
    if not values.any() or np.ptp(values) <= 1e-6:
        return None
    return values


def object_steps(b_ob) -> int:
    """Cycles' step count of an object: 0 when its Motion Blur toggle is off, else 2^k + 1 (read
    from the original: an evaluated copy may predate an edit of these settings)."""
    settings = getattr(b_ob.original, "cycles", None)
    if settings is None:
        return 3
    if not settings.use_motion_blur:
        return 0
    return (2 << (max(1, int(settings.motion_steps)) - 1)) + 1


def can_deform(b_ob) -> bool:
    """Whether an object's geometry may differ between sub-frames (Deformation on, and modifiers
    or shape keys to do it) — only those are read again per step."""
    original = b_ob.original
    settings = getattr(original, "cycles", None)
    if settings is not None and not settings.use_deform_motion:
        return False
    keys = getattr(original.data, "shape_keys", None)
    return len(original.modifiers) > 0 or keys is not None


def step_offsets(motion: dict, steps: int) -> np.ndarray:
    """Frame offsets (relative to the frame rendered) of `steps` steps over the shutter."""
    s = motion["shutter"]
    start = {"START": 0.0, "CENTER": -0.5 * s, "END": -s}[motion["position"]]
    return start + s * np.arange(steps) / (steps - 1)


def placement_key(b_inst) -> tuple:
    """What identifies a placement across sub-frames (Cycles: object, parent, persistent id)."""
    if b_inst.is_instance:
        return (b_inst.object.original.as_pointer(), b_inst.parent.original.as_pointer(), tuple(b_inst.persistent_id))
    return (b_inst.object.original.as_pointer(), 0, ())


class Plan:
    """What the frame's export found to sample: per placement its key and steps, the geometry
    that may deform (geometry name → (original object, kind, rows)), the camera's steps. Lives
    for one export (the exporter's pass), so its original objects never outlive it."""

    def __init__(self, motion: dict):
        self.motion = motion
        self.keys: list[tuple] = []
        self.steps: list[int] = []
        self.deforming: dict[str, tuple] = {}
        self.shared: set[str] = set()  # geometry met from two objects: its deformation is ambiguous
        self.camera_steps = 0

    def add_placement(self, b_inst) -> None:
        self.keys.append(placement_key(b_inst))
        self.steps.append(object_steps(b_inst.object))

    def add_deforming(self, geometry: str, b_ob, kind: str, rows: int) -> None:
        original = b_ob.original
        if geometry in self.deforming and self.deforming[geometry][0] != original:
            self.shared.add(geometry)
        self.deforming[geometry] = (original, kind, rows)


def sample(
    d: dict,
    plan: Plan,
    depsgraph,
    frame_set: Callable[[int, float], None],
    frame: int,
    subframe: float,
    fps: float,
    placed: list[np.ndarray],
    report,
) -> dict:
    """Adds motion steps to the exported scene `d` (`placed[g]`: the placements, in the order
    gather met them, that are the rows of instance group g) by evaluating `depsgraph` at each
    step time through `frame_set(frame, subframe)`; leaves the depsgraph at (frame, subframe)
    again. Returns counts for the export's stats."""
    motion = plan.motion
    steps = np.array(plan.steps, np.int64)
    most = max(int(steps.max()) if len(steps) else 0, plan.camera_steps)
    stats = {"motion_steps": 0, "motion_groups": 0, "motion_meshes": 0, "motion_velocities": 0, "motion_camera": 0}
    if most < 2:
        return stats
    offsets = step_offsets(motion, most)
    key_index = {k: i for i, k in enumerate(plan.keys)}
    frame_matrices = _frame_matrices(d, placed, len(plan.keys))
    matrices = np.repeat(frame_matrices[None], most, axis=0)  # (S, P, 4, 4), the frame where unsampled
    b_camera = depsgraph.scene_eval.camera.original if depsgraph.scene_eval.camera else None
    camera = np.repeat(np.asarray(d["camera"]["matrix"], np.float32)[None], most, axis=0)
    deform_names = [g for g in plan.deforming if g not in plan.shared]
    positions: dict[str, list[np.ndarray | None]] = {g: [None] * most for g in deform_names}
    try:
        for step, offset in enumerate(offsets):
            if abs(offset) < 1e-9:
                continue  # the frame itself: already exported
            whole = int(np.floor(frame + subframe + offset))
            frame_set(whole, float(frame + subframe + offset - whole))
            stats["motion_steps"] += 1
            _read_placements(depsgraph, key_index, matrices[step])
            if b_camera is not None and plan.camera_steps:
                camera[step] = unscaled_matrix(b_camera.evaluated_get(depsgraph).matrix_world)
            for g in deform_names:
                positions[g][step] = _read_positions(plan.deforming[g], depsgraph)
    finally:
        frame_set(frame, subframe)
    _placement_steps(d, placed, steps, matrices, offsets, stats)
    if plan.camera_steps and b_camera is not None:
        picked = camera[_nested(most, plan.camera_steps)]
        if not np.array_equal(picked, np.repeat(picked[:1], len(picked), axis=0)):  # it moves
            d["camera"]["motion"] = np.ascontiguousarray(picked)
            stats["motion_camera"] = 1
    _deformation_steps(d, plan, positions, offsets, fps, depsgraph, report, stats)
    return stats


def _nested(most: int, steps: int) -> np.ndarray:
    """Indices of the `steps` step times among the `most` ones (2^k + 1 counts nest)."""
    return np.arange(steps) * ((most - 1) // (steps - 1))


def _frame_matrices(d: dict, placed: list[np.ndarray], count: int) -> np.ndarray:
    """(P, 4, 4) the frame's matrix of every placement (identity where none was placed)."""
    out = np.tile(np.eye(4, dtype=np.float32), (count, 1, 1))
    for group, rows in zip(d["instances"], placed, strict=True):
        out[rows] = group["transforms"]
    return out


def _read_placements(depsgraph, key_index: dict, out: np.ndarray) -> None:
    rows, raw = [], []
    for b_inst in depsgraph.object_instances:
        if not b_inst.show_self or b_inst.object.data is None:
            continue
        p = key_index.get(placement_key(b_inst))
        if p is not None:
            rows.append(p)
            raw.append(memoryview(b_inst.matrix_world).tobytes("A"))
    if rows:
        out[np.array(rows)] = stack_matrices(raw)


def _placement_steps(d, placed, steps, matrices, offsets, stats) -> None:
    """Each group's motion: (S, N, 4, 4) at its most-stepped row's step count; rows with motion
    blur off keep their frame matrix; groups that do not move get none."""
    most = len(offsets)
    for group, rows in zip(d["instances"], placed, strict=True):
        if len(rows) == 0:
            continue
        s = int(steps[rows].max())
        if s < 2:
            continue
        picked = matrices[_nested(most, s)][:, rows]  # (S, N, 4, 4)
        off = steps[rows] < 2
        picked[:, off] = group["transforms"][off]
        # A step the scene dict refuses (zero scale, NaN) holds the frame's matrix instead.
        bad = ~invertible(picked.reshape(-1, 4, 4)).reshape(s, len(rows))
        if bad.any():
            picked[bad] = np.broadcast_to(group["transforms"][None], picked.shape)[bad]
        if np.array_equal(picked, np.repeat(group["transforms"][None], s, axis=0)):
            continue
        group["motion"] = np.ascontiguousarray(picked)
        stats["motion_groups"] += 1


def _read_positions(entry: tuple, depsgraph) -> np.ndarray | None:
    """Positions of the deforming object's evaluated geometry, or None when its point count
    differs from the frame's (topology changed)."""
    b_ob, kind, rows = entry
    data = b_ob.evaluated_get(depsgraph).data
    if kind == "mesh":
        attr = data.attributes.get("position")
        count = len(data.vertices)
    else:
        attr, count = None, len(data.points)
    if count != rows:
        return None
    out = np.empty(rows * 3, np.float32)
    if attr is not None:
        attr.data.foreach_get("vector", out)
    else:
        data.position_data.foreach_get("vector", out)
    finite(out)
    return out.reshape(rows, 3)


def _deformation_steps(d, plan, positions, offsets, fps, depsgraph, report, stats) -> None:
    """Positions at every step where the topology stays; Blender's `velocity` where it does not."""
    most = len(offsets)
    for g, steps in positions.items():
        b_ob, kind, _rows = plan.deforming[g]
        table = d["meshes"] if kind == "mesh" else d["curves"]
        geometry = table.get(g)
        s = object_steps(b_ob)
        if geometry is None or s < 2:
            continue
        key = "vertices" if kind == "mesh" else "points"
        frame = geometry[key]
        picked = [steps[i] if abs(offsets[i]) >= 1e-9 else frame for i in _nested(most, s)]
        if all(p is not None for p in picked):
            stacked = np.stack(picked)
            if not np.array_equal(stacked, np.repeat(frame[None], s, axis=0)):
                geometry["motion"] = {key: stacked}
                stats["motion_meshes"] += 1
            continue
        velocity = _velocity(b_ob.evaluated_get(depsgraph).data, len(frame), fps)
        if velocity is not None:
            geometry["motion"] = {"velocities": velocity}
            stats["motion_velocities"] += 1
        else:
            report(
                "WARNING",
                ("motion-topology", b_ob.name),
                f"Object '{b_ob.name}': its topology changes over the shutter and it has no velocity attribute: "
                "no deformation blur",
            )


def _velocity(data, rows: int, fps: float) -> np.ndarray | None:
    """The frame's `velocity` point attribute (units per second) in units per frame."""
    if data is None:
        return None
    attr = data.attributes.get("velocity")
    if attr is None or attr.domain != "POINT" or attr.data_type != "FLOAT_VECTOR" or len(attr.data) != rows:
        return None
    v = np.empty(rows * 3, np.float32)
    attr.data.foreach_get("vector", v)
    finite(v)
    return v.reshape(rows, 3) / np.float32(fps)
