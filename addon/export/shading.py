# SPDX-License-Identifier: GPL-3.0-or-later
"""Materials and the world as scene dict v2 graphs for one SceneExporter, kept between exports.

How an unchanged material is recognised: Blender gives Python no change counter for node
trees (an evaluated material keeps its `session_uid` through edits, and `depsgraph.updates`
is not reliable, see cache.py), so the graph's own content is the key. Every export walks the
nodes that reach the output (shader_graph.extract: socket values, parameters, links; colour
ramps by their stops; curves by their control points; images by their texture names) and
hashes it; only content not seen in the previous export is finished (curves baked, arrays
made), and unchanged content gives back the very same dict. The walk is most of the cost
(`python bench/convert.py --material`: a 195-node material, best of 21 on the loaded 2-core
machine: 3.2 ms cold = 2.3 ms walk + 0.5 ms finishing, 2.9 ms unchanged): what the cache saves
is the baking and array building, and the core gets the identical dict for unchanged content.
"""

from __future__ import annotations

from . import materials as _materials
from . import world as _world
from .cache import ConvertedStore, Names
from .shader_graph import Requests


class GraphConverter:
    """`material(b_mat, texture)` and `world(b_world, texture)` → finished graphs.

    `evaluable`: the node types the core evaluates (`optica_core.shading.NODE_TYPES`); every
    other node is treated as muted (shader_graph.py)."""

    def __init__(self, evaluable, report):
        if evaluable is None:
            raise ValueError(
                "scene dict version 2 needs the node types the core evaluates "
                "(SceneExporter(version=2, evaluable=optica_core.shading.NODE_TYPES))"
            )
        self.evaluable = evaluable
        self._report = report
        self._store = ConvertedStore(Names())

    def begin_pass(self) -> None:
        self._store.begin_pass()

    def end_pass(self) -> int:
        return self._store.end_pass()

    def material(self, b_mat, texture):
        """(`materials[name]`, its shader_graph.Requests, whether it was approximated: a node
        treated as muted, or the whole material replaced after an error)."""
        try:
            extracted = _materials.material_graph(b_mat, self.evaluable, texture, self._report)
            return self._finished(extracted, b_mat.name), extracted.requests, bool(extracted.approximated)
        except Exception as e:  # noqa: BLE001 - a material never fails a render
            self._report(
                "WARNING",
                ("material-error", b_mat.name, str(e)),
                f"Material '{b_mat.name}' could not be converted ({type(e).__name__}: {e}); "
                "using its viewport display colour",
            )
            return _materials.viewport_graph(b_mat).finish(), Requests(), True

    def world(self, b_world, texture):
        """(`world`, whether it was approximated)."""
        try:
            extracted = _world.world_graph(b_world, self.evaluable, texture, self._report)
            return self._finished(extracted, "World" if b_world is None else b_world.name), bool(extracted.approximated)
        except Exception as e:  # noqa: BLE001 - a world never fails a render
            self._report(
                "WARNING",
                ("world-error", b_world.name, str(e)),
                f"World '{b_world.name}' could not be converted ({type(e).__name__}: {e}); using its viewport colour",
            )
            return _world.world_graph(b_world, self.evaluable, texture, self._report, use_nodes=False).finish(), True

    def _finished(self, extracted, name: str) -> dict:
        entry, _converted = self._store.fetch(None, lambda: (extracted.digest(), extracted), lambda e: e.finish(), name)
        return entry.data
