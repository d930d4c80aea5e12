# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender's colour settings for files: a scene's view transform, look, exposure and gamma as
the core's `ViewSettings`, and Blender's own OCIO configuration, so that exported frames look
exactly like the images Blender saves (the chain itself is optica_core.sinks.colour)."""

from __future__ import annotations

import os

from optica_core.sinks.colour import DisplayProcessor, Processors, ViewSettings

CONFIG_SUBPATH = os.path.join("datafiles", "colormanagement", "config.ocio")

__all__ = [
    "ViewSettings",
    "DisplayProcessor",
    "Processors",
    "view_settings",
    "blender_config_path",
    "processors",
    "display_processor",
]


def blender_config_path() -> str:
    """The OCIO configuration Blender itself uses (OCIO environment variable first, as Blender)."""
    env = os.environ.get("OCIO")
    if env and os.path.isfile(env):
        return env
    import bpy

    path = os.path.join(bpy.utils.resource_path("LOCAL"), CONFIG_SUBPATH)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Blender's OCIO configuration was not found at {path}")
    return path


def view_settings(scene) -> tuple[ViewSettings, list[str]]:
    """The settings Blender applies when it saves this scene's render as an image (the output's
    override when Output > Color Management is 'Override'), and notes on what is not reproduced."""
    owner = scene
    im = scene.render.image_settings
    if getattr(im, "color_management", "FOLLOW_SCENE") == "OVERRIDE":
        owner = im
    vs, ds = owner.view_settings, owner.display_settings
    notes = []
    if vs.use_curve_mapping:
        notes.append("the colour management curve is not applied to the video")
    if getattr(vs, "use_white_balance", False):
        notes.append("white balance is not applied to the video")
    return ViewSettings(
        view=vs.view_transform,
        display=ds.display_device,
        look=vs.look or "None",
        exposure=float(vs.exposure),
        gamma=float(vs.gamma),
    ), notes


def processors() -> Processors:
    """Display processors on Blender's configuration, one per view, shared by an export."""
    return Processors(blender_config_path())


def display_processor(scene) -> DisplayProcessor:
    """The processor of `scene`'s own view settings (scripts, tests)."""
    return DisplayProcessor(view_settings(scene)[0], blender_config_path())
