# SPDX-License-Identifier: GPL-3.0-or-later
"""The scene exporter as the render sessions use it: scene dict version 2, with the node types
the installed core evaluates (the converters themselves never import the core)."""

from __future__ import annotations


def scene_exporter(log=None, track_changes: bool = False):
    from optica_core.shading import NODE_TYPES

    from .export import SceneExporter

    return SceneExporter(log=log, track_changes=track_changes, evaluable=NODE_TYPES)
