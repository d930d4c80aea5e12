# SPDX-License-Identifier: GPL-3.0-or-later
"""Interrupted animation exports: SIGINT and SIGKILL at random frames of STREAM and PARALLEL
exports, a full disk (RLIMIT_FSIZE), an unwritable folder, a folder that vanishes mid-export.

Each export runs in a process of its own (export_child.py). The promise: never a corrupt or
truncated video at the target path; nothing temporary left once the export (or the run that
resumes it) ends; a resumed export gives the same pixels as one never interrupted. SIGKILL runs
no cleanup: what it leaves is hidden beside the target and removed by the next export to that
target — the tests check that too. The default run keeps one case of each; `-m stress` runs
`STRESS_ROUNDS` random interruptions per method and signal.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
FRAMES = 8
STRESS_ROUNDS = 3
USER_FOLDER_VARIABLE = "OPTICA_STRESS_BLENDER_USER"  # export_child.py: one installed extension for all


def export(
    method,
    target,
    *,
    frames=FRAMES,
    resume=False,
    fsize=0,
    signal_at=None,
    sig=signal.SIGINT,
    on_frame=None,
    timeout=300,
):
    """Runs export_child.py; sends `sig` once `signal_at` frames are rendered (or calls
    on_frame(done)). Returns (returncode, result dict or None, frames seen, stderr tail)."""
    cmd = [sys.executable, str(HERE / "export_child.py"), method, str(target), str(frames), "--workers", "2"]
    cmd += ["--resume"] * resume + (["--fsize", str(fsize)] if fsize else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE.parent.parent)
    seen, result, deadline = 0, None, time.monotonic() + timeout
    try:
        for line in proc.stdout:
            if line.startswith("frame "):
                seen = int(line.split()[1])
                if on_frame is not None:
                    on_frame(seen)
                if signal_at is not None and seen >= signal_at and proc.poll() is None:
                    proc.send_signal(sig)
                    signal_at = None
            elif line.startswith("result "):
                text = line[len("result ") :].strip()
                result = json.loads(text) if text.startswith("{") else {"interrupted": True}
            if time.monotonic() > deadline:
                raise TimeoutError(f"export did not end within {timeout} s")
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, result, seen, proc.stderr.read()[-3000:]


def decoded(path: Path) -> list[np.ndarray]:
    """Every frame of the video (raises on a damaged file)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray() for f in container.decode(video=0)]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module", autouse=True)
def shared_blender_user(tmp_path_factory):
    """One Blender user folder with the extension installed, for every child of this module."""
    folder = tmp_path_factory.mktemp("blender-user")
    os.environ[USER_FOLDER_VARIABLE] = str(folder)
    try:
        res = subprocess.run(
            [sys.executable, str(HERE / "export_child.py"), "-", "-", "0", "--install-only"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stderr[-2000:]
        yield folder
    finally:
        del os.environ[USER_FOLDER_VARIABLE]


class References(dict):
    """The decoded video of an export never interrupted, per method, made on first use."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def __missing__(self, method: str) -> list[np.ndarray]:
        target = self.folder / f"{method}.mp4"
        code, _result, _, err = export(method, target)
        assert code == 0, err
        self[method] = frames = decoded(target)
        assert len(frames) == FRAMES
        return frames


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return References(tmp_path_factory.mktemp("reference"))


def assert_complete_or_absent(target: Path) -> None:
    """A video at the target is a whole one: every frame decodes."""
    if target.exists():
        assert len(decoded(target)) == FRAMES


def assert_same_video(target: Path, frames: list[np.ndarray]) -> None:
    got = decoded(target)
    assert len(got) == len(frames)
    for a, b in zip(got, frames):
        assert np.array_equal(a, b)


def interrupt_and_resume(method, sig, at, tmp_path, reference):
    target = tmp_path / "film.mp4"
    code, result, seen, err = export(method, target, resume=True, signal_at=at, sig=sig)
    if seen >= FRAMES and code == 0:  # finished before the signal landed: a whole video
        assert_same_video(target, reference[method])
        return
    assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL), err
    assert not target.exists()
    if sig == signal.SIGINT and method == "STREAM":
        assert listing(tmp_path) == []  # Ctrl-C cleans up everything itself
    code, result, _, err = export(method, target, resume=True)
    assert code == 0, err
    if method == "PARALLEL" and sig == signal.SIGINT:
        assert result["resumed"] >= 1 and result["resumed"] + result["rendered"] == FRAMES
    assert listing(tmp_path) == ["film.mp4"]  # the resumed run left nothing else
    assert_same_video(target, reference[method])


def test_a_killed_parallel_export_resumes_to_the_same_video(tmp_path, reference):
    interrupt_and_resume("PARALLEL", signal.SIGKILL, 3, tmp_path, reference)


@pytest.mark.stress
@pytest.mark.parametrize("method", ["STREAM", "PARALLEL"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interruptions_at_random_frames(method, sig, tmp_path, reference):
    rng = random.Random(f"{method}{sig}")
    for k in range(STRESS_ROUNDS):
        folder = tmp_path / f"round{k}"
        folder.mkdir()
        interrupt_and_resume(method, sig, rng.randint(1, FRAMES - 1), folder, reference)


@pytest.mark.parametrize(
    "method, fsize, words",
    [
        ("STREAM", 3000, "File too large"),
        pytest.param("PARALLEL", 20_000, "could not save a copy of the file for the workers", marks=pytest.mark.stress),
    ],
)
def test_a_full_disk_is_a_clear_error_and_leaves_nothing(method, fsize, words, tmp_path):
    target = tmp_path / "full.mp4"
    code, result, _, err = export(method, target, fsize=fsize)
    assert code == 3 and words in result["error"], (result, err)
    assert listing(tmp_path) == []


@pytest.mark.stress
def test_an_old_video_survives_a_full_disk(tmp_path):
    target = tmp_path / "keep.mp4"
    assert export("STREAM", target)[0] == 0
    before = target.read_bytes()
    code, result, _, err = export("STREAM", target, fsize=3000)
    assert code == 3 and "File too large" in result["error"]
    assert target.read_bytes() == before and listing(tmp_path) == ["keep.mp4"]


@pytest.fixture
def locked_folder(tmp_path):
    """A folder nobody may write into, root included (the tests run as root: permissions do not
    stop it, the immutable attribute does)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.mark.parametrize("method", ["STREAM", pytest.param("PARALLEL", marks=pytest.mark.stress)])
def test_an_unwritable_folder_is_a_clear_error_before_rendering(method, locked_folder):
    code, result, seen, err = export(method, locked_folder / "film.mp4")
    assert code == 3 and str(locked_folder) in result["error"], (result, err)
    assert seen == 0 and listing(locked_folder) == []


@pytest.mark.parametrize("method", [pytest.param("STREAM", marks=pytest.mark.stress), "PARALLEL"])
def test_a_folder_that_vanishes_mid_export_is_a_clear_error(method, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()

    def vanish(done):
        if done >= 2 and folder.exists():
            shutil.rmtree(folder, ignore_errors=True)

    code, result, _, err = export(method, folder / "film.mp4", on_frame=vanish)
    assert code == 3 and result and result.get("error"), (code, result, err)
    assert str(folder) in result["error"] or "No such file" in result["error"], result
    assert not (folder / "film.mp4").exists() and listing(folder) == []
