# SPDX-License-Identifier: GPL-3.0-or-later
"""Messages from the exporter and the sessions: one vocabulary of levels ('INFO', 'WARNING',
'ERROR', Blender's report types) for Python logging and for what the user is shown."""

from __future__ import annotations

import logging
from collections.abc import Callable

LEVELS = ("INFO", "WARNING", "ERROR")

Report = Callable[[str, str], None]  # (level, text)


def level_name(level) -> str:
    """`level` as one of LEVELS; anything unknown is a warning."""
    name = str(level).upper()
    return name if name in LEVELS else "WARNING"


def python_level(level) -> int:
    """The logging module's number for `level` (a name of LEVELS)."""
    return {"INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}[level_name(level)]


def relay(logger: logging.Logger, to_user: Report | None = None, user_levels=LEVELS) -> Report:
    """A `log(level, text)` for the exporter: to `logger`, and the levels in `user_levels` also
    to `to_user` (a render's report, the viewport's status line)."""

    def report(level, text) -> None:
        name = level_name(level)
        logger.log(python_level(name), "%s", text)
        if to_user is not None and name in user_levels:
            to_user(name, str(text))

    return report


def approximated_note(stats: dict) -> str:
    """What the render's stats say about an export's approximated materials (those with nodes
    Optica does not evaluate, treated as muted): "2 materials approximated", or "" for none."""
    n = int(stats.get("materials_approximated", 0) or 0)
    return f"{n} material{'s' if n != 1 else ''} approximated" if n else ""
