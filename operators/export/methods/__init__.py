# SPDX-License-Identifier: GPL-3.0-or-later
"""The export methods, one module each, and the one place that lists them.

A method renders the plan's frames and hands them, in order, to the export's video sink — or,
with `encodes = False`, makes its output itself (scene files; a farm that encodes the video):

    class Method:
        key, label, description            # the Method menu: (key, label, description)
        encodes                            # True: frames go to export.sink (a video writer it opens)
        needs_video_path                   # False: the options' filepath may be empty
        @staticmethod
        def prepare(options, target, size, items) -> Preparation   # checks before anything renders
        def __init__(self, export)         # export: run.Export (plan, sink, processors, ...)
        def start(self) -> None            # open what it needs (workers, renderers)
        def step(self) -> bool             # one unit of work; True once every frame went to the sink
        def progress(self) -> Status       # for the progress bar
        def stop(self) -> None             # cancel or error: stop what runs
        def cleanup(self, success) -> Path | None   # remove temporary files; a folder kept for resume
        def kept_note(self, folder) -> str          # what that folder holds and how to continue
        rendered, resumed, render_seconds  # what it did
        output_frames                      # with encodes = False: frames in its output

Adding a method: a module here with such a class, and its line in METHODS below; the Method
menu, the options and the operator take it from there.
"""

from __future__ import annotations

from .base import Preparation, Status
from .dask import DaskMethod
from .parallel import ParallelMethod
from .scene_files import SceneFilesMethod
from .stream import StreamMethod

__all__ = ["METHODS", "METHOD_CHOICES", "Preparation", "Status"]

METHODS = {m.key: m for m in (StreamMethod, ParallelMethod, SceneFilesMethod, DaskMethod)}
METHOD_CHOICES = tuple((m.key, m.label, m.description) for m in METHODS.values())
