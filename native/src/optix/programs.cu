// The OptiX device programs: the kernel's own path function (kernel/integrator.h) run per pixel
// by the raygen, with the kernel's two tracing entry points answered by optixTrace over
// built-in triangles, built-in spheres and one instance level. No shading, sampling, light or
// path code lives here: only tracing (the film update is kernel/film.h).
#include <optix.h>

#define OPTICA_EXTERNAL_TRACE 1
#include "kernel/intersect.h"
#include "optix/launch_params.h"

extern "C" {
__constant__ optica::LaunchParams params;
}

namespace optica {

// Payload registers of a closest-hit trace: t, u, v (float bits), primitive, instance, leaf slot.
constexpr uint32_t kNoInstance = 0xffffffffu;
// optixTrace needs a finite tmax; beyond 1e30 no scene of ours has geometry.
constexpr float kTraceFar = 1e30f;

__device__ __forceinline__ ::float3 to_cuda(float3 v) { return ::make_float3(v.x, v.y, v.z); }

__device__ __forceinline__ bool intersect_closest(const KernelScene &s, const Ray &ray, Hit &hit) {
  if (!s.has_geometry) return false;  // no IAS was built
  unsigned int t = 0, u = 0, v = 0, prim = 0, instance = kNoInstance, slot = 0;
  optixTrace(params.top, to_cuda(ray.o), to_cuda(ray.d), ray.tmin, fminf(ray.tmax, kTraceFar), 0.0f,
             OptixVisibilityMask(255), OPTIX_RAY_FLAG_DISABLE_ANYHIT, kRayClosest, kRayTypeCount, kRayClosest, t, u, v,
             prim, instance, slot);
  if (instance == kNoInstance) return false;
  hit.t = __uint_as_float(t);
  hit.u = __uint_as_float(u);
  hit.v = __uint_as_float(v);
  hit.prim = prim;
  hit.instance = instance;
  hit.slot = slot;
  return true;
}

// Occlusion only: the first hit ends the trace, and the shadow miss program clears the flag.
// Transparent surfaces never reach here: the kernel's shadow_transmittance() walks them with
// intersect_closest and shades each, so no any-hit program has to run shaders.
__device__ __forceinline__ bool intersect_any(const KernelScene &s, const Ray &ray) {
  if (!s.has_geometry) return false;
  unsigned int occluded = 1;
  optixTrace(params.top, to_cuda(ray.o), to_cuda(ray.d), ray.tmin, fminf(ray.tmax, kTraceFar), 0.0f,
             OptixVisibilityMask(255),
             OPTIX_RAY_FLAG_DISABLE_ANYHIT | OPTIX_RAY_FLAG_TERMINATE_ON_FIRST_HIT | OPTIX_RAY_FLAG_DISABLE_CLOSESTHIT,
             kRayShadow, kRayTypeCount, kRayShadow, occluded);
  return occluded != 0;
}

}  // namespace optica

#include "kernel/film.h"  // the path loop (kernel/integrator.h) and the film update

using namespace optica;

__device__ __forceinline__ void answer_ray_query(uint32_t i) {
  const DeviceRayQuery &q = params.rays;
  if (i >= q.count) return;
  Ray ray;
  ray.o = make3(q.origins[3 * i], q.origins[3 * i + 1], q.origins[3 * i + 2]);
  ray.d = normalize(make3(q.directions[3 * i], q.directions[3 * i + 1], q.directions[3 * i + 2]));
  ray.tmin = 0.0f;
  ray.tmax = kInf;
  ray.dP = ray.dD = 0.0f;
  ray.time = params.scene.shutter.frame_time;
  Hit hit;
  if (intersect_closest(params.scene, ray, hit)) {
    q.t[i] = hit.t;
    q.prim[i] = int32_t(hit.prim);
    q.obj[i] = params.scene.instances[hit.instance].object_id;
  } else {
    q.t[i] = kInf;
    q.prim[i] = -1;
    q.obj[i] = -1;
  }
}

extern "C" __global__ void __raygen__main() {
  const uint3 idx = optixGetLaunchIndex();
  if (params.mode == kLaunchIntersect) {
    answer_ray_query(idx.x);
    return;
  }
  const DeviceFilm &f = params.film;
  if (int(idx.x) >= f.width || int(idx.y) >= f.height) return;
  PathResult r = trace_path(params.scene, int(idx.x) + f.region_x, int(idx.y) + f.region_y, params.sample);
  size_t p = size_t(idx.y) * size_t(f.width) + idx.x;
  // The device film keeps no half buffer: adaptive sampling runs on the CPU film only.
  film_add_sample({f.color + 4 * p, nullptr, f.albedo + 3 * p, f.normal + 3 * p, f.depth + p, f.object_id + p}, r,
                  params.sample);
}

extern "C" __global__ void __miss__closest() { optixSetPayload_4(kNoInstance); }

extern "C" __global__ void __miss__shadow() { optixSetPayload_0(0u); }

// Triangles (built-in) and spheres (built-in intersector) share one closest-hit program. The
// IAS's instance id is the kernel's instance index; a triangle's primitive index is its index in
// the mesh (the GAS is built from the mesh's own index buffer); a sphere's is its leaf slot (the
// GAS is built from the leaf-ordered sphere array the kernel shades from), mapped back to the
// primitive index through the geometry's prim_order, as the CPU traversal records it.
extern "C" __global__ void __closesthit__closest() {
  const uint32_t instance = optixGetInstanceId();
  const uint32_t index = optixGetPrimitiveIndex();
  float u = 0.0f, v = 0.0f;
  uint32_t prim = index;
  if (optixIsTriangleHit()) {
    const ::float2 b = optixGetTriangleBarycentrics();
    u = b.x;
    v = b.y;
  } else {
    const GeometryView &g = params.scene.geometries[params.scene.instances[instance].geometry];
    prim = g.prim_order[index];
  }
  optixSetPayload_0(__float_as_uint(optixGetRayTmax()));
  optixSetPayload_1(__float_as_uint(u));
  optixSetPayload_2(__float_as_uint(v));
  optixSetPayload_3(prim);
  optixSetPayload_4(instance);
  optixSetPayload_5(index);
}
