"""Arrays in CUDA device memory (`__cuda_array_interface__`, as CuPy's) where the core takes
numpy arrays: copied to the host where the host reads them, and the OptiX film exposed as one."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import _native


def is_device_array(value: Any) -> bool:
    """True for an object exposing `__cuda_array_interface__` and no host array interface."""
    return hasattr(value, "__cuda_array_interface__") and not hasattr(value, "__array_interface__")


def to_host(value: Any, name: str) -> np.ndarray:
    """A numpy copy of a C-contiguous device array (one cudaMemcpy through the CUDA driver);
    RuntimeError naming what is missing when the driver is not there."""
    info = value.__cuda_array_interface__
    shape = tuple(int(n) for n in info["shape"])
    dtype = np.dtype(info["typestr"])
    strides = info.get("strides")
    contiguous = tuple(int(dtype.itemsize * np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape)))
    if strides is not None and tuple(strides) != contiguous:
        raise ValueError(f"{name}: a CUDA array must be C-contiguous to be copied (strides {tuple(strides)})")
    pointer = int(info["data"][0])
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes == 0:
        return np.empty(shape, dtype)
    try:
        data = _native.cuda_copy_to_host(pointer, nbytes)
    except RuntimeError as e:
        raise RuntimeError(f"{name}: {e}") from None
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _device_array_paths(scene: Any) -> list[tuple]:
    """Key paths of the device arrays in `scene`, walked without recursion (a scene may be
    arbitrarily deep or malformed: the validator, not this walk, judges it)."""
    found: list[tuple] = []
    seen: set[int] = set()
    todo: list[tuple[Any, tuple | None]] = [(scene, None)]  # (value, linked path: (key, parent))
    while todo:
        value, link = todo.pop()
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                continue
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            todo.extend((item, (key, link)) for key, item in items)
        elif is_device_array(value):
            path = []
            while link is not None:
                key, link = link
                path.append(key)
            found.append(tuple(reversed(path)))
    return found


def _path_name(path: tuple, root: str) -> str:
    return root + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)


def scene_to_host(scene: Any, root: str = "scene") -> tuple[Any, int]:
    """`scene` with every device array replaced by a host copy (only the dicts and lists on the
    way to one are copied; `scene` itself is not changed), and how many were copied."""
    paths = _device_array_paths(scene)
    if not paths:
        return scene, 0
    out = copy.copy(scene)
    for path in paths:
        parent = out
        for key in path[:-1]:
            parent[key] = copy.copy(parent[key])
            parent = parent[key]
        parent[path[-1]] = to_host(parent[path[-1]], _path_name(path, root))
    return out, len(paths)


class DeviceArray:
    """A view of device memory owned by `owner` (kept alive with it), for CuPy & co.:
    `cupy.asarray(renderer.color_device)` reads the film without a copy to the host."""

    def __init__(self, pointer: int, shape: tuple[int, ...], typestr: str, owner: Any):
        self._owner = owner
        self.__cuda_array_interface__ = {
            "shape": tuple(shape), "typestr": typestr, "data": (int(pointer), False), "strides": None, "version": 3,
        }
