"""`pip install optica_core-….whl[farm,video]` in a fresh venv (no bpy) is enough for
`python -m optica_core render` and `farm`, a video included: installed for real, from the built
wheel and the versions requirements.txt pins, then both commands run there."""

from __future__ import annotations

import subprocess
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ~45 s with a warm pip cache (a fresh venv, Dask, OpenEXR, PyAV installed): on demand, `--all`.
pytestmark = pytest.mark.slow


def _run(args, **kw):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def test_the_farm_extra_alone_renders_and_farms_without_blender(tmp_path):
    wheels = sorted((ROOT / "dist" / "wheels").glob("optica_core-*.whl"))
    if not wheels:
        pytest.fail("no core wheel in dist/wheels: run `python build.py` first", pytrace=False)
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{wheels[-1]}[farm,video]",
          "-c", ROOT / "requirements.txt"])
    installed = _run([python, "-m", "pip", "list", "--format=freeze"]).stdout.lower()
    assert "bpy" not in installed and "distributed==" in installed and "openexr==" in installed
    assert "av==" in installed and "opencolorio==" in installed and "pillow==" in installed
    script = textwrap.dedent(f"""
        import importlib.util, numpy as np
        from optica_core import save_scene, scenes
        from optica_core.sequence import SequenceWriter
        assert importlib.util.find_spec("bpy") is None
        d = scenes.spheres_and_plane(24, 16)
        save_scene(d, {str(tmp_path / "one.optica")!r})
        writer = SequenceWriter({str(tmp_path / "shot")!r}, [1, 2, 3], render={{"samples": 2}},
                                encoder={{"encoder": "CPU"}})
        for n in writer.frames:
            d["render"] = dict(d["render"], seed=n)
            writer.write_frame(n, d)
    """)
    _run([python, "-c", script], cwd=tmp_path)
    _run([python, "-m", "optica_core", "render", tmp_path / "one.optica", "-o", tmp_path / "one.exr",
          "--samples", 2, "--passes", "all"], cwd=tmp_path)
    farm = _run([tmp_path / "venv" / "bin" / "optica-core", "farm", tmp_path / "shot", "--out", tmp_path / "frames",
                 "--workers", 2], cwd=tmp_path)
    assert "rendered 3 frames (0 already done)" in farm.stderr
    # the video, colour-managed with OCIO's built-in configuration (no Blender here)
    _run([python, "-m", "optica_core", "farm", tmp_path / "shot", "--out", tmp_path / "shot.mp4", "--workers", 2,
          "--ocio", "ocio://default"], cwd=tmp_path)
    frames = _run([python, "-c", f"import av; print(sum(1 for _ in av.open({str(tmp_path / 'shot.mp4')!r}).decode(video=0)))"])
    assert frames.stdout.strip() == "3"
    assert (tmp_path / "one.exr").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "frames").glob("*.exr")) == [f"frame_00000{n}.exr" for n in (1, 2, 3)]
