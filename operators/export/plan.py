# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning an export: `prepare()` checks everything before any frame renders and returns a
`Plan` (no bpy references but scene names) — the file type (.mp4 / .mkv / .mov) and its folder
(or the folder of scene files),
the codec against the container, NVENC where it is asked for, the scenes, sizes, frame ranges,
frame rate (fps / fps_base, so 29.97 is 30000/1001), what the method needs (methods/) and the
free disk space. A problem is an `ExportError` saying what to change.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import bpy

from optica_core.sinks import MissingDependency, colour, video

from . import colour as blender_colour
from .frames import render_view_layer
from .methods import METHODS
from .options import Options
from .workers import Item


class ExportError(Exception):
    """The export cannot run as asked, or failed; the message says what to change or what
    happened. `result` (a Result) is set when rendering had begun."""

    result: Any = None


@dataclass
class Plan:
    """A validated export: everything `Export` needs, no bpy references but scene names."""

    options: Options
    target: Path | None  # the video; None for scene files without one
    scenes: list[str]
    items: list[Item]
    size: tuple[int, int]  # rendered frame
    video_size: tuple[int, int]  # encoded frame (even)
    override_size: tuple[int, int] | None  # what render_overrides() sets, None = the scenes' own
    fps: Fraction
    settings: video.EncoderSettings
    choice: video.EncoderChoice
    views: dict[str, colour.ViewSettings]
    frames_dir: Path | None
    workers: int
    needed_bytes: int
    notes: list[str] = field(default_factory=list)
    scene_folder: Path | None = None  # SCENE_FILES, DASK

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
        raise ExportError(
            f"'{filepath}' is relative to the .blend file, which has not been saved: "
            "give an absolute path or save the file first"
        )
    ext = path.suffix.lower()
    if ext not in video.CONTAINERS:
        raise ExportError(
            f"'{path.name}' is not a video file Optica writes: use a .mp4, .mkv or .mov "
            f"extension{f' (not {path.suffix})' if path.suffix else ''}"
        )
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


def video_bytes_estimate(settings: video.EncoderSettings, width: int, height: int, frames: int, fps: Fraction) -> int:
    """A generous estimate of the video's size: the bitrate, or ~4 bits per pixel for constant
    quality (noisy renders compress badly)."""
    if settings.quality_mode == "BITRATE":
        return int(settings.bitrate * 1e6 / 8 * frames / float(fps) * 1.1) + (1 << 20)
    return width * height * frames // 2 + (1 << 20)


def prepare(options: Options, scene=None) -> Plan:
    """Validates `options` against the current file (see the module docstring)."""
    o = options
    method = METHODS.get(o.method)
    if method is None:
        raise ExportError(f"unknown method {o.method!r} ({' or '.join(METHODS)})")
    target = _check_target(o.filepath) if method.needs_video_path or not o.scene_folder else None
    notes: list[str] = []
    names, items, size, override = _frames(o, scene, notes)
    video_size = (size[0] - size[0] % 2, size[1] - size[1] % 2)
    if video_size != size:
        notes.append(
            f"{size[0]}×{size[1]} has an odd side: the video is {video_size[0]}×{video_size[1]} "
            "(4:2:0 video needs even sizes; the last row/column is dropped)"
        )
    fps = _frame_rate([bpy.data.scenes[n] for n in names], notes)
    views = {}
    for n in names:
        views[n], view_notes = blender_colour.view_settings(bpy.data.scenes[n])
        notes += [f"'{n}': {note}" for note in view_notes]
    try:
        prep = method.prepare(o, target, size, items)
    except ValueError as e:
        raise ExportError(str(e)) from e
    settings, choice = _encoder(o, target)
    needed = video_bytes_estimate(settings, *video_size, len(items), fps) if method.needs_video_path else 0
    if target is not None:
        _check_space(target, prep, needed, len(items), size)
    # folders last: nothing is created unless everything else is fine
    if prep.scene_folder is not None:
        _writable_folder(prep.scene_folder, "scene files", create=True)
    if target is not None:
        _writable_folder(target.parent, "the video", create=True)
    return Plan(
        options=o,
        target=target,
        scenes=names,
        items=items,
        size=size,
        video_size=video_size,
        override_size=override,
        fps=fps,
        settings=settings,
        choice=choice,
        views=views,
        frames_dir=prep.frames_dir,
        workers=prep.workers,
        needed_bytes=needed,
        notes=notes + prep.notes,
        scene_folder=prep.scene_folder,
    )


def _frames(o: Options, scene, notes: list[str]):
    """(scene names, items, rendered size, override size or None) of the export."""
    names = [n for n in (o.scenes or []) if n] or [(scene or bpy.context.scene).name]
    missing = [n for n in names if n not in bpy.data.scenes]
    if missing:
        raise ExportError(f"no scene named {', '.join(repr(n) for n in missing)} in this file")
    scenes = [bpy.data.scenes[n] for n in names]
    size, override = _size(o, scenes)
    items: list[Item] = []
    for s in scenes:
        start, end = (o.frame_start, o.frame_end) if o.use_frame_range_override else (s.frame_start, s.frame_end)
        if end < start:
            raise ExportError(f"'{s.name}': the frame range {start}-{end} is empty (end before start)")
        for f in range(start, end + 1, max(1, s.frame_step)):
            items.append(Item(len(items), s.name, f))
        if s.camera is None:
            notes.append(f"'{s.name}' has no camera: it renders through a default view")
        if s.render.engine != "OPTICA":
            notes.append(f"'{s.name}' uses the {s.render.engine} engine; the video is rendered with Optica")
        notes += _unexported_notes(s)
    return names, items, size, override


def _size(o: Options, scenes) -> tuple[tuple[int, int], tuple[int, int] | None]:
    if o.use_resolution_override:
        if o.resolution_x < 2 or o.resolution_y < 2:
            raise ExportError(f"resolution {o.resolution_x}×{o.resolution_y} is too small (at least 2×2)")
        size = (o.resolution_x, o.resolution_y)
        return size, size
    sizes = {s.name: _render_size(s) for s in scenes}
    first = scenes[0].name
    size = sizes[first]
    other = [f"'{n}' renders {w}×{h}" for n, (w, h) in sizes.items() if (w, h) != size]
    if other:
        raise ExportError(
            f"the scenes render at different sizes ('{first}' {size[0]}×{size[1]}, "
            f"{', '.join(other)}): set a resolution override for the video"
        )
    if size[0] < 2 or size[1] < 2:
        raise ExportError(f"'{first}' renders {size[0]}×{size[1]} pixels: a video needs at least 2×2")
    return size, None


def _frame_rate(scenes, notes: list[str]) -> Fraction:
    fps = scene_fps(scenes[0])
    if fps <= 0:
        raise ExportError(f"'{scenes[0].name}' has a frame rate of {float(fps)} fps")
    for s in scenes[1:]:
        if scene_fps(s) != fps:
            notes.append(
                f"'{s.name}' runs at {float(scene_fps(s)):.3f} fps; the video uses "
                f"{float(fps):.3f} fps (from '{scenes[0].name}')"
            )
    return fps


def _encoder(o: Options, target: Path | None) -> tuple[video.EncoderSettings, video.EncoderChoice]:
    """The encoder's settings and choice (NVENC is probed here: asking for it where there is
    none is an error up front)."""
    settings = o.encoder_settings()
    try:
        video.import_av()
        colour.import_ocio()
        settings.validate(target.suffix if target is not None else None)
        return settings, video.choose_encoder(settings)
    except (video.EncoderError, MissingDependency) as e:
        raise ExportError(str(e)) from e


def _check_space(target: Path, prep, needed: int, frames: int, size) -> None:
    """Enough free disk space for the video and the method's temporary files."""
    _writable_folder(target.parent, "the video")
    if prep.frames_dir is not None:
        _writable_folder(prep.frames_dir.parent, "temporary frames")
    target_root = _existing_parent(target.parent)
    try:
        checks = {target_root: needed}
        if prep.frames_dir is not None:
            frames_root = _existing_parent(prep.frames_dir.parent)
            if os.stat(frames_root).st_dev == os.stat(target_root).st_dev:
                checks[target_root] += prep.temporary_bytes
            else:
                checks[frames_root] = prep.temporary_bytes
        for root, need in checks.items():
            have = free_bytes(root)
            if have < need:
                raise ExportError(
                    f"not enough free disk space in {root}: the export needs about "
                    f"{_size_text(need)} ({frames} frames at {size[0]}×{size[1]}"
                    f"{', temporary frames included' if prep.frames_dir else ''}), "
                    f"{_size_text(have)} is free"
                )
    except OSError as e:
        raise ExportError(f"cannot check the free space for {target}: {e}") from e


def _unexported_notes(scene) -> list[str]:
    """What Blender's own render would add to `scene`'s frames and the export does not."""
    notes = []
    try:
        layer = render_view_layer(scene)
    except ValueError as e:
        raise ExportError(str(e)) from e
    used = [v.name for v in scene.view_layers if v.use]
    if len(used) > 1:
        notes.append(
            f"'{scene.name}': only view layer '{layer.name}' is in the video ({len(used)} are enabled for rendering)"
        )
    if scene.render.use_compositing and getattr(scene, "compositing_node_group", None) is not None:
        notes.append(f"'{scene.name}': the compositor is not applied to the video")
    editor = scene.sequence_editor
    if scene.render.use_sequencer and editor is not None and len(editor.strips_all):
        notes.append(f"'{scene.name}': sequencer strips are not in the video (it shows the 3D scene)")
    return notes


def _size_text(size: int) -> str:
    n = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000.0
    return str(n)
