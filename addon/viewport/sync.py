# SPDX-License-Identifier: GPL-3.0-or-later
"""The viewport's scene sync: `depsgraph.updates` → `Changes` (plain data), and the update that
brings the scene up to date through the exporter's change tracker — a transform-only move
patched into the last scene at the rows the exporter's placement index names, or a cached export
whose differences the exporter reports. Main thread only (reads bpy); hands plain dicts on.

- a camera object or camera data change: the camera only (the session re-frames);
- objects whose transform alone changed: `SceneExporter.move` (one row of one instance group, or
  one light, per object; no export) — an object the index does not hold falls back to:
- anything else: `SceneExporter.export` (it re-converts only what changed and returns the very
  same arrays for unchanged meshes); nothing changed (a selection click) means no restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .. import messages

log = logging.getLogger(__name__)

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
    def everything(cls) -> Changes:
        return cls(other=True)

    @classmethod
    def from_depsgraph(cls, depsgraph) -> Changes:
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


@dataclass
class SyncResult:
    """What one sync did: kind 'none', 'transform' or 'export'; changed: `changes.diff`-style
    parts; exported: the exporter's last_stats when an export ran; moved_rows: rows patched."""

    kind: str = "none"
    changed: dict | None = None
    exported: dict | None = None
    moved_rows: int = 0


class ViewportSync:
    """The viewport's exporter (a change tracker) and the last scene it produced."""

    def __init__(self, log_fn=None):
        from ..exporter import scene_exporter

        self.log = log_fn or messages.relay(log)
        self.exporter = scene_exporter(log=self.log, track_changes=True)

    @property
    def scene(self) -> dict | None:
        return self.exporter.scene

    def export(self, depsgraph) -> tuple[dict, dict]:
        """A full (cached) export: (scene dict, the exporter's stats)."""
        d = self.exporter.export(depsgraph)
        return d, dict(self.exporter.last_stats)

    def apply(self, depsgraph, changes: Changes) -> SyncResult:
        """Brings the scene up to date with `changes` (everything, the first time)."""
        first = self.scene is None
        if not first and not changes.other and changes.moved:
            moved = self.exporter.move(depsgraph, changes.moved)
            if moved is not None:
                return SyncResult("transform" if moved.rows else "none", moved.changed, None, moved.rows)
        if first or changes.other or changes.moved:
            _scene, stats = self.export(depsgraph)
            changed = self.exporter.last_changes
            return SyncResult("export" if changed and not first else "none", dict(changed), stats)
        return SyncResult()
