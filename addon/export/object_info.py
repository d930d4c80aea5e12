# SPDX-License-Identifier: GPL-3.0-or-later
"""The per-object values each placement carries (scene dict v2): the Object Info node's object
colour (with alpha), pass index and random number as Cycles computes them
(`instances[…].object_info`), and the object's Shadow Terminator offsets
(`instances[…].shadow_terminator`).

Cycles (blender/object.cpp, scene/object.cpp) takes the random number from a 32-bit id: the
instance's `random_id` for an instance (collection, particle or geometry-nodes instance), else
`hash_uint2(hash_string(object name), 0)` — Bob Jenkins' lookup3 hash of a multiplicative
hash of the name's bytes — and maps it to [0, 1] as `float(id) · (1 / 2³²)` in single
precision. Colour and pass index are the placed object's own.
"""

from __future__ import annotations

import numpy as np

_U32 = 0xFFFFFFFF
NOT_AN_INSTANCE = -1  # placeholder random id, replaced by the object's name hash


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _U32


def hash_uint2(kx: int, ky: int) -> int:
    """Cycles' `hash_uint2` (lookup3's final mix of two 32-bit words)."""
    a = b = c = (0xDEADBEEF + (2 << 2) + 13) & _U32
    b = (b + ky) & _U32
    a = (a + kx) & _U32
    c ^= b
    c = (c - _rot(b, 14)) & _U32
    a ^= c
    a = (a - _rot(c, 11)) & _U32
    b ^= a
    b = (b - _rot(a, 25)) & _U32
    c ^= b
    c = (c - _rot(b, 16)) & _U32
    a ^= c
    a = (a - _rot(c, 4)) & _U32
    b ^= a
    b = (b - _rot(a, 14)) & _U32
    c ^= b
    c = (c - _rot(b, 24)) & _U32
    return c


def hash_string(name: str) -> int:
    """Cycles' `hash_string` over the name's UTF-8 bytes. Blender is built with unsigned
    chars: bytes ≥ 128 add their value (checked against Cycles' renders of non-ASCII names,
    tests/test_export_v2.py)."""
    h = 0
    for byte in name.encode("utf-8"):
        h = (h * 37 + byte) & _U32
    return h


def name_random_id(name: str) -> int:
    """The random id Cycles gives an object that is not an instance."""
    return hash_uint2(hash_string(name), 0)


def random_numbers(random_ids: np.ndarray) -> np.ndarray:
    """(N,) f32 in [0, 1] from 32-bit ids, as Cycles: float(id) · (1 / (float)0xFFFFFFFF),
    whose single-precision divisor rounds to 2³²."""
    ids = np.asarray(random_ids, np.int64) & _U32
    return ids.astype(np.float32) * np.float32(2.0**-32)


def instance_random_id(b_instance) -> int:
    """The placement's random id, or NOT_AN_INSTANCE for an object placed as itself."""
    return b_instance.random_id & _U32 if b_instance.is_instance else NOT_AN_INSTANCE


class SourceInfo:
    """What an object contributes to Object Info whatever its placement."""

    __slots__ = ("color", "pass_index", "random_id", "terminator")

    def __init__(self, b_ob):
        self.color = tuple(float(c) for c in b_ob.color)
        self.pass_index = int(b_ob.pass_index)
        self.random_id = name_random_id(b_ob.name)
        # Object › Shading › Shadow Terminator: Geometry Offset, Shading Offset.
        self.terminator = (float(b_ob.shadow_terminator_geometry_offset), float(b_ob.shadow_terminator_shading_offset))


def placement_arrays(infos: list, index: np.ndarray, random_ids: list) -> dict:
    """Per placement (P rows, the order of `index`): `color` f32 (P, 4), `pass_index` i32 (P,),
    `random` f32 (P,). `infos[s]` is source s's SourceInfo (None: not geometry);
    `random_ids` the placements' ids from `instance_random_id`."""
    n = len(infos)
    colors = np.zeros((n, 4), np.float32)
    passes = np.zeros(n, np.int32)
    name_ids = np.zeros(n, np.int64)
    for s, info in enumerate(infos):
        if info is not None:
            colors[s], passes[s], name_ids[s] = info.color, info.pass_index, info.random_id
    ids = np.asarray(random_ids, np.int64).reshape(-1)
    own = ids == NOT_AN_INSTANCE
    ids[own] = name_ids[index[own]]
    return {"color": colors[index], "pass_index": passes[index], "random": random_numbers(ids)}


TERMINATOR_DEFAULTS = (0.1, 0.0)  # Blender's Geometry Offset, Shading Offset


def terminator_arrays(infos: list, index: np.ndarray) -> dict | None:
    """Per placement (the order of `index`): `geometry_offset`, `shading_offset` f32 (P,), the
    placed objects' Shadow Terminator offsets; None when every placement has Blender's defaults
    (the scene dict's default, so unchanged scenes carry no arrays)."""
    table = np.array(
        [info.terminator if info is not None else TERMINATOR_DEFAULTS for info in infos], np.float32
    ).reshape(-1, 2)
    rows = table[np.asarray(index, np.int64)] if len(table) else np.zeros((0, 2), np.float32)
    if bool((rows == np.array(TERMINATOR_DEFAULTS, np.float32)).all()):
        return None
    return {"geometry_offset": rows[:, 0].copy(), "shading_offset": rows[:, 1].copy()}
