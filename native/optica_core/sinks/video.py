# SPDX-License-Identifier: GPL-3.0-or-later
"""The video file: display-referred RGB frames → an H.264 / HEVC / AV1 file with PyAV, the
encoder's choices (codecs, presets, profiles) and `VideoSink`, which colour-manages frames on
their way to the writer.

    settings = EncoderSettings(codec="H264", encoder="AUTO", crf=20)
    choice = choose_encoder(settings)            # NVENC if FFmpeg can open it here, else the CPU encoder
    with VideoWriter(path, width, height, Fraction(30000, 1001), settings, choice) as w:
        w.write(rgb8)                            # (h, w, 3) uint8, or float in [0, 1]
    # leaving the block normally finalizes the file; an exception removes it (or, with
    # keep_partial, finalizes the frames written so far)
    sink = VideoSink(writer, Processors(config_path))   # a Sink: scene-linear Frames in

The writer never knows where frames come from. It writes to a hidden temporary file next to the
target (`.<name>.optica-partial.<ext>`), finalizes the container, then renames it over the
target: a failed or cancelled export never leaves a broken video, and an existing file at the
target survives until the new one is complete.

Live files (`live=True`, a recording): written in place, never over an existing file, and
fragmented (MP4/MOV: `movflags` frag_keyframe+empty_moov+default_base_moof plus a fragment every
FRAGMENT_SECONDS; Matroska: a cluster as often), every packet flushed to the operating system:
the file on disk is a playable video at every moment — a killed process loses the last fragment
and the frames inside the encoder, nothing else. Timestamps: `write(rgb, pts)` in units of the
writer's `time_base` (default 1/fps: frame numbers) for variable frame rates; `repeat(pts)`
encodes the last frame again without converting it again.

Colour: frames are converted once, RGB → yuv420p with BT.709 coefficients and MPEG (TV) range,
through one reused reformatter, and the stream is tagged BT.709 / MPEG range (as Blender's own
FFmpeg output). PyAV's default conversion (BT.601, untagged) would shift colours.

NVENC: `h264_nvenc` & co. are compiled into PyAV's FFmpeg whether or not there is a GPU, so the
list of codecs proves nothing: `probe_nvenc()` opens a small encoder context and reports FFmpeg's
reason when that fails ("Cannot load libcuda.so.1" without a driver, "No NVENC capable devices
found" on GPUs without encoder engines).

The `*_CHOICES` tables ((key, label, description), Blender's enum-item shape) are what a user
may pick; `EncoderSettings.validate` accepts exactly those keys.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .base import Frame, MissingDependency
from .colour import Processors

CONTAINERS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}
FRAGMENT_SECONDS = 0.25  # live files: the most a crash loses, besides the encoder's own delay

# Generic speed presets → each encoder's own names (slower = smaller file at the same quality).
PRESETS = ("FASTEST", "FASTER", "FAST", "MEDIUM", "SLOW", "SLOWER", "SLOWEST")
_X26X_PRESETS = dict(
    zip(PRESETS, ("ultrafast", "veryfast", "fast", "medium", "slow", "slower", "veryslow"), strict=True)
)
_SVT_PRESETS = dict(zip(PRESETS, ("12", "10", "9", "8", "6", "4", "2"), strict=True))
_NVENC_PRESETS = dict(zip(PRESETS, ("p1", "p2", "p3", "p4", "p5", "p6", "p7"), strict=True))

PROFILES = ("AUTO", "BASELINE", "MAIN", "HIGH")


@dataclass(frozen=True)
class Codec:
    label: str
    description: str
    cpu: str  # FFmpeg encoder names
    nvenc: str
    containers: tuple[str, ...]  # file extensions that can hold it
    profiles: tuple[str, ...]  # PROFILES it supports (AUTO always)
    max_crf: int


CODECS = {
    "H264": Codec(
        "H.264",
        "H.264 / AVC: plays everywhere",
        "libx264",
        "h264_nvenc",
        (".mp4", ".mkv", ".mov"),
        ("BASELINE", "MAIN", "HIGH"),
        51,
    ),
    "HEVC": Codec(
        "HEVC",
        "H.265 / HEVC: smaller files, slower to encode",
        "libx265",
        "hevc_nvenc",
        (".mp4", ".mkv", ".mov"),
        ("MAIN",),
        51,
    ),
    "AV1": Codec("AV1", "AV1: smallest files (not in .mov)", "libsvtav1", "av1_nvenc", (".mp4", ".mkv"), ("MAIN",), 63),
}

# What a user picks: (key, label, description), the shape of Blender's enum items.
CODEC_CHOICES = tuple((key, c.label, c.description) for key, c in CODECS.items())
ENCODER_CHOICES = (
    ("AUTO", "Auto", "NVIDIA NVENC when FFmpeg finds a usable GPU, else the CPU encoder"),
    ("NVENC", "NVENC", "NVIDIA's hardware encoder (an error where there is none)"),
    ("CPU", "CPU", "x264 / x265 / SVT-AV1 on the CPU"),
)
QUALITY_CHOICES = (
    ("CRF", "Constant Quality", "Constant quality (CRF; CQ on NVENC): lower is better and larger"),
    ("BITRATE", "Bitrate", "Average bitrate in Mbit/s"),
)
PRESET_CHOICES = tuple(
    (p, p.title(), f"Encoder speed preset: {p.lower()} (slower is smaller at the same quality)") for p in PRESETS
)
PROFILE_CHOICES = (
    ("AUTO", "Auto", "The encoder's choice"),
    ("BASELINE", "Baseline", "H.264 only"),
    ("MAIN", "Main", "H.264, HEVC, AV1"),
    ("HIGH", "High", "H.264 only"),
)


def _keys(choices) -> tuple[str, ...]:
    return tuple(c[0] for c in choices)


class EncoderError(Exception):
    """A setting the encoder cannot honour; the message says what to change."""


def import_av():
    try:
        import av
    except ImportError as e:
        raise MissingDependency(
            "PyAV is not available (`pip install optica-core[video]` or `pip install av`; the Optica "
            f"extension bundles it): {e}"
        ) from e
    return av


@dataclass(frozen=True)
class EncoderSettings:
    codec: str = "H264"  # CODECS key
    encoder: str = "AUTO"  # 'AUTO' (NVENC if usable, else CPU), 'NVENC', 'CPU'
    quality_mode: str = "CRF"  # 'CRF' (constant quality; CQ on NVENC) or 'BITRATE'
    crf: int = 20  # lower = better; 0-51 (H.264, HEVC), 0-63 (AV1)
    bitrate: float = 10.0  # Mbit/s, quality_mode 'BITRATE'
    keyframe_interval: int = 0  # frames between IDR frames; 0 = two seconds' worth
    preset: str = "MEDIUM"  # PRESETS
    profile: str = "AUTO"  # PROFILES
    threads: int = 0  # encoder threads; 0 = FFmpeg's choice (all cores)

    @classmethod
    def from_dict(cls, values: dict) -> EncoderSettings:
        """From plain values (an animation folder's manifest); unknown keys are an EncoderError."""
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise EncoderError(f"unknown encoder settings {', '.join(unknown)}")
        return cls(**values)

    def validate(self, extension: str | None = None) -> None:
        """Raises EncoderError for settings no encoder could use (before anything renders)."""
        codec = CODECS.get(self.codec)
        if codec is None:
            raise EncoderError(f"unknown codec {self.codec!r} (choose one of {', '.join(CODECS)})")
        if self.encoder not in _keys(ENCODER_CHOICES):
            raise EncoderError(f"unknown encoder {self.encoder!r} (AUTO, NVENC or CPU)")
        if extension is not None:
            ext = extension.lower()
            if ext not in CONTAINERS:
                raise EncoderError(f"'{extension}' is not a video file type Optica writes (.mp4, .mkv or .mov)")
            if ext not in codec.containers:
                raise EncoderError(
                    f"{codec.label} cannot be stored in a {ext} file (use {' or '.join(codec.containers)})"
                )
        if self.quality_mode not in _keys(QUALITY_CHOICES):
            raise EncoderError(f"unknown quality mode {self.quality_mode!r} (CRF or BITRATE)")
        if self.quality_mode == "CRF" and not 0 <= self.crf <= codec.max_crf:
            raise EncoderError(f"constant quality {self.crf} is out of range for {codec.label} (0-{codec.max_crf})")
        if self.quality_mode == "BITRATE" and not 0.01 <= self.bitrate <= 1000:
            raise EncoderError(f"bitrate {self.bitrate} Mbit/s is out of range (0.01-1000)")
        if self.keyframe_interval < 0:
            raise EncoderError("the keyframe interval cannot be negative")
        if self.preset not in PRESETS:
            raise EncoderError(f"unknown preset {self.preset!r} (one of {', '.join(PRESETS)})")
        if self.profile != "AUTO" and self.profile not in codec.profiles:
            raise EncoderError(
                f"{codec.label} has no {self.profile.lower()} profile for 8-bit 4:2:0 video "
                f"(use {', '.join(('AUTO',) + codec.profiles)})"
            )


# ---------------------------------------------------------------------------------------------
# which encoder


@dataclass(frozen=True)
class EncoderChoice:
    name: str  # FFmpeg encoder, e.g. 'libx264'
    kind: str  # 'NVENC' or 'CPU'
    codec: str  # CODECS key
    note: str = ""  # why this one (AUTO's fallback reason)

    @property
    def label(self) -> str:
        return f"{CODECS[self.codec].label} ({self.name}, {'NVIDIA NVENC' if self.kind == 'NVENC' else 'CPU'})"


_probe_lock = threading.Lock()
_probed: dict[str, str | None] = {}


def probe_nvenc(codec: str = "H264") -> str | None:
    """None when FFmpeg can open the NVENC encoder of `codec` here, else FFmpeg's reason.
    Cached per process (opening fails within milliseconds without a GPU)."""
    name = CODECS[codec].nvenc
    with _probe_lock:
        if name in _probed:
            return _probed[name]
        av = import_av()
        reason = None
        if name not in av.codecs_available:
            reason = f"this FFmpeg build has no {name}"
        else:
            old = av.logging.get_level()
            av.logging.set_level(av.logging.ERROR)
            logs: list = []
            try:
                with av.logging.Capture() as logs:
                    cc = av.CodecContext.create(name, "w")
                    cc.width, cc.height, cc.pix_fmt = 256, 256, "yuv420p"
                    cc.time_base = Fraction(1, 25)
                    cc.open()
                    del cc
            except av.FFmpegError as e:
                said = [str(m).strip() for _lvl, _who, m in logs if str(m).strip()]
                reason = said[-1] if said else str(e)
            finally:
                av.logging.set_level(old)
        _probed[name] = reason
        return reason


def choose_encoder(settings: EncoderSettings) -> EncoderChoice:
    """The encoder an export uses. NVENC asked for where there is none is an EncoderError
    naming the fallback; AUTO falls back to the CPU encoder and says why in `note`."""
    codec = CODECS[settings.codec]
    if settings.encoder == "CPU":
        return EncoderChoice(codec.cpu, "CPU", settings.codec, "CPU encoder requested")
    reason = probe_nvenc(settings.codec)
    if reason is None:
        return EncoderChoice(codec.nvenc, "NVENC", settings.codec, "NVIDIA GPU found")
    if settings.encoder == "NVENC":
        raise EncoderError(
            f"NVENC is not available on this machine (FFmpeg: {reason}); choose encoder CPU, or AUTO, "
            f"which falls back to the CPU encoder {codec.cpu}"
        )
    return EncoderChoice(codec.cpu, "CPU", settings.codec, f"no usable NVIDIA GPU ({reason})")


def codec_options(settings: EncoderSettings, choice: EncoderChoice, fps: Fraction) -> tuple[dict, int, int]:
    """(FFmpeg private options, gop size, bit rate in bit/s or 0) for the chosen encoder."""
    gop = settings.keyframe_interval or max(1, round(2 * float(fps)))
    opts: dict[str, str] = {}
    bit_rate = 0
    crf = settings.quality_mode == "CRF"
    if settings.quality_mode == "BITRATE":
        bit_rate = int(settings.bitrate * 1e6)
    profile = settings.profile.lower() if settings.profile != "AUTO" else None
    if choice.kind == "NVENC":
        opts["preset"] = _NVENC_PRESETS[settings.preset]
        opts["forced-idr"] = "1"
        if crf:
            opts.update(rc="vbr", cq=str(settings.crf))
            bit_rate = 0
        else:
            opts["rc"] = "vbr"
        if profile:
            opts["profile"] = profile
    elif choice.name in ("libx264", "libx265"):
        opts["preset"] = _X26X_PRESETS[settings.preset]
        if crf:
            opts["crf"] = str(settings.crf)
        if profile:
            opts["profile"] = profile
        if choice.name == "libx265":
            # Closed GOPs: every keyframe is an IDR frame, as with the other encoders.
            opts["x265-params"] = "log-level=error:open-gop=0"
    elif choice.name == "libsvtav1":
        opts["preset"] = _SVT_PRESETS[settings.preset]
        if crf:
            opts["crf"] = str(settings.crf)
        opts["svtav1-params"] = "irefresh-type=2"  # closed GOP: keyframes are key (IDR) frames
    return opts, gop, bit_rate


# ---------------------------------------------------------------------------------------------
# the writer


def live_options(extension: str) -> dict[str, str]:
    """Muxer options that keep a file being written playable at every moment (see the module
    docstring): fragments / clusters every FRAGMENT_SECONDS, each packet flushed at once."""
    if CONTAINERS[extension.lower()] == "matroska":
        return {"cluster_time_limit": str(round(FRAGMENT_SECONDS * 1000)), "flush_packets": "1"}
    return {
        "movflags": "frag_keyframe+empty_moov+default_base_moof",
        "frag_duration": str(round(FRAGMENT_SECONDS * 1e6)),
        "flush_packets": "1",
    }


def partial_path(target: Path) -> Path:
    """Where a video is written until it is complete (same folder: the rename is atomic)."""
    return target.with_name(f".{target.stem}.optica-partial{target.suffix}")


@dataclass
class WriterStats:
    frames: int = 0
    seconds: float = 0.0  # time spent in colour conversion and encoding
    bytes: int = 0


class VideoWriter:
    """One video file (see the module docstring). Not thread-safe: one thread writes."""

    def __init__(
        self,
        path,
        width: int,
        height: int,
        fps: Fraction,
        settings: EncoderSettings,
        choice: EncoderChoice | None = None,
        keep_partial: bool = False,
        live: bool = False,
        time_base: Fraction | None = None,
    ):
        av = import_av()
        self._av = av
        self.target = Path(path)
        ext = self.target.suffix.lower()
        settings.validate(ext)
        if width < 2 or height < 2:
            raise EncoderError(f"a video must be at least 2×2 pixels, not {width}×{height}")
        # 4:2:0 chroma needs even sizes: the last column/row of an odd size is dropped.
        self.width, self.height = width - width % 2, height - height % 2
        self.fps = Fraction(fps)
        self.time_base = Fraction(time_base) if time_base else 1 / self.fps
        self.settings = settings
        self.choice = choice or choose_encoder(settings)
        self.live = live
        self.keep_partial = keep_partial or live  # a live file is playable: aborting keeps it
        self.stats = WriterStats()
        self.partial = self.target if live else partial_path(self.target)
        self.kept: Path | None = None  # abort(): the playable partial video kept, if any
        self._closed = False
        self._last = None  # the last frame encoded, for repeat()
        if live and self.target.exists():
            raise EncoderError(f"{self.target} exists: a recording never replaces a file")
        self.partial.unlink(missing_ok=True)
        options = live_options(ext) if live else {}
        self._container = av.open(str(self.partial), "w", format=CONTAINERS[ext], options=options)
        try:
            self._stream = self._add_stream()
        except BaseException:
            self._container.close()
            self.partial.unlink(missing_ok=True)
            raise
        from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

        self._reformatter = VideoReformatter()
        self._reformat_args = dict(format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG)

    def _add_stream(self):
        from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

        opts, gop, bit_rate = codec_options(self.settings, self.choice, self.fps)
        stream = self._container.add_stream(self.choice.name, rate=self.fps, options=opts)
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
        cc = stream.codec_context
        cc.time_base = self.time_base
        cc.gop_size = gop
        if bit_rate:
            cc.bit_rate = bit_rate
        cc.colorspace = Colorspace.ITU709
        cc.color_primaries = ColorPrimaries.BT709
        cc.color_trc = ColorTrc.BT709
        cc.color_range = ColorRange.MPEG
        cc.thread_type = "AUTO"  # frame threads, as the ffmpeg tool uses (SLICE is PyAV's default)
        cc.thread_count = self.settings.threads
        logs: list = []
        try:
            with self._av.logging.Capture() as logs:
                cc.open()
        except self._av.FFmpegError as e:
            said = "; ".join(str(m).strip() for _l, _w, m in logs if str(m).strip())
            raise EncoderError(f"{self.choice.name} refused these settings: {said or e}") from e
        return stream

    # -----------------------------------------------------------------------------------------

    @property
    def frames(self) -> int:
        return self.stats.frames

    def write(self, frame: np.ndarray, pts: int | None = None) -> None:
        """Appends one frame: (h, w, 3) uint8 display values, or float display values in [0, 1]
        (rounded); larger than the video by an odd row/column is fine (it is dropped). `pts`:
        its time in `time_base` units, increasing (default: the frame's number)."""
        t0 = time.perf_counter()
        rgb = np.asarray(frame)
        if rgb.ndim != 3 or rgb.shape[2] < 3:
            raise ValueError(f"expected an (h, w, 3) RGB frame, got shape {rgb.shape}")
        if rgb.shape[0] < self.height or rgb.shape[1] < self.width:
            raise ValueError(f"frame is {rgb.shape[1]}×{rgb.shape[0]}, the video {self.width}×{self.height}")
        rgb = rgb[: self.height, : self.width, :3]
        if rgb.dtype != np.uint8:
            rgb = np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
        rgb = np.ascontiguousarray(rgb)
        av = self._av
        src = av.VideoFrame.from_numpy_buffer(rgb, format="rgb24")
        self._last = self._reformatter.reformat(src, **self._reformat_args)
        self._encode(self._last, pts)
        self.stats.seconds += time.perf_counter() - t0

    def repeat(self, pts: int) -> None:
        """Encodes the last written frame again at `pts` (a constant-rate video holding a still
        image), without converting it again."""
        if self._last is None:
            raise ValueError("repeat() before any frame was written")
        t0 = time.perf_counter()
        self._encode(self._last, pts)
        self.stats.seconds += time.perf_counter() - t0

    def _encode(self, yuv, pts: int | None) -> None:
        yuv.pts = self.stats.frames if pts is None else int(pts)
        with self._naming_failures(f"encoding frame {self.stats.frames + 1} (pts {yuv.pts})"):
            self._mux(self._stream.encode(yuv))
        self.stats.frames += 1

    def _mux(self, packets) -> None:
        for packet in packets:
            self._container.mux(packet)  # the first mux writes the container's header

    @contextmanager
    def _naming_failures(self, step: str):
        """FFmpeg's errors name the file and an errno only (e.g. a muxer's EINVAL on timestamps
        it refuses, which encoders that buffer frames only raise when flushed): say which step."""
        try:
            yield
        except self._av.FFmpegError as e:
            raise EncoderError(f"{step} of {self.target.name} failed: {e}") from e

    def close(self) -> Path:
        """Flushes the encoder, finalizes the container and moves it to the target."""
        if self._closed:
            return self.target
        t0 = time.perf_counter()
        try:
            if self.stats.frames == 0:
                raise EncoderError("no frame was written")
            with self._naming_failures(f"finalizing {self.stats.frames} frames"):
                self._mux(self._stream.encode(None))
                self._container.close()
            self._closed = True
            os.replace(self.partial, self.target)
        except BaseException:
            self._discard()
            raise
        self.stats.seconds += time.perf_counter() - t0
        self.stats.bytes = self.target.stat().st_size
        return self.target

    def abort(self) -> Path | None:
        """Ends an export that failed or was cancelled: with `keep_partial` and at least one
        frame written, the frames so far are finalized into a playable file at the target
        (returned); otherwise nothing is left behind (None)."""
        if self._closed:
            return None
        if self.keep_partial and self.stats.frames > 0:
            try:
                self.kept = self.close()
            except BaseException:  # noqa: BLE001 - the partial file is gone; report the original error
                self.kept = None
            return self.kept
        self._discard()
        return None

    def _discard(self):
        if not self._closed:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - the file is removed anyway
                pass
            self._closed = True
        self.partial.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


# ---------------------------------------------------------------------------------------------
# the sink


class VideoSink:
    """Frames → colour → `writer`: scene-linear frames go through the display processor of
    their view (`processors`), display-referred ones straight in. Closing finalizes the video;
    aborting removes it, or keeps the frames so far with the writer's `keep_partial`."""

    def __init__(self, writer: VideoWriter, processors: Processors | None = None):
        self.writer = writer
        self.processors = processors

    def write(self, frame: Frame) -> None:
        if frame.display_referred:
            self.writer.write(frame.pixels)
            return
        if self.processors is None:
            raise ValueError("a scene-linear frame reached a VideoSink without colour processors")
        self.writer.write(self.processors.get(frame.view).to_uint8(frame.pixels))

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()
