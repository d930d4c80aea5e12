// DeviceScene: host arrays to device arrays, GAS per geometry, IAS per scene.
#include "optix/device_scene.h"

#include <optix.h>
#include <optix_stubs.h>

#include <algorithm>
#include <cstring>

#include "optix/launch_params.h"

namespace optica {

namespace {

// Sizes of the BSDF tables (kernel/closure/tables.h), in floats.
constexpr size_t kTable2D32 = 32 * 32, kTable3D16 = 16 * 16 * 16, kTable2D16 = 16 * 16;

OptixAccelBufferSizes accel_sizes(OptixDeviceContext ctx, const OptixAccelBuildOptions &o, const OptixBuildInput &in) {
  OptixAccelBufferSizes sizes{};
  optix_check(optixAccelComputeMemoryUsage(ctx, &o, &in, 1, &sizes), "optixAccelComputeMemoryUsage");
  return sizes;
}

OptixTraversableHandle build_accel(const OptixPipelineState &optix, const OptixBuildInput &input, DeviceBuffer &out) {
  OptixAccelBuildOptions options{};
  options.buildFlags = kAccelBuildFlags;
  options.operation = OPTIX_BUILD_OPERATION_BUILD;
  OptixAccelBufferSizes sizes = accel_sizes(optix.context(), options, input);
  DeviceBuffer temp(&optix.cu());
  temp.reserve(std::max<size_t>(sizes.tempSizeInBytes, 1));
  out.reserve(std::max<size_t>(sizes.outputSizeInBytes, 1));
  OptixTraversableHandle handle = 0;
  optix_check(optixAccelBuild(optix.context(), optix.stream(), &options, &input, 1, temp.ptr(), sizes.tempSizeInBytes,
                              out.ptr(), sizes.outputSizeInBytes, &handle, nullptr, 0),
              "optixAccelBuild");
  cuda_check(optix.cu(), optix.cu().cuStreamSynchronize(optix.stream()), "cuStreamSynchronize");  // temp dies here
  return handle;
}

}  // namespace

DeviceBuffer &DeviceScene::fresh() {
  arrays_.emplace_back(&optix_.cu());
  return arrays_.back();
}

template <class T>
const T *DeviceScene::put(DeviceBuffer &buffer, const T *data, size_t count) {
  if (!data || count == 0) return nullptr;
  buffer = DeviceBuffer(&optix_.cu());
  buffer.upload(data, count * sizeof(T));
  return buffer.as<const T>();
}

void DeviceScene::build_gas(DeviceGeometry &d, const GeometryData &g) {
  const unsigned int flags = OPTIX_GEOMETRY_FLAG_DISABLE_ANYHIT;
  CUdeviceptr vertex_buffer;
  CUdeviceptr radius_buffer;
  OptixBuildInput input{};
  if (g.type == kGeomMesh) {
    if (g.tri_idx.empty()) return;
    vertex_buffer = d.vertices.ptr();
    input.type = OPTIX_BUILD_INPUT_TYPE_TRIANGLES;
    OptixBuildInputTriangleArray &t = input.triangleArray;
    t.vertexFormat = OPTIX_VERTEX_FORMAT_FLOAT3;
    t.vertexStrideInBytes = sizeof(float3);
    t.numVertices = unsigned(g.vertices.size());
    t.vertexBuffers = &vertex_buffer;
    t.indexFormat = OPTIX_INDICES_FORMAT_UNSIGNED_INT3;
    t.indexStrideInBytes = 3 * sizeof(int32_t);
    t.numIndexTriplets = unsigned(g.tri_idx.size() / 3);
    t.indexBuffer = d.tri_idx.ptr();
    t.flags = &flags;
    t.numSbtRecords = 1;
  } else {
    if (g.spheres.empty()) return;
    // The leaf-ordered array the kernel shades from: centre then radius, 16 bytes a sphere.
    vertex_buffer = d.spheres.ptr();
    radius_buffer = d.spheres.ptr() + offsetof(SphereAccel, r);
    input.type = OPTIX_BUILD_INPUT_TYPE_SPHERES;
    OptixBuildInputSphereArray &s = input.sphereArray;
    s.vertexBuffers = &vertex_buffer;
    s.vertexStrideInBytes = sizeof(SphereAccel);
    s.numVertices = unsigned(g.spheres.size());
    s.radiusBuffers = &radius_buffer;
    s.radiusStrideInBytes = sizeof(SphereAccel);
    s.flags = &flags;
    s.numSbtRecords = 1;
  }
  d.gas = DeviceBuffer(&optix_.cu());
  d.handle = build_accel(optix_, input, d.gas);
}

DeviceGeometry &DeviceScene::geometry(const std::shared_ptr<GeometryData> &g, bool &reused) {
  auto it = geometries_.find(g.get());
  reused = it != geometries_.end();
  if (reused) return *it->second;
  auto d = std::make_unique<DeviceGeometry>();
  d->source = g;
  put(d->vertices, g->vertices.data(), g->vertices.size());
  put(d->tri_idx, g->tri_idx.data(), g->tri_idx.size());
  put(d->normals, g->normals.data(), g->normals.size());
  put(d->normal_idx, g->normal_idx.data(), g->normal_idx.size());
  put(d->material_ids, g->material_ids.data(), g->material_ids.size());
  put(d->spheres, g->spheres.data(), g->spheres.size());
  put(d->prim_order, g->bvh.prim_order.data(), g->bvh.prim_order.size());
  d->attributes.resize(2 * g->attributes.size());
  for (size_t i = 0; i < g->attributes.size(); ++i) {
    put(d->attributes[2 * i], g->attributes[i].data.data(), g->attributes[i].data.size());
    put(d->attributes[2 * i + 1], g->attributes[i].indices.data(), g->attributes[i].indices.size());
  }
  build_gas(*d, *g);
  DeviceGeometry &out = *d;
  geometries_[g.get()] = std::move(d);
  return out;
}

void DeviceScene::build_ias(const Scene &scene, const std::vector<DeviceGeometry *> &geometries) {
  const KernelScene &k = scene.kernel();
  std::vector<OptixInstance> instances;
  instances.reserve(scene.instances.size());
  for (size_t i = 0; i < scene.instances.size(); ++i) {
    const InstanceView &v = k.instances[i];
    const DeviceGeometry &g = *geometries[v.geometry];
    if (!g.handle) continue;
    OptixInstance o{};
    std::memcpy(o.transform, v.xfm.m, sizeof(o.transform));  // both row-major 3×4
    o.instanceId = unsigned(i);  // the kernel's instance index (programs.cu reads it back)
    o.sbtOffset = (scene.geometries[v.geometry]->type == kGeomMesh ? kKindTriangles : kKindSpheres) * kRayTypeCount;
    o.visibilityMask = 255;
    o.flags = OPTIX_INSTANCE_FLAG_DISABLE_ANYHIT;
    o.traversableHandle = g.handle;
    instances.push_back(o);
  }
  top_ = 0;
  if (instances.empty()) return;  // the launch skips tracing when the scene has no geometry
  instances_.upload(instances);
  OptixBuildInput input{};
  input.type = OPTIX_BUILD_INPUT_TYPE_INSTANCES;
  input.instanceArray.instances = instances_.ptr();
  input.instanceArray.numInstances = unsigned(instances.size());
  top_ = build_accel(optix_, input, ias_);
}

void DeviceScene::upload_programs(const Scene &scene) {
  const KernelScene &k = scene.kernel();
  std::vector<ShaderProgramView> views(scene.materials.size());
  auto device_view = [&](const ShaderProgram &p, ShaderProgramView v) {
    v.code = put(fresh(), p.code.data(), p.code.size());
    v.constants = put(fresh(), p.constants.data(), p.constants.size());
    v.textures = put(fresh(), p.textures.data(), p.textures.size());
    v.attributes = put(fresh(), p.attributes.data(), p.attributes.size());
    return v;
  };
  for (size_t i = 0; i < views.size(); ++i) views[i] = device_view(scene.materials[i], k.materials[i]);
  kernel_.materials = put(fresh(), views.data(), views.size());
  kernel_.world = device_view(scene.world, k.world);
}

void DeviceScene::upload_textures(const Scene &scene) {
  std::vector<TextureView> views(scene.textures.size());
  for (size_t i = 0; i < views.size(); ++i) {
    const TextureData &t = scene.textures[i];
    views[i] = scene.kernel().textures[i];
    views[i].bytes = put(fresh(), t.bytes.data(), t.bytes.size());
    views[i].floats = put(fresh(), t.floats.data(), t.floats.size());
  }
  kernel_.textures = put(fresh(), views.data(), views.size());
}

void DeviceScene::upload_tables(const Scene &scene) {
  const KernelScene &k = scene.kernel();
  kernel_.sobol = put(fresh(), k.sobol, 1);
  const BsdfTables &h = k.tables;
  BsdfTables &d = kernel_.tables;
  d.ggx_E = put(fresh(), h.ggx_E, kTable2D32);
  d.ggx_Eavg = put(fresh(), h.ggx_Eavg, 32);
  d.ggx_glass_E = put(fresh(), h.ggx_glass_E, kTable3D16);
  d.ggx_glass_Eavg = put(fresh(), h.ggx_glass_Eavg, kTable2D16);
  d.ggx_glass_inv_E = put(fresh(), h.ggx_glass_inv_E, kTable3D16);
  d.ggx_glass_inv_Eavg = put(fresh(), h.ggx_glass_inv_Eavg, kTable2D16);
  d.ggx_gen_schlick_ior_s = put(fresh(), h.ggx_gen_schlick_ior_s, kTable3D16);
  d.ggx_gen_schlick_s = put(fresh(), h.ggx_gen_schlick_s, kTable3D16);
  d.sheen_E = put(fresh(), h.sheen_E, kTable2D32);
}

size_t DeviceScene::upload(const Scene &scene) {
  optix_.make_current();
  const KernelScene &k = scene.kernel();
  arrays_.clear();
  kernel_ = k;  // scalars, the camera and the world's settings; every pointer is replaced below
  kernel_.tlas = nullptr;  // OptiX traverses its own structures: the CPU BVHs stay on the host
  kernel_.tlas_order = nullptr;
  // No motion blur on this backend (OptixRenderer::set_scene refuses scenes with motion).
  kernel_.has_motion = 0;
  kernel_.motion_transforms = nullptr;
  kernel_.shutter.table = nullptr;
  kernel_.camera.motion_steps = 0;
  kernel_.camera.motion = nullptr;

  // Geometry: reuse what the previous scene shared, drop what it no longer uses.
  std::map<const GeometryData *, std::unique_ptr<DeviceGeometry>> previous;
  previous.swap(geometries_);
  std::vector<DeviceGeometry *> used;
  std::vector<GeometryView> views(scene.geometries.size());
  std::vector<AttributeView> attributes;
  size_t reused = 0;
  for (size_t i = 0; i < scene.geometries.size(); ++i) {
    const std::shared_ptr<GeometryData> &g = scene.geometries[i];
    auto it = previous.find(g.get());
    if (it != previous.end()) {
      geometries_[g.get()] = std::move(it->second);
      previous.erase(it);
    }
    bool was_cached;
    DeviceGeometry &d = geometry(g, was_cached);
    reused += was_cached ? 1 : 0;
    used.push_back(&d);
    GeometryView &v = views[i];
    v = k.geometries[i];
    v.nodes = nullptr;
    v.tri4 = nullptr;
    v.deform_steps = 0;
    v.step_vertices = nullptr;
    v.prim_order = d.prim_order.as<const uint32_t>();
    v.vertices = d.vertices.as<const float3>();
    v.tri_idx = d.tri_idx.as<const int32_t>();
    v.normals = g->normals.empty() ? nullptr : d.normals.as<const float3>();
    v.normal_idx = g->normal_idx.empty() ? v.tri_idx : d.normal_idx.as<const int32_t>();
    v.material_ids = g->material_ids.empty() ? nullptr : d.material_ids.as<const int32_t>();
    v.spheres = d.spheres.as<const SphereAccel>();
    for (size_t a = 0; a < g->attributes.size(); ++a) {
      const AttributeData &src = g->attributes[a];
      attributes.push_back(AttributeView{d.attributes[2 * a].as<const float>(),
                                         src.indices.empty() ? nullptr : d.attributes[2 * a + 1].as<const int32_t>(),
                                         src.domain, src.channels});
    }
  }
  previous.clear();  // geometries this scene does not use any more
  kernel_.geometries = put(fresh(), views.data(), views.size());
  kernel_.attributes = put(fresh(), attributes.data(), attributes.size());
  kernel_.attribute_map = put(fresh(), k.attribute_map, scene.geometries.size() * scene.attribute_requests.size());

  size_t slots = 0;
  for (size_t i = 0; i < scene.instances.size(); ++i)
    slots = std::max<size_t>(slots, k.instances[i].slot_base + k.instances[i].slot_count);
  kernel_.instances = put(fresh(), k.instances, scene.instances.size());
  kernel_.slot_materials = put(fresh(), k.slot_materials, slots);
  kernel_.lights = put(fresh(), k.lights, size_t(k.num_lights));
  kernel_.emissive = put(fresh(), k.emissive, size_t(k.num_emissive));
  kernel_.emissive_cdf = put(fresh(), k.emissive_cdf, k.num_emissive > 0 ? size_t(k.num_emissive) + 1 : 0);
  upload_programs(scene);
  upload_textures(scene);
  upload_tables(scene);
  build_ias(scene, used);
  kernel_.has_geometry = top_ ? 1 : 0;
  return reused;
}

}  // namespace optica
