"""Shared helpers of Optica's benchmarks (bench/traversal.py, bench/render.py).

Nothing here is part of the product: it imports `optica_core` like any user would and builds
the benchmark-only Embree harness (bench/embree/) on first use.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
EMBREE_SRC = BENCH_DIR / "embree"
EMBREE_BUILD = EMBREE_SRC / "build"
EMBREE_EXE = EMBREE_BUILD / "embree_bench"

INSTALL_HINT = (
    "optica_core is not importable from this Python. Build and install it, e.g.\n"
    "  python3.11 -m venv /tmp/venv-bench\n"
    "  /tmp/venv-bench/bin/pip install numpy==1.26.4 scikit-build-core==1.1.2 pybind11==3.1.0\n"
    "  /tmp/venv-bench/bin/pip install --no-build-isolation native\n"
    "then run the benchmark with /tmp/venv-bench/bin/python (or use `python build.py` and .venv)."
)


def import_core():
    """`optica_core`, or exit with instructions (the benchmarks measure the installed core)."""
    try:
        import optica_core  # noqa: F401
        import optica_core.scenes  # noqa: F401
    except ImportError as e:
        sys.exit("%s\n(%s: %s)" % (INSTALL_HINT, type(e).__name__, e))
    return sys.modules["optica_core"]


# ---------------------------------------------------------------------------------------------
# The machine


def machine_info() -> dict:
    """CPU model, core count, SIMD flags, how busy the CPU is: printed above every table."""
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512vl") if f in flags]
    busy = _cpu_busy(1.0)
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    info = {
        "cpu": model or platform.processor() or platform.machine(),
        "logical_cores": os.cpu_count(),
        "simd": simd,
        "load_average_1m": round(load[0], 2),
        "cpu_busy_before_start": busy,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    try:
        from importlib.metadata import version

        info["optica_core"] = version("optica-core")
    except Exception:  # noqa: BLE001 - informative only
        pass
    return info


def _cpu_busy(seconds: float):
    """Fraction of all CPU time spent busy over `seconds` (/proc/stat), before the benchmark runs."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return sum(v), v[3] + v[4]  # total, idle + iowait

    try:
        t1, i1 = sample()
        time.sleep(seconds)
        t2, i2 = sample()
        return round(1.0 - (i2 - i1) / max(1, t2 - t1), 3)
    except (OSError, ValueError):
        return None


def print_machine(info: dict) -> None:
    busy = info.get("cpu_busy_before_start")
    print(
        "machine: %s, %d logical cores, SIMD %s; CPU busy before start %s (load average %.2f); python %s, "
        "numpy %s; %s"
        % (
            info["cpu"],
            info["logical_cores"],
            "/".join(info["simd"]) or "?",
            "?" if busy is None else "%.0f%%" % (100 * busy),
            info["load_average_1m"],
            info["python"],
            info["numpy"],
            info["date"],
        )
    )
    if busy is not None and busy > 0.1:
        print("note: other processes are using the CPU (%.0f%% busy): figures may be low and noisy" % (100 * busy))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (worker processes, and theirs)."""
    import resource

    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def best_of(fn, repeat: int):
    """(seconds, result) of the fastest of `repeat` calls of fn()."""
    best, best_res = float("inf"), None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        res = fn()
        dt = time.perf_counter() - t0
        if dt < best:
            best, best_res = dt, res
    return best, best_res


def format_table(headers: list[str], rows: list[list]) -> str:
    """A plain-text table (also valid Markdown)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r):
        return "| " + " | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"

    out = [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Scenes as world-space triangles


def instance_object_ids(d: dict) -> list[np.ndarray]:
    """Per instance group, the object id of each placement (scene-dict.md: running index by default)."""
    ids, running = [], 0
    for group in d.get("instances", []):
        n = len(group["transforms"])
        if group.get("object_ids") is not None:
            ids.append(np.asarray(group["object_ids"], np.int64).reshape(n))
        else:
            ids.append(np.arange(running, running + n, dtype=np.int64))
        running += n
    return ids


def flatten_triangles(d: dict):
    """World-space triangles of every mesh instance of scene dict `d`.

    Returns (vertices f32 (V,3), triangles i32 (T,3), base) where base maps an instance's
    object id to the index of its first triangle in the flattened arrays, so that optica's
    (object id, primitive) of a hit names the same triangle as Embree's primID. Sphere
    geometry is not supported (the Embree harness traces triangles only).
    """
    meshes = d.get("meshes", {})
    verts, tris, base = [], [], {}
    nv = nt = 0
    for group, ids in zip(d.get("instances", []), instance_object_ids(d)):
        name = group["geometry"]
        if name not in meshes:
            raise ValueError("traversal benchmark: geometry %r is not a triangle mesh" % name)
        mv = np.asarray(meshes[name]["vertices"], np.float64).reshape(-1, 3)
        mt = np.asarray(meshes[name]["triangles"], np.int64).reshape(-1, 3)
        for m, oid in zip(np.asarray(group["transforms"], np.float64).reshape(-1, 4, 4), ids):
            verts.append(mv @ m[:3, :3].T + m[:3, 3])
            tris.append(mt + nv)
            base[int(oid)] = nt if int(oid) not in base else -1  # -1: ambiguous id
            nv += len(mv)
            nt += len(mt)
    if not tris:
        raise ValueError("traversal benchmark: the scene has no mesh instances")
    return (
        np.ascontiguousarray(np.concatenate(verts), np.float32),
        np.ascontiguousarray(np.concatenate(tris), np.int32),
        base,
    )


def triangle_normals(verts: np.ndarray, tris: np.ndarray, prim: np.ndarray) -> np.ndarray:
    """Unit geometric normals (float64) of triangles `prim` (indices into `tris`)."""
    t = tris[prim]
    v0, v1, v2 = (verts[t[:, k]].astype(np.float64) for k in range(3))
    n = np.cross(v1 - v0, v2 - v0)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return n / np.where(length > 0, length, 1.0)


# ---------------------------------------------------------------------------------------------
# Rays


def ray_grid_shape(n_rays: int, width: int, height: int) -> tuple[int, int]:
    """(nx, ny) with nx·ny ≈ n_rays and the aspect of the frame."""
    aspect = width / height
    nx = max(1, int(round(np.sqrt(n_rays * aspect))))
    ny = max(1, int(round(n_rays / nx)))
    return nx, ny


def camera_rays(camera: dict, width: int, height: int, nx: int, ny: int):
    """Rays of the scene camera through the centres of an nx × ny grid over its frame.

    Blender's conventions (docs/scene-dict.md): camera-to-world `matrix`, looking along −Z
    with +Y up; sensor fit AUTO/HORIZONTAL/VERTICAL, shift in units of the fitted dimension;
    perspective (pinhole; depth of field ignored) or orthographic. Row 0 is the top of the
    frame. Returns float32 (N,3) origins and unit directions, N = nx·ny.
    """
    m = np.asarray(camera["matrix"], np.float64).reshape(4, 4)
    kind = camera.get("type", "perspective")
    fit = camera.get("sensor_fit", "AUTO")
    sw, sh = float(camera.get("sensor_width", 36.0)), float(camera.get("sensor_height", 24.0))
    if fit == "AUTO":
        horizontal, sensor = width >= height, sw
    elif fit == "HORIZONTAL":
        horizontal, sensor = True, sw
    else:
        horizontal, sensor = False, sh
    if kind == "orthographic":
        fitted = float(camera.get("ortho_scale", 6.0))
    else:
        fitted = sensor / float(camera.get("lens", 50.0))  # image-plane extent at distance 1
    if horizontal:
        plane_w, plane_h = fitted, fitted * height / width
    else:
        plane_w, plane_h = fitted * width / height, fitted
    sx = float(camera.get("shift_x", 0.0)) * fitted
    sy = float(camera.get("shift_y", 0.0)) * fitted
    u = (np.arange(nx) + 0.5) / nx - 0.5
    v = 0.5 - (np.arange(ny) + 0.5) / ny
    uu, vv = np.meshgrid(u, v)  # (ny, nx): row 0 at the top
    x = (uu * plane_w + sx).ravel()
    y = (vv * plane_h + sy).ravel()
    n = x.size
    if kind == "orthographic":
        local_o = np.stack([x, y, np.zeros(n)], axis=1)
        local_d = np.tile([0.0, 0.0, -1.0], (n, 1))
    else:
        local_o = np.zeros((n, 3))
        local_d = np.stack([x, y, -np.ones(n)], axis=1)
    origins = local_o @ m[:3, :3].T + m[:3, 3]
    dirs = local_d @ m[:3, :3].T
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    return np.ascontiguousarray(origins, np.float32), np.ascontiguousarray(dirs, np.float32)


def uniform_sphere(n: int, rng: np.random.Generator) -> np.ndarray:
    z = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    r = np.sqrt(np.maximum(0.0, 1.0 - z * z))
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def incoherent_rays(origins, dirs, t, prim, verts, tris, rng: np.random.Generator):
    """Secondary-bounce-like rays from the hits of (origins, dirs).

    At a hit: the origin is the hit point pushed off the surface along the geometric normal,
    by 1e-4 of the scene size, to the side the primary ray came from; the direction is
    uniform over that hemisphere (a diffuse bounce, sampled uniformly). A ray that missed
    gets a uniform random origin inside the scene's bounding box and a uniform direction on
    the whole sphere. Returns float32 (N,3) origins and unit directions.
    """
    n = len(origins)
    lo, hi = verts.min(axis=0).astype(np.float64), verts.max(axis=0).astype(np.float64)
    extent = float(np.max(hi - lo))
    hit = prim >= 0
    new_o = rng.uniform(lo, hi, (n, 3))
    new_d = uniform_sphere(n, rng)
    if hit.any():
        o = origins[hit].astype(np.float64)
        d = dirs[hit].astype(np.float64)
        p = o + t[hit, None].astype(np.float64) * d
        nrm = triangle_normals(verts, tris, prim[hit])
        facing = np.where(np.sum(nrm * d, axis=1, keepdims=True) > 0, -nrm, nrm)  # towards the viewer
        eps = 1e-4 * max(extent, float(np.max(np.abs(p))))
        new_o[hit] = p + eps * facing
        dh = new_d[hit]
        flip = np.sum(dh * facing, axis=1) < 0
        dh[flip] = -dh[flip]
        new_d[hit] = dh
    return np.ascontiguousarray(new_o, np.float32), np.ascontiguousarray(new_d, np.float32)


# ---------------------------------------------------------------------------------------------
# The Embree harness


def _harness_stale() -> bool:
    if not EMBREE_EXE.exists():
        return True
    built = EMBREE_EXE.stat().st_mtime
    return any((EMBREE_SRC / f).stat().st_mtime > built for f in ("embree_bench.cpp", "CMakeLists.txt"))


def build_embree_harness(verbose: bool = False) -> Path:
    """Compile bench/embree/embree_bench (cmake, else g++ directly) when missing or stale."""
    if not _harness_stale():
        return EMBREE_EXE
    if not Path("/usr/include/embree3/rtcore.h").exists() and not os.environ.get("CPATH"):
        print("warning: /usr/include/embree3/rtcore.h not found (Debian: apt-get install libembree-dev)")
    EMBREE_BUILD.mkdir(parents=True, exist_ok=True)
    out = None if verbose else subprocess.DEVNULL
    print("building the Embree harness in %s ..." % EMBREE_BUILD.relative_to(REPO_DIR), flush=True)
    if shutil.which("cmake"):
        subprocess.run(
            ["cmake", "-S", str(EMBREE_SRC), "-B", str(EMBREE_BUILD), "-DCMAKE_BUILD_TYPE=Release"],
            check=True,
            stdout=out,
        )
        subprocess.run(["cmake", "--build", str(EMBREE_BUILD)], check=True, stdout=out)
    else:
        cxx = os.environ.get("CXX") or shutil.which("g++") or "c++"
        subprocess.run(
            [cxx, "-std=c++17", "-O2", "-o", str(EMBREE_EXE), str(EMBREE_SRC / "embree_bench.cpp"),
             "-lembree3", "-pthread"],
            check=True,
        )
    return EMBREE_EXE


class EmbreeServer:
    """bench/embree/embree_bench --serve: Embree's scene built once, commands over a pipe.

    One process per Embree configuration; it stays alive so that traversal.py can alternate
    Embree's passes with optica's (both then see the same machine load)."""

    def __init__(self, verts_file: Path, tris_file: Path, *, quality: str = "medium", config: str = ""):
        exe = build_embree_harness()
        cmd = [str(exe), "--verts", str(verts_file), "--tris", str(tris_file), "--quality", quality,
               "--serve", "--verbose", "1"]
        if config:
            cmd += ["--config", config]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        banner = []
        info = self._read(banner)
        if not info.startswith("ready "):
            raise RuntimeError("embree_bench: unexpected %r" % info)
        self.info = json.loads(info[len("ready "):])
        self.info["isa"] = _selected_isa("\n".join(banner))

    def _read(self, other_lines=None) -> str:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("embree_bench exited (%s)" % self.proc.poll())
            if line.startswith("@ "):
                body = line[2:].strip()
                if body.startswith("error "):
                    raise RuntimeError("embree_bench: " + body[6:])
                return body
            if other_lines is not None:
                other_lines.append(line.rstrip("\n"))

    def _ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self._read())

    def load_rays(self, name: str, origins_file: Path, dirs_file: Path) -> int:
        return self._ask("rays %s %s %s" % (name, origins_file, dirs_file))["n"]

    def trace(self, name: str, threads: int) -> dict:
        """One timed pass over ray set `name`: {"s", "threads", "hits", "t_sum"}."""
        return self._ask("trace %s %d" % (name, threads))

    def build(self, threads: int) -> float:
        """Milliseconds of one rtcCommitScene on a new device with `threads` build threads."""
        return self._ask("build %d" % threads)["commit_ms"]

    def results(self, name: str, workdir: Path):
        """(t f32, prim i32) of every ray of set `name` (a pass on all threads)."""
        self._ask("dump %s %s" % (name, workdir))
        tf, pf = workdir / (name + ".t.f32"), workdir / (name + ".prim.i32")
        out = np.fromfile(tf, np.float32), np.fromfile(pf, np.int32)
        tf.unlink()
        pf.unlink()
        return out

    def close(self) -> None:
        stop_server(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stop_server(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Asks a benchmark server on a text pipe to `quit`; kills it if it does not within `timeout`."""
    if proc.poll() is None:
        try:
            proc.stdin.write("quit\n")
            proc.stdin.close()
            proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()


def _selected_isa(verbose_text: str) -> str:
    """Embree's widest kernel target, from its verbose banner ("Targets : ... (supported)")."""
    for line in verbose_text.splitlines():
        if "(supported)" in line and "Targets" in line:
            targets = line.split(":", 1)[1].replace("(supported)", "").split()
            if targets:
                return targets[-1]
    return "?"
