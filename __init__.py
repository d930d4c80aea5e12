# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica: a native path-tracing render engine for Blender (extension entry point).

Blender imports this package as ``bl_ext.<repository>.optica``; its metadata lives in
blender_manifest.toml. This module only registers and unregisters: everything else is in
``addon`` (the engine), ``operators`` and ``ui``, and the compiled core ``optica_core`` comes
from the wheel bundled in the extension zip. Nothing here imports ``optica_core`` at import
time, so the add-on module always loads and any problem with the core surfaces where it is used.
"""

# The import is deferred to register(): pytest collects the repository root as a package
# (tests/ lives inside it), and under a folder name that is not an identifier (a CI clone in
# "ci-clone", say) the module has no parent package to import from.


def register():
    from . import addon

    addon.register()


def unregister():
    from . import addon

    addon.unregister()
