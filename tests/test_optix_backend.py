"""The OptiX backend as far as this machine can check it (docs/gpu.md): the device programs
compile to OptiX-IR, the host side is built into the module where nvcc and the headers exist,
and every entry point behaves where no GPU and no driver exist — selection, the clear errors,
the CPU fallback, CUDA-array interop. Nothing here runs on a GPU: none exists here.
"""

from __future__ import annotations

import logging
import os
import pathlib
import shutil
import signal
import subprocess

import numpy as np
import pytest

oc = pytest.importorskip("optica_core")
from optica_core import _native, cuda_arrays, device, scenes  # noqa: E402
from optica_core.sampling import Limits, RendererSlot  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "native" / "src"


def _optix_include() -> pathlib.Path | None:
    """Where the build looks for the OptiX headers (native/src/optix/optix.cmake)."""
    roots = [pathlib.Path(os.environ["OPTIX_ROOT"])] if os.environ.get("OPTIX_ROOT") else []
    roots.append(ROOT.parent / "shared" / "third_party" / "optix")
    return next((r / "include" for r in roots if (r / "include" / "optix.h").is_file()), None)


OPTIX_INCLUDE = _optix_include()
CAN_BUILD = OPTIX_INCLUDE is not None and shutil.which("nvcc") is not None
STATUS = _native.optix_status()
needs_no_gpu = pytest.mark.skipif(STATUS["usable"], reason="this machine can run OptiX: the no-GPU paths do not apply")


def _run_killable(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    # nvcc runs cicc as a child: on a timeout the whole group goes, not just nvcc.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


# ---------------------------------------------------------------------------------------------
# build


@pytest.mark.skipif(not CAN_BUILD, reason="nvcc or the OptiX headers are not on this machine")
def test_device_programs_compile_to_optix_ir(tmp_path):
    """Every device program, with the whole kernel behind it, through nvcc -optix-ir: fails when
    a kernel header stops compiling for OptiX (the build would then leave OptiX unusable)."""
    ir = tmp_path / "programs.optixir"
    res = _run_killable(["nvcc", "-std=c++17", "-optix-ir", "-arch=compute_75", f"-I{SRC}", f"-I{OPTIX_INCLUDE}",
                         str(SRC / "optix" / "programs.cu"), "-o", str(ir)], timeout=600)
    assert res.returncode == 0, res.stderr
    assert ir.stat().st_size > 100_000  # the path loop, shaders and all: about 1 MB


def test_every_program_the_pipeline_names_is_a_device_entry_point():
    """The host creates its program groups by name (optix_pipeline.cpp); OptiX-IR is compressed
    bitcode, so the names are checked against the source's entry points."""
    import re

    host = (SRC / "optix" / "optix_pipeline.cpp").read_text()
    device_src = (SRC / "optix" / "programs.cu").read_text()
    named = set(re.findall(r'"(__(?:raygen|miss|closesthit|anyhit|intersection)__\w+)"', host))
    defined = set(re.findall(r'extern "C" __global__ void (__\w+__\w+)\(', device_src))
    assert named == {"__raygen__main", "__miss__closest", "__miss__shadow", "__closesthit__closest"}
    assert named == defined


def test_module_has_the_optix_backend_exactly_where_it_can_be_built():
    """Built with nvcc and the headers present, the module carries the host side and the
    embedded programs; without them it builds anyway and says which is missing."""
    if CAN_BUILD:
        assert STATUS["built"] and STATUS["programs_compiled"], STATUS
    if STATUS["built"]:  # CMake may also find a toolkit that is not on PATH
        assert hasattr(_native, "OptixRenderer")
    else:
        assert not hasattr(_native, "OptixRenderer")
        assert "built without the OptiX backend" in STATUS["why"]
        assert "nvcc" in STATUS["why"] or "headers" in STATUS["why"]


def test_module_links_no_cuda_library():
    """The driver's libraries are opened at run time: the module imports on any machine."""
    ldd = shutil.which("ldd")
    if ldd is None:
        pytest.skip("ldd is not available")
    out = subprocess.run([ldd, _native.__file__], capture_output=True, text=True, check=True).stdout
    assert "libcuda" not in out and "libnvoptix" not in out and "libcudart" not in out, out


# ---------------------------------------------------------------------------------------------
# devices and selection (no GPU here)


@needs_no_gpu
def test_devices_lists_the_cpu_and_says_why_optix_is_not_usable():
    found = oc.devices()
    assert [d.kind for d in found] == ["CPU", "OPTIX"]
    cpu, optix = found
    assert cpu.usable and cpu.why == "" and "threads" in cpu.name
    assert not optix.usable and optix.why == STATUS["why"]
    if STATUS["built"]:  # optixInit ran and found no driver library
        assert "libnvoptix.so.1 not found" in optix.why and "libcuda.so.1 not found" in optix.why


def test_cpu_device_is_the_default_and_needs_no_note():
    r = oc.Renderer(threads=1)
    assert r.device == "CPU" and r.device_note == ""
    assert oc.Renderer(threads=1, device="cpu").device == "CPU"


@needs_no_gpu
def test_optix_device_without_a_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="device OPTIX: OptiX cannot run here: ") as e:
        oc.Renderer(device="OPTIX")
    assert STATUS["why"] in str(e.value)


@needs_no_gpu
@pytest.mark.skipif(not hasattr(_native, "OptixRenderer"), reason="built without the OptiX backend")
def test_native_optix_renderer_without_a_gpu_raises_instead_of_crashing():
    with pytest.raises(RuntimeError, match="^OptiX: .*libnvoptix.so.1 not found"):
        _native.OptixRenderer(1)


@needs_no_gpu
def test_auto_falls_back_to_the_cpu_with_one_info_line(caplog):
    device._log_once.cache_clear()
    with caplog.at_level(logging.INFO, logger="optica_core"):
        first = oc.Renderer(threads=1, device="AUTO")
        second = oc.Renderer(threads=1, device="AUTO")
    assert first.device == second.device == "CPU"
    assert first.device_note.startswith("Optica: rendering on the CPU (OptiX not available: ")
    assert STATUS["why"] in first.device_note
    assert [r.getMessage() for r in caplog.records] == [first.device_note]  # once per process


@needs_no_gpu
def test_auto_renders_what_the_cpu_renders():
    scene = scenes.furnace(16, 16)
    images = []
    for name in ("CPU", "AUTO"):
        r = oc.Renderer(threads=1, device=name)
        r.set_scene(scene)
        assert r.accumulate(2) == 2
        images.append(np.array(r.color))
    assert np.array_equal(images[0], images[1])


@pytest.mark.parametrize("bad", ["GPU", "CUDA", "", None, 3])
def test_unknown_device_is_a_value_error(bad):
    with pytest.raises(ValueError, match="device: expected one of AUTO, CPU, OPTIX"):
        oc.Renderer(device=bad)


def test_limits_carry_a_checked_device_and_the_slot_remakes_on_a_new_device():
    assert Limits(4).device == "CPU"
    with pytest.raises(ValueError, match="device: expected one of AUTO, CPU, OPTIX, got 'TPU'"):
        Limits(4, device="TPU")
    slot = RendererSlot()
    first = slot.get(1)
    assert slot.get(1, "CPU") is first
    auto = slot.get(1, "AUTO")
    assert auto is not first and auto.device in ("CPU", "OPTIX")


# ---------------------------------------------------------------------------------------------
# CUDA arrays (__cuda_array_interface__) where no CUDA driver exists


class HostBackedCudaArray:
    """Exposes host memory through __cuda_array_interface__: the pointer is not device memory,
    but without a driver nothing may dereference it — what is tested is that nothing tries."""

    def __init__(self, array: np.ndarray, strides=None):
        self._keep = array
        self.__cuda_array_interface__ = {
            "shape": array.shape, "typestr": array.dtype.str, "data": (array.ctypes.data, False),
            "strides": strides, "version": 3,
        }


def _missing_cuda_message() -> str:
    return "libcuda.so.1 not found" if STATUS["built"] else "built without CUDA support"


@needs_no_gpu
def test_intersect_with_cuda_arrays_on_the_cpu_says_what_is_missing():
    r = oc.Renderer(threads=1)
    r.set_scene(scenes.furnace(8, 8))
    o = HostBackedCudaArray(np.zeros((4, 3), np.float32))
    d = np.tile(np.float32([0, 0, 1]), (4, 1))
    with pytest.raises(RuntimeError, match=f"^origins: copying a CUDA device array to the host needs .*"
                                           f"{_missing_cuda_message()}"):
        r.intersect(o, d)
    with pytest.raises(RuntimeError, match="^directions: copying a CUDA device array"):
        r.intersect(np.zeros((4, 3), np.float32), HostBackedCudaArray(d))


@needs_no_gpu
def test_set_scene_with_a_cuda_array_names_its_key():
    scene = scenes.furnace(8, 8)
    mesh = scene["meshes"]["sphere"]
    mesh["vertices"] = HostBackedCudaArray(np.ascontiguousarray(mesh["vertices"], np.float32))
    r = oc.Renderer(threads=1)
    with pytest.raises(RuntimeError, match=r"^scene\.meshes\.sphere\.vertices: copying a CUDA device array"):
        r.set_scene(scene)


def test_non_contiguous_cuda_array_is_refused_before_any_copy():
    a = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="origins: a CUDA array must be C-contiguous"):
        cuda_arrays.to_host(HostBackedCudaArray(a, strides=(4, 16)), "origins")
    assert cuda_arrays.to_host(HostBackedCudaArray(np.zeros((0, 3), np.float32)), "o").shape == (0, 3)


def test_scene_without_cuda_arrays_is_passed_through_unchanged():
    scene = scenes.furnace(8, 8)
    out, copied = cuda_arrays.scene_to_host(scene)
    assert copied == 0
    assert out["meshes"]["sphere"]["vertices"] is scene["meshes"]["sphere"]["vertices"]
    assert out["instances"][0]["transforms"] is scene["instances"][0]["transforms"]


def test_color_device_is_only_on_the_optix_backend():
    r = oc.Renderer(threads=1)
    r.set_scene(scenes.furnace(8, 8))
    with pytest.raises(RuntimeError, match="color_device: this renderer runs on the CPU"):
        r.color_device
    view = cuda_arrays.DeviceArray(1234, (2, 3, 4), "<f4", owner=r)
    assert view.__cuda_array_interface__["shape"] == (2, 3, 4) and view.__cuda_array_interface__["data"] == (1234, False)


# ---------------------------------------------------------------------------------------------
# the device check script


@needs_no_gpu
def test_gpu_check_says_no_gpu_and_checks_nothing():
    import sys

    res = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py")], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == f"gpu_check: no GPU: OptiX cannot run here ({STATUS['why']}); nothing was checked"
    assert res.stdout == ""


def test_the_cuda_array_walk_leaves_malformed_scenes_to_the_validator():
    """A scene nested 5000 levels deep (the fuzzer's `deep` mutation) is the validator's to
    refuse: the walk looking for device arrays neither recurses nor copies."""
    scene = scenes.furnace(8, 8)
    for _ in range(5000):
        scene = {"k": scene}
    out, copied = cuda_arrays.scene_to_host(scene)
    assert out is scene and copied == 0
    with pytest.raises(ValueError, match="missing required key 'version'"):
        oc.Renderer(threads=1).set_scene(scene)


def test_only_the_way_to_a_cuda_array_is_copied(monkeypatch):
    scene = scenes.furnace(8, 8)
    vertices = scene["meshes"]["sphere"]["vertices"]
    monkeypatch.setattr(cuda_arrays, "to_host", lambda value, name: (name, value._keep))
    scene["meshes"]["sphere"]["vertices"] = HostBackedCudaArray(vertices)
    out, copied = cuda_arrays.scene_to_host(scene)
    assert copied == 1 and out["meshes"]["sphere"]["vertices"] == ("scene.meshes.sphere.vertices", vertices)
    assert isinstance(scene["meshes"]["sphere"]["vertices"], HostBackedCudaArray)  # the caller's scene is untouched
    assert out["instances"] is scene["instances"] and out["camera"] is scene["camera"]


# ---------------------------------------------------------------------------------------------
# the build says what it built


def test_build_reports_the_optix_backend_of_the_installed_core(capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("optica_build_optix", ROOT / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    build.report_optix()
    line = capsys.readouterr().out.strip()
    if not STATUS["built"]:
        assert line.startswith("[build] optix  OptiX backend NOT built: ") and ("nvcc" in line or "headers" in line)
    elif STATUS["usable"]:
        assert line == "[build] optix  OptiX backend built (device programs embedded); usable here"
    else:
        assert line == f"[build] optix  OptiX backend built (device programs embedded); not usable here: {STATUS['why']}"


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
@pytest.mark.parametrize("switch", ["OFF", "AUTO"])
def test_cmake_configures_the_backend_only_where_it_can(tmp_path, switch):
    """Configure only (seconds): OFF skips it and says so; AUTO builds it exactly where nvcc and
    the headers are found."""
    import pybind11  # the build's own (requirements.txt pins it)
    import sys

    res = _run_killable(["cmake", "-S", str(ROOT / "native"), "-B", str(tmp_path), f"-DOPTICA_OPTIX={switch}",
                         f"-DPython_EXECUTABLE={sys.executable}", f"-Dpybind11_DIR={pybind11.get_cmake_dir()}"],
                        timeout=300)
    assert res.returncode == 0, res.stderr
    config = (tmp_path / "optica_optix_config.h").read_text()
    if switch == "OFF":
        assert "Optica: OptiX backend not built: OPTICA_OPTIX=OFF" in res.stdout
        assert '"OPTICA_OPTIX=OFF"' in config
    elif CAN_BUILD:
        assert f"Optica: OptiX backend built (headers {OPTIX_INCLUDE}" in res.stdout and '""' in config
    else:
        assert "Optica: OptiX backend not built: " in res.stdout


def test_a_device_compile_error_leaves_an_empty_program_and_its_message(tmp_path):
    """optix_ir.py (the build's nvcc step): when nvcc fails the module still builds, with no
    programs and nvcc's error as the reason OptiX is unusable."""
    import sys

    fake_nvcc = tmp_path / "fake_nvcc.py"
    fake_nvcc.write_text("import sys\nsys.stderr.write('programs.cu(7): error: \"boom\" here\\n')\nsys.exit(2)\n")
    target = tmp_path / "ir.cpp"
    cmd = [sys.executable, str(SRC / "optix" / "optix_ir.py"), str(target), "--", sys.executable, str(fake_nvcc),
           "-o", str(tmp_path / "p.optixir")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "the OptiX device programs did not compile" in res.stderr
    text = target.read_text()
    assert "optica_programs_ir_size = 0;" in text
    assert 'optica_programs_ir_error = "programs.cu(7): error: \\"boom\\" here";' in text
    if shutil.which("g++"):
        out = subprocess.run(["g++", "-c", str(target), "-o", str(tmp_path / "ir.o")], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr


# ---------------------------------------------------------------------------------------------
# the standalone renderer


@needs_no_gpu
def test_standalone_render_on_optix_without_a_gpu_fails_clearly_and_writes_nothing(tmp_path, capsys):
    from optica_core import cli

    oc.save_scene(scenes.furnace(8, 8), tmp_path / "s.optica")
    out = tmp_path / "x.exr"
    assert cli.main(["render", str(tmp_path / "s.optica"), "-o", str(out), "--device", "OPTIX"]) == cli.EXIT_ERROR
    assert f"device OPTIX: OptiX cannot run here: {STATUS['why']}" in capsys.readouterr().err
    assert not out.exists()
    device._log_once.cache_clear()
    assert cli.main(["render", str(tmp_path / "s.optica"), "-o", str(out), "--device", "AUTO", "--samples", "1"]) == 0
    assert "Optica: rendering on the CPU (OptiX not available: " in capsys.readouterr().err and out.exists()
