"""Where a farm's frames go — a folder of image files, or a video encoded in frame order — and
what makes both resumable: which frames a run must still render, and what stays after a stop.

    output = open_output(job_out, sequence, settings, fmt="exr", ocio=None)  # FolderOutput / VideoOutput
    output.check()                 # before any worker starts: libraries, encoder, colour, folders
    todo = output.pending()        # frames missing or stale: a re-run renders only these
    sink = output.open(todo)       # a frame sink taking the frames of `todo`, in order
    sink.write(frame) ...; sink.close()     # or sink.abort() after an error or a stop
    output.keep(frame)             # after a stop: a frame that came back out of order, kept for a re-run

A frame's key is a digest of its scene file and of everything its image depends on (render
settings, passes, format, view): a frame done for another key is stale.

- `FolderOutput`: one file per frame (`optica_core.sinks.images.ImageSequence`), EXR with the
  passes or colour-managed PNG/JPEG. Every file is complete once written; nothing else to do.
- `VideoOutput`: the frames are colour-managed (the manifest's view and OCIO configuration,
  `Processors`) and encoded in frame order through the shared `VideoSink` / `VideoWriter` with
  the manifest's encoder settings. The video is written under a hidden name beside the target
  and renamed when complete: there is never a partial video at the target. Each frame, as the
  8-bit image handed to the encoder, is also kept in a state folder beside the target
  (`.<name>.optica-farm/`, PNG): after a stop, a crash or a failure the video is gone but the
  frames stay, and a re-run renders only the missing ones and encodes all of them again. The
  state folder is removed once the video is in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

from .render import RenderSettings
from .sequence import Sequence
from .sinks import Frame
from .sinks import colour, images, video

VIDEO_SUFFIXES = tuple(video.CONTAINERS)


def is_video(path) -> bool:
    return os.path.splitext(os.fspath(path))[1].lower() in VIDEO_SUFFIXES


def open_output(out, sequence: Sequence, settings: RenderSettings, fmt: str = "exr", ocio: str | None = None):
    """The output for `out`: a video for a .mp4/.mkv/.mov name, else a folder of `fmt` files.
    `ocio` overrides the manifest's OCIO configuration."""
    if is_video(out):
        return VideoOutput(Path(out), sequence, settings, ocio)
    if os.path.splitext(os.fspath(out))[1]:
        raise images.OutputError(
            f"--out {out}: give a folder for the frames, or a video file ({', '.join(VIDEO_SUFFIXES)})"
        )
    return FolderOutput(Path(out), sequence, settings, fmt, ocio)


def _view(sequence: Sequence, ocio: str | None) -> tuple[colour.ViewSettings, str]:
    """The manifest's view settings on its OCIO configuration (or `ocio`)."""
    config = colour.resolve_config(ocio or sequence.ocio_config())
    color = {k: v for k, v in sequence.manifest.color.items() if k in colour.VIEW_FIELDS}
    return colour.default_view(config, **color), config


def _keys(sequence: Sequence, settings: RenderSettings, output: str) -> dict[int, str]:
    """Per frame, a digest of everything its output depends on."""
    extra = settings.key() + output
    return {n: hashlib.sha256((sequence.frame_digest(n) + extra).encode()).hexdigest() for n in sequence.frames}


class _Output:
    """What both outputs share: `frames`, the image sequence (made by check()) that says which
    frames are done, and what this run wrote into it."""

    def __init__(self, path: Path, sequence: Sequence, settings: RenderSettings, ocio: str | None):
        self.path = path
        self.sequence = sequence
        self.settings = settings
        self._ocio = ocio
        self.frames: images.ImageSequence | None = None

    def pending(self) -> list[int]:
        return self.frames.pending(self.sequence.frames)

    @property
    def written(self) -> list[int]:
        return list(self.frames.written) if self.frames else []


class FolderOutput(_Output):
    """Image files in a folder (see the module docstring)."""

    def __init__(self, folder: Path, sequence: Sequence, settings: RenderSettings, fmt: str, ocio: str | None):
        super().__init__(folder, sequence, settings, ocio)
        fmt = fmt.upper().lstrip(".").replace("JPG", "JPEG")
        if fmt not in images.FORMATS:
            raise images.OutputError(f"unknown frame format {fmt.lower()!r} (exr, png or jpeg)")
        self._fmt = fmt

    def check(self) -> None:
        processors, view = None, None
        if self._fmt != "EXR":
            view, config = _view(self.sequence, self._ocio)
            processors = colour.Processors(config, default=view)
        writer = images.ImageWriter(self._fmt, processors)
        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as e:
            raise images.OutputError(f"cannot make the folder {self.path}: {e.strerror or e}") from e
        writer.check(self.settings.passes, self.path)
        described = json.dumps([self._fmt, None if view is None else [asdict(view), processors.config_path]])
        self.frames = images.ImageSequence(self.path, writer, _keys(self.sequence, self.settings, described))

    def open(self, todo: list[int]):
        _remove_temporaries(self.path)
        return self.frames

    def keep(self, frame: Frame) -> None:
        self.frames.write(frame)

    def resume_note(self) -> str:
        return f"{len(self.written)} frames were written: run again to resume"


class VideoOutput(_Output):
    """A video encoded in frame order, with its resumable state (see the module docstring)."""

    def __init__(self, target: Path, sequence: Sequence, settings: RenderSettings, ocio: str | None):
        super().__init__(target, sequence, settings, ocio)
        self.state = target.with_name(f".{target.name}.optica-farm")
        self._feed: _VideoFeed | None = None

    def check(self) -> None:
        extra = [p for p in self.settings.passes if p != "combined"]
        if extra:
            raise images.OutputError(f"a video holds the combined image only (asked for {', '.join(extra)})")
        m = self.sequence.manifest
        try:
            self.encoder = video.EncoderSettings.from_dict(m.encoder)
            self.encoder.validate(self.path.suffix)
            video.import_av()
            self.choice = video.choose_encoder(self.encoder)
        except video.EncoderError as e:
            raise images.OutputError(f"{self.sequence.folder}: encoder settings: {e}") from e
        images.import_library("PNG")
        view, config = _view(self.sequence, self._ocio)
        self.processors = colour.Processors(config, default=view)
        self.processors.get(None)  # a bad view or configuration says so now
        self.fps = Fraction(*m.fps)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise images.OutputError(f"cannot make the folder {self.path.parent}: {e.strerror or e}") from e
        if not os.access(self.path.parent, os.W_OK):
            raise images.OutputError(f"cannot write into {self.path.parent}: permission denied")
        described = json.dumps(["video", asdict(view), config])
        self.frames = images.ImageSequence(self.state, images.ImageWriter("PNG"),
                                           _keys(self.sequence, self.settings, described))

    def open(self, todo: list[int]):
        self.state.mkdir(exist_ok=True)
        _remove_temporaries(self.state)
        self._feed = _VideoFeed(self, todo)
        return self._feed

    def keep(self, frame: Frame) -> None:
        self._feed.store(frame)

    @property
    def encoded(self) -> int:
        return self._feed.encoded if self._feed else 0

    def resume_note(self) -> str:
        kept = len(self.frames.existing(self.sequence.frames)) if self.frames else 0
        return f"no video was written; {kept} rendered frames are kept in {self.state}: run again to resume"


class _VideoFeed:
    """The sink of a VideoOutput: new frames (in order) are colour-managed, kept in the state
    folder and encoded; frames done by an earlier run are read from it and encoded in their
    place. close() finalizes the video and removes the state; abort() removes the partial video
    and keeps the state."""

    def __init__(self, output: VideoOutput, todo: list[int]):
        self.output = output
        self._order = list(output.sequence.frames)
        self._new = set(todo)
        self._next = 0  # position in _order of the next frame to encode
        self._sink: video.VideoSink | None = None
        self.encoded = 0

    def write(self, frame: Frame) -> None:
        display = self.store(frame)
        self._encode_done_frames(until=frame.index)
        self._encode(display)

    def store(self, frame: Frame) -> Frame:
        """Keeps `frame` in the state folder as the 8-bit image the encoder is handed."""
        o = self.output
        display = Frame(o.processors.get(frame.view).to_uint8(frame.pixels), index=frame.index,
                        display_referred=True, samples=frame.samples)
        o.frames.write(display)
        return display

    def close(self) -> None:
        self._encode_done_frames(until=None)
        if self._sink is None:
            raise RuntimeError("the animation has no frames to encode")
        self._sink.close()
        shutil.rmtree(self.output.state, ignore_errors=True)

    def abort(self) -> None:
        if self._sink is not None:
            self._sink.abort()

    def _encode_done_frames(self, until: int | None) -> None:
        while self._next < len(self._order) and self._order[self._next] != until:
            n = self._order[self._next]
            if n in self._new:
                raise RuntimeError(f"frame {n} was not rendered before frame {until}")
            self._encode(self.output.frames.read(n))

    def _encode(self, frame: Frame) -> None:
        if self._sink is None:
            o = self.output
            width, height = frame.size
            writer = video.VideoWriter(o.path, width, height, o.fps, o.encoder, o.choice)
            self._sink = video.VideoSink(writer)
        self._sink.write(frame)
        self._next += 1
        self.encoded += 1


def _remove_temporaries(folder: Path) -> None:
    """Files a killed writer left under a temporary name (optica_core.io.atomic_path)."""
    for path in folder.glob(".frame_*.tmp"):
        path.unlink(missing_ok=True)
