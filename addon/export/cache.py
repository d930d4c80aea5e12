# SPDX-License-Identifier: GPL-3.0-or-later
"""What the exporter keeps between exports, in one place (Cycles' `blender/id_map.h`).

- `IdCache`: values under stable keys; every export is a *pass* that marks the keys it touched,
  and `end_pass()` drops the rest, so deleted or hidden datablocks do not linger.
- `ConvertedStore`: converted geometry or texture pixels, found again by a cheap key or by
  their inputs (a digest, or a `Content` compared exactly), so an unchanged datablock gives back
  the very same numpy arrays (the core reuses a geometry's BVH when its arrays are the identical
  objects).
- `Names`: unique, stable names for the scene dictionary.
- `Reporter`: messages said once per subject, across exports.

How a datablock is known to be unchanged (measured on bpy 5.0.1, see docs/benchmarks.md):
an evaluated mesh or point cloud is a runtime datablock (`is_runtime_data`, not
`is_evaluated`) that the depsgraph frees and replaces when it re-evaluates the geometry, and
`session_uid`s are never reused within a session. So the same `session_uid` again means the same
geometry: the cheap key. A new depsgraph (each frame of Render Animation without persistent
data), or a re-evaluation that produces the same result, gives new `session_uid`s: then the
inputs decide. Meshes compare their raw attribute arrays bit for bit with those of the stored
meshes of the same shape (`Content`: a memcmp-speed pass, and only when there is a likely
match, where a SHA-1 of a 1M-triangle mesh's 40 MB took 25–50 ms on every cold export); images
and point clouds use a digest. `depsgraph.updates` is not
used: it lists every datablock as updated in a fresh render depsgraph, and it is empty once the
depsgraph's update handlers have run (a script's `evaluated_depsgraph_get()`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np


class IdCache:
    """Values under stable keys, with "touched this pass" bookkeeping."""

    def __init__(self):
        self._values: dict[Hashable, Any] = {}
        self._touched: set = set()

    def begin_pass(self) -> None:
        self._touched = set()

    def get(self, key: Hashable, default=None):
        """The value under `key` (marking it touched), or `default`."""
        if key in self._values:
            self._touched.add(key)
            return self._values[key]
        return default

    def set(self, key: Hashable, value) -> None:
        self._values[key] = value
        self._touched.add(key)

    def end_pass(self) -> list:
        """Drops what this pass did not touch; returns the dropped values."""
        dropped = [k for k in self._values if k not in self._touched]
        return [self._values.pop(k) for k in dropped]

    def values(self):
        return self._values.values()

    def __contains__(self, key) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)


def digest(*parts) -> bytes:
    """sha1 over numpy arrays (their dtype, shape and bytes) and plain hashable values."""
    h = hashlib.sha1()
    for p in parts:
        if isinstance(p, np.ndarray):
            a = np.ascontiguousarray(p)
            h.update(repr((a.dtype.str, a.shape)).encode())
            h.update(a.data.cast("B"))
        else:
            h.update(repr(p).encode())
        h.update(b"\x00")
    return h.digest()


class Content:
    """Conversion inputs as a key that compares exactly: `shape` (plain values equal contents
    share: counts, kinds) and `parts` (arrays, compared bit for bit, and plain values). The
    hash covers the shape and a few evenly spaced elements of every array, so the full
    comparison runs only against stored inputs that very likely are equal. The arrays are kept
    (by reference) for as long as the key is."""

    __slots__ = ("_shape", "_parts", "_hash")

    def __init__(self, shape: tuple, parts: tuple):
        self._shape = shape
        self._parts = tuple(np.ascontiguousarray(p) if isinstance(p, np.ndarray) else p for p in parts)
        self._hash = hash((shape, tuple(_fingerprint(p) for p in self._parts)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        if not isinstance(other, Content):
            return NotImplemented
        return (
            self._hash == other._hash
            and self._shape == other._shape
            and len(self._parts) == len(other._parts)
            and all(_same(a, b) for a, b in zip(self._parts, other._parts, strict=True))
        )


_FINGERPRINT_SAMPLES = 64


def _fingerprint(part):
    if not isinstance(part, np.ndarray):
        return repr(part)
    flat = part.reshape(-1)
    picks = np.linspace(0, len(flat) - 1, min(len(flat), _FINGERPRINT_SAMPLES)).astype(np.intp)
    return (part.dtype.str, part.shape, flat[picks].tobytes())


def _same(a, b) -> bool:
    """Arrays: same dtype, shape and bytes; anything else: same type and equal."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a is b:
            return True
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(_raw(a), _raw(b))
    return type(a) is type(b) and a == b


def _raw(a: np.ndarray) -> np.ndarray:
    """The bytes of contiguous `a` as the widest unsigned integers that tile them (bitwise
    comparison: NaN equals itself, -0.0 differs from 0.0)."""
    for dtype in (np.uint64, np.uint32, np.uint16):
        if a.nbytes % np.dtype(dtype).itemsize == 0:
            return a.reshape(-1).view(dtype)
    return a.reshape(-1).view(np.uint8)


class Names:
    """Unique names, handed out from a readable base ("Cube", "Cube.1", ...)."""

    def __init__(self):
        self._used: set[str] = set()

    def take(self, base: str) -> str:
        base = base or "unnamed"
        name, n = base, 1
        while name in self._used:
            name = f"{base}.{n}"
            n += 1
        self._used.add(name)
        return name

    def release(self, name: str) -> None:
        self._used.discard(name)


class Converted:
    """One converted datablock: its name in the scene dict and its plain data."""

    __slots__ = ("name", "data")

    def __init__(self, name: str, data: dict):
        self.name = name
        self.data = data


class ConvertedStore:
    """Converted data shared between exports, found by a cheap key or by the key of its inputs.

    `fetch(fast_key, read, convert, base_name)`:
    - `fast_key` — a key that can only come back with unchanged content (an evaluated
      datablock's `session_uid`), or None when there is none;
    - `read()` → `(key, inputs)`: the cheap part of a conversion, enough to know the content;
      `key` is a digest (bytes) or a `Content`, equal for equal inputs;
    - `convert(inputs)` → plain dict: the rest, run only for content not seen before.
    Returns `(Converted, was_converted)`.
    """

    def __init__(self, names: Names):
        self._names = names
        self._fast = IdCache()  # fast key -> key of the inputs
        self._by_digest = IdCache()  # key of the inputs -> Converted

    def begin_pass(self) -> None:
        self._fast.begin_pass()
        self._by_digest.begin_pass()

    def end_pass(self) -> int:
        self._fast.end_pass()
        dropped = self._by_digest.end_pass()
        for entry in dropped:
            self._names.release(entry.name)
        return len(dropped)

    def fetch(
        self,
        fast_key: Hashable | None,
        read: Callable[[], tuple[bytes, Any]],
        convert: Callable[[Any], dict],
        base_name: str,
    ) -> tuple[Converted, bool]:
        if fast_key is not None:
            known = self._fast.get(fast_key)
            if known is not None:
                entry = self._by_digest.get(known)
                if entry is not None:
                    return entry, False
        key, inputs = read()
        entry = self._by_digest.get(key)
        converted = entry is None
        if converted:
            entry = Converted(self._names.take(base_name), convert(inputs))
            self._by_digest.set(key, entry)
        if fast_key is not None:
            self._fast.set(fast_key, key)
        return entry, converted

    def __len__(self) -> int:
        return len(self._by_digest)


class Reporter:
    """`log(level, message)` once per subject, across exports."""

    def __init__(self, log: Callable[[str, str], None] | None = None):
        self._log = log or _print_log
        self._said: set = set()
        self.count = 0  # messages said during the current export

    def __call__(self, level: str, subject: Hashable, message: str) -> None:
        if subject in self._said:
            return
        self._said.add(subject)
        self.count += 1
        try:
            self._log(level, message)
        except Exception:  # noqa: BLE001 - a broken log callback must not fail an export
            _print_log(level, message)


def _print_log(level: str, message: str) -> None:
    print(f"Optica export {level}: {message}")
