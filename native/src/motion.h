// Host side of motion blur: transform steps decomposed for the kernel (kernel/motion.h), the
// boxes a moving instance sweeps, and the shutter curve's inverse CDF.
#pragma once
#include <vector>

#include "bvh.h"
#include "kernel/motion.h"

namespace optica {

// Decomposes S affine steps as Cycles' transform_motion_decompose: rotations on one
// hemisphere (the shorter arc), a step with zero scale borrowing its neighbour's rotation.
std::vector<MotionTransform> decompose_motion(const std::vector<Affine> &steps);

// A box that holds `local` transformed by every transform the steps interpolate to over
// τ ∈ [0, 1]: conservative (sampled, then padded by how far a corner can move between samples).
Aabb motion_bounds(const MotionTransform *steps, int count, const Aabb &local);

// The shutter curve (K ≥ 2 densities at evenly spaced times) as an inverse CDF of
// kShutterTableSize entries: table[j] is the τ at which the CDF reaches j / (size − 1).
std::vector<float> shutter_table(const std::vector<float> &curve);

}  // namespace optica
