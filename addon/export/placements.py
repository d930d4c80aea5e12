# SPDX-License-Identifier: GPL-3.0-or-later
"""Where each plainly placed object sits in the last export — its instance group and row, or
its light — and the transform-only update (`move`) that patches it there without an export.

An object is *plain* when it is placed exactly once, by its own matrix: it is not an instancer
(moving it would move its instances), nothing instances it (collection, particle, vertex/face
or geometry-nodes instancing: its placements are instances) and it was placed (visible, not of
zero scale). Only plain objects are in the index; moving any other object needs an export. The
index is built from what `instances.gather` saw, never guessed from names or matrix values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .instances import Source, invertible, stack_matrices
from .lights import place_light


@dataclass
class PlacementIndex:
    """Object name → where the last export placed it (see the module docstring)."""

    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # → (group in `instances`, row)
    lights: dict[str, tuple[str, Any]] = field(default_factory=dict)  # → (light name, light params)

    def __contains__(self, name: str) -> bool:
        return name in self.rows or name in self.lights


def plain_placements(sources: list[Source], index: np.ndarray, instanced: np.ndarray) -> dict[str, int]:
    """Object name → its one placement, for the plain objects among `sources`."""
    own: dict[str, list[int]] = {}
    not_plain: set[str] = set()
    for p in np.flatnonzero(~instanced).tolist():
        own.setdefault(sources[index[p]].name, []).append(p)
    for s in np.unique(index[instanced]).tolist():
        not_plain.add(sources[s].name)
    not_plain.update(s.name for s in sources if s.instancer)
    return {name: ps[0] for name, ps in own.items() if len(ps) == 1 and name not in not_plain}


def index_geometry(plain: dict[str, int], slots: np.ndarray, into: PlacementIndex) -> None:
    """Adds the plain geometry placements (`slots`: instance_groups' (group, row) per placement)."""
    for name, p in plain.items():
        group, row = (int(v) for v in slots[p])
        if group >= 0:
            into.rows[name] = (group, row)


@dataclass
class Moved:
    """A transform-only update: the patched scene, the rows patched and what changed
    (`changes.diff` shape: {'instances': geometry and light names})."""

    scene: dict
    rows: int
    changed: dict


def move(scene: dict, where: PlacementIndex, matrices: dict[str, np.ndarray | None]) -> Moved | None:
    """`scene` with the objects of `matrices` (name → new (4, 4) float32 object matrix; None:
    an object that places nothing itself) at their new places, or None when an export is needed
    (an object not in the index, or a transform the scene dict refuses). Copy-on-write: arrays
    handed to the core before are never modified."""
    d = dict(scene)
    groups = list(d.get("instances") or [])
    lights = dict(d.get("lights") or {})
    touched, rows = set(), 0
    for name, new in matrices.items():
        if new is None:
            continue
        if name in where.lights:
            light, params = where.lights[name]
            placed = place_light(params, new)
            if placed is None or light not in lights:
                return None
            lights[light] = placed
            touched.add(light)
        elif name in where.rows and bool(invertible(new[None])[0]):
            gi, row = where.rows[name]
            g = dict(groups[gi])
            g["transforms"] = g["transforms"].copy()
            g["transforms"][row] = new
            groups[gi] = g
            touched.add(g["geometry"])
        else:
            return None
        rows += 1
    d["instances"] = groups
    d["lights"] = lights
    changed = {"instances": tuple(sorted(touched))} if touched else {}
    return Moved(d, rows, changed)


def object_matrix(b_ob) -> np.ndarray:
    """An evaluated object's world matrix as the exporter stores transforms: (4, 4) float32."""
    return stack_matrices([memoryview(b_ob.matrix_world).tobytes("A")])[0]


__all__ = ["PlacementIndex", "Moved", "move", "plain_placements", "index_geometry", "object_matrix"]
