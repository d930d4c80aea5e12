# SPDX-License-Identifier: GPL-3.0-or-later
"""Export Animation: scenes rendered with Optica straight into one video file.

    bpy.ops.optica.export_animation(filepath="//anim.mp4", method='STREAM', codec='H264')

or, from Python (tests, scripts that want progress callbacks):

    plan = prepare(Options(filepath=..., method="PARALLEL"), bpy.context.scene)  # ExportError
    result = run(plan, progress=callback, should_cancel=callback)                # Result

`prepare()` checks everything before any frame renders: the file type (.mp4 / .mkv / .mov) and
its folder, the codec against the container, NVENC where it is asked for, the scenes, sizes,
frame ranges, frame rate (fps / fps_base, so 29.97 is 30000/1001) and the free disk space. Then
`Export` renders and encodes:

- STREAM: the main thread renders frame k+1 (`stream.FrameRenderer`) while a second thread
  colour-manages and encodes frame k (`stream.EncodeThread`, bounded queue);
- PARALLEL: worker processes render frame ranges into a temporary image sequence
  (`parallel.WorkerPool`), then one pass encodes it.

The video is written to a hidden file next to the target and renamed when complete
(`encoder.VideoWriter`). A cancelled or failed export removes it, or with `keep_partial`
finalizes the frames done into a playable file at the target (and says so). Temporary frames
are removed on success, cancel and error — except with `resume`, which keeps them when the
export stops so that running it again with `resume` renders only the missing frames (frames
left by a crash or a kill are picked up the same way).

Frames look like the PNGs Blender saves (colour.DisplayProcessor: the scene's view transform,
look, exposure and gamma through Blender's OCIO configuration).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import bpy
from bpy.props import (BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty,
                       StringProperty)

from . import colour, encoder, parallel, stream
from .stream import Cancelled

LOG_PREFIX = "Optica export"


class ExportError(Exception):
    """The export cannot run as asked, or failed; the message says what to change or what
    happened. `result` (a Result) is set when rendering had begun."""

    result = None


# ---------------------------------------------------------------------------------------------
# options


@dataclass
class Options:
    filepath: str
    scenes: list[str] = field(default_factory=list)  # in video order; empty: the current scene
    use_resolution_override: bool = False
    resolution_x: int = 1920
    resolution_y: int = 1080
    use_frame_range_override: bool = False
    frame_start: int = 1
    frame_end: int = 250
    method: str = "STREAM"  # 'STREAM' or 'PARALLEL'
    workers: int = 0  # PARALLEL: processes; 0 = one per core
    sequence_format: str = "EXR"  # PARALLEL temporary frames: 'EXR' (half float, linear) or 'PNG' (16-bit)
    frames_dir: str = ""  # PARALLEL: the temporary folder; "" = next to the video
    resume: bool = False  # PARALLEL: reuse frames on disk; keep them if the export stops
    keep_partial: bool = False  # cancelled / failed: keep a playable video of the frames done
    encoder: str = "AUTO"
    codec: str = "H264"
    quality_mode: str = "CRF"
    crf: int = 20
    bitrate: float = 10.0
    keyframe_interval: int = 0
    preset: str = "MEDIUM"
    profile: str = "AUTO"
    verbose: bool = False  # print a progress bar (headless)
    notify: bool = False  # print a message, and a desktop notification where possible, at the end

    def encoder_settings(self) -> encoder.EncoderSettings:
        return encoder.EncoderSettings(
            codec=self.codec, encoder=self.encoder, quality_mode=self.quality_mode, crf=self.crf,
            bitrate=self.bitrate, keyframe_interval=self.keyframe_interval, preset=self.preset,
            profile=self.profile)


@dataclass
class Plan:
    """A validated export: everything `Export` needs, no bpy references but scene names."""

    options: Options
    target: Path
    scenes: list[str]
    items: list[parallel.Item]
    size: tuple[int, int]  # rendered frame
    video_size: tuple[int, int]  # encoded frame (even)
    override_size: tuple[int, int] | None  # what render_overrides() sets, None = the scenes' own
    fps: Fraction
    settings: encoder.EncoderSettings
    choice: encoder.EncoderChoice
    views: dict[str, colour.ViewSettings]
    frames_dir: Path | None
    workers: int
    needed_bytes: int
    notes: list[str] = field(default_factory=list)

    @property
    def fps_text(self) -> str:
        f = self.fps
        return f"{f.numerator}" if f.denominator == 1 else f"{float(f):.3f} ({f.numerator}/{f.denominator})"


def free_bytes(path: Path) -> int:
    """Free space of the file system holding `path` (tests replace this)."""
    return shutil.disk_usage(path).free


def scene_fps(scene) -> Fraction:
    """fps / fps_base as an exact fraction: 30 / 1.001 → 30000/1001 (fps_base is a float32)."""
    base = Fraction(str(round(float(scene.render.fps_base), 6)))
    return (Fraction(scene.render.fps) / base).limit_denominator(1_000_000)


def _render_size(scene) -> tuple[int, int]:
    r = scene.render
    return r.resolution_x * r.resolution_percentage // 100, r.resolution_y * r.resolution_percentage // 100


def _check_target(filepath: str) -> Path:
    if not filepath or not filepath.strip():
        raise ExportError("no output file given (filepath): choose a .mp4, .mkv or .mov file")
    path = Path(bpy.path.abspath(filepath)).expanduser()
    if filepath.startswith("//") and not bpy.data.filepath:
        raise ExportError(f"'{filepath}' is relative to the .blend file, which has not been saved: "
                          "give an absolute path or save the file first")
    ext = path.suffix.lower()
    if ext not in encoder.CONTAINERS:
        raise ExportError(f"'{path.name}' is not a video file Optica writes: use a .mp4, .mkv or .mov "
                          f"extension{f' (not {path.suffix})' if path.suffix else ''}")
    if path.is_dir():
        raise ExportError(f"{path} is a folder, not a file")
    return path.absolute()


def _writable_folder(folder: Path, what: str, create: bool = False) -> None:
    """Proves `folder` writable by creating a file in it (root ignores permission bits), or,
    while it does not exist yet, its nearest existing parent. `create`: make it first."""
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        probe_in = _existing_parent(folder)
        if not probe_in.is_dir():
            raise NotADirectoryError(20, f"{probe_in} is not a folder")
        fd, probe = tempfile.mkstemp(prefix=".optica-write-test-", dir=probe_in)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ExportError(f"cannot write {what} in {folder}: {e.strerror or e}") from e


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def video_bytes_estimate(settings: encoder.EncoderSettings, width: int, height: int, frames: int,
                         fps: Fraction) -> int:
    """A generous estimate of the video's size: the bitrate, or ~4 bits per pixel for constant
    quality (noisy renders compress badly)."""
    if settings.quality_mode == "BITRATE":
        return int(settings.bitrate * 1e6 / 8 * frames / float(fps) * 1.1) + (1 << 20)
    return width * height * frames // 2 + (1 << 20)


def prepare(options: Options, scene=None) -> Plan:
    """Validates `options` against the current file (see the module docstring)."""
    o = options
    target = _check_target(o.filepath)
    notes: list[str] = []

    # scenes, frames, size, frame rate
    names = [n for n in (o.scenes or []) if n] or [(scene or bpy.context.scene).name]
    missing = [n for n in names if n not in bpy.data.scenes]
    if missing:
        raise ExportError(f"no scene named {', '.join(repr(n) for n in missing)} in this file")
    scenes = [bpy.data.scenes[n] for n in names]
    if o.use_resolution_override:
        if o.resolution_x < 2 or o.resolution_y < 2:
            raise ExportError(f"resolution {o.resolution_x}×{o.resolution_y} is too small (at least 2×2)")
        size = (o.resolution_x, o.resolution_y)
        override = size
    else:
        sizes = {s.name: _render_size(s) for s in scenes}
        size = sizes[names[0]]
        other = [f"'{n}' renders {w}×{h}" for n, (w, h) in sizes.items() if (w, h) != size]
        if other:
            raise ExportError(f"the scenes render at different sizes ('{names[0]}' {size[0]}×{size[1]}, "
                              f"{', '.join(other)}): set a resolution override for the video")
        if size[0] < 2 or size[1] < 2:
            raise ExportError(f"'{names[0]}' renders {size[0]}×{size[1]} pixels: a video needs at least 2×2")
        override = None
    video_size = (size[0] - size[0] % 2, size[1] - size[1] % 2)
    if video_size != size:
        notes.append(f"{size[0]}×{size[1]} has an odd side: the video is {video_size[0]}×{video_size[1]} "
                     "(4:2:0 video needs even sizes; the last row/column is dropped)")
    fps = scene_fps(scenes[0])
    if fps <= 0:
        raise ExportError(f"'{names[0]}' has a frame rate of {float(fps)} fps")
    for s in scenes[1:]:
        if scene_fps(s) != fps:
            notes.append(f"'{s.name}' runs at {float(scene_fps(s)):.3f} fps; the video uses "
                         f"{float(fps):.3f} fps (from '{names[0]}')")
    items: list[parallel.Item] = []
    for s in scenes:
        start, end = (o.frame_start, o.frame_end) if o.use_frame_range_override else (s.frame_start, s.frame_end)
        if end < start:
            raise ExportError(f"'{s.name}': the frame range {start}-{end} is empty (end before start)")
        for f in range(start, end + 1, max(1, s.frame_step)):
            items.append(parallel.Item(len(items), s.name, f))
        if s.camera is None:
            notes.append(f"'{s.name}' has no camera: it renders through a default view")
        if s.render.engine != "OPTICA":
            notes.append(f"'{s.name}' uses the {s.render.engine} engine; the video is rendered with Optica")
        notes += _unexported_notes(s)
    views = {}
    for s in scenes:
        views[s.name], view_notes = colour.ViewSettings.from_scene(s)
        notes += [f"'{s.name}': {n}" for n in view_notes]

    # method
    if o.method not in ("STREAM", "PARALLEL"):
        raise ExportError(f"unknown method {o.method!r} (STREAM or PARALLEL)")
    workers = 1
    frames_dir = None
    if o.method == "PARALLEL":
        if o.workers < 0:
            raise ExportError("the number of worker processes cannot be negative")
        workers = o.workers or (os.cpu_count() or 1)
        if o.sequence_format not in parallel.FORMATS:
            raise ExportError(f"unknown frame format {o.sequence_format!r} ({', '.join(parallel.FORMATS)})")
        frames_dir = (Path(bpy.path.abspath(o.frames_dir)).absolute() if o.frames_dir
                      else target.with_name(f".{target.stem}.optica-frames"))
        try:
            parallel._oiio()
        except ImportError as e:
            raise ExportError(f"the parallel export writes frames with OpenImageIO, which is missing: {e}") from e

    # encoder (NVENC is probed here: asking for it where there is none is an error up front)
    settings = o.encoder_settings()
    try:
        encoder.import_av()
        colour.import_ocio()
        settings.validate(target.suffix)
        choice = encoder.choose_encoder(settings)
    except (encoder.EncoderError, encoder.MissingDependency) as e:
        raise ExportError(str(e)) from e

    # folders and disk space
    _writable_folder(target.parent, "the video")
    if frames_dir is not None:
        _writable_folder(frames_dir.parent, "temporary frames")
    needed = video_bytes_estimate(settings, *video_size, len(items), fps)
    target_root = _existing_parent(target.parent)
    try:
        checks = {target_root: needed}
        if frames_dir is not None:
            store = parallel.FrameStore(frames_dir, {}, o.sequence_format)
            frames_bytes = store.bytes_per_frame(*size) * len(items)
            frames_root = _existing_parent(frames_dir.parent)
            if os.stat(frames_root).st_dev == os.stat(target_root).st_dev:
                checks[target_root] += frames_bytes
            else:
                checks[frames_root] = frames_bytes
        for root, need in checks.items():
            have = free_bytes(root)
            if have < need:
                raise ExportError(f"not enough free disk space in {root}: the export needs about "
                                  f"{_size_text(need)} ({len(items)} frames at {size[0]}×{size[1]}"
                                  f"{', temporary frames included' if frames_dir else ''}), {_size_text(have)} is free")
    except OSError as e:
        raise ExportError(f"cannot check the free space for {target}: {e}") from e

    # folders last: nothing is created unless everything else is fine
    _writable_folder(target.parent, "the video", create=True)
    return Plan(options=o, target=target, scenes=names, items=items, size=size, video_size=video_size,
                override_size=override, fps=fps, settings=settings, choice=choice, views=views,
                frames_dir=frames_dir, workers=workers, needed_bytes=needed, notes=notes)


def _unexported_notes(scene) -> list[str]:
    """What Blender's own render would add to `scene`'s frames and the export does not."""
    notes = []
    try:
        layer = stream.render_view_layer(scene)
    except ValueError as e:
        raise ExportError(str(e)) from e
    used = [v.name for v in scene.view_layers if v.use]
    if len(used) > 1:
        notes.append(f"'{scene.name}': only view layer '{layer.name}' is in the video "
                     f"({len(used)} are enabled for rendering)")
    if scene.render.use_compositing and getattr(scene, "compositing_node_group", None) is not None:
        notes.append(f"'{scene.name}': the compositor is not applied to the video")
    editor = scene.sequence_editor
    if scene.render.use_sequencer and editor is not None and len(editor.strips_all):
        notes.append(f"'{scene.name}': sequencer strips are not in the video (it shows the 3D scene)")
    return notes


def _size_text(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000.0
    return str(n)


# ---------------------------------------------------------------------------------------------
# running


@dataclass
class Progress:
    phase: str  # 'render', 'encode'
    done: int  # frames of this phase done
    total: int
    fraction: float  # of the whole export
    elapsed: float  # seconds
    text: str


@dataclass
class Result:
    path: Path | None  # the video, None when nothing was kept
    frames: int  # frames in the video
    total: int  # frames asked for
    encoder: str  # e.g. 'H.264 (libx264, CPU)'
    encoder_note: str
    method: str
    seconds: float
    size: tuple[int, int]
    fps: Fraction
    rendered: int = 0  # frames rendered by this run (PARALLEL resume: fewer than total)
    resumed: int = 0  # frames found on disk (PARALLEL resume)
    cancelled: bool = False
    error: str = ""
    partial: bool = False  # a playable file of the frames done was kept
    kept_frames: Path | None = None  # PARALLEL resume: where the frames wait
    notes: list[str] = field(default_factory=list)
    render_seconds: float = 0.0
    encode_seconds: float = 0.0

    def summary(self) -> str:
        if self.path is not None and not (self.cancelled or self.error):
            head = (f"wrote {self.path} — {self.frames} frames, {self.size[0]}×{self.size[1]} at "
                    f"{float(self.fps):.3f} fps, {self.encoder}, in {_time_text(self.seconds)}")
            if self.resumed:
                head += f" ({self.resumed} frames resumed from disk)"
        else:
            why = "cancelled" if self.cancelled else f"failed: {self.error}"
            head = f"export {why} after {_time_text(self.seconds)}; "
            if self.partial and self.path is not None:
                head += f"kept a playable {self.path.name} with the first {self.frames} of {self.total} frames"
            else:
                head += "no video was written"
            if self.kept_frames is not None:
                head += f"; rendered frames kept in {self.kept_frames} (run again with resume to continue)"
        return head


def _time_text(seconds: float) -> str:
    m, s = divmod(seconds, 60.0)
    return f"{int(m)} min {s:.1f} s" if m else f"{s:.1f} s"


class Export:
    """Runs a Plan one step at a time (a modal operator calls step() from a timer; run()
    loops). progress(Progress) is called after each step and may raise (KeyboardInterrupt)
    to stop; should_cancel() returning True cancels at the next step (and the frame being
    rendered, within half a second, for STREAM)."""

    def __init__(self, plan: Plan, progress=None, should_cancel=None):
        self.plan = plan
        self.progress_cb = progress
        self.should_cancel = should_cancel or (lambda: False)
        self.t0 = time.perf_counter()
        self.writer: encoder.VideoWriter | None = None
        self.encode: stream.EncodeThread | None = None
        self.processors: dict[str, colour.DisplayProcessor] = {}
        self.phase = "render"
        self.pos = 0  # next item to render (STREAM) or encode
        self.rendered = 0
        self.resumed = 0
        self.messages: list[str] = []
        self._renderers: dict[str, stream.FrameRenderer] = {}
        self._restore = None  # contextlib.ExitStack of render_overrides
        self._store: parallel.FrameStore | None = None
        self._pool: parallel.WorkerPool | None = None
        self.started = False
        self.finished = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Opens the video file and starts rendering (workers for PARALLEL)."""
        import contextlib

        p = self.plan
        try:
            for name, view in p.views.items():
                same = [proc for proc in self.processors.values() if proc.settings == view]
                self.processors[name] = same[0] if same else colour.DisplayProcessor(view)
            self.writer = encoder.VideoWriter(p.target, *p.size, p.fps, p.settings, p.choice,
                                              keep_partial=p.options.keep_partial)
            if p.options.method == "STREAM":
                self._restore = contextlib.ExitStack()
                self.encode = stream.EncodeThread(self._convert_linear, self.writer)
            else:
                self._start_parallel()
        except BaseException as e:
            self.abort(e)
            if isinstance(e, (encoder.EncoderError, ValueError, OSError)):
                raise ExportError(str(e)) from e
            raise
        self.started = True
        self._report()

    def _start_parallel(self):
        p = self.plan
        key = {"target": str(p.target), "size": list(p.size),
               "items": [[it.scene, it.frame] for it in p.items],
               "render": {n: _render_key(bpy.data.scenes[n]) for n in p.scenes}}
        self._store = store = parallel.FrameStore(p.frames_dir, key, p.options.sequence_format)
        done = set(store.prepare(p.options.resume))
        self.resumed = len(done)
        todo = [it for it in p.items if it.index not in done]
        if todo:
            result = bpy.ops.wm.save_as_mainfile(filepath=str(store.blend), copy=True, relative_remap=True,
                                                 compress=False, check_existing=False)
            if result != {"FINISHED"}:
                raise ExportError(f"could not save a copy of the file for the workers ({result})")
            self._pool = parallel.WorkerPool(store, todo, p.workers, _addon_module(), p.override_size)

    def step(self) -> bool:
        """Does one unit of work (renders one frame, polls the workers, or queues one frame
        for encoding). True once the video is complete (then call finish())."""
        if self.should_cancel():
            raise Cancelled()
        p = self.plan
        if self.phase == "render":
            if p.options.method == "STREAM":
                self._stream_step()
            else:
                self._parallel_render_step()
        elif self.phase == "encode":
            self._encode_step()
        if self.phase == "done":
            self.finished = True
        self._report()
        return self.finished

    def finish(self) -> Result:
        """After step() returned True: the video is finalized and temporary files removed."""
        self.encode.finish()
        self.writer.close()
        self._cleanup(success=True)
        return self._result()

    def abort(self, error: BaseException | None = None) -> Result:
        """Stops everything and removes what is temporary (see the module docstring)."""
        if self.encode is not None:
            self.encode.stop()
        if self._pool is not None:
            self._pool.terminate()
        kept = self.writer.abort() if self.writer is not None else None
        kept_frames = self._cleanup(success=False)
        result = self._result()
        result.path = kept
        result.partial = kept is not None
        result.kept_frames = kept_frames
        result.cancelled = error is None or isinstance(error, (Cancelled, KeyboardInterrupt))
        result.error = "" if result.cancelled else (str(error) or type(error).__name__)
        return result

    # -- STREAM ------------------------------------------------------------------------------

    def _convert_linear(self, item):
        name, image = item
        return self.processors[name].to_uint8(image)

    def _renderer(self, name: str) -> stream.FrameRenderer:
        r = self._renderers.get(name)
        if r is None:
            scene = bpy.data.scenes[name]
            self._restore.enter_context(stream.render_overrides(scene, self.plan.override_size))
            r = self._renderers[name] = stream.FrameRenderer(scene, test_break=self.should_cancel)
        return r

    def _stream_step(self):
        it = self.plan.items[self.pos]
        renderer = self._renderer(it.scene)
        image = renderer.render(it.frame)
        for level, text in renderer.messages:
            line = f"{it.scene}: {text}" if len(self.plan.scenes) > 1 else text
            if level in ("WARNING", "ERROR") and line not in self.messages:
                self.messages.append(line)
        self.encode.put((it.scene, image))
        self.pos += 1
        self.rendered += 1
        if self.pos >= len(self.plan.items):
            self.phase = "done"

    # -- PARALLEL ----------------------------------------------------------------------------

    def _parallel_render_step(self):
        if self._pool is not None and not self._pool.poll(timeout=0.1):
            self.rendered = self._pool.done
            return
        self.rendered = self._pool.done if self._pool is not None else 0
        self.phase, self.pos = "encode", 0
        fmt = self._store.format
        convert = self._convert_linear if fmt == "EXR" else (lambda item: parallel.png16_to_uint8(item[1]))
        self.encode = stream.EncodeThread(convert, self.writer)

    def _encode_step(self):
        it = self.plan.items[self.pos]
        self.encode.put((it.scene, self._store.read(it.index)))
        self.pos += 1
        if self.pos >= len(self.plan.items):
            self.phase = "done"

    # -- bookkeeping -------------------------------------------------------------------------

    def _cleanup(self, success: bool) -> Path | None:
        """Restores the scenes and removes temporary frames; returns the frames folder when it
        is kept for a later resume."""
        if self._restore is not None:
            restore, self._restore = self._restore, None
            restore.close()
        store, self._store = self._store, None
        if store is None:
            return None
        if not success and self.plan.options.resume and store.existing(len(self.plan.items)):
            store.blend.unlink(missing_ok=True)
            return store.folder
        store.remove()
        return None

    def _result(self) -> Result:
        p = self.plan
        w = self.writer
        return Result(
            path=p.target, frames=w.frames if w else 0, total=len(p.items), encoder=p.choice.label,
            encoder_note=p.choice.note, method=p.options.method, seconds=time.perf_counter() - self.t0,
            size=p.video_size, fps=p.fps, rendered=self.rendered, resumed=self.resumed,
            notes=list(p.notes) + self.messages,
            render_seconds=sum(r.seconds for r in self._renderers.values()),
            encode_seconds=self.encode.seconds if self.encode else 0.0)

    def _report(self):
        if self.progress_cb is None:
            return
        n = len(self.plan.items)
        elapsed = time.perf_counter() - self.t0
        if self.plan.options.method == "STREAM":
            done = self.rendered
            fraction = done / n
            text = f"Frame {min(done + 1, n)}/{n}" if done < n else f"Encoding the last frames ({n}/{n})"
            phase = "render"
        elif self.phase == "render":
            done = self.resumed + self.rendered
            fraction = 0.9 * done / n
            workers = len(self._pool.workers) if self._pool else 0
            text = f"Rendering frames: {done}/{n} ({workers} worker{'s' if workers != 1 else ''})"
            phase = "render"
        else:
            done = self.pos
            fraction = 0.9 + 0.1 * done / n
            text = f"Encoding {done}/{n}"
            phase = "encode"
        if 0 < fraction < 1:
            eta = elapsed / fraction * (1 - fraction)
            text += f" | Elapsed {_time_text(elapsed)} | Remaining ~{_time_text(eta)}"
        self.progress_cb(Progress(phase, done, n, min(1.0, fraction), elapsed, text))


def _render_key(scene) -> dict:
    """Render settings that make frames on disk stale when they change (resume)."""
    o = scene.optica
    return {"samples": o.samples, "max_bounces": o.max_bounces, "seed": o.seed,
            "noise_threshold": round(o.noise_threshold, 6), "time_limit": o.time_limit,
            "view": list(colour.ViewSettings.from_scene(scene)[0].__dict__.values())}


def _addon_module() -> str:
    """The add-on's package name, e.g. 'bl_ext.user_default.optica'."""
    return __package__.rpartition(".")[0]


def run(plan: Plan, progress=None, should_cancel=None) -> Result:
    """Runs the whole export in this thread and returns its Result; also when cancelled through
    should_cancel (`result.cancelled`). A failure cleans up, then raises ExportError (its
    `result` says what was kept); a KeyboardInterrupt (Ctrl-C, or raised by `progress`) cleans
    up and propagates."""
    job = Export(plan, progress, should_cancel)
    try:
        job.start()
        while not job.step():
            pass
        return job.finish()
    except Cancelled:
        return job.abort()
    except KeyboardInterrupt:
        job.abort()
        raise
    except Exception as e:  # noqa: BLE001 - cleaned up, then raised as an ExportError
        result = job.abort(e)
        if isinstance(e, ExportError) and getattr(e, "result", None) is None and not job.started:
            raise
        error = ExportError(result.summary())
        error.result = result
        raise error from e


# ---------------------------------------------------------------------------------------------
# headless progress and notification


class ConsoleProgress:
    """A one-line progress bar on stderr (rewritten in place on a terminal, else every 5 %)."""

    def __init__(self, stream_=None, width: int = 30):
        self.out = stream_ or sys.stderr
        self.width = width
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self._last = -1.0

    def __call__(self, p: Progress):
        if not self.tty and p.fraction - self._last < 0.05 and p.fraction < 1.0:
            return
        self._last = p.fraction
        filled = int(round(self.width * p.fraction))
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {p.fraction * 100:5.1f}% {p.text}"
        self.out.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.out.flush()

    def close(self):
        if self.tty:
            self.out.write("\n")
            self.out.flush()


def notify(message: str) -> None:
    """Prints the message; also a desktop notification when `notify-send` and a display exist."""
    print(f"{LOG_PREFIX}: {message}", flush=True)
    if shutil.which("notify-send") and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        import subprocess

        try:
            subprocess.run(["notify-send", "Optica export", message], timeout=5, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            pass


# ---------------------------------------------------------------------------------------------
# the operator


METHOD_ITEMS = [
    ("STREAM", "Stream", "Render, colour-manage and encode frame by frame; encoding overlaps the next frame's render"),
    ("PARALLEL", "Parallel", "Worker processes render frame ranges to temporary images, then one pass encodes them"),
]
ENCODER_ITEMS = [
    ("AUTO", "Auto", "NVIDIA NVENC when FFmpeg finds a usable GPU, else the CPU encoder"),
    ("NVENC", "NVENC", "NVIDIA's hardware encoder (an error where there is none)"),
    ("CPU", "CPU", "x264 / x265 / SVT-AV1 on the CPU"),
]
CODEC_ITEMS = [("H264", "H.264", "H.264 / AVC: plays everywhere"),
               ("HEVC", "HEVC", "H.265 / HEVC: smaller files, slower to encode"),
               ("AV1", "AV1", "AV1: smallest files (not in .mov)")]
QUALITY_ITEMS = [("CRF", "Constant Quality", "Constant quality (CRF; CQ on NVENC): lower is better and larger"),
                 ("BITRATE", "Bitrate", "Average bitrate in Mbit/s")]
PRESET_ITEMS = [(p, p.title(), f"Encoder speed preset: {p.lower()} (slower is smaller at the same quality)")
                for p in encoder.PRESETS]
PROFILE_ITEMS = [("AUTO", "Auto", "The encoder's choice"), ("BASELINE", "Baseline", "H.264 only"),
                 ("MAIN", "Main", "H.264, HEVC, AV1"), ("HIGH", "High", "H.264 only")]
FORMAT_ITEMS = [("EXR", "OpenEXR (half)", "Scene-linear half-float EXR, colour-managed when encoding (default)"),
                ("PNG", "PNG (16-bit)", "16-bit PNG, colour-managed by the workers")]


def option_properties(skip_save: bool = False) -> dict:
    """The export settings as bpy properties, shared by the operator and `scene.optica_export`.
    skip_save (the operator's): not remembered between calls, so an invocation from the menu or
    panel takes what it does not set from the scene's settings, not from the last call."""
    props = _option_properties()
    if skip_save:
        props = {name: p.function(**dict(p.keywords, options=set(p.keywords.get("options", {'ANIMATABLE'}))
                                         | {'SKIP_SAVE'}))
                 for name, p in props.items()}
    return props


def _option_properties() -> dict:
    return {
        "filepath": StringProperty(name="File", description="The video file (.mp4, .mkv or .mov)",
                                   subtype='FILE_PATH', default="", options={'PATH_SUPPORTS_BLEND_RELATIVE'}),
        "use_resolution_override": BoolProperty(
            name="Override Resolution", description="Render the video at this size instead of the scene's "
            "resolution and percentage", default=False),
        "resolution_x": IntProperty(name="Width", description="Video width in pixels", default=1920, min=2,
                                    soft_max=8192, subtype='PIXEL'),
        "resolution_y": IntProperty(name="Height", description="Video height in pixels", default=1080, min=2,
                                    soft_max=8192, subtype='PIXEL'),
        "use_frame_range_override": BoolProperty(
            name="Override Frame Range", description="Export these frames of every scene instead of each "
            "scene's own range", default=False),
        "frame_start": IntProperty(name="Start", description="First frame exported", default=1),
        "frame_end": IntProperty(name="End", description="Last frame exported", default=250),
        "method": EnumProperty(name="Method", items=METHOD_ITEMS, default="STREAM"),
        "workers": IntProperty(name="Workers", description="Parallel: worker processes; zero starts one "
                               "per core", default=0, min=0, soft_max=64),
        "sequence_format": EnumProperty(name="Frames", description="Parallel: temporary image format",
                                        items=FORMAT_ITEMS, default="EXR"),
        "resume": BoolProperty(
            name="Resume", description="Parallel: reuse frames already rendered by an interrupted export of "
            "the same video, and keep the rendered frames if this export stops", default=False),
        "keep_partial": BoolProperty(
            name="Keep Partial Video", description="When the export is cancelled or fails, finalize the "
            "frames done into a playable file instead of removing it", default=False),
        "encoder": EnumProperty(name="Encoder", items=ENCODER_ITEMS, default="AUTO"),
        "codec": EnumProperty(name="Codec", items=CODEC_ITEMS, default="H264"),
        "quality_mode": EnumProperty(name="Quality", items=QUALITY_ITEMS, default="CRF"),
        "crf": IntProperty(name="Constant Quality", description="CRF / CQ: 0 (best) to 51 (63 for AV1); "
                           "18-23 is visually good for H.264", default=20, min=0, max=63),
        "bitrate": FloatProperty(name="Bitrate", description="Average bitrate in Mbit/s", default=10.0,
                                 min=0.01, max=1000.0, soft_max=200.0, precision=1),
        "keyframe_interval": IntProperty(name="Keyframe Interval", description="Frames between keyframes "
                                         "(IDR); zero: two seconds' worth", default=0, min=0, soft_max=600),
        "preset": EnumProperty(name="Preset", items=PRESET_ITEMS, default="MEDIUM"),
        "profile": EnumProperty(name="Profile", items=PROFILE_ITEMS, default="AUTO"),
    }


OPTION_NAMES = tuple(option_properties())


class OPTICA_PG_scene_name(bpy.types.PropertyGroup):
    """One scene of an export, by name (operator property `scenes`)."""

    name: StringProperty(name="Scene")


class OPTICA_OT_export_animation(bpy.types.Operator):
    """Render the animation with Optica straight into a video file (H.264, HEVC or AV1)"""

    bl_idname = "optica.export_animation"
    bl_label = "Export Animation (Optica)"
    bl_options = {'REGISTER'}

    __annotations__ = dict(
        option_properties(skip_save=True),
        scenes=CollectionProperty(type=OPTICA_PG_scene_name, name="Scenes",
                                  description="Scenes exported in order into one video; empty: the current scene",
                                  options={'SKIP_SAVE'}),
        verbose=BoolProperty(name="Verbose", description="Print a progress bar (headless use)", default=False,
                             options={'SKIP_SAVE'}),
        notify=BoolProperty(name="Notify", description="Print a message (and a desktop notification) at the end",
                            default=False, options={'SKIP_SAVE'}),
        filter_glob=StringProperty(default="*.mp4;*.mkv;*.mov", options={'HIDDEN'}),
        ui_session=BoolProperty(default=False, options={'HIDDEN', 'SKIP_SAVE'}),
    )

    _job: Export | None = None
    _timer = None
    _ui = None

    # -- settings ----------------------------------------------------------------------------

    def _options(self, context) -> Options:
        kw = {name: getattr(self, name) for name in OPTION_NAMES}
        kw["scenes"] = [item.name for item in self.scenes]
        return Options(verbose=self.verbose, notify=self.notify, **kw)

    def _take_scene_settings(self, context):
        """Unset properties take the scene's export settings (Output properties panel)."""
        settings = getattr(context.scene, "optica_export", None)
        if settings is None:
            return
        for name in OPTION_NAMES:
            if not self.properties.is_property_set(name):
                setattr(self, name, getattr(settings, name))
        if not self.properties.is_property_set("scenes"):
            self.scenes.clear()
            for entry in settings.scenes:
                if entry.scene is not None:
                    self.scenes.add().name = entry.scene.name

    # -- entry points ------------------------------------------------------------------------

    def invoke(self, context, event):
        """Menu / panel: the scene's export settings, a file browser when no file is set, then a
        modal export (progress bar, Esc cancels between frames)."""
        self._take_scene_settings(context)
        self.ui_session = True
        if not self.filepath:
            if bpy.data.filepath:
                self.filepath = bpy.path.ensure_ext(bpy.path.abspath("//") + context.scene.name, ".mp4")
            context.window_manager.fileselect_add(self)
            return {'RUNNING_MODAL'}
        return self.execute(context)

    def execute(self, context):
        """Scripts and headless runs (and the end of invoke): properties not given in the call
        come from the scene's export settings, as in the panel."""
        self._take_scene_settings(context)
        try:
            plan = prepare(self._options(context), context.scene)
        except ExportError as e:
            self.report({'ERROR'}, f"{LOG_PREFIX}: {e}")
            return {'CANCELLED'}
        if self.ui_session and getattr(context, "window", None) is not None and not bpy.app.background:
            return self._start_modal(context, plan)
        return self._run_blocking(context, plan)

    def _run_blocking(self, context, plan):
        """Scripts and headless use: the whole export now; Ctrl-C cleans up and propagates."""
        bar = ConsoleProgress() if self.verbose else None
        ui = _WindowProgress(context) if not bpy.app.background else None

        def progress(p):
            if bar:
                bar(p)
            if ui:
                ui.update(p)

        try:
            result = run(plan, progress=progress)
        except ExportError as e:
            if self.notify:
                notify(str(e))
            self.report({'ERROR'}, f"{LOG_PREFIX}: {e}")
            return {'CANCELLED'}
        finally:
            if bar:
                bar.close()
            if ui:
                ui.end()
        return self._finish_report(result)

    def _start_modal(self, context, plan):
        self._ui = _WindowProgress(context)
        self._job = Export(plan, progress=self._ui.update)
        try:
            self._job.start()
        except ExportError as e:
            self._remove_timer(context)
            self.report({'ERROR'}, f"{LOG_PREFIX}: {e}")
            return {'CANCELLED'}
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.02, window=context.window)
        wm.modal_handler_add(self)
        return {'RUNNING_MODAL'}

    def modal(self, context, event):
        """One step per timer tick (a frame for STREAM); Esc cancels between steps."""
        if event.type == 'ESC' and event.value == 'PRESS':
            return self._end_modal(context, self._job.abort())
        if event.type != 'TIMER':
            return {'PASS_THROUGH'}
        try:
            if self._job.step():
                return self._end_modal(context, self._job.finish())
        except Cancelled:
            return self._end_modal(context, self._job.abort())
        except Exception as e:  # noqa: BLE001 - cleaned up and reported
            return self._end_modal(context, self._job.abort(e))
        return {'RUNNING_MODAL'}

    def cancel(self, context):  # Blender ends the operator (file closed, window gone)
        if self._job is not None and not self._job.finished:
            self._job.abort()
        self._remove_timer(context)

    def _remove_timer(self, context):
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        ui = getattr(self, "_ui", None)
        if ui is not None:
            ui.end()
            self._ui = None

    def _end_modal(self, context, result: Result):
        self._remove_timer(context)
        self._job = None
        return self._finish_report(result)

    def _finish_report(self, result: Result):
        for note in result.notes:
            self.report({'WARNING'}, f"{LOG_PREFIX}: {note}")
        text = result.summary()
        if result.encoder_note and self.encoder == "AUTO":
            text += f" [AUTO chose {result.encoder}: {result.encoder_note}]"
        if self.notify:
            notify(text)
        if result.error:
            self.report({'ERROR'}, f"{LOG_PREFIX}: {text}")
            return {'CANCELLED'}
        if result.cancelled:
            self.report({'WARNING'}, f"{LOG_PREFIX}: {text}")
            return {'CANCELLED'}
        self.report({'INFO'}, f"{LOG_PREFIX}: {text}")
        return {'FINISHED'}


class _WindowProgress:
    """Blender's progress bar and status text, while a window exists."""

    def __init__(self, context):
        self.wm = context.window_manager
        self.workspace = getattr(context, "workspace", None)
        self.window = getattr(context, "window", None)
        self.active = self.window is not None
        if self.active:
            self.wm.progress_begin(0, 1000)

    def update(self, p: Progress):
        if not self.active:
            return
        self.wm.progress_update(int(p.fraction * 1000))
        if self.workspace is not None:
            self.workspace.status_text_set(f"Optica export: {p.text} (Esc to cancel)")

    def end(self):
        if not self.active:
            return
        self.active = False
        self.wm.progress_end()
        if self.workspace is not None:
            self.workspace.status_text_set(None)


CLASSES = (OPTICA_PG_scene_name, OPTICA_OT_export_animation)
