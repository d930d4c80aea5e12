# SPDX-License-Identifier: GPL-3.0-or-later
"""The RenderEngine class: Blender's entry points, each handed straight to a session.

Final renders and material previews go to `final`, the interactive viewport to `viewport`;
nothing here holds render state (Blender creates a new engine instance for every frame unless
Persistent Data is on; a viewport engine keeps its session, see viewport.entry.session_for).

Material Preview shading uses EEVEE, as with Cycles (`bl_use_eevee_viewport`): look-dev with
HDRI studio lights at interactive rates; Rendered shading is Optica's own viewport render.
"""

import bpy

from . import final, viewport


class OpticaRenderEngine(bpy.types.RenderEngine):
    bl_idname = "OPTICA"
    bl_label = "Optica"
    bl_use_preview = True  # material / light / world previews render with Optica too
    bl_use_postprocess = True  # Blender's compositor and sequencer run on the result
    bl_use_shading_nodes_custom = False  # Blender's shader nodes (Principled BSDF, ...)
    bl_use_eevee_viewport = True  # Material Preview shading is EEVEE's, as with Cycles

    def render(self, depsgraph):
        final.render(self, depsgraph)

    def update_render_passes(self, scene=None, renderlayer=None):
        final.update_render_passes(self, scene, renderlayer)

    def view_update(self, context, depsgraph):
        viewport.view_update(self, context, depsgraph)

    def view_draw(self, context, depsgraph):
        viewport.view_draw(self, context, depsgraph)


CLASSES = (OpticaRenderEngine,)
