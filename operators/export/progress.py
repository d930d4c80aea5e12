# SPDX-License-Identifier: GPL-3.0-or-later
"""Telling the user how an export goes: a progress bar on the console (headless) or in
Blender's window, and a notification at the end."""

from __future__ import annotations

import os
import shutil
import sys

LOG_PREFIX = "Optica export"


class ConsoleProgress:
    """A one-line progress bar on stderr (rewritten in place on a terminal, else every 5 %)."""

    def __init__(self, stream_=None, width: int = 30):
        self.out = stream_ or sys.stderr
        self.width = width
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self._last = -1.0

    def __call__(self, p):
        if not self.tty and p.fraction - self._last < 0.05 and p.fraction < 1.0:
            return
        self._last = p.fraction
        filled = int(round(self.width * p.fraction))
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {p.fraction * 100:5.1f}% {p.text}"
        self.out.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.out.flush()

    def close(self):
        if self.tty:
            self.out.write("\n")
            self.out.flush()


def notify(message: str) -> None:
    """Prints the message; also a desktop notification when `notify-send` and a display exist."""
    print(f"{LOG_PREFIX}: {message}", flush=True)
    if shutil.which("notify-send") and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        import subprocess

        try:
            subprocess.run(
                ["notify-send", "Optica export", message],
                timeout=5,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError):
            pass


class WindowProgress:
    """Blender's progress bar and status text, while a window exists."""

    def __init__(self, context):
        self.wm = context.window_manager
        self.workspace = getattr(context, "workspace", None)
        self.window = getattr(context, "window", None)
        self.active = self.window is not None
        if self.active:
            self.wm.progress_begin(0, 1000)

    def update(self, p):
        if not self.active:
            return
        self.wm.progress_update(int(p.fraction * 1000))
        if self.workspace is not None:
            self.workspace.status_text_set(f"Optica export: {p.text} (Esc to cancel)")

    def end(self):
        if not self.active:
            return
        self.active = False
        self.wm.progress_end()
        if self.workspace is not None:
            self.workspace.status_text_set(None)
