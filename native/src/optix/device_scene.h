// A host Scene mirrored into device memory: every array the kernel reads, a KernelScene of
// device pointers, one GAS per geometry (kept across scenes while the geometry is shared, as the
// CPU backend keeps BVHs) and the IAS over the instances.
#pragma once
#include <map>
#include <memory>
#include <vector>

#include "optix/device_buffer.h"
#include "optix/optix_pipeline.h"
#include "scene.h"

namespace optica {

// One geometry's arrays and acceleration structure on the device.
struct DeviceGeometry {
  std::shared_ptr<const GeometryData> source;  // keeps the key alive while cached
  DeviceBuffer vertices, tri_idx, normals, normal_idx, material_ids, spheres, prim_order;
  std::vector<DeviceBuffer> attributes;  // data, then indices, per attribute (2 per attribute)
  DeviceBuffer gas;
  OptixTraversableHandle handle = 0;  // 0: no primitives (left out of the IAS)
};

class DeviceScene {
 public:
  explicit DeviceScene(const OptixPipelineState &optix)
      : optix_(optix), ias_(&optix.cu()), instances_(&optix.cu()) {}
  // Uploads `scene` (prepared); geometries uploaded for the previous scene are reused when the
  // scene shares them. Returns how many were reused.
  size_t upload(const Scene &scene);
  const KernelScene &kernel() const { return kernel_; }
  OptixTraversableHandle top() const { return top_; }

 private:
  DeviceGeometry &geometry(const std::shared_ptr<GeometryData> &g, bool &reused);
  void build_gas(DeviceGeometry &d, const GeometryData &g);
  void build_ias(const Scene &scene, const std::vector<DeviceGeometry *> &geometries);
  void upload_programs(const Scene &scene);
  void upload_textures(const Scene &scene);
  void upload_tables(const Scene &scene);
  template <class T>
  const T *put(DeviceBuffer &buffer, const T *data, size_t count);
  DeviceBuffer &fresh();

  const OptixPipelineState &optix_;
  std::map<const GeometryData *, std::unique_ptr<DeviceGeometry>> geometries_;
  std::vector<DeviceBuffer> arrays_;  // this scene's other arrays, freed with the next upload
  DeviceBuffer ias_, instances_;
  OptixTraversableHandle top_ = 0;
  KernelScene kernel_{};
};

}  // namespace optica
