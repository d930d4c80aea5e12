"""Animations as folders of per-frame scene files whose arrays are stored once, by content.

    FOLDER/manifest.json              the animation: frames, fps, render/colour/encoder settings, OCIO
    FOLDER/frames/frame_<n>.json      one normalised scene per frame (or what differs from a base
                                      frame), arrays by reference
    FOLDER/arrays/<hh>/<sha256>.npy   every distinct array once, named by the SHA-256 of its content
    FOLDER/ocio/…                     optionally, a copy of the OCIO configuration (bundle_ocio)

    writer = SequenceWriter(folder, frames=range(1, 251), fps=(24, 1))
    for n in writer.frames:
        writer.write_frame(n, scene_of(n))         # skips a frame already written identically
    seq = Sequence(folder)
    scene = seq.load_frame(7)                      # == load_scene of the same scene saved alone

A frame file is the normalised scene (docs/scene-dict.md) as compact JSON. An array of at most
`INLINE_BYTES` (a camera or light matrix, an object's transform) is written inline as
``{"$inline": {"dtype", "shape", "values"}}`` (float32 values in their shortest exact decimal
form); a larger array is ``{"$array": "<sha256>"}``, stored once for every frame that holds the
same bytes (a static million-triangle mesh is one file for a thousand frames). A frame that
differs little from a full frame written before it (its base) holds only the difference:
``{"$base": n, "$base_sha256": "<sha256 of the base's file>", "$patch": [[path, value], ...]}``,
each path a list of keys and indices into the base's document whose value is replaced — so a
moved object costs its 16 numbers and their path, whatever else the scene holds (materials,
lights, small meshes). Every file is written atomically, arrays before the frame that names them
and a base before its patches, so a frame file on disk is always complete and loadable; writing
the same animation again skips what is already there. A patch whose base was rewritten since is
stale: the reader refuses it and `missing_frames()` lists it.

Reading treats the folder as untrusted data, with the rules of `optica_core.io`: nothing from
a file is used as a path (names are derived from frame numbers and checked digests), array
headers are checked against `LoadLimits` before allocation, and each array's content is checked
against its digest. A `Sequence` keeps the arrays of the last frame it loaded, so consecutive
frames share unchanged arrays as the very same objects and `Renderer.set_scene` keeps their BVHs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .io import DEFAULT_LIMITS, LoadLimits, atomic_file, check_member_name, load_json, read_npy
from .scene import validate_scene

MANIFEST = "manifest.json"
FORMAT = "optica-sequence"
FORMAT_VERSION = 2  # 2: frames may be patches of a base frame (version 1 folders read as they are)
READ_VERSIONS = (1, 2)
INLINE_BYTES = 1024
MAX_PATCH_DEPTH = 64
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_INLINE_DTYPES = ("float32", "int32", "uint8")


class SequenceError(ValueError):
    """A folder that is not (or not yet) a complete animation, with the reason."""


# --------------------------------------------------------------------------------------------
# The manifest


@dataclass
class Manifest:
    """What the folder's animation is, besides its scenes. `render` holds the sampling settings
    the scene dictionary does not carry (samples, time_limit, noise_threshold, denoise);
    `color` Blender's view settings (view, display, look, exposure, gamma); `encoder` the video
    settings (plain values, read by the encoder); `ocio` the OCIO configuration: a path relative
    to the folder, an absolute path, or None for the `OCIO` environment variable."""

    frames: list[int]
    fps: tuple[int, int] = (24, 1)
    render: dict = field(default_factory=dict)
    color: dict = field(default_factory=dict)
    encoder: dict = field(default_factory=dict)
    ocio: str | None = None

    def to_json(self) -> bytes:
        document = {"format": FORMAT, "version": FORMAT_VERSION, **asdict(self)}
        document["fps"] = list(self.fps)
        return json.dumps(document, indent=1, allow_nan=False).encode()

    @classmethod
    def from_json(cls, data: bytes, where: str) -> "Manifest":
        document = load_json(data, where)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise SequenceError(f"{where}: not an Optica sequence manifest")
        if document.get("version") not in READ_VERSIONS:
            raise SequenceError(f"{where}: unsupported version {document.get('version')!r} (expected {FORMAT_VERSION})")
        unknown = set(document) - {"format", "version", "frames", "fps", "render", "color", "encoder", "ocio"}
        if unknown:
            raise SequenceError(f"{where}: unknown keys {sorted(unknown)}")
        frames, fps = document.get("frames"), document.get("fps", [24, 1])
        if not isinstance(frames, list) or not all(_is_int(n) for n in frames) or len(set(frames)) != len(frames):
            raise SequenceError(f"{where}: frames: expected a list of distinct ints")
        if not (isinstance(fps, list) and len(fps) == 2 and all(_is_int(x) and x > 0 for x in fps)):
            raise SequenceError(f"{where}: fps: expected [numerator, denominator], positive ints")
        sections = {key: document.get(key, {}) for key in ("render", "color", "encoder")}
        for key, value in sections.items():
            if not isinstance(value, dict):
                raise SequenceError(f"{where}: {key}: expected a dict")
        ocio = document.get("ocio")
        if ocio is not None and not isinstance(ocio, str):
            raise SequenceError(f"{where}: ocio: expected a path or null")
        return cls(frames=frames, fps=(fps[0], fps[1]), ocio=ocio, **sections)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def frame_name(frame: int) -> str:
    return f"frames/frame_{frame:06d}.json"


def array_name(digest: str) -> str:
    return f"arrays/{digest[:2]}/{digest}.npy"


def content_digest(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and C-order bytes: equal digests, equal arrays."""
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode() + b"\0")
    h.update(np.ascontiguousarray(array).data.cast("B"))
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# Writing


@dataclass
class WriteStats:
    frames_written: int = 0
    frames_skipped: int = 0  # already on disk with the same content
    arrays_written: int = 0
    arrays_reused: int = 0  # already stored (by this or an earlier frame)


class SequenceWriter:
    """Writes an animation folder (see the module docstring); the manifest first, then frames in
    any order. Frames of an earlier run with the same content are kept, so an interrupted export
    resumes by running again."""

    def __init__(self, folder, frames, fps=(24, 1), render: dict | None = None, color: dict | None = None,
                 encoder: dict | None = None, ocio_config=None, bundle_ocio: bool = False):
        self.folder = Path(folder)
        self.frames = [int(n) for n in frames]
        self.stats = WriteStats()
        self._stored: set[str] = set()
        self._previous: dict[int, tuple[np.ndarray, str]] = {}  # the last frame's arrays, by id
        self._base: tuple[int, dict, str] | None = None  # (frame, document, file digest) patches refer to
        (self.folder / "frames").mkdir(parents=True, exist_ok=True)
        (self.folder / "arrays").mkdir(exist_ok=True)
        ocio = os.fspath(ocio_config) if ocio_config is not None else None
        if ocio is not None and bundle_ocio:
            ocio = self._bundle_ocio(Path(ocio))
        self.manifest = Manifest(frames=self.frames, fps=(int(fps[0]), int(fps[1])), render=dict(render or {}),
                                 color=dict(color or {}), encoder=dict(encoder or {}), ocio=ocio)
        Manifest.from_json(self.manifest.to_json(), MANIFEST)  # the same checks as a reader's
        _write_if_changed(self.folder / MANIFEST, self.manifest.to_json())

    def write_frame(self, frame: int, scene: dict) -> bool:
        """Validates `scene` and writes frame `frame`; False when the same frame was already there."""
        if frame not in self.frames:
            raise ValueError(f"frame {frame} is not one of this sequence's frames")
        digests: dict[int, tuple[np.ndarray, str]] = {}
        document = self._document(validate_scene(scene), digests)
        self._previous = digests
        written = _write_if_changed(self.folder / frame_name(frame), self._encode(frame, document))
        if written:
            self.stats.frames_written += 1
        else:
            self.stats.frames_skipped += 1
        return written

    def _encode(self, frame: int, document: dict) -> bytes:
        """The frame file: a patch of the base frame when that is at most half the size of the
        whole document; else the whole document, which becomes the base of the frames after it."""
        full = _dumps(document)
        if self._base is not None and self._base[0] != frame:
            base_frame, base_document, base_sha256 = self._base
            patch = _dumps({"$base": base_frame, "$base_sha256": base_sha256,
                            "$patch": list(_diff(base_document, document, []))})
            if 2 * len(patch) <= len(full):
                return patch
        self._base = (frame, document, hashlib.sha256(full).hexdigest())
        return full

    def prune(self) -> int:
        """Removes stored arrays that no frame of the manifest refers to; returns how many."""
        used = set()
        for n in self.frames:
            path = self.folder / frame_name(n)
            if path.is_file():
                used |= set(_digests(load_json(path.read_bytes(), str(path))))
        removed = 0
        for path in (self.folder / "arrays").glob("*/*.npy"):
            if path.stem not in used:
                path.unlink()
                removed += 1
        return removed

    def _document(self, value, digests: dict):
        """The frame's JSON document; `digests` (id → (array, digest)) stores an array held
        twice once."""
        if isinstance(value, np.ndarray):
            if value.nbytes <= INLINE_BYTES:
                return _inline(value)
            if id(value) not in digests:
                digests[id(value)] = (value, self._digest_of(value))
            return {"$array": digests[id(value)][1]}
        if isinstance(value, dict):
            return {key: self._document(item, digests) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._document(item, digests) for item in value]
        return value

    def _digest_of(self, array: np.ndarray) -> str:
        """The stored array's digest. An array that is the very object the previous frame held
        is not read again: an exporter that keeps unchanged data hands over the same arrays
        (never changed in place: the renderer keeps their BVHs on the same promise)."""
        known = self._previous.get(id(array))
        if known is not None and known[0] is array:
            self.stats.arrays_reused += 1
            return known[1]
        return self._store(array)

    def _store(self, array: np.ndarray) -> str:
        digest = content_digest(array)
        path = self.folder / array_name(digest)
        if digest in self._stored or path.is_file():  # complete: arrays are renamed into place
            self.stats.arrays_reused += 1
        else:
            path.parent.mkdir(exist_ok=True)
            with atomic_file(path) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array), allow_pickle=False)
            self.stats.arrays_written += 1
        self._stored.add(digest)
        return digest

    def _bundle_ocio(self, config: Path) -> str:
        """Copies the configuration's folder (its LUTs live beside it) into FOLDER/ocio/."""
        if not config.is_file():
            raise FileNotFoundError(f"OCIO configuration {config} does not exist")
        target = self.folder / "ocio"
        if not (target / config.name).is_file():
            staging = self.folder / ".ocio.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(config.parent, staging)
            staging.rename(target)
        return f"ocio/{config.name}"


def _inline(array: np.ndarray) -> dict:
    values = array.reshape(-1)
    # float32 in its shortest decimal form that reads back to the same float32 (not float64's)
    listed = [float(v) for v in values.astype(str)] if values.dtype == np.float32 else values.tolist()
    return {"$inline": {"dtype": array.dtype.name, "shape": list(array.shape), "values": listed}}


def _dumps(document) -> bytes:
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()


def _is_leaf(value) -> bool:
    return isinstance(value, dict) and set(value) in ({"$array"}, {"$inline"})


def _diff(before, after, path: list):
    """[path, value] pairs that turn JSON document `before` into `after`: the smallest subtrees
    that differ, where both sides have the same keys (dicts) or length (lists) above them."""
    if before == after:
        return
    if (isinstance(before, dict) and isinstance(after, dict) and before.keys() == after.keys()
            and not _is_leaf(before) and not _is_leaf(after)):
        for key in after:
            yield from _diff(before[key], after[key], [*path, key])
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (x, y) in enumerate(zip(before, after)):
            yield from _diff(x, y, [*path, i])
    else:
        yield [path, after]


def _apply(document, patch, where: str):
    """`document` with the patch's values put in; containers on the way are copied (the base's
    document is shared between frames), the others shared."""
    if not isinstance(patch, list):
        raise ValueError("$patch: expected a list of [path, value] pairs")
    for entry in patch:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list)
                and len(entry[0]) <= MAX_PATCH_DEPTH):
            raise ValueError("$patch: every entry must be [path (a list of keys and indices), value]")
        document = _put(document, entry[0], entry[1])
    return document


def _put(container, path: list, value):
    if not path:
        return value
    key, rest = path[0], path[1:]
    copy: dict | list
    if isinstance(container, dict) and isinstance(key, str) and key in container:
        copy = dict(container)
    elif isinstance(container, list) and _is_int(key) and 0 <= key < len(container):
        copy = list(container)
    else:
        raise ValueError(f"$patch: path step {key!r} is not in the base frame")
    copy[key] = _put(container[key], rest, value)
    return copy


def _write_if_changed(path: Path, data: bytes) -> bool:
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    with atomic_file(path) as f:
        f.write(data)
    return True


def _digests(value):
    """Every stored-array digest a frame document refers to."""
    if isinstance(value, dict):
        if set(value) == {"$array"}:
            yield value["$array"]
        else:
            for item in value.values():
                yield from _digests(item)
    elif isinstance(value, list):
        for item in value:
            yield from _digests(item)


# --------------------------------------------------------------------------------------------
# Reading


class Sequence:
    """An animation folder opened for reading. verify=False skips checking array contents
    against their digests (the headers are checked either way)."""

    def __init__(self, folder, limits: LoadLimits = DEFAULT_LIMITS, verify: bool = True):
        self.folder = Path(folder)
        self.limits = limits
        self.verify = verify
        path = self.folder / MANIFEST
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SequenceError(f"{self.folder}: not an Optica sequence folder (it has no {MANIFEST})") from None
        if len(data) > limits.max_json_bytes:
            raise SequenceError(f"{path}: {len(data)} bytes, more than the limit of {limits.max_json_bytes}")
        self.manifest = Manifest.from_json(data, str(path))
        self._manifest_stamp = _stamp(path)
        self._arrays: dict[str, np.ndarray] = {}  # the last loaded frame's stored arrays
        self._base_documents: dict[int, tuple[str, dict]] = {}  # base frame → (file digest, document)
        self.arrays_read = 0  # arrays read from disk (not reused from the previous frame)

    def refresh(self) -> "Sequence":
        """This sequence, or a new one when the manifest changed on disk since it was read
        (a writer re-ran); the arrays kept for sharing carry over, being named by content."""
        if _stamp(self.folder / MANIFEST) == self._manifest_stamp:
            return self
        fresh = Sequence(self.folder, self.limits, self.verify)
        fresh._arrays, fresh.arrays_read = self._arrays, self.arrays_read
        return fresh

    @property
    def frames(self) -> list[int]:
        return list(self.manifest.frames)

    def frame_path(self, frame: int) -> Path:
        return self.folder / frame_name(frame)

    def has_frame(self, frame: int) -> bool:
        return self.frame_path(frame).is_file()

    def missing_frames(self) -> list[int]:
        """Frames not written yet, or patches of a base frame rewritten since (stale)."""
        return [n for n in self.manifest.frames if not self.has_frame(n) or self._stale(n)]

    def frame_digest(self, frame: int) -> str:
        """SHA-256 of the frame file (and of its base's): it changes whenever the frame's scene
        changes."""
        data = self._frame_bytes(frame)
        base = _base_of(data)
        return hashlib.sha256(data + (self._frame_bytes(base) if base is not None else b"")).hexdigest()

    def ocio_config(self) -> str | None:
        """The manifest's OCIO configuration as a path (relative ones inside the folder), else
        the `OCIO` environment variable, else None."""
        ocio = self.manifest.ocio
        if ocio is None:
            return os.environ.get("OCIO") or None
        if ocio.startswith("ocio://") or os.path.isabs(ocio):
            return ocio
        return str(self.folder / check_member_name(ocio))

    def load_frame(self, frame: int, strict: bool = True) -> dict:
        """The frame's validated, normalised scene, as `load_scene` returns it. Stored arrays
        unchanged since the previously loaded frame are the same (read-only) objects."""
        where = str(self.frame_path(frame))
        loaded: dict[str, np.ndarray] = {}
        try:
            scene = self._restore(self._document(frame, where), loaded, where)
        except RecursionError:
            raise SequenceError(f"{where}: not a readable Optica frame: nested too deeply") from None
        except ValueError as error:
            raise SequenceError(f"{where}: not a readable Optica frame: {error}") from error
        self._arrays = loaded
        try:
            return validate_scene(scene, strict=strict)
        except ValueError as error:
            raise SequenceError(f"{where}: {error}") from error

    def _document(self, frame: int, where: str) -> dict:
        """The frame's JSON document, a patch applied to its base."""
        document = load_json(self._frame_bytes(frame), where)
        if not isinstance(document, dict):
            raise SequenceError(f"{where}: does not hold a dict")
        if "$base" not in document:
            return document
        if set(document) != {"$base", "$base_sha256", "$patch"}:
            raise ValueError("a patch frame holds exactly $base, $base_sha256 and $patch")
        base = document["$base"]
        if not _is_int(base) or base == frame or base not in self.manifest.frames:
            raise ValueError(f"$base {base!r} is not another frame of the manifest")
        data = self._frame_bytes(base)
        if hashlib.sha256(data).hexdigest() != document["$base_sha256"]:
            raise ValueError(f"it is a patch of another version of frame {base} (stale: write the animation again)")
        base_document = self._base_documents.get(base)
        if base_document is None or base_document[0] != document["$base_sha256"]:
            parsed = load_json(data, str(self.frame_path(base)))
            if not isinstance(parsed, dict) or "$base" in parsed:
                raise ValueError(f"its base, frame {base}, is not a whole frame")
            base_document = self._base_documents[base] = (document["$base_sha256"], parsed)
        return _apply(base_document[1], document["$patch"], where)

    def _stale(self, frame: int) -> bool:
        data = self._frame_bytes(frame)
        base = _base_of(data)
        if base is None:
            return False
        try:
            expected = load_json(data, "")["$base_sha256"]
            return hashlib.sha256(self._frame_bytes(base)).hexdigest() != expected
        except (ValueError, KeyError, TypeError):
            return True  # a damaged patch: written again by the writer, refused by load_frame

    def _frame_bytes(self, frame: int) -> bytes:
        if frame not in self.manifest.frames:
            raise SequenceError(f"{self.folder}: frame {frame} is not in the manifest")
        path = self.frame_path(frame)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise SequenceError(f"{self.folder}: frame {frame} has not been written (an interrupted export? "
                                "run it again to resume)") from None
        if size > self.limits.max_json_bytes:
            raise SequenceError(f"{path}: {size} bytes, more than the limit of {self.limits.max_json_bytes}")
        return path.read_bytes()

    def _restore(self, value, loaded: dict, where: str):
        if isinstance(value, dict):
            if set(value) == {"$array"}:
                return self._stored_array(value["$array"], loaded)
            if set(value) == {"$inline"}:
                return _read_inline(value["$inline"], self.limits)
            return {key: self._restore(item, loaded, where) for key, item in value.items()}
        if isinstance(value, list):
            return [self._restore(item, loaded, where) for item in value]
        return value

    def _stored_array(self, digest, loaded: dict) -> np.ndarray:
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            raise ValueError(f"array reference {digest!r} is not a SHA-256 digest")
        if digest in loaded:
            return loaded[digest]
        array = self._arrays.get(digest)
        if array is None:
            array = self._read_array(digest)
        loaded[digest] = array
        if sum(a.nbytes for a in loaded.values()) > self.limits.max_total_bytes:
            raise ValueError(f"its arrays hold more than the limit of {self.limits.max_total_bytes} bytes")
        return array

    def _read_array(self, digest: str) -> np.ndarray:
        name = array_name(digest)
        try:
            with open(self.folder / name, "rb") as f:
                array = read_npy(f, os.fstat(f.fileno()).st_size, self.limits, name)
        except FileNotFoundError:
            raise ValueError(f"{name} is missing from the folder") from None
        if self.verify and content_digest(array) != digest:
            raise ValueError(f"{name}: its content does not match its digest (damaged?)")
        array.flags.writeable = False  # shared between frames
        self.arrays_read += 1
        return array


def _base_of(data: bytes) -> int | None:
    """The base frame a frame file is a patch of (None: a whole frame), without parsing all of it."""
    if not data.startswith(b'{"$base":'):
        return None
    try:
        base = load_json(data, "")["$base"]
    except (ValueError, KeyError, TypeError):
        return None
    return base if _is_int(base) else None


def _stamp(path: Path):
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _read_inline(spec, limits: LoadLimits) -> np.ndarray:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "values"}:
        raise ValueError("an inline array needs exactly dtype, shape and values")
    dtype, shape, values = spec["dtype"], spec["shape"], spec["values"]
    if dtype not in _INLINE_DTYPES:
        raise ValueError(f"inline dtype {dtype!r} is not one of {', '.join(_INLINE_DTYPES)}")
    if (not isinstance(shape, list) or len(shape) > limits.max_ndim
            or not all(_is_int(n) and 0 <= n <= INLINE_BYTES for n in shape)):
        raise ValueError(f"inline shape {shape!r} is not a short list of small ints")
    if not isinstance(values, list) or len(values) != math.prod(shape):
        raise ValueError(f"inline array of shape {shape} needs {math.prod(shape)} values")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in values):
        raise ValueError("inline values must be numbers")
    try:
        return np.array(values, dtype=dtype).reshape(shape)
    except OverflowError as error:
        raise ValueError(f"inline values do not fit {dtype}: {error}") from error
