# SPDX-License-Identifier: GPL-3.0-or-later
"""The coverage-guided byte fuzzer's targets (atheris/libFuzzer): arbitrary bytes as a scene file
(`load_scene`) and as the files of an animation folder (`optica_core.sequence`).

    python byte_targets.py load_scene|sequence [libFuzzer flags] CORPUS_DIR [SEED_DIR ...]
    python byte_targets.py seeds load_scene|sequence SEED_DIR     # write the seed corpus

A file from elsewhere may only load or raise ValueError (docs/farm.md, "Files from elsewhere");
any other exception reaches atheris, which saves the input (`-artifact_prefix`) and stops. The
optica_core package, zipfile, json and numpy's .npy reader are instrumented for coverage.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["optica_core", "zipfile", "json", "numpy.lib.format"]):
    import numpy as np

    import optica_core
    from optica_core import scenes, sequence
    from optica_core.scene import SceneWarning

# --------------------------------------------------------------------------------------------
# Seeds: the built-in scenes, small, as files and folders


def _small_scenes() -> dict:
    return {"cornell_box": scenes.cornell_box(8, 6), "spheres_and_plane": scenes.spheres_and_plane(8, 6),
            "displaced_sphere": scenes.displaced_sphere(200, 8, 6)}


def _sequence_folder(folder: Path) -> Path:
    """A 2-frame animation folder of a small displaced sphere (stored arrays, not only inline
    ones) that moves in frame 2."""
    writer = sequence.SequenceWriter(folder, frames=[1, 2], render={"samples": 4})
    a = scenes.displaced_sphere(200, 8, 6)
    writer.write_frame(1, a)
    b = scenes.displaced_sphere(200, 8, 6)
    b["instances"][0]["transforms"] = b["instances"][0]["transforms"] + np.float32(0)
    b["instances"][0]["transforms"][0, 0, 3] = 0.25
    writer.write_frame(2, b)
    return folder


# The files of the folder a sequence input replaces, chosen by the input's first byte.
_SEQUENCE_SLOTS = ("manifest", "frame", "array", "array_unverified")


def _sequence_slot_path(folder: Path, slot: str) -> Path:
    if slot == "manifest":
        return folder / sequence.MANIFEST
    if slot == "frame":
        return folder / sequence.frame_name(2)
    return sorted((folder / "arrays").glob("*/*.npy"), key=lambda p: p.stat().st_size)[-1]


def write_seeds(target: str, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    if target == "load_scene":
        for name, scene in _small_scenes().items():
            optica_core.save_scene(scene, out / f"{name}.optica")
        return len(_small_scenes())
    with tempfile.TemporaryDirectory() as tmp:
        folder = _sequence_folder(Path(tmp) / "shot")
        for i, slot in enumerate(_SEQUENCE_SLOTS):
            (out / f"{slot}.seed").write_bytes(bytes([i]) + _sequence_slot_path(folder, slot).read_bytes())
    return len(_SEQUENCE_SLOTS)


# --------------------------------------------------------------------------------------------
# Targets


def _allowed(fn) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SceneWarning)
            fn()
    except ValueError:
        pass


class LoadScene:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="optica-fuzz-")
        self.path = os.path.join(self.dir, "input.optica")

    def __call__(self, data: bytes) -> None:
        with open(self.path, "wb") as f:
            f.write(data)
        _allowed(lambda: optica_core.load_scene(self.path))
        _allowed(lambda: optica_core.load_scene(self.path, strict=False))


class SequenceFolder:
    """One valid folder; each input replaces one of its files, then the folder is read."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="optica-fuzz-"))
        self.folder = _sequence_folder(self.dir / "shot")
        self.originals = {slot: _sequence_slot_path(self.folder, slot) for slot in _SEQUENCE_SLOTS}
        self.backup = {slot: path.read_bytes() for slot, path in self.originals.items()}

    def __call__(self, data: bytes) -> None:
        if not data:
            return
        slot = _SEQUENCE_SLOTS[data[0] % len(_SEQUENCE_SLOTS)]
        path = self.originals[slot]
        path.write_bytes(data[1:])
        try:
            def read():
                seq = sequence.Sequence(self.folder, verify=slot != "array_unverified")
                for n in seq.frames:
                    seq.load_frame(n)
                seq.missing_frames()
                seq.ocio_config()

            _allowed(read)
        finally:
            path.write_bytes(self.backup[slot])


TARGETS = {"load_scene": LoadScene, "sequence": SequenceFolder}


def main(argv: list[str]) -> None:
    if argv[1:2] == ["seeds"]:
        print(write_seeds(argv[2], Path(argv[3])))
        return
    target = TARGETS[argv[1]]()
    # libFuzzer ends the process with exit(): no `finally` runs, atexit does (the runner also
    # points TMPDIR at a folder it removes, for a child that dies).
    atexit.register(shutil.rmtree, target.dir, True)
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
