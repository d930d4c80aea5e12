# SPDX-License-Identifier: GPL-3.0-or-later
"""The fuzz suite in the default run: every input a fuzzer ever broke the core with, replayed in
a child process; a short run of each target (the long one: `python build.py fuzz --minutes N`);
and the runner's own promise that a crash, a hang and an unexpected error are each caught with
their input kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import runner

SHORT_SECONDS = {"validate": 8, "files": 8, "render": 8, "intersect": 6, "load_scene": 6, "sequence": 6}


def _regressions(suffix: str) -> list[Path]:
    return sorted(runner.REGRESSIONS.glob(f"*{suffix}"))


@pytest.mark.parametrize("path", _regressions(".json"), ids=lambda p: p.stem)
def test_structured_regression_replays_cleanly(path, tmp_path):
    """Each kept recipe runs in a fresh child: no crash, no hang, no unexpected exception."""
    recipe = json.loads(path.read_text())
    assert runner._replay(recipe["target"], recipe, str(tmp_path)) is None


@pytest.mark.parametrize("path", _regressions(".bin"), ids=lambda p: p.stem)
def test_byte_regression_replays_cleanly(path):
    """Each kept byte input, run once by the byte fuzzer's own target (libFuzzer's replay mode)."""
    target = path.name.split("-")[0]
    res = subprocess.run([sys.executable, str(runner.HERE / "byte_targets.py"), target, str(path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]


@pytest.mark.parametrize("target", runner.STRUCTURED)
def test_short_structured_run_finds_nothing(target):
    summary = runner.run_structured(target, SHORT_SECONDS[target], seed=1)
    assert summary.cases > 20 and not summary.findings, [vars(f) for f in summary.findings]


@pytest.mark.parametrize("target", runner.BYTES)
def test_short_byte_run_finds_nothing(target):
    summary = runner.run_bytes(target, SHORT_SECONDS[target])
    assert summary.cases > 20 and not summary.findings, [vars(f) for f in summary.findings]


@pytest.mark.parametrize("how, kind", [("crash", "crash"), ("hang", "hang"), ("finding", "error")])
def test_the_runner_catches_and_keeps_what_goes_wrong(how, kind, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTICA_FUZZ_CANARY", how)
    summary = runner.run_structured("canary", 6, save=tmp_path, hang_seconds=2, log=lambda *_: None)
    assert summary.findings and {f.kind for f in summary.findings} == {kind}
    kept = json.loads(Path(summary.findings[0].saved).read_text())
    assert kept["target"] == "canary" and kept["base"] == how and kept["found"].startswith(kind)


def test_a_child_writing_much_to_stderr_is_not_a_hang(tmp_path, monkeypatch):
    """The long-run "intersect hangs" were children blocked writing warnings into a stderr pipe
    nobody read until they exited."""
    monkeypatch.setenv("OPTICA_FUZZ_CANARY", "noisy")
    summary = runner.run_structured("canary", 4, save=tmp_path, hang_seconds=2, log=lambda *_: None)
    assert summary.cases >= 1 and not summary.findings, [vars(f) for f in summary.findings]


def test_the_mutators_reach_every_key_of_the_built_in_scenes():
    """Generic over the dictionary: every path of every built-in scene is a mutation site."""
    import mutators

    names = mutators.base_names()
    assert {"cornell_box", "furnace"} <= set(names)
    for name in names:
        scene = mutators.base_scene(name)
        paths = set(mutators.base_paths(name))
        assert all((key,) in paths for key in scene)
        assert ("camera", "matrix") in paths and any(p[:1] == ("instances",) and len(p) == 3 for p in paths)
