// The host-side scene: owns every array the kernel reads, builds the BVHs and the
// light tables, and hands the kernel a KernelScene of pointers into them.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bvh.h"
#include "kernel/scene_data.h"

namespace optica {

struct GeometryData {
  int32_t type = kGeomMesh;
  Bvh bvh;
  // Meshes
  std::vector<float3> vertices;
  std::vector<int32_t> tri_idx;
  std::vector<float3> normals;
  std::vector<int32_t> normal_idx;
  std::vector<float2> uvs;
  std::vector<int32_t> uv_idx;
  std::vector<int32_t> material_ids;
  std::vector<Tri4> tri4;  // leaf blocks; mesh leaves in the BVH point at these
  // Sphere sets
  std::vector<SphereAccel> spheres;  // original order until built, then leaf order
  std::vector<float3> sphere_colors;
  bool built = false;  // BVH and leaf-order arrays ready; built geometry is shared, immutable

  size_t primitive_count() const { return type == kGeomMesh ? tri_idx.size() / 3 : spheres.size(); }
};

struct TextureData {
  int32_t width = 0, height = 0, interpolation = kInterpLinear, extension = kExtRepeat;
  std::vector<float> rgba;
};

struct InstanceData {
  Affine xfm;
  uint32_t geometry = 0;
  int32_t object_id = 0;
  std::vector<int32_t> slots;  // empty: the geometry's
};

struct CameraDesc {
  bool orthographic = false;
  float matrix[16];
  float lens = 50, sensor_width = 36, sensor_height = 24, ortho_scale = 6;
  int sensor_fit = 0;  // 0 AUTO, 1 HORIZONTAL, 2 VERTICAL
  float shift_x = 0, shift_y = 0, clip_start = 0.1f, clip_end = 100;
  float aperture_radius = 0, focus_distance = 10, aperture_rotation = 0;
  int aperture_blades = 0;
};

enum FilterType { kFilterBox = 0, kFilterGaussian = 1, kFilterBlackmanHarris = 2 };

struct RenderSettings {
  int width = 0, height = 0;
  int region_x = 0, region_y = 0, region_w = 0, region_h = 0;
  int max_bounces = 12;
  uint32_t seed = 0;
  int filter = kFilterBlackmanHarris;
  float filter_width = 1.5f;
  float clamp_direct = 0, clamp_indirect = 0;
};

class ThreadPool;

class Scene {
 public:
  RenderSettings settings;
  CameraDesc camera;
  float3 world{0, 0, 0};
  // Geometry is shared between successive scenes when its arrays did not change, so a
  // moved object or camera never rebuilds a mesh's BVH.
  std::vector<std::shared_ptr<GeometryData>> geometries;
  // Material slots per geometry (global material indices), used unless an instance
  // overrides them. Per scene, since material indices are.
  std::vector<std::vector<int32_t>> geometry_slots;
  std::vector<InstanceData> instances;
  std::vector<MaterialView> materials;  // [0] is the default material
  std::vector<TextureData> textures;
  std::vector<LightView> lights;

  // Builds BVHs, light tables and the kernel's view. Call once after filling the fields.
  void prepare(ThreadPool &pool);
  const KernelScene &kernel() const { return kernel_; }

 private:
  void build_geometry_bvhs(ThreadPool &pool);
  void build_instances(ThreadPool &pool);
  void build_emissive();
  void build_camera();

  Bvh tlas_;
  std::vector<InstanceView> instance_views_;
  std::vector<int32_t> slot_materials_;
  std::vector<GeometryView> geometry_views_;
  std::vector<TextureView> texture_views_;
  std::vector<EmissiveTri> emissive_;
  std::vector<float> emissive_cdf_;
  float emissive_total_ = 0;
  CameraView camera_view_{};
  SobolTable sobol_{};
  GgxAlbedoTable ggx_albedo_{};
  KernelScene kernel_{};
};

// Affine inverse; throws std::invalid_argument for a singular matrix.
Affine invert_affine(const Affine &m);

}  // namespace optica
