"""The render devices this machine has, and the choice among them (`Renderer(device=...)`)."""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass

from . import _native

DEVICES = ("AUTO", "CPU", "OPTIX")
log = logging.getLogger("optica_core")


@dataclass(frozen=True)
class Device:
    """One backend: `kind` is what `Renderer(device=...)` takes; `why` says what is missing
    when it is not usable here."""

    kind: str
    name: str
    usable: bool
    why: str = ""


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        model = ""
    return f"{model or 'CPU'} ({os.cpu_count() or 1} threads)"


@functools.lru_cache(maxsize=1)
def optix_status() -> dict:
    """The OptiX probe of the native module: {built, usable, why, devices}; probed once."""
    return dict(_native.optix_status())


def devices() -> list[Device]:
    """Every backend of this build, the CPU first, each saying whether it can run here."""
    status = optix_status()
    if status["usable"]:
        optix = [Device("OPTIX", f"OptiX: {name}", True) for name in status["devices"]]
    else:
        optix = [Device("OPTIX", "OptiX", False, status["why"])]
    return [Device("CPU", _cpu_name(), True), *optix]


def select(device: str) -> tuple[str, str]:
    """The backend `device` ("AUTO", "CPU" or "OPTIX") resolves to here, and the note to show the
    user ('' when there is nothing to say). OPTIX where it cannot run raises RuntimeError naming
    what is missing; AUTO then falls back to the CPU."""
    if not isinstance(device, str) or device.upper() not in DEVICES:
        raise ValueError(f"device: expected one of {', '.join(DEVICES)}, got {device!r}")
    device = device.upper()
    if device == "CPU":
        return "CPU", ""
    status = optix_status()
    if status["usable"]:
        return "OPTIX", ""
    if device == "OPTIX":
        raise RuntimeError(f"device OPTIX: OptiX cannot run here: {status['why']}")
    note = f"Optica: rendering on the CPU (OptiX not available: {status['why']})"
    _log_once(note)
    return "CPU", note


OPTIX_MOTION_ERROR = ("motion blur: the OptiX backend does not render motion steps yet (its acceleration structures "
                      "hold the frame's positions only); render this scene with device CPU, or turn motion blur "
                      "off (docs/gpu.md)")
OPTIX_CURVES_ERROR = ("curves: the OptiX backend does not render curve sets yet (its acceleration structures hold "
                      "triangles and spheres only); render this scene with device CPU (docs/gpu.md)")


def check_scene(device: str, scene) -> None:
    """Refuses (ValueError) a validated scene the backend `device` cannot draw as the CPU does:
    the OptiX backend has no motion blur and no curves yet."""
    if device == "OPTIX" and scene["motion"] is not None:
        raise ValueError(OPTIX_MOTION_ERROR)
    if device == "OPTIX" and any(group["geometry"] in scene["curves"] for group in scene["instances"]):
        raise ValueError(OPTIX_CURVES_ERROR)


@functools.lru_cache(maxsize=8)
def _log_once(note: str) -> None:
    log.info(note)
