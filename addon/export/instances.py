# SPDX-License-Identifier: GPL-3.0-or-later
"""`depsgraph.object_instances` → what is placed where: `instances` of the scene dict.

Every visible object and every instance (collection instances, geometry-nodes instances,
particles) is one placement: a source — the (object, data) pair that says which geometry,
which materials, which object id — and a transform. A source is converted once, the first
time it is met; every later placement only appends its matrix. Placements of one geometry
with the same material slots become one instance group with an (N, 4, 4)
transforms array, so 100,000 instances of a mesh are one group and the mesh is stored once.

Per placement the work is what `object_instances` makes unavoidable: the instance's object,
its data pointer, whether it is an instance (the placement index of placements.py needs it)
and a copy of `matrix_world` (the iterator reuses its instance and temporary objects, so the
matrix is copied while iterating): the matrix's raw bytes through its buffer protocol, joined
and viewed as one array at the end, not element by element (100,000 matrices: ~40 ms, against
~220 ms for `numpy.array` over a list of matrices).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .object_info import instance_random_id


class Source:
    """What one (object, data) pair contributes, decided when it is first met.

    kind: 'geometry' (`geometry` names a mesh or sphere set, `materials` its slot list) or
    'light' (`light` holds the placement-independent light parameters); `name` is a readable
    base name (the object's name); `object_id` the object's pass index; `instancer`: the object
    places instances of others (moving it moves them: set by gather); `info` its
    object_info.SourceInfo (scene dict v2) or None."""

    __slots__ = ("kind", "name", "geometry", "materials", "object_id", "light", "instancer", "info", "hair")

    def __init__(self, kind, name, geometry=None, materials=(), object_id=0, light=None, info=None):
        self.kind = kind
        self.name = name
        self.geometry = geometry
        self.materials = tuple(materials)
        self.object_id = int(object_id)
        self.light = light
        self.instancer = False
        self.info = info
        self.hair: tuple = ()  # particle hair curve sets placed with this geometry


def gather(
    depsgraph, first_sight: Callable, random_ids: list | None = None, placed: Callable | None = None
) -> tuple[list[Source], np.ndarray, np.ndarray, np.ndarray]:
    """Walks `depsgraph.object_instances` once.

    `first_sight(b_ob, b_instance)` → Source or None (nothing to render), called once per
    (object, data) pair. Returns (sources, index (P,) int32 into sources, transforms (P, 4, 4)
    float32, instanced (P,) bool: the placement is an instance, not the object itself) over the
    P placements; appends each placement's random id to `random_ids` when given
    (object_info.instance_random_id); calls `placed(b_instance)` per placement when given (the
    motion plan: motion.Plan.add_placement)."""
    known: dict[tuple[int, int], int] = {}
    sources: list[Source] = []
    index: list[int] = []
    matrices: list[bytes] = []
    instanced: list[bool] = []
    add_index, add_matrix, add_instanced = index.append, matrices.append, instanced.append
    for b_inst in depsgraph.object_instances:
        if not b_inst.show_self:
            continue
        b_ob = b_inst.object
        b_data = b_ob.data
        if b_data is None:
            continue
        key = (b_ob.original.as_pointer(), b_data.as_pointer())
        s = known.get(key)
        if s is None:
            source = first_sight(b_ob, b_inst)
            if source is None:
                s = -1
            else:
                s = len(sources)
                source.instancer = bool(b_ob.is_instancer)
                sources.append(source)
            known[key] = s
        if s >= 0:
            add_index(s)
            # The matrix's own memory order, copied now (the iterator reuses its instance).
            add_matrix(memoryview(b_inst.matrix_world).tobytes("A"))
            add_instanced(b_inst.is_instance)
            if random_ids is not None:
                random_ids.append(instance_random_id(b_inst))
            if placed is not None:
                placed(b_inst)
    return sources, np.array(index, np.int32), stack_matrices(matrices), np.array(instanced, bool)


def stack_matrices(matrices: list[bytes]) -> np.ndarray:
    """(N, 4, 4) float32 row-major from the raw bytes of N mathutils matrices."""
    if not matrices:
        return np.zeros((0, 4, 4), np.float32)
    m = np.frombuffer(b"".join(matrices), np.float32).reshape(-1, 4, 4)
    if _matrix_memory_is_column_major():
        m = m.transpose(0, 2, 1)
    return np.ascontiguousarray(m)


_COLUMN_MAJOR = None


def _matrix_memory_is_column_major() -> bool:
    """mathutils.Matrix exports its memory column by column (Fortran order) in Blender 5.0;
    asked once rather than assumed."""
    global _COLUMN_MAJOR
    if _COLUMN_MAJOR is None:
        from mathutils import Matrix

        probe = Matrix(((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16)))
        raw = np.frombuffer(memoryview(probe).tobytes("A"), np.float32)  # type: ignore[arg-type]  # Matrix is a buffer at run time
        _COLUMN_MAJOR = bool(raw[1] == 5)
    return _COLUMN_MAJOR


def instance_groups(
    sources: list[Source],
    index: np.ndarray,
    transforms: np.ndarray,
    pad_materials: Callable[[str, tuple], list],
    object_info: dict | None = None,
    terminator: dict | None = None,
) -> tuple[list[dict], np.ndarray]:
    """`instances` groups of the geometry placements, one per (geometry, material slots);
    `pad_materials(geometry, materials)` makes a slot list long enough for the geometry's
    material ids; `object_info`: per-placement arrays (object_info.placement_arrays) that
    each group gets its rows of; `terminator`: the same for the Shadow Terminator offsets
    (object_info.terminator_arrays), written only to groups with a value off Blender's defaults.
    Also where each placement went: (P, 2) int64 (group, row),
    -1 where none."""
    group_of_key: dict[tuple, int] = {}
    groups: list[tuple] = []
    group_of_source = np.full(len(sources), -1, np.int64)
    object_id_of_source = np.array([s.object_id for s in sources], np.int32)
    for i, s in enumerate(sources):
        if s.kind != "geometry":
            continue
        key = (s.geometry, s.materials)
        g = group_of_key.get(key)
        if g is None:
            g = group_of_key[key] = len(groups)
            groups.append(key)
        group_of_source[i] = g
    slots = np.full((len(index), 2), -1, np.int64)
    if not groups or len(index) == 0:
        return [], slots
    gid = group_of_source[index]
    gid[~invertible(transforms)] = -1  # zero scale: nothing to see, and the scene dict refuses it
    object_ids = object_id_of_source[index]
    if len(groups) == 1 and bool((gid == 0).all()):
        counts: Any = [len(index)]
        order = np.arange(len(index))
    else:
        keep = np.flatnonzero(gid >= 0)
        order = keep[np.argsort(gid[keep], kind="stable")]
        counts = np.bincount(gid[keep], minlength=len(groups))
        transforms, object_ids = transforms[order], object_ids[order]
        if object_info is not None:
            object_info = {k: v[order] for k, v in object_info.items()}
        if terminator is not None:
            terminator = {k: v[order] for k, v in terminator.items()}
    out: list[dict] = []
    start = 0
    for (geometry, materials), n in zip(groups, counts, strict=False):
        n = int(n)
        if n == 0:
            continue
        placed = order[start : start + n]
        slots[placed, 0] = len(out)
        slots[placed, 1] = np.arange(n)
        out.append(
            {
                "geometry": geometry,
                "transforms": np.ascontiguousarray(transforms[start : start + n]),
                "object_ids": np.ascontiguousarray(object_ids[start : start + n]),
                "materials": pad_materials(geometry, materials),
            }
        )
        if object_info is not None:
            out[-1]["object_info"] = {k: np.ascontiguousarray(v[start : start + n]) for k, v in object_info.items()}
        if terminator is not None:
            rows = {k: np.ascontiguousarray(v[start : start + n]) for k, v in terminator.items()}
            if not (rows["geometry_offset"] == np.float32(0.1)).all() or rows["shading_offset"].any():
                out[-1]["shadow_terminator"] = rows
        start += n
    return out, slots


def placements_of_groups(slots: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Per group the placements that are its rows, in row order (from instance_groups' slots)."""
    placed = np.flatnonzero(slots[:, 0] >= 0)
    order = placed[np.lexsort((slots[placed, 1], slots[placed, 0]))]
    counts = np.bincount(slots[placed, 0], minlength=n_groups) if len(placed) else np.zeros(n_groups, np.int64)
    return np.split(order, np.cumsum(counts)[:-1]) if n_groups else []


def invertible(transforms: np.ndarray) -> np.ndarray:
    """(N,) bool: finite matrices the scene dict accepts as transforms (|det| of the 3×3 part
    above 1e-6 × the product of its column lengths; 2e-6 here, a margin over float32 rounding)."""
    m = transforms[:, :3, :3].astype(np.float64)
    det = (
        m[:, 0, 0] * (m[:, 1, 1] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 1])
        - m[:, 0, 1] * (m[:, 1, 0] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 0])
        + m[:, 0, 2] * (m[:, 1, 0] * m[:, 2, 1] - m[:, 1, 1] * m[:, 2, 0])
    )
    lengths = np.sqrt(np.prod(np.einsum("nij,nij->nj", m, m), axis=1))
    return np.isfinite(transforms.reshape(len(transforms), -1)).all(axis=1) & (np.abs(det) > 2e-6 * lengths)


def light_placements(sources: list[Source], index: np.ndarray, transforms: np.ndarray):
    """(placement, source, matrix) of every light placement, in depsgraph order."""
    is_light = np.array([s.kind == "light" for s in sources], bool)
    if not is_light.any():
        return
    for p in np.flatnonzero(is_light[index]).tolist():
        yield p, sources[index[p]], transforms[p]
