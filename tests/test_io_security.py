"""Scene files from elsewhere are data, never code: every hostile file is a clear ValueError that
names the file, raised before anything large is allocated (optica_core.io)."""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile

import numpy as np
import pytest

from optica_core import scenes
from optica_core.io import LoadLimits, check_member_name, load_scene, read_npy, save_scene

CAMERA_REF = b'{"version": 1, "camera": {"matrix": {"$array": "%s"}}}'


def _zip(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def _npy_header(shape, descr="<f4") -> bytes:
    """A .npy version 1.0 header declaring `shape`, with no data after it."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr, tuple(shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


def _npy(array) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, allow_pickle=False)
    return out.getvalue()


def _refused(path, pattern: str):
    with pytest.raises(ValueError, match="^" + re.escape(str(path)) + ": not a readable Optica scene file: " + pattern):
        load_scene(path)


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.npy", "arrays/../../x.npy", "C:\\x.npy", "a//b"])
def test_member_names_that_leave_the_archive_are_refused(tmp_path, name):
    path = _zip(tmp_path / "s.optica", {"scene.json": CAMERA_REF % b"arrays/0.npy", name: b"x"})
    _refused(path, "member name .* is not allowed")


def test_a_reference_that_leaves_the_archive_is_refused(tmp_path):
    path = _zip(tmp_path / "s.optica", {"scene.json": CAMERA_REF % b"../../etc/passwd"})
    _refused(path, "member name '../../etc/passwd' is not allowed")


def test_an_encrypted_member_is_refused(tmp_path):
    """The encryption flag makes zipfile ask for a password (a RuntimeError, found by the byte
    fuzzer): an unreadable file, said as one."""
    path = _zip(tmp_path / "s.optica", {"scene.json": CAMERA_REF % b"arrays/0.npy"})
    raw = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = raw.index(signature) + flag_at
        raw[at] |= 0x1
    path.write_bytes(bytes(raw))
    _refused(path, "member 'scene.json' is encrypted")


@pytest.mark.parametrize("shape, pattern", [
    ((10**11, 3), r"shape \(100000000000, 3\) has a dimension beyond the limit of 2147483647"),
    ((10**8, 10**8), r"declares 40000000000000000 bytes, more than the limit of 17179869184"),
    ((10**9, 3), r"declares shape \(1000000000, 3\) of float32 \(12000000000 bytes\) but holds 0 bytes"),
])
def test_an_absurd_array_header_is_refused_before_allocation(tmp_path, shape, pattern):
    """A member declaring 10^11 × 3 floats is a ValueError at once, not a MemoryError."""
    path = _zip(tmp_path / "s.optica", {"scene.json": CAMERA_REF % b"arrays/0.npy",
                                        "arrays/0.npy": _npy_header(shape)})
    t0 = time.perf_counter()
    _refused(path, "member 'arrays/0.npy': " + pattern)
    assert time.perf_counter() - t0 < 1.0


def test_a_header_declaring_more_than_its_member_holds_is_refused(tmp_path):
    data = _npy_header((1000, 3)) + b"\0" * 48  # 12,000 bytes declared, 48 held
    path = _zip(tmp_path / "s.optica", {"scene.json": CAMERA_REF % b"arrays/0.npy", "arrays/0.npy": data})
    _refused(path, r"member 'arrays/0.npy': declares shape \(1000, 3\) of float32 \(12000 bytes\) but holds 48")


def test_a_file_declaring_more_than_the_limits_is_refused(tmp_path):
    path = tmp_path / "s.optica"
    save_scene(scenes.furnace(), path)
    with pytest.raises(ValueError, match="more than the limit of 1000"):
        load_scene(path, limits=LoadLimits(max_total_bytes=1000))
    with pytest.raises(ValueError, match="more than the limit of 100"):
        load_scene(path, limits=LoadLimits(max_json_bytes=100))


def _forge_declared_size(path, member: str, size: int) -> None:
    """Rewrite `member`'s uncompressed size in the central directory (what zipfile believes)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02" + b"", 0)
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_length].decode() == member:
            struct.pack_into("<I", data, at + 24, size)
            break
        at = data.find(b"PK\x01\x02", at + 1)
    path.write_bytes(bytes(data))


def test_a_zip_bomb_is_refused_from_its_declared_sizes(tmp_path):
    path = _zip(tmp_path / "s.optica", {"scene.json": CAMERA_REF % b"arrays/0.npy",
                                        "arrays/0.npy": _npy(np.zeros((4, 4), np.float32))},
                compression=zipfile.ZIP_DEFLATED)
    _forge_declared_size(path, "arrays/0.npy", 4_000_000_000)
    _refused(path, r"member 'arrays/0.npy' declares 4000000000 bytes from \d+ compressed bytes, more than")


def test_other_compression_methods_are_refused(tmp_path):
    path = _zip(tmp_path / "s.optica", {"scene.json": CAMERA_REF % b"arrays/0.npy"}, compression=zipfile.ZIP_BZIP2)
    _refused(path, "member 'scene.json' uses compression method 12")


def test_a_member_listed_twice_is_refused(tmp_path):
    path = tmp_path / "s.optica"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _zip(path, {"scene.json": CAMERA_REF % b"arrays/0.npy"})
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("scene.json", b"{}")
    _refused(path, "member 'scene.json' appears twice")


@pytest.mark.parametrize("array, pattern", [
    (np.zeros(3, dtype=[("a", "<f4")]), r"dtype .* is not allowed"),
    (np.array(["ab"]), "dtype <U2 is not allowed"),
    (np.zeros(3, bool), "dtype bool is not allowed"),
    (np.zeros((1, 1, 1, 1, 1), np.float32), "5 dimensions, more than the limit of 4"),
])
def test_arrays_other_than_plain_numbers_are_refused(tmp_path, array, pattern):
    path = _zip(tmp_path / "s.optica", {"scene.json": CAMERA_REF % b"arrays/0.npy", "arrays/0.npy": _npy(array)})
    _refused(path, "member 'arrays/0.npy': " + pattern)


@pytest.mark.parametrize("document, pattern", [
    (b'{"version": NaN}', "scene.json holds NaN, which is not JSON"),
    (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "scene.json is nested too deeply"),
])
def test_hostile_json_is_refused(tmp_path, document, pattern):
    _refused(_zip(tmp_path / "s.optica", {"scene.json": document}), pattern)


def test_a_trailing_byte_after_the_declared_data_is_refused():
    data = _npy(np.arange(6, dtype=np.int32)) + b"!"
    with pytest.raises(ValueError, match="x: declares shape"):
        read_npy(io.BytesIO(data), len(data), LoadLimits(), "x")


def test_fortran_order_and_big_endian_arrays_load_exactly():
    for array in (np.asfortranarray(np.arange(12, dtype=">f4").reshape(3, 4)), np.arange(5, dtype=">i8")):
        data = _npy(array)
        loaded = read_npy(io.BytesIO(data), len(data), LoadLimits(), "x")
        assert loaded.dtype == array.dtype and np.array_equal(loaded, array)


def test_plain_relative_member_names_pass():
    assert check_member_name("arrays/0.npy") == "arrays/0.npy"
