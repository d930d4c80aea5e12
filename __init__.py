# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica: a native path-tracing render engine for Blender (extension entry point).

Blender imports this package as ``bl_ext.<repository>.optica``; its metadata lives in
blender_manifest.toml. This module only registers and unregisters the three layers of the
Blender side, in order — ``ui`` (settings and panels), ``addon`` (the engine), ``operators``
(export operators) — and removes them in reverse. A layer imports only from the layers before
it and from the core, ``optica_core`` (the wheel bundled in the extension zip), never from a
later one (tests/test_layers.py keeps it so). Importing this module imports nothing else.
"""

# The imports are deferred to register(): pytest collects the repository root as a package
# (tests/ lives inside it), and under a folder name that is not an identifier (a CI clone in
# "ci-clone", say) the module has no parent package to import from.


def _layers():
    from . import addon, operators, ui

    return (ui, addon, operators)


def register():
    for layer in _layers():
        layer.register()


def unregister():
    for layer in reversed(_layers()):
        layer.unregister()
