# SPDX-License-Identifier: GPL-3.0-or-later
"""Optica's settings: `scene.optica` (render settings) and `view_layer.optica` (passes).

The names of `scene.optica`'s properties are fixed (DESIGN.md): scripts, the exporter and the
sessions read them. Units are stated in each description.
"""

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty

DENOISER_QUALITIES = (
    ('FAST', "Fast", "Quickest, least detail (interactive previews)"),
    ('BALANCED', "Balanced", "Balanced between quality and speed (on a CPU, OIDN 2.5 runs it as High)"),
    ('HIGH', "High", "Best quality, slowest (final frames)"),
)


class OpticaRenderSettings(bpy.types.PropertyGroup):
    """Scene-wide render settings, `scene.optica`."""

    samples: IntProperty(
        name="Samples",
        description="Samples per pixel of a final render",
        default=128,
        min=1,
        max=1 << 24,
        soft_max=4096,
    )
    viewport_samples: IntProperty(
        name="Viewport Samples",
        description="Samples per pixel the viewport accumulates before it stops",
        default=64,
        min=1,
        max=1 << 24,
        soft_max=4096,
    )
    max_bounces: IntProperty(
        name="Max Bounces",
        description="Total maximum number of bounces (Cycles' Light Paths › Max Bounces › Total)",
        default=12,
        min=0,
        max=1024,
        soft_max=128,
    )
    diffuse_bounces: IntProperty(
        name="Diffuse Bounces",
        description="Maximum number of diffuse reflection bounces, bounded by max bounces",
        default=4,
        min=0,
        max=1024,
        soft_max=128,
    )
    glossy_bounces: IntProperty(
        name="Glossy Bounces",
        description="Maximum number of glossy reflection bounces, bounded by max bounces",
        default=4,
        min=0,
        max=1024,
        soft_max=128,
    )
    transmission_bounces: IntProperty(
        name="Transmission Bounces",
        description="Maximum number of transmission bounces, bounded by max bounces",
        default=12,
        min=0,
        max=1024,
        soft_max=128,
    )
    transparent_max_bounces: IntProperty(
        name="Transparent Max Bounces",
        description="Maximum number of transparent bounces. This is independent of maximum number of other bounces",
        default=8,
        min=0,
        max=1024,
        soft_max=128,
    )
    time_limit: FloatProperty(
        name="Time Limit",
        description="Stop a final render after this long (seconds of sampling, excluding the scene "
        "export); zero means no limit",
        default=0.0,
        min=0.0,
        step=100.0,
        unit='TIME_ABSOLUTE',
    )
    noise_threshold: FloatProperty(
        name="Noise Threshold",
        description="Stop sampling once (almost) every pixel's noise estimate is below this level; zero turns it off",
        default=0.01,
        min=0.0,
        max=1.0,
        soft_min=0.001,
        precision=4,
    )
    use_denoiser: BoolProperty(
        name="Denoise",
        description="Denoise final renders and the viewport with Intel Open Image Denoise, guided by "
        "albedo and normals; a final render keeps the raw image as the Noisy Image pass",
        default=False,
    )
    denoiser_start: IntProperty(
        name="Denoise Start",
        description="Samples per pixel before the first denoised image is shown",
        default=1,
        min=1,
        max=1 << 24,
        soft_max=1024,
    )
    denoiser_quality: EnumProperty(
        name="Render Quality",
        description="Quality of the final render's denoising (Intel Open Image Denoise)",
        items=DENOISER_QUALITIES,
        default='HIGH',
    )
    viewport_denoiser_quality: EnumProperty(
        name="Viewport Quality",
        description="Quality of the viewport's denoising; on a CPU, Fast keeps the viewport responsive",
        items=DENOISER_QUALITIES,
        default='FAST',
    )
    device: EnumProperty(
        name="Device",
        description="Device to render on",
        items=(
            ('CPU', "CPU", "Render on the processor"),
            (
                'GPU',
                "GPU Compute",
                "Render on an NVIDIA GPU with OptiX; where OptiX cannot run (no driver, no GPU) "
                "the render uses the CPU and says why in its report",
            ),
        ),
        default='CPU',
    )
    threads: IntProperty(
        name="Threads",
        description="Render threads; zero uses every core",
        default=0,
        min=0,
        max=1024,
    )
    seed: IntProperty(
        name="Seed",
        description="Seed of the sampling pattern: the same seed gives the same image",
        default=0,
        min=0,
    )
    filter_type: EnumProperty(
        name="Filter Type",
        description="Pixel filter type (as Cycles' Film > Pixel Filter)",
        items=[
            ('BOX', "Box", "Box filter: one pixel wide, whatever the width says (as Cycles)"),
            ('GAUSSIAN', "Gaussian", "Gaussian filter"),
            ('BLACKMAN_HARRIS', "Blackman-Harris", "Blackman-Harris filter"),
        ],
        default='BLACKMAN_HARRIS',
    )
    filter_width: FloatProperty(
        name="Width",
        description="Pixel filter width",
        default=1.5,
        min=0.01,
        max=10.0,
        subtype='PIXEL',
    )


class OpticaViewLayerSettings(bpy.types.PropertyGroup):
    """Per-view-layer settings, `view_layer.optica`."""

    use_denoising_passes: BoolProperty(
        name="Denoising Data",
        description="Write the Denoising Albedo and Denoising Normal passes (for the compositor's Denoise node)",
        default=False,
    )


CLASSES = (OpticaRenderSettings, OpticaViewLayerSettings)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.optica = PointerProperty(type=OpticaRenderSettings, name="Optica")
    bpy.types.ViewLayer.optica = PointerProperty(type=OpticaViewLayerSettings, name="Optica")


def unregister():
    for owner in (bpy.types.ViewLayer, bpy.types.Scene):
        if hasattr(owner, "optica"):
            del owner.optica
    for cls in reversed(CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
