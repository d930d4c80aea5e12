# SPDX-License-Identifier: GPL-3.0-or-later
"""Export Animation (`bpy.ops.optica.export_animation`): real bpy, real Optica renders, real
PyAV encoding, decoded again with PyAV.

The scene: a grey floor, a red cube sliding across it and a blue sphere, lit by a sun, seen by
a camera from the front; 64×48 pixels, 4 samples, 2 bounces, so a frame renders in
milliseconds. Videos are encoded at high quality (CRF 4) so compression stays within a few
levels of the colour-managed render. No machine here has an NVIDIA GPU: NVENC is tested for
its error only.
"""

import math
import os
from fractions import Fraction
from pathlib import Path

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import pytest

from conftest import optica_module, read_image_file

av = pytest.importorskip("av")


def _video():
    """The encoder (optica_core.sinks.video: bpy-free, in the core wheel)."""
    from optica_core.sinks import video

    return video

W, H = 64, 48
FRAMES = 4


# ---------------------------------------------------------------------------------------------
# scene


def _material(name, rgb):
    mat = bpy.data.materials.new(name)
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.6
    return mat


def _mesh(scene, name, verts, faces, material, location=(0, 0, 0)):
    me = bpy.data.meshes.new(name)
    me.from_pydata(verts, [], faces)
    me.materials.append(material)
    ob = bpy.data.objects.new(name, me)
    ob.location = location
    scene.collection.objects.link(ob)
    return ob


def _cube(scene, name, material, size=0.6):
    h = size / 2
    v = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    f = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return _mesh(scene, name, v, f, material)


def build_scene(scene, frames=FRAMES, world=(0.05, 0.06, 0.08), cube_rgb=(0.8, 0.1, 0.05)):
    r = scene.render
    r.engine = "OPTICA"
    r.resolution_x, r.resolution_y, r.resolution_percentage = W, H, 100
    r.fps, r.fps_base = 24, 1.0
    scene.frame_start, scene.frame_end = 1, frames
    scene.optica.samples = 4
    scene.optica.max_bounces = 2
    scene.optica.noise_threshold = 0.0
    cam = bpy.data.objects.new(f"{scene.name}.Camera", bpy.data.cameras.new(f"{scene.name}.Camera"))
    cam.location, cam.rotation_euler = (0, -4, 1.2), (math.radians(80), 0, 0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    _mesh(scene, f"{scene.name}.Floor", [(-5, -5, 0), (5, -5, 0), (5, 5, 0), (-5, 5, 0)], [(0, 1, 2, 3)],
          _material("Grey", (0.5, 0.5, 0.5)))
    cube = _cube(scene, f"{scene.name}.Cube", _material("Red", cube_rgb))
    for f, x in ((1, -1.2), (frames, 1.2)):
        cube.location = (x, 0, 0.3)
        cube.keyframe_insert("location", frame=f)
    sun = bpy.data.lights.new(f"{scene.name}.Sun", "SUN")
    sun.energy = 3.0
    ob = bpy.data.objects.new(sun.name, sun)
    ob.rotation_euler = (math.radians(40), 0, math.radians(30))
    scene.collection.objects.link(ob)
    w = bpy.data.worlds.new(f"{scene.name}.World")
    w.color = world
    scene.world = w
    scene.view_settings.view_transform = "Standard"
    scene.frame_set(1)
    return scene


@pytest.fixture
def anim_scene(optica_scene):
    return build_scene(optica_scene)


def _mod(name):
    return optica_module(f"operators.export.{name}")


def _options(path, **kw):
    kw.setdefault("crf", 4)
    kw.setdefault("preset", "FASTER")
    return _mod("options").Options(filepath=str(path), **kw)


def _export(scene, path, **kw):
    progress = kw.pop("progress", None)
    should_cancel = kw.pop("should_cancel", None)
    plan = _mod("plan").prepare(_options(path, **kw), scene)
    return _mod("run").run(plan, progress=progress, should_cancel=should_cancel)


# ---------------------------------------------------------------------------------------------
# decoding and references


def decode(path):
    """(frames as YUV planes (y, u, v) uint8, stream info dict)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        info = dict(codec=s.codec_context.name, width=s.width, height=s.height, rate=s.average_rate,
                    colorspace=int(s.codec_context.colorspace), color_range=int(s.codec_context.color_range),
                    primaries=int(s.codec_context.color_primaries), trc=int(s.codec_context.color_trc),
                    container=c.format.name)
        frames, keys = [], []
        for f in c.decode(s):
            keys.append(bool(f.key_frame))
            assert f.format.name == "yuv420p", f.format.name
            frames.append(_planes(f))
        info["keys"] = keys
    return frames, info


def _planes(frame):
    a = frame.to_ndarray()  # yuv420p: (h * 3 / 2, w)
    h, w = frame.height, frame.width
    y = a[:h]
    u = a[h:h + h // 4].reshape(h // 2, w // 2)
    v = a[h + h // 4:].reshape(h // 2, w // 2)
    return y, u, v


def yuv_of(rgb8):
    """An 8-bit RGB image as the encoder's BT.709 / MPEG-range 4:2:0 planes."""
    from av.video.reformatter import ColorRange, Colorspace

    f = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb8), format="rgb24")
    return _planes(f.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG))


def reference(scene, frames):
    """Optica's own renders of `frames`, colour-managed as Blender saves them (uint8 RGB)."""
    frames_mod, colour = _mod("frames"), _mod("colour")
    processor = colour.display_processor(scene)
    renderer = frames_mod.FrameRenderer(scene)
    out = [processor.to_uint8(renderer.render(f).pixels) for f in frames]
    scene.frame_set(1)
    return out


def assert_matches(decoded, rgb8, luma_max=6, mean_max=1.0):
    for k, (got, want) in enumerate(zip(decoded, yuv_of(rgb8))):
        d = np.abs(got.astype(int) - want.astype(int))
        assert d.mean() <= mean_max and d.max() <= luma_max, \
            f"plane {'yuv'[k]}: mean {d.mean():.2f}, max {d.max()} levels from the reference render"


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir())


# ---------------------------------------------------------------------------------------------
# the two methods


def test_stream_operator_headless(anim_scene, tmp_path, capsys):
    path = tmp_path / "stream.mp4"
    result = bpy.ops.optica.export_animation(filepath=str(path), method="STREAM", crf=4, preset="FASTER",
                                             keyframe_interval=2, verbose=True, notify=True)
    assert result == {"FINISHED"}
    out = capsys.readouterr()
    assert "100.0%" in out.err  # the verbose progress bar
    assert f"wrote {path}" in out.out and "libx264" in out.out  # the notify message names the encoder
    frames, info = decode(path)
    assert len(frames) == FRAMES
    assert (info["width"], info["height"], info["codec"], info["rate"]) == (W, H, "h264", Fraction(24))
    assert (info["colorspace"], info["color_range"], info["primaries"], info["trc"]) == (1, 1, 1, 1)  # BT.709, MPEG
    assert info["keys"][0] and info["keys"][2]  # an IDR frame every 2 frames
    first, last = reference(anim_scene, [1, FRAMES])
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 1  # the cube moved
    assert_matches(frames[0], first)
    assert_matches(frames[-1], last)
    assert leftovers(tmp_path) == ["stream.mp4"]
    assert anim_scene.frame_current == 1  # the scene's frame is restored


def test_parallel_export_2997(anim_scene, tmp_path):
    anim_scene.render.fps, anim_scene.render.fps_base = 30, 1.001
    path = tmp_path / "parallel.mov"
    result = _export(anim_scene, path, method="PARALLEL", workers=2)
    assert not result.cancelled and result.path == path
    assert (result.rendered, result.resumed) == (FRAMES, 0)
    frames, info = decode(path)
    assert len(frames) == FRAMES
    assert (info["width"], info["height"], info["codec"]) == (W, H, "h264")
    assert info["rate"] == Fraction(30000, 1001)
    first, last = reference(anim_scene, [1, FRAMES])
    assert_matches(frames[0], first)  # half-float frames on disk: still within compression noise
    assert_matches(frames[-1], last)
    assert leftovers(tmp_path) == ["parallel.mov"]  # the temporary frames are gone


# ---------------------------------------------------------------------------------------------
# colour: the frame written to video is the PNG Blender saves


VIEWS = [  # (view transform, look, exposure, gamma)
    ("AgX", "None", 0.0, 1.0),
    ("Standard", "None", 0.7, 1.3),
    ("Filmic", "Medium High Contrast", -0.5, 1.0),
    ("AgX", "AgX - Punchy", 0.3, 0.8),
    ("Khronos PBR Neutral", "None", 0.0, 1.0),
]


def test_colour_matches_blenders_png(anim_scene, tmp_path):
    colour = _mod("colour")
    anim_scene.render.dither_intensity = 0.0  # Blender's dither adds ±1 level of noise
    assert bpy.ops.render.render() == {"FINISHED"}
    result = bpy.data.images["Render Result"]
    im = anim_scene.render.image_settings
    im.media_type, im.file_format, im.color_mode, im.color_depth = "IMAGE", "OPEN_EXR", "RGB", "32"
    result.save_render(str(tmp_path / "linear.exr"), scene=anim_scene)
    linear = read_image_file(tmp_path / "linear.exr")[""]
    assert linear.shape == (H, W, 3) and linear.max() > 0.1
    im.file_format, im.color_depth = "PNG", "8"
    vs = anim_scene.view_settings
    for view, look, exposure, gamma in VIEWS:
        vs.view_transform, vs.look, vs.exposure, vs.gamma = view, look, exposure, gamma
        png_path = tmp_path / f"{view}.png"
        result.save_render(str(png_path), scene=anim_scene)
        png = np.rint(read_image_file(png_path)[""] * 255).astype(int)
        settings, notes = colour.view_settings(anim_scene)
        assert (settings.view, settings.look, notes) == (view, look, [])
        ours = colour.DisplayProcessor(settings, colour.blender_config_path()).to_uint8(linear).astype(int)
        assert np.abs(ours - png).max() <= 1, f"{view} / {look}: {np.abs(ours - png).max()} levels off"
        assert np.abs(ours - png).mean() < 0.01, f"{view} / {look}"
    # With Blender's default dither the saved PNG is noisier, still within a level.
    anim_scene.render.dither_intensity = 1.0
    result.save_render(str(tmp_path / "dither.png"), scene=anim_scene)
    png = np.rint(read_image_file(tmp_path / "dither.png")[""] * 255).astype(int)
    ours = colour.display_processor(anim_scene).to_uint8(linear).astype(int)
    assert np.abs(ours - png).max() <= 1


# ---------------------------------------------------------------------------------------------
# several scenes


def test_two_scenes_in_order(anim_scene, tmp_path):
    anim_scene.frame_end = 2
    second = build_scene(bpy.data.scenes.new("Second"), frames=3, world=(0.2, 0.4, 1.0), cube_rgb=(0.1, 0.8, 0.1))
    path = tmp_path / "two.mkv"
    result = bpy.ops.optica.export_animation(filepath=str(path), scenes=[{"name": anim_scene.name},
                                                                         {"name": second.name}], crf=4)
    assert result == {"FINISHED"}
    frames, info = decode(path)
    assert len(frames) == 2 + 3 and info["container"].startswith("matroska")
    refs = reference(anim_scene, [1, 2]) + reference(second, [1, 3])
    assert_matches(frames[0], refs[0])
    assert_matches(frames[1], refs[1])
    assert_matches(frames[2], refs[2])
    assert_matches(frames[4], refs[3])
    assert np.abs(refs[1].astype(int) - refs[2].astype(int)).mean() > 3  # a visible cut between the scenes


# ---------------------------------------------------------------------------------------------
# cancel, errors, resume: nothing temporary is left behind


class _Interrupt:
    """A progress callback that raises KeyboardInterrupt (Ctrl-C) once `when(progress)`."""

    def __init__(self, when):
        self.when = when
        self.seen = []

    def __call__(self, p):
        self.seen.append((p.phase, p.done))
        if self.when(p):
            raise KeyboardInterrupt


def test_stream_cancel_and_ctrl_c_leave_nothing(anim_scene, tmp_path):
    anim_scene.frame_end = 8
    seen = []
    result = _export(anim_scene, tmp_path / "cancelled.mp4", progress=lambda p: seen.append(p.done),
                     should_cancel=lambda: len(seen) > 3)  # Esc / a cancel request
    assert result.cancelled and result.path is None and 1 <= result.frames < 8
    assert "no video was written" in result.summary()
    assert leftovers(tmp_path) == []
    stop = _Interrupt(lambda p: p.done >= 3)  # Ctrl-C
    with pytest.raises(KeyboardInterrupt):
        _export(anim_scene, tmp_path / "interrupted.mp4", progress=stop)
    assert leftovers(tmp_path) == []
    assert anim_scene.frame_current == 1 and anim_scene.render.resolution_x == W


def test_stream_cancel_keeps_a_playable_partial_video(anim_scene, tmp_path):
    anim_scene.frame_end = 8
    seen = []
    result = _export(anim_scene, tmp_path / "partial.mp4", keep_partial=True,
                     progress=lambda p: seen.append(p.done), should_cancel=lambda: len(seen) > 3)
    assert result.cancelled and result.partial and result.path == tmp_path / "partial.mp4"
    assert "kept a playable partial.mp4" in result.summary()
    frames, _info = decode(result.path)
    assert 1 <= len(frames) < 8 and len(frames) == result.frames
    assert leftovers(tmp_path) == ["partial.mp4"]


def _slow_frames(scene, seconds=0.1):
    """Frames that take `seconds` each however fast the machine (a cancel lands mid-export)."""
    scene.optica.samples = 1_000_000
    scene.optica.time_limit = seconds


def test_parallel_cancel_leaves_nothing(anim_scene, tmp_path):
    anim_scene.frame_end = 24
    _slow_frames(anim_scene)
    target = tmp_path / "out" / "cancelled.mp4"
    stop = _Interrupt(lambda p: p.done >= 2)
    with pytest.raises(KeyboardInterrupt):
        _export(anim_scene, target, method="PARALLEL", workers=2, progress=stop)
    phase, done = stop.seen[-1]
    assert phase == "render" and 2 <= done < 24  # stopped while the workers were rendering
    assert leftovers(tmp_path / "out") == []  # no video, no partial file, no frames folder


def test_parallel_resume_renders_only_missing_frames(anim_scene, tmp_path):
    anim_scene.frame_end = 8
    _slow_frames(anim_scene)
    target = tmp_path / "resumed.mp4"
    # An export that stops once 3 frames are on disk keeps them (resume).
    seen = []
    first = _export(anim_scene, target, method="PARALLEL", workers=1, resume=True,
                    progress=lambda p: seen.append(p.done), should_cancel=lambda: seen and seen[-1] >= 3)
    assert first.cancelled and first.kept_frames is not None
    assert "run again with resume" in first.summary()
    kept = sorted(p.name for p in first.kept_frames.glob("frame_*.exr"))
    assert 3 <= len(kept) < 8
    assert not target.exists()
    # Running it again renders only what is missing.
    second = _export(anim_scene, target, method="PARALLEL", workers=2, resume=True)
    assert (second.resumed, second.rendered) == (len(kept), 8 - len(kept))
    frames, _info = decode(target)
    assert len(frames) == 8
    lit = [f[0].mean() for f in frames]
    assert min(lit) > 20, lit  # every frame, resumed or new, is a rendered image
    assert leftovers(tmp_path) == ["resumed.mp4"]


def test_parallel_png_frames_without_resume_start_afresh(anim_scene, tmp_path):
    """8-bit PNG temporary frames (colour-managed by the workers); frames left by a killed
    export are not reused without `resume`, and are removed."""
    target = tmp_path / "fresh.mp4"
    plan = _mod("plan").prepare(_options(target, method="PARALLEL", workers=1, sequence_format="PNG"), anim_scene)
    plan.frames_dir.mkdir()
    (plan.frames_dir / "frame_000000.png").write_bytes(b"not an image")
    result = _mod("run").run(plan)
    assert (result.resumed, result.rendered) == (0, FRAMES)
    frames, _info = decode(target)
    first, last = reference(anim_scene, [1, FRAMES])
    assert_matches(frames[0], first)
    assert_matches(frames[-1], last)
    assert leftovers(tmp_path) == ["fresh.mp4"]


def test_worker_error_is_reported_and_cleaned_up(anim_scene, tmp_path):
    plan_mod = _mod("plan")
    plan = plan_mod.prepare(_options(tmp_path / "broken.mp4", method="PARALLEL", workers=1), anim_scene)
    plan.items[1].scene = "No Such Scene"  # the worker fails on its second frame
    with pytest.raises(plan_mod.ExportError, match="render worker 0 failed: KeyError"):
        _mod("run").run(plan)
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# encoders


def test_nvenc_here_is_a_clear_error(anim_scene, tmp_path):
    ea, enc = _mod("plan"), _video()
    assert enc.probe_nvenc("H264") is not None  # no GPU on this machine
    with pytest.raises(ea.ExportError, match=r"NVENC is not available.*\bCPU\b.*libx264"):
        ea.prepare(_options(tmp_path / "nv.mp4", encoder="NVENC"), anim_scene)
    with pytest.raises(RuntimeError, match="NVENC is not available"):
        bpy.ops.optica.export_animation(filepath=str(tmp_path / "nv.mp4"), encoder="NVENC")
    plan = ea.prepare(_options(tmp_path / "auto.mp4", encoder="AUTO", codec="HEVC"), anim_scene)
    assert (plan.choice.name, plan.choice.kind) == ("libx265", "CPU")
    assert "no usable NVIDIA GPU" in plan.choice.note
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("codec, ext, ffmpeg_name", [("HEVC", ".mp4", "hevc"), ("AV1", ".mkv", "av1")])
def test_other_codecs(codec, ext, ffmpeg_name, tmp_path):
    """HEVC and AV1 through the same writer (synthetic frames: the encoder never knows where
    frames come from)."""
    enc = _video()
    settings = enc.EncoderSettings(codec=codec, encoder="CPU", crf=10, preset="FASTEST", profile="MAIN",
                                   keyframe_interval=3)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:, : W // 2] = (200, 40, 20)
    rgb[:, W // 2:] = (20, 60, 220)
    with enc.VideoWriter(tmp_path / f"v{ext}", W, H, Fraction(25), settings) as w:
        for k in range(5):
            w.write(np.roll(rgb, k, axis=1))
    frames, info = decode(tmp_path / f"v{ext}")
    assert len(frames) == 5 and (info["width"], info["height"], info["rate"]) == (W, H, Fraction(25))
    assert ffmpeg_name in info["codec"]
    assert info["keys"][0] and info["keys"][3]
    assert_matches(frames[0], rgb, luma_max=12, mean_max=1.5)
    assert leftovers(tmp_path) == [f"v{ext}"]


def test_writer_error_removes_the_file_and_keeps_an_old_one(tmp_path):
    enc = _video()
    target = tmp_path / "old.mp4"
    target.write_bytes(b"an older video")
    with pytest.raises(ValueError):
        with enc.VideoWriter(target, W, H, Fraction(24), enc.EncoderSettings(encoder="CPU")) as w:
            w.write(np.zeros((H, W, 3), np.uint8))
            w.write(np.zeros((H // 2, W, 3), np.uint8))  # wrong size
    assert leftovers(tmp_path) == ["old.mp4"] and target.read_bytes() == b"an older video"



@pytest.mark.parametrize("preset, frames, step", [
    ("MEDIUM", 2, r"finalizing 2 frames"),  # x264 buffers the frames: the muxer sees them at the end
    ("FASTEST", 30, r"encoding frame \d+ \(pts 5\)"),  # packets leave while frames still arrive
])
def test_a_muxer_refusal_names_the_step_and_leaves_nothing(tmp_path, preset, frames, step):
    """Timestamps the MP4 muxer refuses (frames at one time): the error says which step of which
    video failed, not only FFmpeg's bare EINVAL, and the partial file is gone."""
    enc = _video()
    frame = np.zeros((H, W, 3), np.uint8)
    settings = enc.EncoderSettings(encoder="CPU", preset=preset)
    with pytest.raises(enc.EncoderError, match=rf"^{step} of same\.mp4 failed: .*Invalid argument"):
        with enc.VideoWriter(tmp_path / "same.mp4", W, H, Fraction(24), settings) as w:
            for _ in range(frames):
                w.write(frame, pts=5)
    assert leftovers(tmp_path) == []

# ---------------------------------------------------------------------------------------------
# validation: clear errors before any frame renders


BAD_OPTIONS = [  # (file name, options, the error it gets)
    ("video.avi", {}, r"not a video file Optica writes: use a \.mp4, \.mkv or \.mov extension \(not \.avi\)"),
    ("video", {}, r"use a \.mp4, \.mkv or \.mov extension"),
    ("/proc/optica-test/video.mp4", {}, r"cannot write the video in /proc/optica-test"),
    ("av1.mov", {"codec": "AV1"}, r"AV1 cannot be stored in a \.mov file"),
    ("baseline.mp4", {"codec": "HEVC", "profile": "BASELINE"}, r"HEVC has no baseline profile"),
    ("crf.mp4", {"crf": 60}, r"constant quality 60 is out of range for H\.264"),
    ("range.mp4", {"use_frame_range_override": True, "frame_start": 5, "frame_end": 2}, r"frame range 5-2 is empty"),
    ("scene.mp4", {"scenes": ["Nope"]}, r"no scene named 'Nope'"),
    ("odd.mp4", {"use_resolution_override": True, "resolution_x": 1, "resolution_y": 48}, r"too small"),
    ("fmt.mp4", {"method": "PARALLEL", "sequence_format": "TIFF"}, r"unknown frame format"),
    ("workers.mp4", {"method": "PARALLEL", "workers": -1}, r"cannot be negative"),
]


def test_bad_options_fail_before_rendering(anim_scene, tmp_path, monkeypatch):
    ea, frames_mod = _mod("plan"), _mod("frames")
    rendered = []
    monkeypatch.setattr(frames_mod.FrameRenderer, "render", lambda self, f, **kw: rendered.append(f))
    for name, kw, message in BAD_OPTIONS:
        path = name if name.startswith("/") else str(tmp_path / name)
        with pytest.raises(ea.ExportError, match=message):
            _mod("run").run(ea.prepare(_options(path, **kw), anim_scene))
    assert rendered == [] and leftovers(tmp_path) == []
    assert not os.path.exists("/proc/optica-test")


def test_operator_errors_before_rendering(anim_scene, tmp_path, monkeypatch):
    frames_mod = _mod("frames")
    rendered = []
    monkeypatch.setattr(frames_mod.FrameRenderer, "render", lambda self, f, **kw: rendered.append(f))
    with pytest.raises(RuntimeError, match=r"\.mp4, \.mkv or \.mov"):
        bpy.ops.optica.export_animation(filepath=str(tmp_path / "clip.gif"))
    with pytest.raises(RuntimeError, match="no output file"):
        bpy.ops.optica.export_animation(filepath="")
    with pytest.raises(RuntimeError, match="has not been saved"):
        bpy.ops.optica.export_animation(filepath="//relative.mp4")
    (tmp_path / "folder.mp4").mkdir()
    with pytest.raises(RuntimeError, match="is a folder"):
        bpy.ops.optica.export_animation(filepath=str(tmp_path / "folder.mp4"))
    assert rendered == []


def test_too_little_disk_space(anim_scene, tmp_path, monkeypatch):
    ea = _mod("plan")
    monkeypatch.setattr(ea, "free_bytes", lambda path: 1000)
    with pytest.raises(ea.ExportError, match=r"not enough free disk space .* needs about .* 1\.0 KB is free"):
        ea.prepare(_options(tmp_path / "big.mp4"), anim_scene)
    with pytest.raises(ea.ExportError, match="temporary frames included"):
        ea.prepare(_options(tmp_path / "big.mp4", method="PARALLEL"), anim_scene)
    assert leftovers(tmp_path) == []


def test_resolution_percentage_and_override(anim_scene, tmp_path):
    ea = _mod("plan")
    anim_scene.render.resolution_x, anim_scene.render.resolution_y = 130, 96
    anim_scene.render.resolution_percentage = 50  # 65×48: odd width
    plan = ea.prepare(_options(tmp_path / "p.mp4"), anim_scene)
    assert plan.size == (65, 48) and plan.video_size == (64, 48)
    assert any("odd side" in n for n in plan.notes)
    plan = ea.prepare(_options(tmp_path / "o.mp4", use_resolution_override=True, resolution_x=32,
                               resolution_y=24), anim_scene)
    result = _mod("run").run(plan)
    _frames, info = decode(result.path)
    assert (info["width"], info["height"]) == (32, 24)
    assert (anim_scene.render.resolution_x, anim_scene.render.resolution_percentage) == (130, 50)  # restored


def test_scene_fps():
    ea = _mod("plan")

    class R:
        def __init__(self, fps, base):
            self.render = type("r", (), {"fps": fps, "fps_base": base})()

    assert ea.scene_fps(R(30, np.float32(1.001))) == Fraction(30000, 1001)
    assert ea.scene_fps(R(24, 1.001)) == Fraction(24000, 1001)
    assert ea.scene_fps(R(25, 1.0)) == 25
    assert ea.scene_fps(R(60, np.float32(1.001))) == Fraction(60000, 1001)


def test_panel_settings_menu_and_invoke(anim_scene, tmp_path):
    """The Output-panel settings are what INVOKE_DEFAULT (menu, panel button) exports; without a
    window it runs to the end at once."""
    s = anim_scene.optica_export
    assert (s.method, s.encoder, s.codec, s.sequence_format) == ("STREAM", "AUTO", "H264", "EXR")
    assert hasattr(bpy.types, "OPTICA_OUTPUT_PT_export")
    draw_funcs = getattr(bpy.types.TOPBAR_MT_render, "_dyn_ui_initialize", lambda: [])()
    assert any(getattr(f, "__name__", "") == "draw_render_menu" for f in draw_funcs)
    s.filepath = str(tmp_path / "panel.mkv")
    s.use_frame_range_override, s.frame_start, s.frame_end = True, 2, 3
    s.codec, s.crf = "HEVC", 12
    assert bpy.ops.optica.export_animation("INVOKE_DEFAULT") == {"FINISHED"}
    frames, info = decode(tmp_path / "panel.mkv")
    assert len(frames) == 2 and info["codec"] == "hevc"


def test_bundled_packages_are_installed_by_blender(optica_installed):
    """The zip carries PyAV, PyOpenColorIO, OpenEXR and Pillow; Blender installs them with the extension."""
    site = Path(os.environ["BLENDER_USER_EXTENSIONS"]) / ".local" / "lib" / "python3.11" / "site-packages"
    for package in ("av", "PyOpenColorIO", "PIL", "optica_core"):
        assert (site / package / "__init__.py").is_file(), sorted(p.name for p in site.iterdir())
    assert list(site.glob("OpenEXR.cpython-311-*.so")), sorted(p.name for p in site.iterdir())


def test_notes_on_what_the_video_leaves_out(anim_scene, tmp_path):
    ea = _mod("plan")
    anim_scene.view_layers.new("Other")
    anim_scene.view_settings.use_curve_mapping = True
    notes = ea.prepare(_options(tmp_path / "n.mp4"), anim_scene).notes
    assert any("only view layer 'ViewLayer'" in n for n in notes), notes
    assert any("curve is not applied" in n for n in notes), notes


def test_modal_steps_and_escape(anim_scene, tmp_path):
    """The modal operator's event handling (a UI session), driven without a window: timer
    ticks step the export to the end; Esc cancels and cleans up."""
    from types import SimpleNamespace

    ea, run_mod = _mod("plan"), _mod("run")
    op_type = _mod("operator").OPTICA_OT_export_animation

    class Modal:
        modal, cancel = op_type.modal, op_type.cancel
        _end_modal, _remove_timer, _finish_report = op_type._end_modal, op_type._remove_timer, op_type._finish_report
        encoder, notify, _timer, _ui = "AUTO", False, None, None

        def __init__(self, plan):
            self.reports = []
            self._job = run_mod.Export(plan)
            self._job.start()

        def report(self, level, text):
            self.reports.append((next(iter(level)), text))

    context = SimpleNamespace(window_manager=bpy.context.window_manager)
    tick = SimpleNamespace(type="TIMER", value="NOTHING")
    op = Modal(ea.prepare(_options(tmp_path / "modal.mp4"), anim_scene))
    steps = 0
    while (ret := op.modal(context, tick)) == {"RUNNING_MODAL"}:
        steps += 1
    assert ret == {"FINISHED"} and steps == FRAMES - 1
    assert op.reports[-1][0] == "INFO" and "AUTO chose H.264 (libx264, CPU)" in op.reports[-1][1]
    assert len(decode(tmp_path / "modal.mp4")[0]) == FRAMES

    op = Modal(ea.prepare(_options(tmp_path / "esc.mp4"), anim_scene))
    assert op.modal(context, tick) == {"RUNNING_MODAL"}
    assert op.modal(context, SimpleNamespace(type="MOUSEMOVE", value="NOTHING")) == {"PASS_THROUGH"}
    assert op.modal(context, SimpleNamespace(type="ESC", value="PRESS")) == {"CANCELLED"}
    assert op.reports[-1][0] == "WARNING" and "cancelled" in op.reports[-1][1]
    assert leftovers(tmp_path) == ["modal.mp4"]


def test_operator_calls_do_not_remember_options(anim_scene, tmp_path):
    """A call's options do not stick to the next call: what it leaves unset comes from the
    scene's export settings (the panel), every time."""
    anim_scene.frame_end = 1
    assert bpy.ops.optica.export_animation(filepath=str(tmp_path / "a.mkv"), codec="HEVC", crf=30) == {"FINISHED"}
    anim_scene.optica_export.filepath = str(tmp_path / "b.mp4")
    assert bpy.ops.optica.export_animation() == {"FINISHED"}
    assert decode(tmp_path / "b.mp4")[1]["codec"] == "h264"
