# SPDX-License-Identifier: GPL-3.0-or-later
"""What differs between two exported scene dicts: the exporter's change tracker.

    diff(old, new) -> {'render': ('render',), 'world': ('world',), 'materials': names,
                       'textures': names, 'meshes': names, 'spheres': names, 'curves': names,
                       'instances': geometry names, 'lights': names, 'motion': ('motion',)}
                                                                       # only the parts that differ

Cheap because the exporter hands back the very same arrays for what it did not convert again
(compared by identity first, then by content). The camera and the frame size are not compared:
a viewport sets its own.
"""

from __future__ import annotations

import numpy as np

_FRAME_KEYS = ("width", "height", "region")


def same(a, b) -> bool:
    """Deep equality of scene-dict values (numpy arrays compared by identity, then content)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=False))
    return type(a) is type(b) and a == b


def diff(old: dict | None, new: dict) -> dict[str, tuple]:
    """Which parts of `new` differ from `old` (see the module docstring); {'all': ('all',)}
    when there is no `old`."""
    if old is None:
        return {"all": ("all",)}
    out: dict[str, tuple] = {}
    if not same(_integrator(old), _integrator(new)):
        out["render"] = ("render",)
    if not same(old.get("world"), new.get("world")):
        out["world"] = ("world",)
    if not same(old.get("motion"), new.get("motion")):
        out["motion"] = ("motion",)
    for key in ("materials", "textures", "meshes", "spheres", "curves", "lights"):
        names = _named_diff(old.get(key) or {}, new.get(key) or {})
        if names:
            out[key] = names
    groups = _named_diff(_groups_by_key(old.get("instances") or []), _groups_by_key(new.get("instances") or []))
    if groups:
        out["instances"] = tuple(sorted({g[0] for g in groups}))
    return out


def _named_diff(old: dict, new: dict) -> tuple:
    names = set(old) | set(new)
    return tuple(sorted(n for n in names if n not in old or n not in new or not same(old[n], new[n])))


def _integrator(d: dict) -> dict:
    """`render` without the frame size and border (the viewport sets its own)."""
    return {k: v for k, v in (d.get("render") or {}).items() if k not in _FRAME_KEYS}


def _groups_by_key(groups: list) -> dict:
    out = {}
    for g in groups:
        key: tuple = (g["geometry"], tuple(g.get("materials") or ()))
        while key in out:
            key = key + ("+",)
        out[key] = g
    return out
