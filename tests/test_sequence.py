"""Animations as folders of per-frame scene files with content-addressed arrays
(optica_core.sequence): exact round trips, shared storage, resuming, hostile folders."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

import optica_core
from optica_core import load_scene, save_scene
from optica_core.sequence import Sequence, SequenceError, SequenceWriter, array_name, frame_name

from animation_scenes import Animation, assert_same_scene

FRAMES = list(range(1, 7))


@pytest.fixture(scope="module")
def animation():
    return Animation()


def _write(folder, animation, frames=FRAMES, **kw) -> SequenceWriter:
    writer = SequenceWriter(folder, frames, fps=(30000, 1001), **kw)
    for n in frames:
        writer.write_frame(n, animation.scene(n))
    return writer


def _folder_bytes(folder) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_frame_reads_back_as_load_scene_reads_the_same_scene(tmp_path, animation):
    _write(tmp_path / "seq", animation)
    seq = Sequence(tmp_path / "seq")
    for n in (1, 4):
        save_scene(animation.scene(n), tmp_path / f"{n}.optica")
        assert_same_scene(seq.load_frame(n), load_scene(tmp_path / f"{n}.optica"))
    assert seq.manifest.fps == (30000, 1001) and seq.frames == FRAMES


def test_static_arrays_are_stored_once_and_a_moved_object_costs_its_transform(tmp_path, animation):
    writer = _write(tmp_path / "seq", animation)
    save_scene(animation.scene(1), tmp_path / "one.optica")
    one_frame = (tmp_path / "one.optica").stat().st_size
    frame_files = [(tmp_path / "seq" / frame_name(n)).stat().st_size for n in FRAMES]
    stored = list((tmp_path / "seq" / "arrays").glob("*/*.npy"))
    # vertices, triangles, normals of the statue (the ground and ball are small enough to inline)
    assert len(stored) == 3 and writer.stats.arrays_written == 3
    assert writer.stats.arrays_reused == 3 * (len(FRAMES) - 1)
    assert sum(p.stat().st_size for p in stored) < one_frame
    first, second = (json.loads((tmp_path / "seq" / frame_name(n)).read_text()) for n in (1, 2))
    assert "meshes" in first and (second["$base"], set(second)) == (1, {"$base", "$base_sha256", "$patch"})
    # frame 2 is what differs from frame 1: the ball's transform and the seed, not the scene again
    assert sorted(tuple(path) for path, _value in second["$patch"]) == [("instances", 1, "transforms"),
                                                                       ("render", "seed")]
    assert max(frame_files[1:]) < 300, frame_files
    transforms = 16 * 4 * (len(FRAMES) - 1)
    assert _folder_bytes(tmp_path / "seq") < 2 * (one_frame + transforms)  # issue 12's measure


def test_arrays_handed_over_again_are_not_hashed_again(tmp_path, animation, monkeypatch):
    import optica_core.sequence as sequence

    hashed = []
    digest = sequence.content_digest
    monkeypatch.setattr(sequence, "content_digest", lambda a: hashed.append(a.nbytes) or digest(a))
    writer = SequenceWriter(tmp_path / "seq", FRAMES)
    for n in FRAMES:
        writer.write_frame(n, animation.scene(n))  # the statue's arrays: the same objects every frame
    assert len(hashed) == 3 and writer.stats.arrays_reused == 3 * (len(FRAMES) - 1)


def test_consecutive_frames_share_unchanged_arrays_and_the_renderer_keeps_their_bvh(tmp_path, animation):
    _write(tmp_path / "seq", animation)
    seq = Sequence(tmp_path / "seq")
    a, b = seq.load_frame(1), seq.load_frame(2)
    assert a["meshes"]["statue"]["vertices"] is b["meshes"]["statue"]["vertices"]
    assert not b["meshes"]["statue"]["vertices"].flags.writeable
    assert seq.arrays_read == 3
    renderer = optica_core.Renderer(threads=1)
    renderer.set_scene(a)
    renderer.set_scene(b)
    assert renderer.geometry_reused >= 1


def test_writing_again_skips_identical_frames_and_rewrites_changed_ones(tmp_path, animation):
    _write(tmp_path / "seq", animation)
    times = {n: (tmp_path / "seq" / frame_name(n)).stat().st_mtime_ns for n in FRAMES}
    writer = SequenceWriter(tmp_path / "seq", FRAMES, fps=(30000, 1001))
    for n in FRAMES:
        scene = animation.scene(n)
        if n == 3:
            scene["world"] = {"color": (0.1, 0.2, 0.3), "strength": 2.0}
        writer.write_frame(n, scene)
    assert (writer.stats.frames_written, writer.stats.frames_skipped, writer.stats.arrays_written) == (1, 5, 0)
    assert all((tmp_path / "seq" / frame_name(n)).stat().st_mtime_ns == times[n] for n in FRAMES if n != 3)
    # Frames load in the current version's normalised form: a version-1 world is a Background node.
    assert Sequence(tmp_path / "seq").load_frame(3)["world"]["nodes"]["Background"]["inputs"]["Strength"] == 2.0


def test_an_interrupted_write_leaves_complete_files_only_and_resumes(tmp_path, animation, monkeypatch):
    folder = tmp_path / "seq"
    writer = SequenceWriter(folder, FRAMES)
    writer.write_frame(1, animation.scene(1))
    real = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    changed = animation.scene(2)
    changed["meshes"] = dict(changed["meshes"], big={"vertices": np.zeros((300, 3), np.float32),
                                                      "triangles": np.zeros((1, 3), np.int32)})
    with pytest.raises(KeyboardInterrupt):
        writer.write_frame(2, changed)
    monkeypatch.setattr(np.lib.format, "write_array", real)
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
    seq = Sequence(folder)
    assert seq.missing_frames() == FRAMES[1:]
    with pytest.raises(SequenceError, match="frame 2 has not been written .*run it again to resume"):
        seq.load_frame(2)
    writer = _write(folder, animation)
    assert writer.stats.frames_skipped == 1 and Sequence(folder).missing_frames() == []


def test_prune_removes_arrays_no_frame_refers_to(tmp_path, animation):
    writer = _write(tmp_path / "seq", animation)
    scene = animation.scene(2)
    scene["meshes"] = dict(scene["meshes"], statue=dict(scene["meshes"]["statue"],
                                                        vertices=scene["meshes"]["statue"]["vertices"] * 2))
    writer.write_frame(2, scene)
    assert writer.prune() == 0  # frame 2 uses the new vertices, the others the old ones
    for n in FRAMES:
        writer.write_frame(n, scene)
    assert writer.prune() == 1


def test_the_ocio_configuration_can_travel_with_the_folder(tmp_path, animation):
    config = tmp_path / "cm" / "config.ocio"
    config.parent.mkdir()
    config.write_text("ocio_profile_version: 2\n")
    (config.parent / "lut.spi1d").write_text("lut")
    _write(tmp_path / "seq", animation, frames=[1], ocio_config=config, bundle_ocio=True)
    seq = Sequence(tmp_path / "seq")
    assert seq.manifest.ocio == "ocio/config.ocio"
    assert open(seq.ocio_config()).read() == "ocio_profile_version: 2\n"
    assert (tmp_path / "seq" / "ocio" / "lut.spi1d").is_file()


# --------------------------------------------------------------------------------------------
# hostile or damaged folders


def _frame_document(folder, n=1) -> dict:
    return json.loads((folder / frame_name(n)).read_text())


def _put_frame_document(folder, document, n=1) -> None:
    (folder / frame_name(n)).write_text(json.dumps(document))


@pytest.fixture
def folder(tmp_path, animation):
    _write(tmp_path / "seq", animation, frames=[1])
    return tmp_path / "seq"


@pytest.mark.parametrize("reference", ["../../../etc/passwd", "/etc/passwd", "ab" * 31, 7])
def test_an_array_reference_that_is_not_a_digest_is_refused(folder, reference):
    document = _frame_document(folder)
    document["meshes"]["statue"]["vertices"] = {"$array": reference}
    _put_frame_document(folder, document)
    with pytest.raises(SequenceError, match="not a readable Optica frame: array reference .* is not a SHA-256 digest"):
        Sequence(folder).load_frame(1)


def test_an_array_whose_content_does_not_match_its_digest_is_refused(folder):
    digest = _frame_document(folder)["meshes"]["statue"]["vertices"]["$array"]
    path = folder / array_name(digest)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SequenceError, match="does not match its digest"):
        Sequence(folder).load_frame(1)
    assert Sequence(folder, verify=False).load_frame(1)  # headers still checked, content trusted


def test_an_absurd_array_header_in_the_folder_is_refused_before_allocation(folder):
    digest = _frame_document(folder)["meshes"]["statue"]["vertices"]["$array"]
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 3), }"
    header += " " * ((64 - (11 + len(header)) % 64) % 64) + "\n"
    (folder / array_name(digest)).write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    with pytest.raises(SequenceError, match=r"shape \(100000000000, 3\) has a dimension beyond the limit"):
        Sequence(folder).load_frame(1)


@pytest.mark.parametrize("inline, pattern", [
    ({"dtype": "object", "shape": [1], "values": [1]}, "inline dtype 'object' is not one of"),
    ({"dtype": "float32", "shape": [4, 4], "values": [1.0]}, r"needs 16 values"),
    ({"dtype": "float32", "shape": [10**9], "values": []}, "is not a short list of small ints"),
    ({"dtype": "float32", "shape": [1], "values": ["x"]}, "inline values must be numbers"),
    ({"dtype": "float32", "shape": [1]}, "needs exactly dtype, shape and values"),
])
def test_malformed_inline_arrays_are_refused(folder, inline, pattern):
    document = _frame_document(folder)
    document["camera"]["matrix"] = {"$inline": inline}
    _put_frame_document(folder, document)
    with pytest.raises(SequenceError, match=pattern):
        Sequence(folder).load_frame(1)


@pytest.mark.parametrize("change, pattern", [
    ({"format": "zip"}, "not an Optica sequence manifest"),
    ({"version": 9}, "unsupported version 9"),
    ({"frames": [1, 1]}, "expected a list of distinct ints"),
    ({"fps": [24, 0]}, "fps: expected"),
    ({"extra": 1}, r"unknown keys \['extra'\]"),
    ({"render": []}, "render: expected a dict"),
])
def test_a_bad_manifest_is_refused(folder, change, pattern):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(change)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SequenceError, match=pattern):
        Sequence(folder)


def test_a_folder_without_a_manifest_or_frame_outside_it_is_a_clear_error(tmp_path, folder):
    with pytest.raises(SequenceError, match="not an Optica sequence folder"):
        Sequence(tmp_path)
    with pytest.raises(SequenceError, match="frame 99 is not in the manifest"):
        Sequence(folder).load_frame(99)
    with pytest.raises(ValueError, match="frame 5 is not one of this sequence's frames"):
        SequenceWriter(folder, [1]).write_frame(5, {})


def test_an_invalid_scene_in_a_frame_names_the_file_and_key(folder):
    document = _frame_document(folder)
    document["render"]["width"] = -3
    _put_frame_document(folder, document)
    with pytest.raises(SequenceError, match=r"frame_000001.json: render.width: expected an int > 0"):
        Sequence(folder).load_frame(1)
    assert os.path.isfile(folder / "manifest.json")


@pytest.fixture
def patched(tmp_path, animation):
    """Frames 1 (whole) and 2 (a patch of frame 1)."""
    _write(tmp_path / "seq", animation, frames=[1, 2])
    assert "$patch" in _frame_document(tmp_path / "seq", 2)
    return tmp_path / "seq"


def test_a_patch_whose_base_was_rewritten_is_stale_and_refused(patched, animation):
    SequenceWriter(patched, [1, 2]).write_frame(1, animation.scene(5))  # frame 1 changes alone
    seq = Sequence(patched)
    assert seq.missing_frames() == [2]
    with pytest.raises(SequenceError, match="frame_000002.json: .*patch of another version of frame 1 .*stale"):
        seq.load_frame(2)
    _write(patched, animation, frames=[1, 2])  # writing the animation again mends it
    assert Sequence(patched).missing_frames() == []


@pytest.mark.parametrize("change, pattern", [
    (lambda d: d.update({"$base": 9}), r"\$base 9 is not another frame of the manifest"),
    (lambda d: d.update({"$base": 2}), r"\$base 2 is not another frame"),
    (lambda d: d.update({"extra": 1}), "exactly \\$base, \\$base_sha256 and \\$patch"),
    (lambda d: d.update({"$patch": [[["nowhere", 3], 1]]}), "path step 'nowhere' is not in the base frame"),
    (lambda d: d.update({"$patch": [[["instances", 99], 1]]}), "path step 99 is not in the base frame"),
    (lambda d: d.update({"$patch": [["instances", 1]]}), r"every entry must be \[path"),
    (lambda d: d.update({"$patch": {"a": 1}}), "expected a list of"),
])
def test_malformed_patches_are_refused(patched, change, pattern):
    document = _frame_document(patched, 2)
    change(document)
    _put_frame_document(patched, document, 2)
    with pytest.raises(SequenceError, match="frame_000002.json: not a readable Optica frame: .*" + pattern):
        Sequence(patched).load_frame(2)


def test_a_patch_of_a_patch_is_refused(patched):
    document = _frame_document(patched, 2)
    _put_frame_document(patched, dict(document, **{"$base": 2}), 1)  # frame 1 now claims to patch frame 2
    with pytest.raises(SequenceError, match="is a patch of another version of frame 1|is not a whole frame"):
        Sequence(patched).load_frame(2)


def test_a_frame_nested_too_deeply_is_refused(folder):
    depth = 900  # json itself refuses far deeper documents; this depth reaches the reader
    (folder / frame_name(1)).write_text('{"a": ' * depth + "1" + "}" * depth)
    with pytest.raises(SequenceError, match="frame_000001.json"):
        Sequence(folder).load_frame(1)
