"""The shader programs of a validated scene: each material and the world compiled once
(shading.compile_graph), and reused across `Renderer.set_scene` calls while its graph is the
same (the viewport sends whole scenes again after every edit)."""

from __future__ import annotations

import numpy as np

from . import shading, upgrade


def _freeze(value):
    """A hashable key equal for equal normalised values (arrays by content)."""
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    return value


class ProgramCache:
    """Compiled programs by graph content; entries unused by the last scene are dropped."""

    def __init__(self):
        self._programs: dict = {}
        self.compiled = 0  # programs compiled (not reused) by the last call

    def _program(self, graph: dict, what: str, kept: dict):
        key = _freeze(graph)
        program = self._programs.get(key)
        if program is None:
            program = shading.compile_graph(graph, what)
            self.compiled += 1
        kept[key] = program
        return program.as_dict()

    def for_scene(self, scene: dict) -> dict:
        """{"default", "world", "materials": {name: program}} for a normalised scene."""
        self.compiled = 0
        kept: dict = {}
        out = {"default": self._program(_DEFAULT_GRAPH, "the default material", kept),
               "world": self._program(scene["world"], "world", kept),
               "materials": {name: self._program(graph, f"materials[{name!r}]", kept)
                             for name, graph in scene["materials"].items()}}
        self._programs = kept
        return out


_DEFAULT_GRAPH = shading.validate_graph(upgrade.default_material_graph(), "the default material", "material", {},
                                        lambda *args, **kwargs: None)
