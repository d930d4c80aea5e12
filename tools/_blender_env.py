# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender as a module with the built Optica extension installed into a throw-away user folder.

    import _blender_env
    _blender_env.isolate()        # before `import bpy`: BLENDER_USER_* → a temporary folder
    _blender_env.install()        # installs dist/optica-*.zip there and enables it
    _blender_env.enable()         # again after bpy.ops.wm.read_factory_settings()

A developer's own Blender setup is never read or changed (the same arrangement as
tests/conftest.py).
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDON_MODULE = "bl_ext.user_default.optica"


def isolate() -> Path:
    if "bpy" in sys.modules:
        raise RuntimeError("isolate() must run before bpy is imported")
    user = Path(tempfile.mkdtemp(prefix="optica-blender-user-"))
    for var, sub in (("BLENDER_USER_RESOURCES", ""), ("BLENDER_USER_CONFIG", "config"),
                     ("BLENDER_USER_SCRIPTS", "scripts"), ("BLENDER_USER_DATAFILES", "datafiles"),
                     ("BLENDER_USER_EXTENSIONS", "extensions")):
        os.environ[var] = str(user / sub)
    atexit.register(shutil.rmtree, user, ignore_errors=True)
    return user


def install() -> str:
    """Installs and enables the built extension; returns its module name."""
    zips = sorted((ROOT / "dist").glob("optica-*.zip"))
    if not zips:
        raise SystemExit("no dist/optica-*.zip: run `python build.py` first")
    import bpy  # first: addon_utils imports only after bpy

    result = bpy.ops.extensions.package_install_files(repo="user_default", filepath=str(zips[-1]),
                                                      enable_on_install=True)
    if result != {"FINISHED"}:
        raise SystemExit(f"installing {zips[-1]} failed: {result}")
    return enable()


def enable() -> str:
    """(Re-)enables the installed extension (read_factory_settings() disables it)."""
    import addon_utils

    addon_utils.enable(ADDON_MODULE, default_set=True)
    return ADDON_MODULE


def open_animation(blend, frames: int, samples: int, percentage: int):
    """After install(): opens `blend` to export its frames 1…`frames` at `samples` spp and
    `percentage` % of its resolution. Returns (scene, (width, height), export), `export` holding
    the add-on's export modules (options, plan, run, frames, colour)."""
    import importlib
    from types import SimpleNamespace

    import bpy

    export = SimpleNamespace(**{name: importlib.import_module(f"{ADDON_MODULE}.operators.export.{name}")
                                for name in ("options", "plan", "run", "frames", "colour")})
    bpy.ops.wm.open_mainfile(filepath=str(Path(blend).resolve()), load_ui=False)
    scene = bpy.context.scene
    scene.optica.samples = samples
    scene.render.resolution_percentage = percentage
    scene.frame_start, scene.frame_end = 1, frames
    size = (scene.render.resolution_x * percentage // 100, scene.render.resolution_y * percentage // 100)
    return scene, size, export


def add_animation_options(parser, frames: int, samples: int) -> None:
    """--blend, --frames, --samples, --percentage: what open_animation() takes."""
    parser.add_argument("--blend", type=Path, default=ROOT / "demo" / "demo.blend")
    parser.add_argument("--frames", type=int, default=frames)
    parser.add_argument("--samples", type=int, default=samples)
    parser.add_argument("--percentage", type=int, default=100, help="of the demo's 640×360")
