"""The extension package that `python build.py` leaves in dist/ (the thing a user installs).

These tests read the zip built by build.py; they do not build it. `python build.py test`
builds first; run `python build.py` before calling pytest directly. The tests of the trimmed
denoiser wheel also run build.py's trimming on temporary folders, from the upstream wheel that
the build keeps in dist/deps/upstream/.
"""

import base64
import csv
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
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


# What the export methods PARALLEL and DASK import, bundled in the zip (top-level module names).
FARM_MODULES = {"distributed", "dask", "OpenEXR", "PIL", "click", "cloudpickle", "fsspec", "importlib_metadata",
                "zipp", "jinja2", "markupsafe", "locket", "msgpack", "partd", "psutil", "yaml", "sortedcontainers",
                "tblib", "toolz", "tlz", "tornado", "zict"}

# Runs inside a separate Python process with bpy (Blender as a module), so this test process's
# bpy, if any, is untouched. It installs the zip as a user would, renders the Cornell box with the
# denoiser on (F12: bpy.ops.render.render) and reports what it sees.
_INSTALL_SCRIPT = r"""
import importlib, importlib.machinery, json, os, sys, traceback

zip_path, report_path, tests_dir, exr_path = sys.argv[1:5]
ext_root = os.path.realpath(os.environ["BLENDER_USER_EXTENSIONS"])
# .venv has these installed too: hide them, so importing them can only succeed through the wheels
# that Blender installed from the zip (under BLENDER_USER_EXTENSIONS): the core, the denoiser and
# what the denoiser imports that Blender's own Python lacks.
BUNDLED_ONLY = %(bundled_only)r


class BundledOnly:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in BUNDLED_ONLY:
            return None
        where = [p for p in sys.path if os.path.realpath(p or ".").startswith(ext_root + os.sep)]
        spec = importlib.machinery.PathFinder.find_spec(name, where)
        if spec is None:
            raise ModuleNotFoundError(name + " is not installed under " + ext_root, name=name)
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
try:
    denoise = importlib.import_module("%(module)s.addon.denoise")
    oidn = denoise.load_oidn()
    import cffi, _cffi_backend, pycparser
    report["denoiser_files"] = {m.__name__: m.__file__ for m in (oidn, cffi, _cffi_backend, pycparser)}
    report["denoiser_device"] = list(denoise.device_summary())

    sys.path.insert(0, tests_dir)
    import bpy_scenes
    bpy.data.batch_remove(list(bpy.data.objects))  # the startup file's cube, light and camera
    scene = bpy_scenes.new_empty_scene(48, 48)
    bpy_scenes.cornell_box(scene)
    bpy_scenes.configure_optica(scene, 8)
    scene.optica.max_bounces = 4
    scene.optica.use_denoiser = True
    scene.render.image_settings.media_type = "MULTI_LAYER_IMAGE"
    scene.render.image_settings.color_depth = "32"
    scene.render.filepath = exr_path
    report["render"] = sorted(bpy.ops.render.render(write_still=True))
    with open("/proc/self/maps") as maps:  # the native libraries this process really loaded
        report["denoiser_libraries"] = sorted({line.split()[-1] for line in maps
                                               if "OpenImageDenoise" in line or "libtbb" in line})
except Exception:
    report["denoiser_error"] = traceback.format_exc()
try:  # the export methods PARALLEL (OpenEXR, Pillow) and DASK (Dask distributed and its imports)
    import distributed, dask, OpenEXR, PIL.Image
    report["farm_files"] = {m.__name__: m.__file__ for m in (distributed, dask, OpenEXR, PIL)}
except Exception:
    report["farm_error"] = traceback.format_exc()
with open(report_path, "w") as f:
    json.dump(report, f)
""" % {"module": ADDON_MODULE,
       "bundled_only": {"optica_core", "pyoidn", "cffi", "_cffi_backend", "pycparser", *FARM_MODULES}}


@pytest.fixture(scope="module")
def installed(zip_path, tmp_path_factory):
    """Installs the zip into a fresh Blender user folder in another process and renders there:
    (report, user folder, log, path of the rendered multilayer EXR)."""
    tmp_path = tmp_path_factory.mktemp("install")
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
    report_path, exr_path = tmp_path / "report.json", tmp_path / "denoised.exr"
    res = subprocess.run(
        [sys.executable, str(script), str(zip_path), str(report_path), str(ROOT / "tests"), str(exr_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    log = f"exit code {res.returncode}\n--- stdout\n{res.stdout}\n--- stderr\n{res.stderr}"
    assert res.returncode == 0 and report_path.exists(), log
    return json.loads(report_path.read_text()), user, log, exr_path


def test_zip_installs_into_blender(installed):
    report, user, log, _ = installed
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


def test_bundled_farm_packages_load_from_the_installed_extension(installed):
    """OpenEXR, Pillow and Dask distributed (with everything it imports: their .venv copies are
    hidden) come from the wheels Blender installed with the extension."""
    report, user, log, _ = installed
    assert "farm_error" not in report, report["farm_error"] + "\n" + log
    site = str((user / "extensions").resolve()) + os.sep
    for module, path in report["farm_files"].items():
        assert path.startswith(site), f"{module} was imported from {path}, not from the extension"


def test_bundled_denoiser_loads_from_the_installed_extension(installed):
    """pyoidn, cffi and pycparser import from the wheels installed with the extension (their .venv
    copies hidden), and OIDN's native libraries are mapped from that folder: nothing else needed."""
    report, user, log, _ = installed
    assert "denoiser_error" not in report, report["denoiser_error"] + "\n" + log
    site = str((user / "extensions").resolve()) + os.sep
    assert set(report["denoiser_files"]) == {"pyoidn", "cffi", "_cffi_backend", "pycparser"}
    for module, path in report["denoiser_files"].items():
        assert path.startswith(site), f"{module} was imported from {path}, not from the extension"
    assert report["denoiser_device"] == [True, "Intel Open Image Denoise on the CPU"]  # no GPU here
    # bpy maps its own OIDN 2.3 and oneTBB too (its renderers' copy); the 2.5 core and CPU device
    # that denoised come from the extension.
    lib_dir = (Path(report["denoiser_files"]["pyoidn"]).parent / "oidn" / "lib").resolve()
    ours = {Path(p).name for p in report["denoiser_libraries"] if Path(p).parent.resolve() == lib_dir}
    assert {"libOpenImageDenoise.so", "libOpenImageDenoise_core.so.2.5.1",
            "libOpenImageDenoise_device_cpu.so.2.5.1"} <= ours, report["denoiser_libraries"]
    assert not [p for p in report["denoiser_libraries"] if "_device_" in p and Path(p).parent.resolve() != lib_dir]


def test_bundled_denoiser_denoises_a_final_render(installed):
    """F12 in the fresh install with the denoiser on: Combined is the denoised image, "Noisy
    Image" the raw one; neighbouring pixels differ far less after denoising."""
    from conftest import read_image_file

    report, _, log, exr_path = installed
    assert report.get("render") == ["FINISHED"], report.get("denoiser_error", "") + log
    layers = read_image_file(exr_path)
    combined, noisy = layers["ViewLayer.Combined"][..., :3], layers["ViewLayer.Noisy Image"][..., :3]
    assert combined.shape == noisy.shape == (48, 48, 3)

    def roughness(img):  # mean absolute difference between horizontal neighbours
        return float(np.abs(np.diff(img.astype(np.float64), axis=1)).mean())

    assert roughness(combined) < 0.6 * roughness(noisy), (roughness(combined), roughness(noisy))
    assert abs(combined.mean() - noisy.mean()) < 0.1 * noisy.mean()  # the same image, smoothed


# ---------------------------------------------------------------------------------------------
# the trimmed denoiser wheel (build.py: trim_oidn_wheel)


def _build_module():
    spec = importlib.util.spec_from_file_location("optica_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def oidn_wheel(zip_path, zip_manifest, tmp_path_factory) -> Path:
    """The denoiser wheel of the zip, copied out."""
    listed = [w for w in zip_manifest["wheels"] if Path(w).name.startswith("pyoidn-")]
    assert len(listed) == 1, f"the zip should bundle one pyoidn wheel: {zip_manifest['wheels']}"
    out = tmp_path_factory.mktemp("oidn") / Path(listed[0]).name
    with zipfile.ZipFile(zip_path) as z:
        out.write_bytes(z.read(listed[0][2:]))
    return out


def _upstream_oidn_wheel() -> Path:
    found = sorted((DIST / "deps" / "upstream").glob("pyoidn-*.whl"))
    assert found, "build.py keeps the upstream pyoidn wheel in dist/deps/upstream/"
    return found[-1]


def _files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as z:
        return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}


def test_trimmed_denoiser_wheel_holds_one_copy_of_what_optica_uses(oidn_wheel):
    from packaging.utils import parse_wheel_filename

    name, version, build, tags = parse_wheel_filename(oidn_wheel.name)
    assert (name, str(version), build) == ("pyoidn", "2.5.1.0", (1, "optica"))
    upstream = _upstream_oidn_wheel()
    assert {str(t) for t in tags} == {str(t) for t in parse_wheel_filename(upstream.name)[3]}
    files, original = _files(oidn_wheel), _files(upstream)
    libs = sorted(n.removeprefix("pyoidn/oidn/lib/") for n in files if n.startswith("pyoidn/oidn/"))
    assert libs == ["libOpenImageDenoise.so", "libOpenImageDenoise_core.so.2.5.1",
                    "libOpenImageDenoise_device_cpu.so.2.5.1", "libOpenImageDenoise_device_cuda.so.2.5.1",
                    "libtbb.so.12"]
    assert not [n for n in files if re.search(r"sycl|hip|_ur_|libur|umf|tbbbind|/bin/|cmake", n)]
    contents = [hashlib.sha256(data).hexdigest() for data in files.values()]
    assert len(contents) == len(set(contents)), "two files of the trimmed wheel are the same bytes"
    kept_upstream = {n for n in files if n in original and not n.endswith(("/WHEEL", "/RECORD"))}
    assert kept_upstream == {n for n in files if not n.endswith(("/WHEEL", "/RECORD", "/TRIMMED.txt"))}
    assert all(files[n] == original[n] for n in kept_upstream), "kept files must be upstream's bytes"
    assert files["pyoidn-2.5.1.0.dist-info/licenses/LICENSE"] == original["pyoidn-2.5.1.0.dist-info/licenses/LICENSE"]
    assert "Apache-2.0" in files["pyoidn-2.5.1.0.dist-info/TRIMMED.txt"].decode()
    installed_mb = sum(map(len, files.values())) / 1e6
    assert installed_mb < 0.4 * sum(map(len, original.values())) / 1e6, installed_mb


def test_trimmed_denoiser_wheel_metadata_and_record(oidn_wheel):
    files = _files(oidn_wheel)
    info = "pyoidn-2.5.1.0.dist-info/"
    wheel = dict(line.split(": ", 1) for line in files[info + "WHEEL"].decode().splitlines())
    assert wheel["Wheel-Version"] == "1.0" and wheel["Build"] == "1optica"
    assert wheel["Tag"] == "py3-none-manylinux2014_x86_64" and wheel["Root-Is-Purelib"] == "true"
    assert "Name: pyoidn\nVersion: 2.5.1.0\n" in files[info + "METADATA"].decode()
    rows = list(csv.reader(io.StringIO(files[info + "RECORD"].decode())))
    assert rows[-1] == [info + "RECORD", "", ""]
    recorded = {path: (digest, size) for path, digest, size in rows[:-1]}
    assert set(recorded) | {info + "RECORD"} == set(files), "RECORD lists exactly the wheel's files"
    for path, (digest, size) in recorded.items():
        expected = base64.urlsafe_b64encode(hashlib.sha256(files[path]).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expected}" and int(size) == len(files[path]), path


_LOADER_PROBE = r"""
import sys
sys.path.insert(0, sys.argv[1])
import pyoidn
print("cuda", pyoidn.Device.is_cuda_available(0))
device = pyoidn.Device(pyoidn.OIDN_DEVICE_TYPE_CPU)
device.commit()
print("cpu error", device.get_error())
"""


@pytest.fixture(scope="module")
def oidn_site(oidn_wheel, tmp_path_factory) -> Path:
    """The denoiser wheel extracted as Blender's installer does it (no exec bits)."""
    site = tmp_path_factory.mktemp("oidn-site")
    with zipfile.ZipFile(oidn_wheel) as z:
        z.extractall(site)
    return site


def _probe(script: str, *args, ld_debug: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "OIDN_", "PYTHONPATH"))}
    if ld_debug:
        env["LD_DEBUG"] = ld_debug
    res = subprocess.run([sys.executable, "-c", script, *map(str, args)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    return res


def test_trimmed_denoiser_libraries_resolve_inside_their_folder(oidn_site):
    """The dynamic loader finds every library OIDN needs in the wheel's one lib/ folder (RPATH
    $ORIGIN/../lib), the CPU device works, and the CUDA device module loads and then stops at
    the NVIDIA driver's libcuda.so.1, which no machine here has: that device is untested."""
    lib = (oidn_site / "pyoidn" / "oidn" / "lib").resolve()
    res = _probe(_LOADER_PROBE, oidn_site, ld_debug="files")
    assert "cuda False" in res.stdout and "cpu error None" in res.stdout, res.stdout
    initialised = [Path(p) for p in re.findall(r"calling init: (\S+)", res.stderr)]
    oidn = {p.name: p.parent.resolve() for p in initialised if "OpenImageDenoise" in p.name or "libtbb" in p.name}
    assert set(oidn) == {"libOpenImageDenoise.so", "libOpenImageDenoise_core.so.2.5.1",
                         "libOpenImageDenoise_device_cpu.so.2.5.1", "libtbb.so.12"}, oidn
    assert set(oidn.values()) == {lib}, oidn
    cuda = re.search(r"file=(\S+device_cuda\S+) \[0\];\s+dynamically loaded by", res.stderr)
    assert cuda and Path(cuda.group(1)).parent.resolve() == lib, "the core did not try the CUDA device"
    cuda_needs = re.findall(r"file=(\S+) \[0\];\s+needed by \S+device_cuda\S+", res.stderr)
    assert "libcuda.so.1" in cuda_needs, cuda_needs


_BLENDER_SCOPE_PROBE = r"""
import ctypes, importlib.util, json, os, sys
import numpy as np

bpy_lib, site, denoise_py, how = sys.argv[1:5]
# The blender program has its own OIDN and oneTBB in the process's global scope from start-up
# (its NEEDED libraries); bpy, the Python module, loads them privately, so that is simulated here.
for name in ("libtbb.so.12", "libOpenImageDenoise.so.2"):
    ctypes.CDLL(os.path.join(bpy_lib, name), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
sys.path.insert(0, site)
noisy = np.random.default_rng(1).random((64, 64, 3), dtype=np.float32)
if how == "optica":
    spec = importlib.util.spec_from_file_location("optica_denoise", denoise_py)
    denoise = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(denoise)
    with denoise.Denoiser("fast") as d:
        out = d.denoise(noisy)[..., :3]
else:  # pyoidn loading OIDN by itself
    import pyoidn
    out = pyoidn.denoise(noisy)
with open("/proc/self/maps") as maps:
    libs = sorted({line.split()[-1] for line in maps if "OpenImageDenoise" in line})
rough = lambda a: float(np.abs(np.diff(a, axis=1)).mean())
print(json.dumps({"libs": libs, "rough": [rough(out), rough(noisy)]}))
"""


def test_bundled_denoiser_stays_apart_from_blenders_own_oidn(oidn_site):
    """Blender 5.0 links OIDN 2.3 into its global scope, with the C++ symbols of the bundled
    OIDN 2.5. Loaded by Optica, the bundled core and CPU device bind to each other and do the
    work; pyoidn loading OIDN by itself (the control) ends up running Blender's CPU device."""
    spec = importlib.util.find_spec("bpy")
    bpy_lib = Path(list(spec.submodule_search_locations)[0]) / "lib"
    assert (bpy_lib / "libOpenImageDenoise.so.2").is_file(), "bpy no longer ships its own OIDN here"
    lib = (oidn_site / "pyoidn" / "oidn" / "lib").resolve()

    def devices(how):
        res = _probe(_BLENDER_SCOPE_PROBE, bpy_lib, oidn_site, ROOT / "addon" / "denoise.py", how)
        report = json.loads(res.stdout.strip().splitlines()[-1])
        assert report["rough"][0] < 0.2 * report["rough"][1], report  # it did denoise
        return {Path(p).resolve() for p in report["libs"] if "_device_" in p}

    assert devices("optica") == {lib / "libOpenImageDenoise_device_cpu.so.2.5.1"}
    assert devices("pyoidn") == {(bpy_lib / "libOpenImageDenoise_device_cpu.so.2.3.3").resolve()}


def _fake_upstream(path: Path, drop: str) -> Path:
    """A small wheel laid out as pyoidn's upstream one (placeholder library bytes), minus `drop`."""
    names = ["pyoidn/__init__.py", "pyoidn/capi.py", "pyoidn/oidn/lib/libOpenImageDenoise.so",
             "pyoidn/oidn/lib/libOpenImageDenoise.so.2", "pyoidn/oidn/lib/libOpenImageDenoise_core.so.2.5.1",
             "pyoidn/oidn/lib/libOpenImageDenoise_device_cpu.so.2.5.1",
             "pyoidn/oidn/lib/libOpenImageDenoise_device_cuda.so.2.5.1",
             "pyoidn/oidn/lib/libOpenImageDenoise_device_sycl.so.2.5.1", "pyoidn/oidn/lib/libtbb.so.12",
             "pyoidn/oidn/lib/libtbb.so.12.19", "pyoidn-2.5.1.0.dist-info/METADATA",
             "pyoidn-2.5.1.0.dist-info/WHEEL", "pyoidn-2.5.1.0.dist-info/RECORD"]
    with zipfile.ZipFile(path, "w") as z:
        for n in names:
            if n != drop:
                z.writestr(n, "Wheel-Version: 1.0\nTag: py3-none-any\n" if n.endswith("WHEEL") else n)
    return path


def test_trimming_a_complete_wheel_keeps_its_parts(tmp_path):
    build = _build_module()
    source = _fake_upstream(tmp_path / "pyoidn-2.5.1.0-py3-none-any.whl", drop="")
    out = build.trim_oidn_wheel(source, tmp_path)
    assert out.name == "pyoidn-2.5.1.0-1optica-py3-none-any.whl"
    kept = set(_files(out))
    assert "pyoidn/oidn/lib/libtbb.so.12" in kept and "pyoidn/oidn/lib/libtbb.so.12.19" not in kept
    assert not [n for n in kept if "sycl" in n or n.endswith(".so.2")]
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("drop,message", [
    ("pyoidn/oidn/lib/libtbb.so.12", r"libtbb.*oneTBB .NEEDED by the CPU device.*none"),
    ("pyoidn/oidn/lib/libOpenImageDenoise_device_cuda.so.2.5.1", r"device_cuda.*the CUDA device"),
    ("pyoidn-2.5.1.0.dist-info/WHEEL", r"no single \.dist-info/WHEEL"),
])
def test_trimming_refuses_a_wheel_without_what_the_loader_needs(tmp_path, drop, message):
    """A pinned pyoidn whose layout changed is a build error naming the missing part, and no
    wheel (nor a temporary file) is left behind."""
    build = _build_module()
    source = _fake_upstream(tmp_path / "pyoidn-2.5.1.0-py3-none-any.whl", drop=drop)
    with pytest.raises(build.BuildError, match=message):
        build.trim_oidn_wheel(source, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [source.name]


def test_denoiser_wheel_is_trimmed_once_per_pin_and_reproducibly(oidn_wheel, tmp_path, capsys):
    """ensure_oidn_wheel() trims the upstream wheel into the same bytes as the build's did, and
    reuses it while nothing changed."""
    build = _build_module()
    (tmp_path / "upstream").mkdir()
    try:  # a hard link where dist/ and the temporary folder share a file system: no 88 MB copy
        os.link(_upstream_oidn_wheel(), tmp_path / "upstream" / _upstream_oidn_wheel().name)
    except OSError:
        shutil.copy(_upstream_oidn_wheel(), tmp_path / "upstream")
    first = build.ensure_oidn_wheel(tmp_path)
    assert first.name == oidn_wheel.name and first.read_bytes() == oidn_wheel.read_bytes()
    mtime = first.stat().st_mtime_ns
    capsys.readouterr()
    assert build.ensure_oidn_wheel(tmp_path) == first and first.stat().st_mtime_ns == mtime
    assert "up to date" in capsys.readouterr().out


def test_denoiser_wheel_that_cannot_be_had_leaves_the_zip_without_it(tmp_path, capsys, monkeypatch):
    """pip cannot fetch the pinned pyoidn (here: it cannot even start): a warning, no wheel, and
    the build goes on; the add-on then says that pyoidn is missing (tests/test_denoise.py)."""
    build = _build_module()
    monkeypatch.setattr(build, "VENV_PY", Path(shutil.which("false")))
    assert build.ensure_oidn_wheel(tmp_path) is None
    assert "WARNING: could not get the pyoidn==2.5.1.0 wheel" in capsys.readouterr().out
    assert not list(tmp_path.rglob("*.whl")) and not (tmp_path / ".pyoidn-trimmed.json").exists()
