# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica's operators: export, the video encoder, the parallel image-sequence renderer.

Nothing is registered yet.
"""


def register():
    pass


def unregister():
    pass
