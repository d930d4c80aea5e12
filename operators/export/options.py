# SPDX-License-Identifier: GPL-3.0-or-later
"""The export's options, defined once: the `Options` dataclass. The operator's properties, the
scene's export settings (`scene.optica_export`, drawn by ui/export_panel.py) and the encoder's
settings (`Options.encoder_settings()`) all derive from its fields; the codec, preset, profile
and encoder choices come from the encoder itself (optica_core.sinks.video), the methods from
the method registry (methods/).

Each field's metadata says how it shows in Blender: `name`, `description`, `items` (an enum),
other bpy.props keywords; `operator_only` fields (verbose, notify) are call options, not scene
settings; `scenes` is a collection, handled by the operator and the settings group themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from optica_core.sinks import video

from .methods import METHOD_CHOICES

SEQUENCE_FORMAT_CHOICES = (
    ("EXR", "OpenEXR (half)", "Scene-linear half-float EXR, colour-managed when encoding (default)"),
    ("PNG", "PNG (8-bit)", "8-bit PNG, colour-managed by the workers: the very values the encoder gets"),
)


def _option(default, name: str, description: str = "", **prop):
    return field(default=default, metadata=dict(name=name, description=description, **prop))


@dataclass
class Options:
    """What one export does (see the module docstring)."""

    filepath: str = _option(
        "", "File", "The video file (.mp4, .mkv or .mov)", subtype='FILE_PATH', options={'PATH_SUPPORTS_BLEND_RELATIVE'}
    )
    scenes: list[str] = field(default_factory=list)  # in video order; empty: the current scene
    use_resolution_override: bool = _option(
        False, "Override Resolution", "Render the video at this size instead of the scene's resolution and percentage"
    )
    resolution_x: int = _option(1920, "Width", "Video width in pixels", min=2, soft_max=8192, subtype='PIXEL')
    resolution_y: int = _option(1080, "Height", "Video height in pixels", min=2, soft_max=8192, subtype='PIXEL')
    use_frame_range_override: bool = _option(
        False, "Override Frame Range", "Export these frames of every scene instead of each scene's own range"
    )
    frame_start: int = _option(1, "Start", "First frame exported")
    frame_end: int = _option(250, "End", "Last frame exported")
    method: str = _option("STREAM", "Method", items=METHOD_CHOICES)
    workers: int = _option(
        0,
        "Workers",
        "Parallel: worker processes; Dask: the local cluster's worker processes; zero starts one per core",
        min=0,
        soft_max=64,
    )
    sequence_format: str = _option("EXR", "Frames", "Parallel: temporary image format", items=SEQUENCE_FORMAT_CHOICES)
    frames_dir: str = _option(
        "",
        "Frames Folder",
        "Parallel: the temporary folder; empty: next to the video",
        subtype='DIR_PATH',
        operator_only=True,
    )
    resume: bool = _option(
        False,
        "Resume",
        "Parallel: reuse frames already rendered by an interrupted export of "
        "the same video, and keep the rendered frames if this export stops",
    )
    scene_folder: str = _option(
        "",
        "Scene Folder",
        "Scene Files and Dask: the folder of scene files; empty: beside the video, named after it "
        "(<name>.optica-scenes)",
        subtype='DIR_PATH',
        options={'PATH_SUPPORTS_BLEND_RELATIVE'},
    )
    copy_ocio: bool = _option(
        False,
        "Copy Colour Configuration",
        "Scene Files and Dask: copy Blender's OCIO configuration (about 20 MB) into the folder, so that it renders "
        "with the same colours on machines without this Blender; off: the folder refers to it by path",
    )
    scheduler: str = _option(
        "",
        "Scheduler",
        "Dask: address of a running Dask scheduler (e.g. tcp://farm-head:8786), whose workers see the scene folder "
        "at the same path; empty: a local cluster on this machine (127.0.0.1)",
    )
    keep_partial: bool = _option(
        False,
        "Keep Partial Video",
        "When the export is cancelled or fails, finalize the frames done into a playable file instead of removing it",
    )
    encoder: str = _option("AUTO", "Encoder", items=video.ENCODER_CHOICES)
    codec: str = _option("H264", "Codec", items=video.CODEC_CHOICES)
    quality_mode: str = _option("CRF", "Quality", items=video.QUALITY_CHOICES)
    crf: int = _option(
        20, "Constant Quality", "CRF / CQ: 0 (best) to 51 (63 for AV1); 18-23 is visually good for H.264", min=0, max=63
    )
    bitrate: float = _option(
        10.0, "Bitrate", "Average bitrate in Mbit/s", min=0.01, max=1000.0, soft_max=200.0, precision=1
    )
    keyframe_interval: int = _option(
        0, "Keyframe Interval", "Frames between keyframes (IDR); zero: two seconds' worth", min=0, soft_max=600
    )
    preset: str = _option("MEDIUM", "Preset", items=video.PRESET_CHOICES)
    profile: str = _option("AUTO", "Profile", items=video.PROFILE_CHOICES)
    verbose: bool = _option(False, "Verbose", "Print a progress bar (headless use)", operator_only=True)
    notify: bool = _option(
        False, "Notify", "Print a message (and a desktop notification) at the end", operator_only=True
    )

    def encoder_settings(self) -> video.EncoderSettings:
        """The encoder's settings: the options of the same name."""
        names = {f.name for f in fields(video.EncoderSettings)}
        return video.EncoderSettings(**{f.name: getattr(self, f.name) for f in fields(self) if f.name in names})


def setting_names() -> tuple[str, ...]:
    """The options a scene's export settings hold (and the operator takes from them when unset)."""
    return tuple(f.name for f in fields(Options) if f.metadata and not f.metadata.get("operator_only"))


def operator_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Options) if f.metadata)


def properties(names, skip_save: bool = False) -> dict:
    """bpy properties of the options `names`, derived from the fields. skip_save (the
    operator's): not remembered between calls, so an invocation from the menu or panel takes
    what it does not set from the scene's settings, not from the last call."""
    by_name = {f.name: f for f in fields(Options)}
    return {name: _property(by_name[name], skip_save) for name in names}


def _property(f, skip_save: bool):
    from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

    meta = {k: v for k, v in f.metadata.items() if k != "operator_only"}
    if skip_save:
        meta["options"] = set(meta.get("options", {'ANIMATABLE'})) | {'SKIP_SAVE'}
    default = f.default if f.default is not MISSING else None
    if "items" in meta:
        return EnumProperty(default=default, **meta)
    kinds: dict[str, Callable[..., Any]] = {
        "bool": BoolProperty,
        "int": IntProperty,
        "float": FloatProperty,
        "str": StringProperty,
    }
    kind = kinds[f.type]
    return kind(default=default, **meta)
