"""Arrays in CUDA device memory (`__cuda_array_interface__`, as CuPy's) where the core takes
numpy arrays: copied to the host where the host reads them, and the OptiX film exposed as one."""

from __future__ import annotations

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


def scene_to_host(value: Any, path: str = "scene") -> tuple[Any, int]:
    """`value` (a scene dict) with every device array replaced by a host copy, and how many
    were copied."""
    if isinstance(value, dict):
        out, copied = {}, 0
        for key, item in value.items():
            out[key], n = scene_to_host(item, f"{path}.{key}")
            copied += n
        return out, copied
    if isinstance(value, list):
        items = [scene_to_host(item, f"{path}[{i}]") for i, item in enumerate(value)]
        return [v for v, _ in items], sum(n for _, n in items)
    if is_device_array(value):
        return to_host(value, path), 1
    return value, 0


class DeviceArray:
    """A view of device memory owned by `owner` (kept alive with it), for CuPy & co.:
    `cupy.asarray(renderer.color_device)` reads the film without a copy to the host."""

    def __init__(self, pointer: int, shape: tuple[int, ...], typestr: str, owner: Any):
        self._owner = owner
        self.__cuda_array_interface__ = {
            "shape": tuple(shape), "typestr": typestr, "data": (int(pointer), False), "strides": None, "version": 3,
        }
