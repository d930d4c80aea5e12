# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the path tracer's time goes, by part of the kernel: instructions, simulated cache misses and
branch mispredictions (valgrind's callgrind), CPU-clock samples (perf), and instructions per cycle.

    python bench/profile_kernel.py --python /tmp/venv-prof/bin/python          # both scenes
    python bench/profile_kernel.py --python ... --scene displaced_sphere --size 96 --spp 2

It measures bench/render.py's workload (optica_core.scenes, Renderer(threads=1), accumulate) with
a copy of the core built with debug information and the usual optimisation, so every instruction
can be traced to the header it was inlined from (the product wheel has no debug information):

    python3.11 -m venv /tmp/venv-prof
    /tmp/venv-prof/bin/pip install numpy==1.26.4 scikit-build-core==1.1.2 pybind11==3.1.0
    /tmp/venv-prof/bin/pip install --no-build-isolation \\
        -C cmake.define.CMAKE_CXX_FLAGS="-g -fno-omit-frame-pointer" native

Parts are source files of native/src (kernel/*.h and the rest): traversal (bvh_traverse.h,
intersect.h), shading (bsdf.h, surface.h), light sampling (lights.h), sampler (sampler.h),
sampling helpers (sampling.h), camera (camera.h), the path loop (integrator.h), film and tiles
(renderer.cpp, film.cpp), vector maths (defs.h: attributed to no part, it serves all). Callgrind
counts instructions exactly whatever the machine's load; its cache and branch figures come from
its simulated caches (the host's sizes), not from hardware counters — this guest exposes none to
perf (`perf stat -e instructions` says "not supported"), so IPC is instructions (callgrind) over
the CPU time of the same work run natively × the CPU's clock.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import _common as C  # noqa: E402

PARTS = {
    "bvh_traverse.h": "traversal", "intersect.h": "traversal", "bvh.h": "traversal",
    "bsdf.h": "shading", "surface.h": "shading",
    "lights.h": "light sampling", "sampler.h": "sampler", "sampling.h": "sampling helpers",
    "camera.h": "camera", "integrator.h": "path loop", "defs.h": "vector maths (shared)",
    "renderer.cpp": "film and tiles", "film.cpp": "film and tiles", "film.h": "film and tiles",
    "scene_data.h": "path loop",
}

WORKLOAD = """
import sys, time, optica_core, optica_core.scenes as sc
scene, w, spp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = sc.cornell_box(w, w) if scene == "cornell_box" else sc.displaced_sphere(1_000_000, w, w)
r = optica_core.Renderer(threads=1)
r.set_scene(d)
r.accumulate(1)
r.reset()
c0 = time.process_time()
r.accumulate(spp)
print("@cpu", time.process_time() - c0, w * w * spp)
"""


# The simulated last-level cache: 32 MiB, 16-way (one EPYC CCD's L3; valgrind reads a 256 MiB
# direct-mapped L3 off this guest's CPUID, which no core really has to itself).
LL_CACHE = "33554432,16,64"

GENERIC = ("defs.h", "intrin.h", "sysdeps", "libm", "/c++/", "???")


def part_of(source: str, function: str = "") -> str:
    """The part a cost belongs to: everything inside the traversal functions is traversal; vector
    maths and SIMD intrinsics elsewhere (inlined from generic headers) count for the path loop's
    shading and sampling code together; otherwise the kernel header it was inlined from."""
    if "intersect_" in function:
        return "traversal"
    name = Path(source).name
    if any(g in source for g in GENERIC):
        return "maths and intrinsics (shading, lights, sampler)"
    return PARTS.get(name, "other (" + name + ")")


_VALUE = re.compile(r"\s*(?:([\d,]+)(?:\s+\(\s*[\d.]+%\))?|(\.))(?=\s)")


def parse_annotate_line(line: str, n_events: int) -> tuple[list[int], str] | None:
    """callgrind_annotate's `N (p%) N (p%) . … file:function` → ([N …], "file:function")."""
    values, pos = [], 0
    while len(values) < n_events:
        m = _VALUE.match(line, pos)
        if not m:
            return None
        values.append(int(m.group(1).replace(",", "")) if m.group(1) else 0)
        pos = m.end()
    rest = line[pos:].strip()
    return (values, rest) if ":" in rest else None


def run_native(python: str, scene: str, size: int, spp: int) -> tuple[float, int]:
    """(CPU seconds, paths) of the workload without instrumentation, best of three (run with 8×
    the samples callgrind gets: long enough for the CPU clock; instructions per path do not
    depend on the sample count)."""
    best, paths = float("inf"), 0
    for _ in range(3):
        out = subprocess.run([python, "-c", WORKLOAD, scene, str(size), str(spp)], capture_output=True, text=True,
                             check=True).stdout
        _, cpu, n = next(line for line in out.splitlines() if line.startswith("@cpu")).split()
        best, paths = min(best, float(cpu)), int(n)
    return best, paths


def run_callgrind(python: str, scene: str, size: int, spp: int, workdir: Path) -> dict:
    """Per part: instructions (Ir), D1/LL read+write misses, conditional branch mispredictions."""
    out = workdir / "callgrind.out"
    subprocess.run(["valgrind", "--tool=callgrind", "--cache-sim=yes", "--branch-sim=yes", f"--LL={LL_CACHE}",
                    "--collect-atstart=no", "--toggle-collect=*render_tile_sample*", f"--callgrind-out-file={out}",
                    python, "-c", WORKLOAD, scene, str(size), str(spp)],
                   check=True, capture_output=True, text=True)
    text = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no", str(out)],
                          check=True, capture_output=True, text=True).stdout
    return aggregate_annotate(text)


def aggregate_annotate(text: str) -> dict:
    """callgrind_annotate's per file:function table, summed per part of the kernel."""
    events, totals = None, collections.defaultdict(collections.Counter)
    for line in text.splitlines():
        if line.startswith("Events shown:"):
            events = line.split(":", 1)[1].split()
            continue
        parsed = parse_annotate_line(line, len(events)) if events else None
        if parsed is None or "PROGRAM TOTALS" in line:
            continue
        values, where = parsed
        source, _, function = where.partition(":")
        totals[part_of(source, function)].update(dict(zip(events, values)))
    return {"events": events or [], "parts": {k: dict(v) for k, v in totals.items()}}


KERNEL_SYMBOLS = ("render_tile_sample", "intersect_")  # the sampling loop and the traversal functions


def run_perf(python: str, scene: str, size: int, spp: int, workdir: Path) -> dict | None:
    """Share of the kernel's CPU-clock samples per part (perf record with the software clock: it
    needs no hardware counters). Only samples in the kernel's functions count (not Python, the
    BVH build or Scene::prepare), renormalised to 100 %."""
    if not shutil.which("perf"):
        return None
    data = workdir / "perf.data"
    rec = subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", "4000", "-o", str(data), "--",
                          python, "-c", WORKLOAD, scene, str(size), str(spp)], capture_output=True, text=True)
    if rec.returncode != 0:
        return None
    report = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "srcfile,sym",
                             "--percent-limit", "0.01"], capture_output=True, text=True).stdout
    shares = collections.Counter()
    for line in report.splitlines():
        m = re.match(r"^\s*([\d.]+)%\s+(\S+)\s+\[\.\]\s+(.*)$", line)
        if m and any(k in m.group(3) for k in KERNEL_SYMBOLS):
            shares[part_of(m.group(2), m.group(3))] += float(m.group(1))
    total = sum(shares.values())
    return {k: 100.0 * v / total for k, v in shares.items()} if total else None


def print_parts(label: str, cg: dict, perf: dict | None, cpu_per_path: float, paths: int, mhz: float | None) -> None:
    ev = cg["events"]
    total = collections.Counter()
    for counts in cg["parts"].values():
        total.update(counts)
    ir = total.get("Ir", 0)
    per_path = ir / max(paths, 1)
    print(f"\n{label}: {paths:,} paths, {per_path:,.0f} instructions per path, "
          f"{1e9 * cpu_per_path:,.0f} ns of CPU per path natively")
    if mhz:
        print(f"  IPC ≈ {per_path / (cpu_per_path * mhz * 1e6):.2f} (instructions / (CPU time × {mhz:.0f} MHz, the "
              "clock the kernel reports; no hardware counters here)")
    d1 = ("D1mr", "D1mw")
    ll = ("DLmr", "DLmw")
    rows = []
    for part, c in sorted(cg["parts"].items(), key=lambda kv: -kv[1].get("Ir", 0)):
        share = c.get("Ir", 0) / max(ir, 1)
        if share < 0.002:
            continue
        rows.append([part, f"{100 * share:.1f}%", f"{c.get('Ir', 0) / paths:,.0f}",
                     f"{sum(c.get(k, 0) for k in d1) / paths:.2f}", f"{sum(c.get(k, 0) for k in ll) / paths:.3f}",
                     f"{c.get('Bcm', 0) / max(c.get('Bc', 1), 1) * 100:.1f}%",
                     "" if perf is None else f"{perf.get(part, 0.0):.1f}%",
                     "" if not perf or not perf.get(part) else f"{100 * share / perf[part]:.2f}"])
    print(C.format_table(["part", "instructions", "instr/path", "D1 misses/path", "LL misses/path",
                          "branch mispredict", "CPU time (perf)", "instr share / time share"], rows))
    if "Bc" in ev:
        print(f"  all: D1 misses {sum(total.get(k, 0) for k in d1) / paths:.2f}/path, LL misses "
              f"{sum(total.get(k, 0) for k in ll) / paths:.3f}/path, conditional branches "
              f"{total.get('Bc', 0) / paths:,.0f}/path, {100 * total.get('Bcm', 0) / max(total.get('Bc', 1), 1):.1f}% "
              "mispredicted (simulated)")


def cpu_mhz() -> float | None:
    try:
        with open("/proc/cpuinfo") as f:
            values = [float(line.split(":")[1]) for line in f if line.startswith("cpu MHz")]
        return max(values) if values else None
    except OSError:
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable, help="a Python whose optica_core has debug information")
    ap.add_argument("--scene", default="cornell_box,displaced_sphere")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--spp", type=int, default=4)
    args = ap.parse_args(argv)
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed (Debian: apt-get install valgrind)")
    info = C.machine_info()
    C.print_machine(info)
    print(f"command: python bench/profile_kernel.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    mhz = cpu_mhz()
    with tempfile.TemporaryDirectory(prefix="optica-profile-") as tmp:
        for scene in args.scene.split(","):
            t0 = time.perf_counter()
            cpu, native_paths = run_native(args.python, scene, args.size, 8 * args.spp)
            cg = run_callgrind(args.python, scene, args.size, args.spp, Path(tmp))
            perf = run_perf(args.python, scene, args.size, 8 * args.spp, Path(tmp))
            print_parts(f"{scene} {args.size}x{args.size}, {args.spp} spp, 1 thread", cg, perf,
                        cpu / native_paths, args.size * args.size * args.spp, mhz)
            print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
