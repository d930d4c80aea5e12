# SPDX-License-Identifier: GPL-3.0-or-later
"""Frame sinks without Blender: every consumer of rendered frames behind one small interface.

    from optica_core.sinks import Frame, SinkSet, QueuedSink, ReorderingSink
    from optica_core.sinks.video import VideoWriter, VideoSink, EncoderSettings, choose_encoder
    from optica_core.sinks.colour import ViewSettings, DisplayProcessor, Processors
    from optica_core.sinks.images import ImageWriter, ImageSequence

A sink has `write(frame)`, `close()` (the sequence is complete) and `abort()` (it stopped);
`base.py` says exactly what each promises. Blender's Render Result and the viewport texture are
sinks too, on the Blender side; the ones here need no Blender, so a standalone renderer or a
render farm encodes and writes frames exactly as the add-on does.

Third-party packages are optional extras of the core wheel (`optica-core[video]`: PyAV and
PyOpenColorIO; `[render]`: OpenEXR; `[images]`: Pillow and PyOpenColorIO) and are imported only
when a sink needs them: importing this package needs numpy alone. A missing one is a
`MissingDependency` naming the package.
"""

from .base import Frame, MissingDependency, QueuedSink, ReorderingSink, Sink, SinkSet

__all__ = ["Frame", "MissingDependency", "QueuedSink", "ReorderingSink", "Sink", "SinkSet"]
