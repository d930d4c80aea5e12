# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for the real-Blender tests (bpy 5.0, headless; bpy is never mocked).

Blender keeps preferences and installed extensions in the user's folders. Before anything
imports bpy, this file points every BLENDER_USER_* folder at a temporary folder of this test
session, so a developer's or user's Blender setup is never touched (and never used).

- `optica_installed` (session): installs the built extension zip (dist/optica-*.zip) into that
  Blender the way a user does, and enables it. `python build.py` builds the zip.
- `optica_scene`: a fresh empty file with Optica as the render engine.
- `read_exr`: reads an EXR (multilayer too) into {channel-group name: (h, w, c) float32 array},
  top row first, with the OpenEXR bindings (PNG and the like with Pillow).
- `export_package()`: the exporter (addon/export) loaded from the source tree.
- `handed`: the frames handed to video writers during a test (a spy on VideoWriter.write).

Tests of the native core alone need none of this.
"""

import atexit
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
ADDON_MODULE = "bl_ext.user_default.optica"

# --- at import time, before any test module imports bpy --------------------------------------
_USER = Path(tempfile.mkdtemp(prefix="optica-blender-user-"))
USER_SUBFOLDERS = (
    ("BLENDER_USER_RESOURCES", ""),
    ("BLENDER_USER_CONFIG", "config"),
    ("BLENDER_USER_SCRIPTS", "scripts"),
    ("BLENDER_USER_DATAFILES", "datafiles"),
    ("BLENDER_USER_EXTENSIONS", "extensions"),
)
for _var, _sub in USER_SUBFOLDERS:
    os.environ[_var] = str(_USER / _sub)
atexit.register(shutil.rmtree, _USER, ignore_errors=True)
if "bpy" in sys.modules:  # too late: Blender already read its user folders
    raise RuntimeError("tests/conftest.py must run before bpy is imported")

# A shell starts a background job (`pytest … &` in a script) with SIGINT ignored, and an ignored
# signal stays ignored through exec: every child the Ctrl-C tests start would ignore their SIGINT
# (Python leaves an ignored SIGINT alone). A handled signal is reset to the default in a child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _built_zip() -> Path:
    zips = sorted(DIST.glob("optica-*.zip"))
    if not zips:
        pytest.fail(f"no extension zip in {DIST}: run `python build.py` first", pytrace=False)
    return zips[-1]


def enable_optica():
    """(Re-)enables the installed extension; read_factory_settings() disables it."""
    import addon_utils

    addon_utils.enable(ADDON_MODULE, default_set=True)
    import bpy

    if "OPTICA" not in {e.bl_idname for e in _render_engines(bpy)}:
        pytest.fail(f"{ADDON_MODULE} is enabled but registered no OPTICA render engine", pytrace=False)


def _render_engines(bpy):
    return [c for c in bpy.types.RenderEngine.__subclasses__() if hasattr(c, "bl_idname") and c.is_registered]


def install_optica() -> str:
    """Installs the built zip into the isolated Blender user folders, as a user does, and
    enables it (also used by bench/ and tools/ scripts); returns the add-on module name."""
    zip_path = _built_zip()
    import bpy

    result = bpy.ops.extensions.package_install_files(
        repo="user_default", filepath=str(zip_path), enable_on_install=True)
    assert result == {"FINISHED"}, f"installing {zip_path} failed: {result}"
    enable_optica()
    return ADDON_MODULE


@pytest.fixture(scope="session")
def optica_installed():
    """Installs and enables the built zip once per session; returns the add-on module name."""
    return install_optica()


@pytest.fixture
def optica_scene(optica_installed):
    """A fresh empty file (factory settings) whose scene renders with Optica."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    enable_optica()
    scene = bpy.context.scene
    scene.render.engine = "OPTICA"
    return scene


def optica_module(name: str):
    """A module of the installed add-on, e.g. optica_module("addon.final")."""
    import importlib

    return importlib.import_module(f"{ADDON_MODULE}.{name}")


_CHANNEL_ORDER = "RGBAXYZWUV"  # within a group, as Blender lists a pass's channels


def read_image_file(path) -> dict:
    """{group: (h, w, c) float32}, top row first. Groups are the channel names without their
    last component ("ViewLayer.Depth" for "ViewLayer.Depth.Z"; "" for plain R, G, B, A).
    EXR (every part) with the OpenEXR bindings, other formats with Pillow (values / 255)."""
    if Path(path).suffix.lower() != ".exr":
        from PIL import Image

        with Image.open(path) as image:
            return {"": np.asarray(image, dtype=np.float32) / 255.0}
    import OpenEXR

    groups: dict[str, dict] = {}
    with OpenEXR.File(str(path), separate_channels=True) as f:
        for part in f.parts:
            for name, channel in part.channels.items():
                group, _, last = name.rpartition(".")
                groups.setdefault(group, {})[last] = np.asarray(channel.pixels, dtype=np.float32)

    def order(last):
        return (_CHANNEL_ORDER.index(last), last) if last in _CHANNEL_ORDER else (len(_CHANNEL_ORDER), last)

    return {g: np.stack([chans[k] for k in sorted(chans, key=order)], axis=-1) for g, chans in groups.items()}


@pytest.fixture
def read_exr():
    return read_image_file


@pytest.fixture
def handed(monkeypatch):
    """Every frame handed to a VideoWriter (an export's or a farm's, in this process), in order:
    the 8-bit images before encoding."""
    from optica_core.sinks import video

    frames = []
    write = video.VideoWriter.write

    def spy(self, frame):
        frames.append(np.array(frame, copy=True))
        return write(self, frame)

    monkeypatch.setattr(video.VideoWriter, "write", spy)
    return frames


def empty_scene():
    """The current scene emptied, with Optica as its engine and default settings: cheaper than
    a factory reset and re-enabling the add-on for every test."""
    import bpy

    if not hasattr(bpy.context.scene, "optica"):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        enable_optica()
    s = bpy.context.scene
    for coll in (bpy.data.objects, bpy.data.meshes, bpy.data.materials, bpy.data.lights, bpy.data.cameras,
                 bpy.data.worlds, bpy.data.collections):
        bpy.data.batch_remove(list(coll))
    for prop in s.optica.bl_rna.properties:
        if prop.identifier != "rna_type":
            s.optica.property_unset(prop.identifier)
    for layer in s.view_layers:
        layer.optica.use_denoising_passes = False
    s.render.engine = "OPTICA"
    s.render.use_border = False
    s.render.resolution_percentage = 100
    s.render.film_transparent = False  # a test left it on once, and Cycles rendered every later sky black
    return s


def export_package():
    """The exporter package (addon/export) loaded from the source tree, not from the installed
    extension: export tests check the code as it is, without building the zip."""
    import importlib.util

    name = "optica_export_under_test"
    if name not in sys.modules:
        folder = ROOT / "addon" / "export"
        spec = importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                      submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def add_object(scene, name, data, location=(0, 0, 0), rotation=(0, 0, 0)):
    """Links a new object holding `data` into the scene."""
    import bpy

    ob = bpy.data.objects.new(name, data)
    ob.location = location
    ob.rotation_euler = rotation
    scene.collection.objects.link(ob)
    return ob
