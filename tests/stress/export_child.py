# SPDX-License-Identifier: GPL-3.0-or-later
"""One animation export in a process of its own, for the interrupted-export tests: the parent
sends it SIGINT or SIGKILL at a chosen frame, or limits its file size (disk full).

    python export_child.py METHOD TARGET FRAMES [--resume] [--fsize BYTES] [--workers N] [--install-only]

Prints `frame <done>` after each rendered frame and `result <json>` at the end; exits 0 when the
export finished, 3 when it ended with an error the export reported, 130 after Ctrl-C.
`--fsize` sets RLIMIT_FSIZE (writing past it fails with EFBIG, as a full disk would).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

import conftest  # noqa: E402  (points Blender's user folders at a temporary folder first)

USER_FOLDER_VARIABLE = "OPTICA_STRESS_BLENDER_USER"


def use_shared_user_folder() -> bool:
    """With OPTICA_STRESS_BLENDER_USER set, Blender's user folders are that one folder, so the
    extension is installed once for many child processes (installing takes seconds). Returns
    whether the extension is already installed there. Must run before bpy is imported."""
    folder = os.environ.get(USER_FOLDER_VARIABLE)
    if not folder:
        return False
    for var, sub in conftest.USER_SUBFOLDERS:
        os.environ[var] = str(Path(folder) / sub)
    return (Path(folder) / "extensions" / "user_default" / "optica").is_dir()


def ready_blender():
    """Blender with the extension enabled (installed only when it is not there yet)."""
    if use_shared_user_folder():
        import bpy

        conftest.enable_optica()
    else:
        conftest.install_optica()
        import bpy
    return bpy


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("method")
    p.add_argument("target")
    p.add_argument("frames", type=int)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--fsize", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--install-only", action="store_true")
    a = p.parse_args()
    # A full disk fails the write with EFBIG; the signal would kill the process instead.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    bpy = ready_blender()
    if a.install_only:
        return 0

    from test_export_video import build_scene

    bpy.ops.wm.read_factory_settings(use_empty=True)
    conftest.enable_optica()
    scene = build_scene(bpy.context.scene, frames=a.frames)
    if a.fsize:
        resource.setrlimit(resource.RLIMIT_FSIZE, (a.fsize, a.fsize))
    plan_mod = conftest.optica_module("operators.export.plan")
    run_mod = conftest.optica_module("operators.export.run")
    options = conftest.optica_module("operators.export.options").Options(
        filepath=a.target, method=a.method, crf=4, preset="FASTER", resume=a.resume, workers=a.workers
    )

    def progress(p):
        if p.phase == "render":
            print(f"frame {p.done}", flush=True)

    try:
        plan = plan_mod.prepare(options, scene)
        result = run_mod.run(plan, progress=progress)
    except KeyboardInterrupt:
        print("result interrupted", flush=True)
        return 130
    except Exception as e:  # noqa: BLE001 - reported to the parent
        print("result " + json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
        return 3
    print(
        "result "
        + json.dumps(
            {
                "path": str(result.path) if result.path else None,
                "frames": result.frames,
                "error": result.error,
                "rendered": result.rendered,
                "resumed": result.resumed,
            }
        ),
        flush=True,
    )
    return 3 if result.error else 0


if __name__ == "__main__":
    sys.exit(main())
