"""The kernel headers (native/src/kernel) are what a CUDA/OptiX backend would compile: no STL
containers, no virtual calls, host/device qualifiers behind OPTICA_HD. These tests keep it so.

Only the CPU backend runs here (no machine has a GPU); nvcc compiling the path loop into a
__global__ kernel is the check that the seam stays real.
"""

import os
import pathlib
import re
import signal
import shutil
import subprocess

import pytest

KERNEL = pathlib.Path(__file__).resolve().parents[1] / "native" / "src" / "kernel"


def test_kernel_headers_use_no_stl_containers_or_virtuals():
    offenders = []
    headers = sorted(KERNEL.rglob("*.h"))
    assert any(h.parent.name == "svm" for h in headers) and any(h.parent.name == "closure" for h in headers)
    for header in headers:
        text = re.sub(r"//.*", "", header.read_text())  # comments may name what is banned
        for pattern in (r"#include\s*<(vector|map|string|memory|functional|unordered_map)>", r"\bstd::", r"\bvirtual\b"):
            if re.search(pattern, text):
                offenders.append(f"{header.relative_to(KERNEL)}: {pattern}")
    assert not offenders, offenders


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc (CUDA compiler) is not installed on this machine")
def test_path_tracer_compiles_as_a_cuda_kernel(tmp_path):
    source = tmp_path / "render.cu"
    source.write_text(
        '#include "kernel/integrator.h"\n'
        "using namespace optica;\n"
        "__global__ void render(const KernelScene *s, float *out, int w, int h, uint32_t sample) {\n"
        "  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;\n"
        "  if (x >= w || y >= h) return;\n"
        "  PathResult r = trace_path(*s, x, y, sample);\n"
        "  out[3 * (y * w + x)] = r.radiance.x;\n"
        "}\n"
        "__global__ void shade(const KernelScene *s, ShaderData *sd, float *out) {\n"
        "  ClosureList cl;\n"
        "  svm_eval(*s, s->materials[0], *sd, cl);\n"
        "  out[threadIdx.x] = cl.emission.x + float(cl.count);\n"
        "}\n"
    )
    # nvcc runs cicc and ptxas as children: on a timeout the whole group goes, not just nvcc.
    proc = subprocess.Popen(
        ["nvcc", "-std=c++17", f"-I{KERNEL.parent}", "-c", str(source), "-o", str(tmp_path / "render.o")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, stderr
