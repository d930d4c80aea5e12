"""Scene files: one uncompressed ZIP per scene (docs/scene-dict.md, "Files"), read as untrusted data.

Members:
- `scene.json`: the normalised scene dictionary, readable (indent 1), with each array
  replaced by ``{"$array": "arrays/<n>.npy"}``; tuples become JSON lists;
- `arrays/<n>.npy`: one array each, in numpy's .npy format (no pickles). An array that the
  normalised dict holds twice (e.g. `normal_indices` sharing `triangles`) is stored once, and
  loads back as one array referenced twice.

Members are stored, not deflated: scene arrays hardly compress, and stored members load at
the speed of the disk.

A scene file may come from anywhere, so reading treats it as data, never code (the rules of
docs/farm.md, "Files from elsewhere"): no pickles or object arrays; member names
that are absolute or climb with `..` are refused, not honoured; every array's declared dtype
and shape is checked against `LoadLimits` and against the bytes its member really holds
*before* anything is allocated; declared sizes that the compressed bytes cannot hold (zip
bombs) are refused. Every such problem is a ValueError naming the file and the member. The
same checks serve the folder format of `optica_core.sequence` (`read_npy`, `check_member_name`).

`atomic_path` / `atomic_file` are the one way this package writes a file: under a temporary
name beside the target, flushed, fsynced and renamed, the temporary removed on any error.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import struct
import tokenize
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from .scene import MAX_ARRAY_BYTES, MAX_DIMENSION, validate_scene

_JSON_MEMBER = "scene.json"
_ARRAY_KEY = "$array"
# zipfile needs to know in advance when a member written as a stream may pass 4 GiB.
_ZIP64_THRESHOLD = 1 << 30
# What reading damaged or foreign bytes can raise, from zipfile, json and numpy's .npy reader.
_CORRUPTION_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError,
                      struct.error, NotImplementedError, UnicodeDecodeError, RecursionError,
                      zlib.error)  # a damaged deflate stream ("invalid distance too far back")
# Deflate cannot expand data more than about 1032:1; a member declaring more is forged.
_DEFLATE_MAX_RATIO = 1100
_NPY_MAX_HEADER = 10_000  # bytes; numpy's own default for untrusted headers
_ARRAY_KINDS = "iuf"  # the scene dictionary holds integer and float arrays only


@dataclass(frozen=True)
class LoadLimits:
    """What a loaded scene may declare before anything is allocated (bytes unless said)."""

    max_array_bytes: int = MAX_ARRAY_BYTES
    max_total_bytes: int = 64 << 30  # all arrays of one file
    max_json_bytes: int = 256 << 20
    max_members: int = 1_000_000
    max_ndim: int = 4
    max_dimension: int = MAX_DIMENSION  # the core indexes with int32


DEFAULT_LIMITS = LoadLimits()


def save_scene(d: dict, path) -> None:
    """Validate `d` and write it to `path` atomically.

    The file is written beside `path` under a temporary name, flushed to disk and renamed over
    `path`; on any error (or interruption) the temporary file is removed, so `path` is either the
    old file or the complete new one.
    """
    scene = validate_scene(d)
    with atomic_file(path) as f:
        _write_zip(scene, f)


def load_scene(path, strict: bool = True, limits: LoadLimits = DEFAULT_LIMITS) -> dict:
    """Read a file written by `save_scene` and return the validated, normalised scene.

    A file that is not a readable scene file (damaged, truncated, foreign, or declaring more than
    `limits` allow) or holds an invalid scene raises ValueError starting with the file's path; a
    missing file raises FileNotFoundError as `open` does.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            scene = _read_zip(f, limits)
        except _CORRUPTION_ERRORS as error:
            raise ValueError(f"{path}: not a readable Optica scene file: {_describe(error)}") from error
    try:
        return validate_scene(scene, strict=strict)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def _describe(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "its JSON is nested too deeply"
    return str(error) or type(error).__name__


# --------------------------------------------------------------------------------------------
# Atomic writing


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` for a writer that takes a file name; when the
    block ends normally the file is fsynced and renamed over `path`, otherwise removed.
    Writing into a missing folder raises FileNotFoundError and creates nothing."""
    path = os.fspath(path)
    temp_path, fd = _create_temp_beside(path)
    os.close(fd)
    try:
        yield temp_path
        _fsync_file(temp_path)
        os.replace(temp_path, path)
    except BaseException:
        _remove_quietly(temp_path)
        raise
    _fsync_folder(os.path.dirname(os.path.abspath(path)))


@contextlib.contextmanager
def atomic_file(path):
    """`atomic_path` for a writer that takes an open binary file."""
    with atomic_path(path) as temp_path, open(temp_path, "wb") as f:
        yield f


def _create_temp_beside(path: str) -> tuple[str, int]:
    """A new file in the folder of `path`, so the final rename stays on one filesystem.
    Created with mode 0o666 like `open(path, "wb")`, so the umask applies as usual."""
    folder, name = os.path.split(os.path.abspath(path))
    temp_path = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    return temp_path, fd


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
# Writing


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


# --------------------------------------------------------------------------------------------
# Reading untrusted bytes


def check_member_name(name: str) -> str:
    """`name` if it is a plain relative path inside an archive or folder; a ValueError for an
    absolute name, a drive, a backslash, an empty part or `..` (never honoured)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"member name {name!r} is not a non-empty string")
    parts = name.split("/")
    if (name.startswith("/") or "\\" in name or ":" in name or "\0" in name
            or any(part in ("", ".", "..") for part in parts)):
        raise ValueError(f"member name {name!r} is not allowed (absolute, or leaves its folder)")
    return name


def load_json(data: bytes, what: str):
    """JSON from untrusted bytes: NaN/Infinity refused, over-deep nesting a ValueError."""
    def refuse_constant(name):
        raise ValueError(f"{what} holds {name}, which is not JSON")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse_constant)
    except RecursionError as error:
        raise ValueError(f"{what} is nested too deeply") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{what} is not valid JSON ({error})") from error


def read_npy(stream, size: int, limits: LoadLimits, what: str) -> np.ndarray:
    """One .npy array of exactly `size` bytes from `stream`, checked before allocation: the
    header must declare a plain integer or float dtype, a shape within `limits`, and exactly
    the data bytes that follow it (a header declaring more is refused, not believed)."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=_NPY_MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=_NPY_MAX_HEADER)
        else:
            raise ValueError(f".npy format version {version} is not supported")
    except (ValueError, SyntaxError, TypeError, EOFError, tokenize.TokenError) as error:
        # TokenError: numpy re-tokenises a header it could not parse (its Python 2 header filter)
        raise ValueError(f"{what}: not a readable .npy array: {error}") from error
    _check_dtype(dtype, what)
    _check_shape(shape, limits, what)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > limits.max_array_bytes:
        raise ValueError(f"{what}: declares {nbytes} bytes, more than the limit of {limits.max_array_bytes}")
    header_bytes = stream.tell()  # streams here are files or zip members: both tell
    if header_bytes + nbytes != size:
        raise ValueError(f"{what}: declares shape {shape} of {dtype} ({nbytes} bytes) but holds "
                         f"{size - header_bytes} bytes of data")
    flat = np.empty(math.prod(shape), dtype)
    _read_exactly(stream, flat.view(np.uint8), what)
    return flat.reshape(shape, order="F" if fortran else "C")


def _check_dtype(dtype: np.dtype, what: str) -> None:
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in _ARRAY_KINDS:
        raise ValueError(f"{what}: dtype {dtype} is not allowed (integer and float arrays only; pickles are never loaded: allow_pickle=False)")


def _check_shape(shape: tuple, limits: LoadLimits, what: str) -> None:
    if len(shape) > limits.max_ndim:
        raise ValueError(f"{what}: {len(shape)} dimensions, more than the limit of {limits.max_ndim}")
    for n in shape:
        if not isinstance(n, int) or n < 0 or n > limits.max_dimension:
            raise ValueError(f"{what}: shape {shape} has a dimension beyond the limit of {limits.max_dimension}")


def _read_exactly(stream, out: np.ndarray, what: str) -> None:
    view, got = memoryview(out), 0
    while got < len(view):
        n = stream.readinto(view[got:])
        if not n:
            raise ValueError(f"{what}: truncated ({got} of {len(view)} data bytes)")
        got += n
    if stream.read(1):
        raise ValueError(f"{what}: holds more bytes than its header declares")


def _read_zip(f, limits: LoadLimits) -> dict:
    with zipfile.ZipFile(f) as zf:
        members = _checked_members(zf, limits)
        if _JSON_MEMBER not in members:
            raise ValueError(f"it has no {_JSON_MEMBER}")
        if members[_JSON_MEMBER].file_size > limits.max_json_bytes:
            raise ValueError(f"{_JSON_MEMBER} declares {members[_JSON_MEMBER].file_size} bytes, more than the "
                             f"limit of {limits.max_json_bytes}")
        document = load_json(zf.read(_JSON_MEMBER), _JSON_MEMBER)
        if not isinstance(document, dict):
            raise ValueError(f"{_JSON_MEMBER} does not hold a dict")
        return _restore_arrays(document, zf, members, {}, limits)


def _checked_members(zf: zipfile.ZipFile, limits: LoadLimits) -> dict:
    """The archive's members by name, after the checks that need no decompression."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ValueError(f"it has {len(infos)} members, more than the limit of {limits.max_members}")
    members, total = {}, 0
    for info in infos:
        name = check_member_name(info.filename)
        if info.flag_bits & 0x1:  # zipfile would ask for a password (a RuntimeError) when reading it
            raise ValueError(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"member {name!r} uses compression method {info.compress_type} (stored or deflated only)")
        ratio_ceiling = 1 if info.compress_type == zipfile.ZIP_STORED else _DEFLATE_MAX_RATIO
        if info.file_size > max(info.compress_size, 1) * ratio_ceiling:
            raise ValueError(f"member {name!r} declares {info.file_size} bytes from {info.compress_size} "
                             "compressed bytes, more than its compression can hold (a zip bomb?)")
        if name in members:
            raise ValueError(f"member {name!r} appears twice")
        total += info.file_size
        members[name] = info
    if total > limits.max_total_bytes + limits.max_json_bytes:
        raise ValueError(f"its members declare {total} bytes, more than the limit of {limits.max_total_bytes}")
    return members


def _restore_arrays(value, zf: zipfile.ZipFile, members: dict, loaded: dict, limits: LoadLimits):
    """The inverse of `_replace_arrays`; `loaded` keeps one array per member."""
    if isinstance(value, dict):
        member = value.get(_ARRAY_KEY)
        if len(value) == 1 and isinstance(member, str):
            if member not in loaded:
                loaded[member] = _read_array(zf, members, member, limits)
                if sum(a.nbytes for a in loaded.values()) > limits.max_total_bytes:
                    raise ValueError(f"its arrays hold more than the limit of {limits.max_total_bytes} bytes")
            return loaded[member]
        return {key: _restore_arrays(item, zf, members, loaded, limits) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore_arrays(item, zf, members, loaded, limits) for item in value]
    return value


def _read_array(zf: zipfile.ZipFile, members: dict, member: str, limits: LoadLimits) -> np.ndarray:
    check_member_name(member)
    if member not in members:
        raise ValueError(f"{_JSON_MEMBER} refers to {member!r}, which the file does not hold")
    info = members[member]
    with zf.open(info) as stream:
        return read_npy(stream, info.file_size, limits, f"member {member!r}")
