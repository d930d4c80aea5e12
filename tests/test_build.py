"""The extension package that `python build.py` leaves in dist/ (the thing a user installs).

These tests read the zip built by build.py; they do not build it. `python build.py test`
builds first; run `python build.py` before calling pytest directly.
"""

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
PACKAGE_DIRS = ("addon", "operators", "ui")
ADDON_MODULE = "bl_ext.user_default.optica"


def _repo_manifest() -> dict:
    with open(ROOT / "blender_manifest.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def zip_path() -> Path:
    m = _repo_manifest()
    path = DIST / f"{m['id']}-{m['version']}.zip"
    if not path.is_file():
        pytest.fail(f"{path} does not exist: run `python build.py` (or `python build.py test`) first")
    return path


@pytest.fixture(scope="module")
def zip_manifest(zip_path) -> dict:
    with zipfile.ZipFile(zip_path) as z:
        assert "blender_manifest.toml" in z.namelist(), "the manifest must sit at the zip's root"
        return tomllib.loads(z.read("blender_manifest.toml").decode("utf-8"))


def test_zip_manifest_identity(zip_manifest):
    repo = _repo_manifest()
    assert zip_manifest["id"] == "optica"
    assert zip_manifest["type"] == "add-on"
    assert zip_manifest["schema_version"] == "1.0.0"
    for key in ("version", "name", "tagline", "maintainer", "license", "blender_version_min", "platforms"):
        assert zip_manifest[key] == repo[key], f"zip manifest {key!r} differs from the repository's"
    assert zip_manifest["platforms"] == ["linux-x64"]


def test_zip_wheels_are_inside_the_zip(zip_path, zip_manifest):
    wheels = zip_manifest.get("wheels")
    assert wheels, "the zip's manifest must list the bundled optica_core wheel"
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        for w in wheels:
            assert w.startswith("./wheels/"), f"wheel path {w!r} should be ./wheels/<file>"
            arc = w[2:]
            assert arc in names, f"manifest lists {w!r} but the zip has no {arc}"
            # Every bundled wheel is a readable wheel; the core's holds the compiled core.
            import io

            with zipfile.ZipFile(io.BytesIO(z.read(arc))) as wz:
                inner = wz.namelist()
            if not Path(w).name.startswith("optica_core-"):
                assert any(n.endswith(".dist-info/METADATA") for n in inner), w
                continue
            assert "optica_core/__init__.py" in inner
            assert any(n.startswith("optica_core/_native.") and n.endswith(".so") for n in inner), inner
        # Blender's Python is 3.11 on Linux x86-64 for 4.2 .. 5.0.
        core = [w for w in wheels if Path(w).name.startswith("optica_core-")]
        assert len(core) == 1, wheels
        tags = Path(core[0]).name[: -len(".whl")].split("-")[-3:]
        assert tags[0] == "cp311" and tags[2].endswith("x86_64"), tags
        stray = [n for n in names if n.startswith("wheels/") and f"./{n}" not in wheels]
        assert not stray, f"wheels in the zip that the manifest does not list: {stray}"


def test_zip_contents(zip_path):
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
    for required in ("__init__.py", "addon/__init__.py", "operators/__init__.py", "ui/__init__.py"):
        assert required in names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    top = {n.split("/")[0] for n in names}
    assert top <= {"blender_manifest.toml", "__init__.py", "wheels", *PACKAGE_DIRS}, top
    assert len(names) == len(set(names)), "duplicate entries"


def test_zip_is_current(zip_path):
    """Every Python file of the extension in the repository is in the zip, unchanged."""
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        sources = [ROOT / "__init__.py"]
        for d in PACKAGE_DIRS:
            sources += [p for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts]
        for p in sources:
            arc = p.relative_to(ROOT).as_posix()
            assert arc in names, f"{arc} is missing from {zip_path.name}: run `python build.py`"
            assert z.read(arc) == p.read_bytes(), f"{arc} in {zip_path.name} is stale: run `python build.py`"


def _blender_ext_cli() -> Path:
    spec = importlib.util.find_spec("bpy")
    assert spec is not None and spec.submodule_search_locations, "bpy is not installed"
    base = Path(list(spec.submodule_search_locations)[0])
    found = sorted(base.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    assert found, f"blender_ext.py not found under {base}"
    return found[-1]


def test_zip_passes_blenders_validation(zip_path):
    """Blender's own `extension validate` accepts the package (manifest fields, tagline, wheels)."""
    res = subprocess.run(
        [sys.executable, str(_blender_ext_cli()), "validate", str(zip_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr


# Runs inside a separate Python process with bpy (Blender as a module), so this test process's
# bpy, if any, is untouched. It installs the zip as a user would and reports what it sees.
_INSTALL_SCRIPT = r"""
import importlib.machinery, json, os, sys

zip_path, report_path = sys.argv[1], sys.argv[2]
ext_root = os.path.realpath(os.environ["BLENDER_USER_EXTENSIONS"])


class BundledOnly:
    # .venv has optica_core installed too: hide it, so `import optica_core` can only succeed
    # through the wheel that Blender installed from the zip (under BLENDER_USER_EXTENSIONS).
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "optica_core":
            return None
        where = [p for p in sys.path if os.path.realpath(p or ".").startswith(ext_root + os.sep)]
        spec = importlib.machinery.PathFinder.find_spec(name, where)
        if spec is None:
            raise ModuleNotFoundError("optica_core is not installed under " + ext_root, name=name)
        return spec


sys.meta_path.insert(0, BundledOnly)

import bpy
import addon_utils

report = {}
result = bpy.ops.extensions.package_install_files(
    repo="user_default", filepath=zip_path, enable_on_install=True)
report["result"] = sorted(result)
report["addons"] = [a.module for a in bpy.context.preferences.addons]
report["check"] = list(addon_utils.check("%(module)s"))
try:
    import optica_core
    import optica_core._native
    report["core_file"] = optica_core.__file__
    report["native_file"] = optica_core._native.__file__
except Exception as e:
    report["core_error"] = "%%s: %%s" %% (type(e).__name__, e)
with open(report_path, "w") as f:
    json.dump(report, f)
""" % {"module": ADDON_MODULE}


def test_zip_installs_into_blender(zip_path, tmp_path):
    user = tmp_path / "blender-user"
    env = dict(os.environ)
    env.update(
        BLENDER_USER_RESOURCES=str(user),
        BLENDER_USER_CONFIG=str(user / "config"),
        BLENDER_USER_SCRIPTS=str(user / "scripts"),
        BLENDER_USER_DATAFILES=str(user / "datafiles"),
        BLENDER_USER_EXTENSIONS=str(user / "extensions"),
    )
    env.pop("PYTHONPATH", None)
    script = tmp_path / "install.py"
    script.write_text(_INSTALL_SCRIPT)
    report_path = tmp_path / "report.json"
    res = subprocess.run(
        [sys.executable, str(script), str(zip_path), str(report_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    log = f"exit code {res.returncode}\n--- stdout\n{res.stdout}\n--- stderr\n{res.stderr}"
    assert res.returncode == 0 and report_path.exists(), log
    report = json.loads(report_path.read_text())

    assert report["result"] == ["FINISHED"], log
    assert ADDON_MODULE in report["addons"], f"{ADDON_MODULE} not enabled: {report['addons']}\n{log}"
    assert report["check"] == [True, True], f"addon_utils.check: {report['check']}\n{log}"
    assert "core_error" not in report, f"import optica_core inside Blender failed: {report['core_error']}\n{log}"
    ext = str((user / "extensions").resolve())
    assert report["core_file"].startswith(ext), report["core_file"]
    assert report["native_file"].startswith(ext), report["native_file"]
    # The extension itself sits in the user_default repository, as Blender lays it out.
    installed = user / "extensions" / "user_default" / "optica"
    assert (installed / "blender_manifest.toml").is_file()
    assert (installed / "__init__.py").is_file()
