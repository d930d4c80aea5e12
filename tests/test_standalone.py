"""`python -m optica_core render`: EXR passes equal the renderer's buffers, PNG/JPEG are
colour-managed, sampling limits hold, and every failure is a clear message with nothing
half-written (a SIGINT of the command in a child process too)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import optica_core
from optica_core import cli, save_scene, scenes
from optica_core.render import RenderSettings, render_frame
from optica_core.sampling import Limits
from optica_core.sequence import SequenceWriter
from optica_core.sinks.images import EXR_CHANNELS, read_exr


@pytest.fixture(scope="module")
def scene_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scene") / "spheres.optica"
    d = scenes.spheres_and_plane(40, 30)
    d["render"]["max_bounces"] = 4
    save_scene(d, path)
    return path


def _run(*args) -> int:
    return cli.main([str(a) for a in args])


def _leftovers(folder) -> list[str]:
    return [p for p in os.listdir(folder) if p.endswith(".tmp")]


def test_exr_channels_equal_the_renderers_buffers(scene_file, tmp_path):
    out = tmp_path / "out.exr"
    assert _run("render", scene_file, "-o", out, "--samples", 8, "--passes", "all", "--threads", 2, "-q") == 0
    channels = read_exr(out)
    renderer = optica_core.Renderer(threads=1)
    render_frame(renderer, optica_core.load_scene(scene_file), RenderSettings(Limits(8)))
    expected = {"combined": renderer.color, "albedo": renderer.albedo, "normal": renderer.normal,
                "depth": renderer.depth[..., None], "object_id": renderer.object_id[..., None]}
    assert set(channels) == {c for name in expected for c in EXR_CHANNELS[name]}
    for name, image in expected.items():
        got = np.stack([channels[c] for c in EXR_CHANNELS[name]], axis=-1)
        assert np.array_equal(got, np.asarray(image, np.float32)), name
    assert (channels["ObjectID.X"] == -1).any() and (channels["ObjectID.X"] >= 0).any()


def _sky_only_scene(path, color):
    """A camera that sees only a uniform sky: every pixel is exactly `color`."""
    d = scenes.furnace(8, 6)
    d["instances"] = []
    d["world"] = {"color": color, "strength": 1.0}
    save_scene(d, path)


def _srgb8(linear: float) -> int:
    encoded = 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
    return round(min(max(encoded, 0.0), 1.0) * 255)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_png_and_jpeg_are_colour_managed_with_blenders_config(tmp_path, suffix):
    _sky_only_scene(tmp_path / "sky.optica", (0.18, 0.05, 0.6))
    out = tmp_path / f"sky{suffix}"
    assert _run("render", tmp_path / "sky.optica", "-o", out, "--samples", 1, "--ocio", "blender",
                "--view", "Standard", "-q") == 0
    pixels = np.asarray(Image.open(out).convert("RGB"), np.int32)
    expected = np.array([_srgb8(0.18), _srgb8(0.05), _srgb8(0.6)])
    tolerance = 0 if suffix == ".png" else 3  # JPEG is lossy
    assert np.abs(pixels - expected).max() <= tolerance
    assert _run("render", tmp_path / "sky.optica", "-o", out, "--samples", 1, "--ocio", "blender",
                "--view", "Standard", "--exposure", 1, "-q") == 0
    brighter = np.asarray(Image.open(out).convert("RGB"), np.int32)
    assert abs(brighter[0, 0, 0] - _srgb8(0.36)) <= tolerance


def test_agx_is_the_default_view_where_the_config_has_it(tmp_path):
    _sky_only_scene(tmp_path / "sky.optica", (2.0, 0.5, 0.05))  # AgX keeps mid grey where Standard has it
    for view, name in ((None, "default.png"), ("Standard", "standard.png"), ("AgX", "agx.png")):
        args = ["render", tmp_path / "sky.optica", "-o", tmp_path / name, "--samples", 1, "--ocio", "blender", "-q"]
        assert _run(*args, *(["--view", view] if view else [])) == 0
    read = {n: np.asarray(Image.open(tmp_path / n)) for n in ("default.png", "standard.png", "agx.png")}
    assert np.array_equal(read["default.png"], read["agx.png"])
    assert not np.array_equal(read["agx.png"], read["standard.png"])


def test_denoise_keeps_the_noisy_image_as_a_pass(scene_file, tmp_path):
    out = tmp_path / "d.exr"
    assert _run("render", scene_file, "-o", out, "--samples", 2, "--denoise", "--passes", "combined,noisy", "-q") == 0
    channels = read_exr(out)
    renderer = optica_core.Renderer()
    render_frame(renderer, optica_core.load_scene(scene_file), RenderSettings(Limits(2)))
    noisy = np.stack([channels[c] for c in EXR_CHANNELS["noisy"]], axis=-1)
    combined = np.stack([channels[c] for c in EXR_CHANNELS["combined"]], axis=-1)
    assert np.array_equal(noisy, renderer.color)
    # OIDN smooths: neighbouring pixels differ much less after denoising
    roughness = [np.abs(np.diff(img[..., :3], axis=1)).mean() for img in (noisy, combined)]
    assert roughness[1] < 0.7 * roughness[0]


def test_the_time_limit_and_the_noise_threshold_stop_sampling(scene_file, tmp_path):
    renderer = optica_core.Renderer()
    scene = optica_core.load_scene(scene_file)
    t0 = time.perf_counter()
    frame = render_frame(renderer, scene, RenderSettings(Limits(1_000_000, time_limit=0.5)))
    assert time.perf_counter() - t0 < 3.0 and 1 <= frame.samples < 1_000_000
    frame = render_frame(renderer, scene, RenderSettings(Limits(4096, noise_threshold=0.5)))
    assert frame.samples < 4096


# --------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("make, args, message", [
    (lambda p: p.write_bytes(b"not a zip"), [], "not a readable Optica scene file"),
    (None, ["-o", "{tmp}/missing/out.exr"], "cannot write into .*missing: it is not an existing folder"),
    (None, ["-o", "{tmp}/out.tiff"], r"unknown image format '.tiff'"),
    (None, ["-o", "{tmp}/out.png", "--passes", "depth"], "PNG holds the combined image only"),
    (None, ["-o", "{tmp}/out.png", "--ocio", "{tmp}/nothing.ocio"], "OCIO configuration .*nothing.ocio does not exist"),
    (None, ["--passes", "motion"], "unknown pass 'motion'"),
    (None, ["--samples", "0"], "samples: expected an int >= 1"),
])
def test_bad_input_is_one_clear_line_and_nothing_written(scene_file, tmp_path, capsys, make, args, message):
    source = scene_file
    if make is not None:
        source = tmp_path / "bad.optica"
        make(source)
    args = [a.format(tmp=tmp_path) for a in args]
    if "-o" not in args:
        args = ["-o", str(tmp_path / "out.exr"), *args]
    assert _run("render", source, *args, "-q") == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("optica_core: error: ") and len(err.strip().splitlines()) == 1
    assert __import__("re").search(message, err), err
    assert sorted(os.listdir(tmp_path)) == (["bad.optica"] if make else [])


def test_a_folder_needs_a_frame_and_a_file_takes_none(scene_file, tmp_path, capsys):
    SequenceWriter(tmp_path / "shot", [1]).write_frame(1, optica_core.load_scene(scene_file))
    assert _run("render", tmp_path / "shot", "-o", tmp_path / "a.exr", "-q") == cli.EXIT_ERROR
    assert "is an animation folder: say which frame with --frame" in capsys.readouterr().err
    assert _run("render", scene_file, "--frame", 1, "-o", tmp_path / "a.exr", "-q") == cli.EXIT_ERROR
    assert "--frame 1: " in capsys.readouterr().err
    assert _run("render", tmp_path / "shot", "--frame", 2, "-o", tmp_path / "a.exr", "-q") == cli.EXIT_ERROR
    assert "frame 2 is not in the manifest" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["shot"]


def test_a_missing_image_library_is_named(scene_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "OpenEXR", None)
    assert _run("render", scene_file, "-o", tmp_path / "out.exr", "-q") == cli.EXIT_ERROR
    assert "EXR files need the `openexr` package: pip install openexr" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("make, message", [
    (lambda: Limits(0), "samples: expected an int >= 1, got 0"),
    (lambda: Limits(4, time_limit=-1.0), "time_limit: expected a number >= 0"),
    (lambda: Limits(4, noise_threshold=float("nan")), "noise_threshold: expected a number >= 0"),
    (lambda: Limits(4, threads=True), "threads: expected an int >= 0"),
    (lambda: RenderSettings.from_dict({"denoise_quality": "ultra"}), "denoise_quality: expected one of high"),
    (lambda: RenderSettings(passes=("motion",)), "unknown pass 'motion'"),
])
def test_bad_render_settings_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_png_without_any_ocio_config_says_how_to_give_one(scene_file, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OCIO", raising=False)
    assert _run("render", scene_file, "-o", tmp_path / "x.png", "-q") == cli.EXIT_ERROR
    assert "need an OCIO configuration: --ocio PATH, --ocio blender" in capsys.readouterr().err


def test_a_failing_write_leaves_no_file(scene_file, tmp_path, monkeypatch, capsys):
    import OpenEXR

    def disk_full(self, path):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(OpenEXR.File, "write", disk_full)
    assert _run("render", scene_file, "-o", tmp_path / "out.exr", "--samples", 1, "-q") == cli.EXIT_ERROR
    assert "No space left on device" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def _child(*args, **kw):
    env = dict(kw.pop("env", os.environ), PYTHONFAULTHANDLER="1")
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, **kw)


def test_denoise_without_oidn_is_a_clear_error(scene_file, tmp_path):
    code = ("import sys; sys.modules['pyoidn'] = None\n"
            "from optica_core.cli import main\n"
            f"sys.exit(main(['render', {str(scene_file)!r}, '-o', {str(tmp_path / 'x.exr')!r}, '--denoise']))")
    child = _child("-c", code)
    _, err = child.communicate(timeout=60)
    assert child.returncode == cli.EXIT_ERROR and "--denoise needs Intel Open Image Denoise: `pip install pyoidn`" in err
    assert os.listdir(tmp_path) == []


def test_sigint_stops_the_command_and_writes_nothing(tmp_path):
    d = scenes.spheres_and_plane(320, 240)
    save_scene(d, tmp_path / "big.optica")
    out = tmp_path / "out.exr"
    child = _child("-m", "optica_core", "render", str(tmp_path / "big.optica"), "-o", str(out), "--samples", "100000")
    try:
        _wait_for_cpu_seconds(child, 3.0)  # imported, loaded and sampling, however loaded the machine
        started = time.monotonic()
        child.send_signal(signal.SIGINT)
        err = _stderr_or_stacks(child, timeout=60)
        stopped_after = time.monotonic() - started
    finally:
        child.kill()  # never leave a renderer running behind a failed test
        child.wait()
    assert child.returncode == cli.EXIT_INTERRUPTED, err
    assert "interrupted: nothing half-written was left" in err
    assert sorted(os.listdir(tmp_path)) == ["big.optica"]
    # Ctrl-C cancels the running batch instead of waiting for it (a generous bound for a loaded
    # machine; a batch that ran to its end would be 100,000 samples).
    assert stopped_after < 20, stopped_after



# A child that calls the interruptible batch over and over while another process sends it SIGINT
# every 0-2 ms (asynchronously to its GIL, as a terminal's Ctrl-C is): every call must either
# return or raise KeyboardInterrupt, and never hang or break a lock.
_CTRL_C_STORM = """
import faulthandler, signal, sys, time
import optica_core as oc
from optica_core import sampling, scenes
r = oc.Renderer(threads=1)
r.set_scene(scenes.spheres_and_plane(16, 12))
end = time.monotonic() + float(sys.argv[1])
counts = {"calls": 0, "interrupted": 0}
def calls():
    while True:
        try:
            if counts["calls"] == 0:
                print("ready", flush=True)  # the storm starts: everything from here may be interrupted
            faulthandler.dump_traceback_later(10, exit=True)  # a hang prints the stacks and exits 1
            if time.monotonic() > end:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent sends until this process ends
                return
            counts["calls"] += 1
            sampling._accumulate_interruptibly(r, 2)
        except KeyboardInterrupt:
            counts["interrupted"] += 1
while True:  # an interrupt may also land in this loop's own bytecodes
    try:
        try:
            calls()
            break
        except KeyboardInterrupt:
            pass
    except KeyboardInterrupt:
        pass
faulthandler.cancel_dump_traceback_later()
print(counts["calls"], counts["interrupted"], flush=True)
"""


def test_ctrl_c_at_any_moment_of_a_batch_never_hangs_or_breaks_a_lock():
    """A KeyboardInterrupt raised inside threading's Event.wait or Thread.start left their lock held
    (a CI run's `render` hung after SIGINT) or released twice ("release unlocked lock"); the
    batch now turns Ctrl-C into a cancel while it runs. Fails within seconds on the old code."""
    seconds = 8.0
    child = _child("-c", _CTRL_C_STORM, str(seconds))
    try:
        assert child.stdout.readline().strip() == "ready", child.communicate()
        while child.poll() is None:  # SIGINT every 0-2 ms until the child stops calling
            child.send_signal(signal.SIGINT)
            time.sleep(random.uniform(0.0, 0.002))
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 0, err[-6000:]
    calls, interrupted = map(int, out.splitlines()[-1].split())
    assert calls > 100 and interrupted > 100, out  # the storm did reach the batches

def _stderr_or_stacks(child, timeout: float) -> str:
    """The child's stderr once it ends; if it does not end in time, its threads' Python stacks
    (faulthandler, enabled in `_child`, prints them on SIGABRT) so the failure says where it hung."""
    try:
        return child.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGABRT)
        _, err = child.communicate(timeout=30)
        raise AssertionError(f"still running {timeout:.0f} s after SIGINT; its threads:\n{err[-6000:]}") from None


def _wait_for_cpu_seconds(child, seconds: float, timeout: float = 120.0) -> None:
    """Waits until `child` has used `seconds` of CPU time (a measure of its progress that does not
    depend on how many other processes share the machine)."""
    clock_ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        with open(f"/proc/{child.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / clock_ticks >= seconds:  # utime + stime
            return
        time.sleep(0.05)
    raise AssertionError(f"the child used under {seconds} s of CPU in {timeout} s")
