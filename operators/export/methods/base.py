# SPDX-License-Identifier: GPL-3.0-or-later
"""What every export method shares: what its prepare() found (`Preparation`) and what it says
about its progress (`Status`). The method interface itself is described in methods/__init__.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Preparation:
    """What a method's prepare() found: worker processes, its temporary folder and the bytes its
    temporary files need there, the folder of scene files it writes."""

    workers: int = 1
    frames_dir: Path | None = None
    temporary_bytes: int = 0
    scene_folder: Path | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Status:
    phase: str  # 'render', 'encode'
    done: int  # frames of this phase done
    fraction: float  # of the whole export
    text: str
