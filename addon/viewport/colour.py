# SPDX-License-Identifier: GPL-3.0-or-later
"""How the viewport shows colour: the scene's Color Management settings (display device, view
transform, look, exposure, gamma) as the core's `ViewSettings`, which viewport frames carry so
that a sink (a recording) colour-manages them as the 3D view draws them.

The 3D view always uses the scene's own settings (the Output panel's override is for saved
images only). Curves and white balance are not part of `ViewSettings`: a recording leaves
them out.
"""

from __future__ import annotations

from optica_core.sinks.colour import ViewSettings


def scene_view_settings(scene) -> ViewSettings | None:
    """The 3D view's colour settings of `scene` (None without Color Management settings)."""
    vs, ds = getattr(scene, "view_settings", None), getattr(scene, "display_settings", None)
    if vs is None or ds is None:
        return None
    return ViewSettings(
        view=str(vs.view_transform),
        display=str(ds.display_device),
        look=str(vs.look or "None"),
        exposure=float(vs.exposure),
        gamma=float(vs.gamma),
    )
