# SPDX-License-Identifier: GPL-3.0-or-later
"""The interactive viewport render, one concept per module:

- `framing`: what a 3D view and the scene say about the camera and the rendered rectangle;
- `sync`: depsgraph updates → the exporter's change tracker (transform patch or cached export);
- `worker`: the sampling thread (reduced-resolution start, progressive batches, denoising);
- `display`: the viewport texture, a frame sink drawn with the gpu module;
- `colour`: the scene's colour settings as the frames carry them (for sinks that colour-manage);
- `recording`: recording a session to a video file in real time (a frame sink; start / stop);
- `session`: a session tying them together, a source of frames that sinks attach to;
- `entry`: the RenderEngine's view_update / view_draw, per-engine sessions and teardown.

The names below are the package's public face (the engine, tests and benchmarks use them).
"""

from ..export.changes import diff as scene_diff
from .display import Display
from .entry import session_for, stop_all, view_draw, view_update
from .framing import SceneView, ViewFrame, ViewState, scene_view, view_frame
from .session import UpdateReport, ViewportSession
from .sync import Changes, ViewportSync
from .worker import DrawFrame, JobStats, Settings

__all__ = [
    "ViewState",
    "SceneView",
    "ViewFrame",
    "view_frame",
    "scene_view",
    "Changes",
    "ViewportSync",
    "scene_diff",
    "Settings",
    "ViewportSession",
    "DrawFrame",
    "JobStats",
    "UpdateReport",
    "Display",
    "session_for",
    "stop_all",
    "view_update",
    "view_draw",
]
