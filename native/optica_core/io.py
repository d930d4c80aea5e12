"""Scene files: one uncompressed ZIP per scene (docs/scene-dict.md, "Files").

Members:
- `scene.json`: the normalised scene dictionary, readable (indent 1), with each array
  replaced by ``{"$array": "arrays/<n>.npy"}``; tuples become JSON lists;
- `arrays/<n>.npy`: one array each, in numpy's .npy format (no pickles). An array that the
  normalised dict holds twice (e.g. `normal_indices` sharing `triangles`) is stored once, and
  loads back as one array referenced twice.

Members are stored, not deflated: scene arrays hardly compress, and stored members load at
the speed of the disk.
"""

from __future__ import annotations

import json
import os
import secrets
import struct
import zipfile

import numpy as np

from .scene import validate_scene

_JSON_MEMBER = "scene.json"
_ARRAY_KEY = "$array"
# zipfile needs to know in advance when a member written as a stream may pass 4 GiB.
_ZIP64_THRESHOLD = 1 << 30
# What reading damaged or foreign bytes can raise, from zipfile, json and numpy's .npy reader.
_CORRUPTION_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError,
                      struct.error, NotImplementedError, UnicodeDecodeError)


def save_scene(d: dict, path) -> None:
    """Validate `d` and write it to `path` atomically.

    The file is written beside `path` under a temporary name, flushed to disk and renamed over
    `path`; on any error (or interruption) the temporary file is removed, so `path` is either the
    old file or the complete new one.
    """
    scene = validate_scene(d)
    path = os.fspath(path)
    temp_path, fd = _create_temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_zip(scene, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, path)
    except BaseException:
        _remove_quietly(temp_path)
        raise
    _fsync_folder(os.path.dirname(os.path.abspath(path)))


def load_scene(path, strict: bool = True) -> dict:
    """Read a file written by `save_scene` and return the validated, normalised scene.

    A file that is not a readable scene file (damaged, truncated, foreign) or holds an invalid
    scene raises ValueError starting with the file's path; a missing file raises
    FileNotFoundError as `open` does.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            scene = _read_zip(f)
        except _CORRUPTION_ERRORS as error:
            raise ValueError(f"{path}: not a readable Optica scene file: {error}") from error
    try:
        return validate_scene(scene, strict=strict)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


# --------------------------------------------------------------------------------------------
# Writing


def _create_temp_beside(path: str) -> tuple[str, int]:
    """A new file in the folder of `path`, so the final rename stays on one filesystem.
    Created with mode 0o666 like `open(path, "wb")`, so the umask applies as usual."""
    folder, name = os.path.split(os.path.abspath(path))
    temp_path = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    return temp_path, fd


def _write_zip(scene: dict, f) -> None:
    arrays: dict[int, tuple[str, np.ndarray]] = {}
    document = _replace_arrays(scene, arrays)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_JSON_MEMBER, json.dumps(document, indent=1, allow_nan=False))
        for member, array in arrays.values():
            with zf.open(member, "w", force_zip64=array.nbytes >= _ZIP64_THRESHOLD) as out:
                np.lib.format.write_array(out, array, allow_pickle=False)


def _replace_arrays(value, arrays: dict):
    """A JSON-ready copy of `value` with each array replaced by a reference to its member;
    `arrays` collects id(array) → (member, array), so an array held twice is stored once."""
    if isinstance(value, np.ndarray):
        if id(value) not in arrays:
            arrays[id(value)] = (f"arrays/{len(arrays)}.npy", value)
        return {_ARRAY_KEY: arrays[id(value)][0]}
    if isinstance(value, dict):
        return {key: _replace_arrays(item, arrays) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_arrays(item, arrays) for item in value]
    return value


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable where the platform allows syncing a folder (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# Reading


def _read_zip(f) -> dict:
    with zipfile.ZipFile(f) as zf:
        members = set(zf.namelist())
        if _JSON_MEMBER not in members:
            raise ValueError(f"it has no {_JSON_MEMBER}")
        document = json.loads(zf.read(_JSON_MEMBER).decode("utf-8"))
        if not isinstance(document, dict):
            raise ValueError(f"{_JSON_MEMBER} does not hold a dict")
        return _restore_arrays(document, zf, members, {})


def _restore_arrays(value, zf: zipfile.ZipFile, members: set, loaded: dict):
    """The inverse of `_replace_arrays`; `loaded` keeps one array per member."""
    if isinstance(value, dict):
        member = value.get(_ARRAY_KEY)
        if len(value) == 1 and isinstance(member, str):
            if member not in loaded:
                loaded[member] = _read_array(zf, members, member)
            return loaded[member]
        return {key: _restore_arrays(item, zf, members, loaded) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore_arrays(item, zf, members, loaded) for item in value]
    return value


def _read_array(zf: zipfile.ZipFile, members: set, member: str) -> np.ndarray:
    if member not in members:
        raise ValueError(f"{_JSON_MEMBER} refers to {member!r}, which the file does not hold")
    with zf.open(member) as stream:
        return np.lib.format.read_array(stream, allow_pickle=False)
