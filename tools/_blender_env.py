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
    import addon_utils
    import bpy

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
