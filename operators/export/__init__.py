# SPDX-License-Identifier: GPL-3.0-or-later
"""Export Animation: scenes rendered with Optica straight into one video file.

    bpy.ops.optica.export_animation(filepath="//anim.mp4", method='STREAM', codec='H264')

or, from Python (tests, scripts that want progress callbacks):

    from .plan import prepare; from .run import run; from .options import Options
    plan = prepare(Options(filepath=..., method="PARALLEL"), bpy.context.scene)  # ExportError
    result = run(plan, progress=callback, should_cancel=callback)                # Result

One concept per module:
- `options`: the export's options, one dataclass from which every setting derives;
- `plan`: `prepare()`, every check before a frame renders, and the `Plan`;
- `run`: `Export` / `run()`, the frame path to the video (render → colour → encode) and `Result`;
- `methods/`: how frames are made — STREAM (rendered here, encoded on a thread alongside),
  PARALLEL (worker processes, then one encode pass), SCENE_FILES (a folder of scene files instead
  of a video) and DASK (those scene files on a Dask farm, which encodes the video); adding a
  method happens there;
- `frames`: rendering one scene's frames with the final-render session;
- `workers`: the PARALLEL worker processes and their temporary image sequence;
- `scene_files`: an animation written as an `optica_core.sequence` folder (SCENE_FILES, DASK);
- `colour`: Blender's view settings and OCIO configuration for the core's colour sink;
- `progress`: progress bars and the notification at the end;
- `operator`: the operators (Export Animation, Export Scene Files) and `scene.optica_export`.

The encoder, colour management and image files themselves are bpy-free frame sinks in the core
(optica_core.sinks), shared with the standalone renderer and the render farm.
"""

from .operator import CLASSES, register, unregister

__all__ = ["CLASSES", "register", "unregister"]
