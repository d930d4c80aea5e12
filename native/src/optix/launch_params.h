// What one OptiX launch reads, shared by the host (optix_renderer.cpp) and the device programs
// (programs.cu): the scene in device memory, the top-level traversable, the film buffers, and
// whether the launch renders one sample pass or answers a batch of ray queries.
#pragma once
#include <optix_types.h>

#include "kernel/scene_data.h"

namespace optica {

enum LaunchMode : int32_t { kLaunchRender = 0, kLaunchIntersect = 1 };

// Ray types: the SBT offset of a trace (stride kRayTypeCount per geometry kind).
enum OptixRayType : uint32_t { kRayClosest = 0, kRayShadow = 1, kRayTypeCount = 2 };
// Build flags of every GAS; the built-in sphere intersector is created for the same flags.
constexpr unsigned int kAccelBuildFlags = 1u << 2;  // OPTIX_BUILD_FLAG_PREFER_FAST_TRACE
// Geometry kinds: an instance's SBT offset is kind * kRayTypeCount.
enum OptixGeometryKind : uint32_t { kKindTriangles = 0, kKindSpheres = 1, kKindCount = 2 };

// Running means, as the CPU film keeps them (RGBA, albedo, normal) and first-sample values
// (depth, object id), for the region being rendered.
struct DeviceFilm {
  float *color;
  float *albedo;
  float *normal;
  float *depth;
  int32_t *object_id;
  int32_t width, height, region_x, region_y;
};

// Renderer.intersect on the device: n rays in, nearest hits out.
struct DeviceRayQuery {
  const float *origins;     // (n, 3)
  const float *directions;  // (n, 3), normalised by the launch
  float *t;
  int32_t *prim, *obj;
  uint32_t count;
};

struct LaunchParams {
  KernelScene scene;  // every pointer is a device pointer
  OptixTraversableHandle top;
  int32_t mode;
  uint32_t sample;  // the sample index every pixel of this render launch adds
  DeviceFilm film;
  DeviceRayQuery rays;
};

}  // namespace optica
