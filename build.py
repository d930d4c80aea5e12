#!/usr/bin/env python3
"""Optica's one entry point: environment, native core, extension zip, demo, tests.

    python build.py              build: .venv (pinned requirements.txt), the native core wheel
                                 (installed into .venv) and the extension dist/optica-<version>.zip
    python build.py zip          the same (prints the zip path last)
    python build.py test [...]   build, then `pytest -m "not slow and not stress"` in .venv; extra
                                 arguments go to pytest; `--all` also runs the tests marked slow and
                                 stress (`-m stress`: the reliability suite's long runs). Exit code = pytest's
    python build.py lint         ruff (lint + format check) and mypy against fake-bpy-module (Blender 5.0)
                                 over the Blender side, in their own venv (.venv-lint, requirements-lint.txt)
    python build.py fuzz [--minutes N] [...]   build, then the fuzzers for N minutes (default 30) on 2
                                 cores: structured scene mutations (hypothesis) and the byte fuzzer
                                 (atheris) for load_scene and animation folders, each target in child
                                 processes; findings are kept in tests/fuzz/regressions/ (docs/reliability.md)
    python build.py demo [...]   build, then render the animated demo (demo/demo.blend) with Optica's
                                 streaming video export to out/demo.mp4 (arguments go to
                                 tools/demo.py, e.g. --frames 12 --samples 8)

Every stage is incremental: pip runs only when requirements.txt changed, the wheel is rebuilt and
reinstalled only when the native sources changed (CMake's own build folder, native/build/, makes
that rebuild incremental too), the bundled third-party wheels (PyAV, PyOpenColorIO: the video
export; cffi, pycparser: what pyoidn imports) are fetched into dist/deps/ once per pinned version,
the denoiser's wheel is fetched and trimmed (trim_oidn_wheel()) once per pinned version, and the
zip is cheap to rewrite.

This file uses only the standard library: it runs with the system Python before .venv exists.
"""

import sys

PYTHON = (3, 11)  # bpy 5.0 exists for Python 3.11 only


def _ensure_python() -> None:
    """Re-run under python3.11 when started with another Python (the venv must be 3.11)."""
    if sys.version_info[:2] == PYTHON:
        return
    import os
    import shutil

    exe = shutil.which("python%d.%d" % PYTHON)
    if exe and os.environ.get("OPTICA_BUILD_REEXEC") != "1":
        os.environ["OPTICA_BUILD_REEXEC"] = "1"
        os.execv(exe, [exe, *sys.argv])
    sys.exit(
        "build.py: Python %d.%d is required (bpy 5.0 is built for it); this is %s and no "
        "python%d.%d was found on PATH" % (*PYTHON, sys.version.split()[0], *PYTHON)
    )


_ensure_python()

import base64  # noqa: E402
import csv  # noqa: E402
import fcntl  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements.txt"
MANIFEST = ROOT / "blender_manifest.toml"
NATIVE = ROOT / "native"
DIST = ROOT / "dist"
WHEELS = DIST / "wheels"
DEPS = DIST / "deps"  # third-party wheels bundled into the zip (ensure_wheel() prunes WHEELS)
REQ_STAMP = VENV / ".optica-requirements.stamp"
NATIVE_STAMP = VENV / ".optica-native.stamp"
LOCK = DIST / ".build.lock"

# What goes into the extension zip besides the generated manifest and the wheel.
PACKAGE_FILES = ("__init__.py",)
PACKAGE_DIRS = ("addon", "operators", "ui")
EXCLUDED_DIRS = {"__pycache__"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".so", ".blend1", ".orig", ".rej", "~")

# Third-party packages the extension needs inside Blender, bundled as wheels at the versions
# requirements.txt pins: PyAV (video encoding), PyOpenColorIO (colour management of exported
# frames), OpenEXR and Pillow (the parallel export's temporary frames, the farm's kept frames),
# cffi with pycparser, which pyoidn imports and Blender's own Python lacks, and Dask distributed
# with what it imports (the export method DASK runs the farm inside Blender).
BUNDLED = ("av", "opencolorio", "openexr", "pillow", "cffi", "pycparser") + (
    "dask", "distributed", "click", "cloudpickle", "fsspec", "importlib_metadata", "zipp", "jinja2", "markupsafe",
    "locket", "msgpack", "packaging", "partd", "psutil", "pyyaml", "sortedcontainers", "tblib", "toolz", "tornado",
    "zict")

# The denoiser (pyoidn: Intel Open Image Denoise) is bundled trimmed: its upstream wheel stores
# every symlink of its lib/ folder as a full copy and carries the SYCL and HIP devices, their
# runtimes and test programs (178.6 MB installed). The trimmed wheel keeps one real file under each
# name the loader asks for, so no symlink and no RPATH rewrite is needed: pyoidn opens
# lib/libOpenImageDenoise.so by path; that NEEDs libOpenImageDenoise_core.so.<version> (its
# SONAME); the core dlopens its device modules by their versioned names from its own folder; the
# CPU device NEEDs libtbb.so.12. Every library's RPATH is $ORIGIN/../lib, that same folder.
OIDN = "pyoidn"
OIDN_LIB = "pyoidn/oidn/lib/"
OIDN_REQUIRED = {  # pattern of a kept file -> why it is needed (each must match one file)
    r"pyoidn/__init__\.py": "the Python package",
    r"pyoidn/oidn/lib/libOpenImageDenoise\.so": "opened by pyoidn by path",
    r"pyoidn/oidn/lib/libOpenImageDenoise_core\.so\.\d+\.\d+\.\d+": "OIDN's core (NEEDED by the above)",
    r"pyoidn/oidn/lib/libOpenImageDenoise_device_cpu\.so\.\d+\.\d+\.\d+": "the CPU device",
    r"pyoidn/oidn/lib/libOpenImageDenoise_device_cuda\.so\.\d+\.\d+\.\d+": "the CUDA device",
    r"pyoidn/oidn/lib/libtbb\.so\.\d+": "oneTBB (NEEDED by the CPU device)",
}
OIDN_ALSO_KEPT = (r"pyoidn/[^/]+\.py", r"[^/]+\.dist-info/(METADATA|top_level\.txt|licenses/.+)")
OIDN_BUILD_TAG = "1optica"  # marks the trimmed wheel's file name apart from the upstream one
OIDN_NOTICE = """\
This wheel is pyoidn {version} repacked by Optica's build.py with only what Optica loads:
the pyoidn Python package (MIT, see LICENSE) and, in pyoidn/oidn/lib/, binaries of
Intel Open Image Denoise (Apache-2.0): its core library, CPU device and CUDA device, and of
oneTBB (Apache-2.0). Left out of the upstream wheel {source}
(copies standing for symlinks, the SYCL and HIP devices and their runtimes, oneTBB's optional
NUMA binding libraries, programs, CMake files):
{dropped}
"""

# Top-level entries of native/ that are not inputs of the wheel (scikit-build-core's build-dir).
NATIVE_SKIP_TOP = {"build", "dist"}


class BuildError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# small helpers


def stage(name: str, what: str, t0: float) -> None:
    print(f"[build] {name:<6} {what}  ({time.perf_counter() - t0:.1f} s)", flush=True)


def run(cmd, **kw) -> None:
    cmd = [str(c) for c in cmd]
    res = subprocess.run(cmd, **kw)
    if res.returncode != 0:
        raise BuildError(f"command failed with exit code {res.returncode}: {' '.join(cmd)}")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_stamp(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_stamp(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def read_manifest() -> dict:
    with open(MANIFEST, "rb") as f:
        return tomllib.load(f)


# --------------------------------------------------------------------------------------------
# stage 1: the virtual environment


def _venv_usable() -> bool:
    """True when .venv/bin/python runs and is Python 3.11 (a moved/removed base Python breaks it)."""
    if not VENV_PY.exists():
        return False
    try:
        out = subprocess.run(
            [str(VENV_PY), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "%d.%d" % PYTHON


def requirements_digest() -> str:
    h = hashlib.sha256(REQUIREMENTS.read_bytes())
    h.update(("python%d.%d" % PYTHON).encode())
    return h.hexdigest()


def ensure_venv() -> str:
    """Create .venv if needed and install requirements.txt when it changed. Returns its digest."""
    t0 = time.perf_counter()
    created = False
    if not _venv_usable():
        if VENV.exists():
            print(f"[build] venv   {VENV} is not a working Python {PYTHON[0]}.{PYTHON[1]} venv: recreating", flush=True)
            shutil.rmtree(VENV)
        run([sys.executable, "-m", "venv", VENV])
        created = True
    digest = requirements_digest()
    if read_stamp(REQ_STAMP).get("requirements") == digest:
        stage("venv", "requirements up to date", t0)
        return digest
    print(f"[build] venv   installing {REQUIREMENTS.name} into {VENV.name}/"
          f"{' (first run: bpy is large, this takes a few minutes)' if created else ''}", flush=True)
    # pip's own configuration (indexes, find-links, constraints) applies unchanged.
    run([VENV_PY, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "-r", REQUIREMENTS])
    run([VENV_PY, "-m", "pip", "check", "--disable-pip-version-check"])
    # A changed environment invalidates the installed core: force its rebuild and reinstall.
    NATIVE_STAMP.unlink(missing_ok=True)
    write_stamp(REQ_STAMP, {"requirements": digest})
    stage("venv", "requirements installed", t0)
    return digest


# --------------------------------------------------------------------------------------------
# stage 2: the native core wheel


def _native_inputs(native: Path) -> list[Path]:
    """Every source file of native/ (src/**, optica_core/**, CMakeLists.txt, pyproject.toml and
    whatever else is added there), without build products and caches."""
    files = []
    for p in native.rglob("*"):
        rel = p.relative_to(native)
        if not p.is_file() or rel.parts[0] in NATIVE_SKIP_TOP:
            continue
        if EXCLUDED_DIRS.intersection(rel.parts) or any(x.startswith(".") or x.endswith(".egg-info") for x in rel.parts):
            continue
        if p.name.endswith(EXCLUDED_SUFFIXES):
            continue
        files.append(p)
    return sorted(files)


def native_digest(native: Path, req_digest: str) -> str:
    h = hashlib.sha256(req_digest.encode())
    # Where the OptiX headers are looked for (native/src/optix/optix.cmake): another place, or
    # headers appearing, is another build.
    optix_roots = [os.environ.get("OPTIX_ROOT", ""), str(ROOT.parent / "shared" / "third_party" / "optix")]
    h.update(repr([(r, (Path(r) / "include" / "optix.h").is_file()) for r in optix_roots if r]).encode())
    h.update(repr(shutil.which("nvcc")).encode())
    for p in _native_inputs(native):
        h.update(p.relative_to(native).as_posix().encode() + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def ensure_wheel(req_digest: str, native: Path = NATIVE) -> Path:
    """Build native/ into dist/wheels/ and install it into .venv, unless nothing changed."""
    t0 = time.perf_counter()
    for required in ("pyproject.toml", "CMakeLists.txt"):
        if not (native / required).is_file():
            raise BuildError(f"{native / required} is missing")
    digest = native_digest(native, req_digest)
    stamp = read_stamp(NATIVE_STAMP)
    if stamp.get("native") == digest and (WHEELS / stamp.get("wheel", "-")).is_file():
        stage("wheel", f"native core up to date: {stamp['wheel']}", t0)
        return WHEELS / stamp["wheel"]

    if shutil.which("cmake") is None:
        raise BuildError("cmake was not found on PATH (the native core needs CMake >= 3.18)")
    WHEELS.mkdir(parents=True, exist_ok=True)
    print(f"[build] wheel  building {native.name}/ (incremental in {native.name}/build/)", flush=True)
    name_file = DIST / ".wheel-name"
    name_file.unlink(missing_ok=True)
    env = dict(os.environ)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
    # The PEP 517 hook of scikit-build-core straight from .venv: no build isolation, so no
    # network and the persistent build folder (pyproject: build-dir) stays valid.
    hook = (
        "import sys, pathlib\n"
        "from scikit_build_core.build import build_wheel\n"
        "name = build_wheel(sys.argv[1])\n"
        "pathlib.Path(sys.argv[2]).write_text(name)\n"
    )
    run([VENV_PY, "-c", hook, WHEELS, name_file], cwd=native, env=env)
    wheel = WHEELS / name_file.read_text().strip()
    name_file.unlink()
    for old in WHEELS.glob("*.whl"):
        if old != wheel:
            old.unlink()
    stage("wheel", f"built {wheel.name}", t0)

    t1 = time.perf_counter()
    run([VENV_PY, "-m", "pip", "install", "--disable-pip-version-check", "--no-index", "--no-deps",
         "--force-reinstall", "--quiet", wheel])
    write_stamp(NATIVE_STAMP, {"native": digest, "wheel": wheel.name})
    stage("wheel", "installed into .venv", t1)
    return wheel


def report_optix() -> None:
    """Says whether the installed core carries the OptiX backend (native/src/optix/optix.cmake
    decides: nvcc and the OptiX headers found) and whether it can run here (docs/gpu.md)."""
    probe = "import json, optica_core._native as n; print(json.dumps(dict(n.optix_status())))"
    res = subprocess.run([VENV_PY, "-c", probe], capture_output=True, text=True)
    if res.returncode != 0:
        raise BuildError(f"the built core does not import: {res.stderr.strip()}")
    status = json.loads(res.stdout)
    if not status["built"]:
        print(f"[build] optix  OptiX backend NOT built: {status['why'].split(': ', 1)[-1]}", flush=True)
    elif not status["programs_compiled"]:
        print(f"[build] optix  WARNING: OptiX backend unusable: {status['why']}", flush=True)
    else:
        where = "usable here" if status["usable"] else f"not usable here: {status['why']}"
        print(f"[build] optix  OptiX backend built (device programs embedded); {where}", flush=True)


# --------------------------------------------------------------------------------------------
# stage 3: third-party wheels for the zip


def pinned_version(name: str) -> str:
    for line in REQUIREMENTS.read_text().splitlines():
        spelled = re.sub(r"[-_.]", "[-_.]", name)  # importlib_metadata is pinned as importlib-metadata
        m = re.match(rf"^\s*{spelled}\s*==\s*([^\s;#]+)", line, re.IGNORECASE)
        if m:
            return m.group(1)
    raise BuildError(f"{REQUIREMENTS.name} pins no version of {name}")


def fetch_pinned_wheel(name: str, dest: Path) -> Path | None:
    """The wheel of `name` at its pinned version in dest/; pip downloads it when missing (through
    pip's configured index), once, and other versions there are removed. None, with a warning,
    when it cannot be had: the zip then lacks it and the feature says the package is missing."""
    version = pinned_version(name)
    dest.mkdir(parents=True, exist_ok=True)
    have = sorted(dest.glob(f"{name}-{version}-*.whl"))
    if not have:
        print(f"[build] deps   downloading {name}=={version}", flush=True)
        res = subprocess.run(
            [str(VENV_PY), "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--no-deps",
             "--only-binary=:all:", "-d", str(dest), f"{name}=={version}"])
        have = sorted(dest.glob(f"{name}-{version}-*.whl"))
        if res.returncode != 0 or not have:
            print(f"[build] deps   WARNING: could not get the {name}=={version} wheel; the zip will lack it",
                  flush=True)
            return None
    for old in dest.glob(f"{name}-*.whl"):
        if old not in have:
            old.unlink()
    return have[-1]


def ensure_bundled_wheels() -> list[Path]:
    """The BUNDLED wheels in dist/deps/ at their pinned versions."""
    t0 = time.perf_counter()
    out = [w for w in (fetch_pinned_wheel(name, DEPS) for name in BUNDLED) if w is not None]
    stage("deps", f"{len(out)} of {len(BUNDLED)} bundled wheels ready", t0)
    return out


# --------------------------------------------------------------------------------------------
# stage 3b: the denoiser's wheel, trimmed


def _oidn_kept(names: list[str], source: str) -> list[str]:
    """The entries of the upstream wheel that the trimmed one keeps (OIDN_REQUIRED must each
    match exactly one: anything else means the pinned wheel's layout changed)."""
    for pattern, why in OIDN_REQUIRED.items():
        hits = [n for n in names if re.fullmatch(pattern, n)]
        if len(hits) != 1:
            raise BuildError(f"{source} should hold one file matching {pattern} ({why}); it holds "
                             f"{hits or 'none'}: the denoiser's wheel cannot be trimmed")
    patterns = (*OIDN_REQUIRED, *OIDN_ALSO_KEPT)
    return [n for n in names if any(re.fullmatch(p, n) for p in patterns)]


def _record_line(path: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [path, f"sha256={digest}", str(len(data))]


def trim_oidn_wheel(source: Path, out_dir: Path) -> Path:
    """Writes the trimmed denoiser wheel made from the upstream wheel `source` into out_dir (see
    OIDN_REQUIRED) and returns its path: the same distribution, version and tags with the build
    tag OIDN_BUILD_TAG, a WHEEL file saying so, a note of what was left out, a fresh RECORD."""
    name, version, *_, py, abi, plat = source.name[: -len(".whl")].split("-")
    out = out_dir / f"{name}-{version}-{OIDN_BUILD_TAG}-{py}-{abi}-{plat}.whl"
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(source) as src:
        infos = {i.filename: i for i in src.infolist() if not i.is_dir()}
        kept = _oidn_kept(list(infos), source.name)
        wheel_files = [n for n in infos if re.fullmatch(r"[^/]+\.dist-info/WHEEL", n)]
        if len(wheel_files) != 1:
            raise BuildError(f"{source.name} has no single .dist-info/WHEEL file: {wheel_files}")
        dist_info = wheel_files[0].split("/")[0]
        wheel_info = infos[wheel_files[0]]
        wheel_meta = [line for line in src.read(wheel_files[0]).decode().splitlines()
                      if line and not line.startswith(("Generator:", "Build:"))]
        dropped = sorted(n.removeprefix(OIDN_LIB) for n in infos if n not in kept and not n.startswith(dist_info))
        generated = {
            f"{dist_info}/WHEEL": "\n".join(
                [wheel_meta[0], f"Generator: Optica build.py (trimmed from {source.name})", *wheel_meta[1:],
                 f"Build: {OIDN_BUILD_TAG}", ""]),
            f"{dist_info}/TRIMMED.txt": OIDN_NOTICE.format(
                version=version, source=source.name, dropped=textwrap.fill(", ".join(dropped), 96)),
        }
        record = []
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
                def add(arc: str, data: bytes, like: zipfile.ZipInfo) -> None:
                    info = zipfile.ZipInfo(arc, like.date_time)  # upstream's dates: the same bytes every build
                    info.external_attr = like.external_attr
                    z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)

                for arc in sorted(kept, key=lambda n: (n.startswith(dist_info), n)):
                    data = src.read(arc)
                    add(arc, data, infos[arc])
                    record.append(_record_line(arc, data))
                for arc, text in generated.items():
                    add(arc, text.encode("utf-8"), wheel_info)
                    record.append(_record_line(arc, text.encode("utf-8")))
                rows = io.StringIO()
                csv.writer(rows, lineterminator="\n").writerows([*record, [f"{dist_info}/RECORD", "", ""]])
                add(f"{dist_info}/RECORD", rows.getvalue().encode("utf-8"), wheel_info)
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
    return out


def _oidn_recipe() -> str:
    """Changes whenever what trim_oidn_wheel() would write changes."""
    import inspect

    parts = [OIDN_REQUIRED, OIDN_ALSO_KEPT, OIDN_BUILD_TAG, OIDN_NOTICE,
             *(inspect.getsource(f) for f in (trim_oidn_wheel, _oidn_kept, _record_line))]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def ensure_oidn_wheel(deps: Path = DEPS) -> Path | None:
    """The trimmed denoiser wheel in deps/, made from the pinned upstream wheel (kept in
    deps/upstream/) once per pinned version and recipe; None when that cannot be had."""
    t0 = time.perf_counter()
    source = fetch_pinned_wheel(OIDN, deps / "upstream")
    if source is None:
        return None
    stamp_path = deps / f".{OIDN}-trimmed.json"
    wanted = {"source": source.name, "source_size": source.stat().st_size, "recipe": _oidn_recipe()}
    stamp = read_stamp(stamp_path)
    if {k: stamp.get(k) for k in wanted} == wanted and (deps / stamp.get("wheel", "-")).is_file():
        stage("oidn", f"trimmed denoiser wheel up to date: {stamp['wheel']}", t0)
        return deps / stamp["wheel"]
    out = trim_oidn_wheel(source, deps)
    for old in deps.glob(f"{OIDN}-*.whl"):
        if old != out:
            old.unlink()
    write_stamp(stamp_path, {**wanted, "wheel": out.name})
    mb = 1e6
    stage("oidn", f"trimmed {source.name} ({source.stat().st_size / mb:.1f} MB) to {out.name} "
          f"({out.stat().st_size / mb:.1f} MB)", t0)
    return out


# --------------------------------------------------------------------------------------------
# stage 4: the extension zip


def manifest_with_wheels(text: str, wheel_paths: list[str]) -> str:
    """The repository manifest with its top-level `wheels` key set to wheel_paths."""
    line = "wheels = [" + ", ".join(f'"{w}"' for w in wheel_paths) + "]"
    pattern = re.compile(r"^wheels\s*=\s*\[[^\]]*\][^\n]*$", re.MULTILINE)
    if pattern.search(text):
        new = pattern.sub(lambda _m: line, text, count=1)
    else:
        # Insert before the first table header so the key stays at the top level.
        header = re.search(r"^\s*\[", text, re.MULTILINE)
        at = header.start() if header else len(text)
        head = text[:at]
        if head and not head.endswith("\n"):
            head += "\n"
        new = head + line + "\n" + ("\n" + text[at:] if header else "")
    parsed = tomllib.loads(new)
    if parsed.get("wheels") != wheel_paths:
        raise BuildError("could not set `wheels` in the generated blender_manifest.toml")
    return new


def _package_files() -> list[tuple[Path, str]]:
    out = []
    for name in PACKAGE_FILES:
        out.append((ROOT / name, name))
    for d in PACKAGE_DIRS:
        base = ROOT / d
        if not base.is_dir():
            raise BuildError(f"{base} is missing")
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(ROOT)
            if not p.is_file() or EXCLUDED_DIRS.intersection(rel.parts):
                continue
            if any(part.startswith(".") for part in rel.parts) or p.name.endswith(EXCLUDED_SUFFIXES):
                continue
            out.append((p, rel.as_posix()))
    return out


def build_zip(wheel: Path, extra_wheels: list[Path] = ()) -> Path:
    t0 = time.perf_counter()
    manifest = read_manifest()
    wheels = [wheel, *extra_wheels]
    text = manifest_with_wheels(MANIFEST.read_text(encoding="utf-8"), [f"./wheels/{w.name}" for w in wheels])
    out = DIST / f"{manifest['id']}-{manifest['version']}.zip"
    DIST.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    files = _package_files()
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("blender_manifest.toml", text)
        for src, arc in files:
            z.write(src, arc)
        for w in wheels:
            z.write(w, f"wheels/{w.name}", compress_type=zipfile.ZIP_STORED)  # a wheel is a zip already
    tmp.replace(out)
    for old in DIST.glob(f"{manifest['id']}-*.zip"):
        if old != out:
            old.unlink()
    size = out.stat().st_size / 1e6
    stage("zip", f"{out.relative_to(ROOT)} ({len(files) + 1 + len(wheels)} files, {size:.1f} MB)", t0)
    return out


# --------------------------------------------------------------------------------------------
# commands


def build() -> Path:
    DIST.mkdir(parents=True, exist_ok=True)
    # One build at a time (several people / test runs may call build.py concurrently).
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        req = ensure_venv()
        wheel = ensure_wheel(req)
        report_optix()
        denoiser = ensure_oidn_wheel()
        return build_zip(wheel, [*ensure_bundled_wheels(), *([denoiser] if denoiser else [])])


def cmd_test(args: list[str]) -> int:
    run_all = "--all" in args
    args = [a for a in args if a != "--all"]
    has_marker = any(a == "-m" or (a.startswith("-m") and not a.startswith("--")) for a in args)
    marker = [] if run_all or has_marker else ["-m", "not slow and not stress"]
    cmd = [str(VENV_PY), "-m", "pytest", *marker, *args]
    print("[build] test   " + shlex.join([".venv/bin/python", *cmd[1:]]), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


LINT_VENV = ROOT / ".venv-lint"
LINT_REQUIREMENTS = ROOT / "requirements-lint.txt"


def cmd_lint() -> int:
    """ruff check, ruff format --check, then mypy on the package `optica` (a link to this root in
    a temporary folder: the root is the extension package)."""
    import tempfile

    py = LINT_VENV / "bin" / "python"
    stamp = LINT_VENV / ".optica-lint.stamp"
    digest = sha256_file(LINT_REQUIREMENTS)
    if not py.exists():
        run([sys.executable, "-m", "venv", LINT_VENV])
    if read_stamp(stamp).get("requirements") != digest:
        run([py, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "-r", LINT_REQUIREMENTS])
        write_stamp(stamp, {"requirements": digest})
    code = 0
    for cmd in (["-m", "ruff", "check", "."], ["-m", "ruff", "format", "--check", "."]):
        print("[build] lint   " + shlex.join(["ruff", *cmd[2:]]), flush=True)
        code |= subprocess.run([str(py), *cmd], cwd=ROOT).returncode
    with tempfile.TemporaryDirectory(prefix="optica-lint-") as tmp:
        (Path(tmp) / "optica").symlink_to(ROOT)
        env = dict(os.environ, MYPYPATH=os.pathsep.join([tmp, str(NATIVE)]))
        packages = ["-p", "optica.addon", "-p", "optica.operators", "-p", "optica.ui", "-p", "optica_core.sinks"]
        print("[build] lint   mypy " + " ".join(packages), flush=True)
        code |= subprocess.run([str(py), "-m", "mypy", "--config-file", str(ROOT / "mypy.ini"), *packages],
                               cwd=tmp, env=env).returncode
    return code


def cmd_fuzz(args: list[str]) -> int:
    if "--minutes" not in args:
        args = ["--minutes", "30", *args]
    cmd = [str(VENV_PY), str(ROOT / "tests" / "fuzz" / "runner.py"), "--save", *args]
    print("[build] fuzz   " + shlex.join([".venv/bin/python", "tests/fuzz/runner.py", *cmd[2:]]), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def cmd_demo(args: list[str]) -> int:
    cmd = [str(VENV_PY), str(ROOT / "tools" / "demo.py"), *args]
    print("[build] demo   " + shlex.join([".venv/bin/python", "tools/demo.py", *args]), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("build", [])
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if command not in ("build", "zip", "test", "demo", "lint", "fuzz"):
        print(f"build.py: unknown command {command!r} (build, zip, test, demo, lint, fuzz)", file=sys.stderr)
        return 2
    if command == "lint":
        try:
            return cmd_lint()
        except BuildError as e:
            print(f"[build] FAILED: {e}", file=sys.stderr)
            return 1
    if command in ("build", "zip") and rest:
        print(f"build.py: {command} takes no arguments", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        out = build()
    except BuildError as e:
        print(f"[build] FAILED: {e}", file=sys.stderr)
        return 1
    print(f"[build] done   {out}  ({time.perf_counter() - t0:.1f} s)", flush=True)
    if command == "test":
        return cmd_test(rest)
    if command == "demo":
        return cmd_demo(rest)
    if command == "fuzz":
        return cmd_fuzz(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
