// The host-side scene: owns every array the kernel reads (geometry, attributes, images,
// shader programs, lights), builds the BVHs and the light tables, and hands the kernel a
// KernelScene of pointers into them.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bvh.h"
#include "host_array.h"
#include "motion.h"
#include "kernel/scene_data.h"
#include "shader_program.h"
#include "world_map.h"

namespace optica {

// One per-mesh (or per-sphere-set) array a shader can read: a UV map, a colour or named
// attribute, a tangent set.
struct AttributeData {
  int32_t domain = kDomainPoint;
  int32_t channels = 1;
  HostArray<float> data;
  HostArray<int32_t> indices;  // corner domain: (T, 3)
};

// What a shader program asks a geometry for (the scene-wide attribute requests).
enum AttributeKind : int32_t { kAttrUV = 0, kAttrColor = 1, kAttrNamed = 2, kAttrTangent = 3 };

struct AttributeRequest {
  int32_t kind;
  std::string name;  // empty: the geometry's default (render-active UV map / colour attribute)
  bool operator<(const AttributeRequest &o) const { return kind != o.kind ? kind < o.kind : name < o.name; }
};

struct GeometryData {
  int32_t type = kGeomMesh;
  Bvh bvh;
  // Meshes
  // Float arrays may be borrowed from the scene dict; index arrays are always the core's own
  // copies (checked once: an index changed later by the caller must not read outside memory).
  HostArray<float3> vertices;
  HostArray<int32_t> tri_idx;
  HostArray<float3> normals;
  HostArray<int32_t> normal_idx;
  HostArray<int32_t> material_ids;
  // Deformation blur: `deform_steps` (S ≥ 2, 0: none) rows of the vertices at τ = i / (S − 1);
  // velocities become two steps, the positions at shutter open and close.
  int32_t deform_steps = 0;
  HostArray<float3> step_vertices;
  std::vector<Tri4> tri4;  // leaf blocks; mesh leaves in the BVH point at these
  // Sphere sets
  std::vector<SphereAccel> spheres;  // original order until built, then leaf order
  // Curve sets: segments (original order), control points with radii, Hair Info data.
  std::vector<CurveSegment> curve_segments;
  std::vector<CurveKey> curve_keys;
  std::vector<float> curve_intercept, curve_length, curve_random;
  int32_t curve_shape = kCurveRound, curve_basis = kBasisCatmullRom;
  // Curve deformation blur: `curve_steps` (S ≥ 2, 0: none) rows of the points at τ = i / (S − 1).
  int32_t curve_steps = 0;
  HostArray<float3> curve_step_points;
  // Attributes by what they are for; `default_uv`, `colors` (sphere colours) may be empty.
  std::vector<AttributeData> attributes;
  int32_t default_uv = -1;                      // the render-active UV map (`uvs`)
  std::map<std::string, int32_t> uv_maps, named, tangents;
  std::string active_uv_map, active_color;     // names of the defaults, when known
  int32_t sphere_colors = -1;
  float3 texspace_loc{0, 0, 0}, texspace_size{1, 1, 1};
  bool built = false;  // BVH and leaf-order arrays ready; built geometry is shared, immutable

  size_t primitive_count() const {
    return type == kGeomMesh ? tri_idx.size() / 3 : type == kGeomCurves ? curve_segments.size() : spheres.size();
  }
  // The attribute answering `request`, or -1.
  int32_t resolve(const AttributeRequest &request) const;
};

struct TextureData {
  int32_t width = 0, height = 0, channels = 4;
  bool srgb = false, unassociate = false;
  std::vector<uint8_t> bytes;
  std::vector<float> floats;
};

struct InstanceData {
  Affine xfm;
  uint32_t geometry = 0;
  int32_t object_id = 0;
  int32_t slot_list = -1;  // into Scene::instance_slots; -1: the geometry's own slots
  float color[4] = {1, 1, 1, 1};
  float pass_index = 0, random = 0;
  // Object › Shading › Shadow Terminator (Blender's defaults).
  float terminator_geometry_offset = 0.1f, terminator_shading_offset = 0.0f;
  std::vector<Affine> motion;  // object-to-world at the shutter steps; empty: does not move
};

struct CameraDesc {
  bool orthographic = false;
  float matrix[16];
  float lens = 50, sensor_width = 36, sensor_height = 24, ortho_scale = 6;
  int sensor_fit = 0;  // 0 AUTO, 1 HORIZONTAL, 2 VERTICAL
  float shift_x = 0, shift_y = 0, clip_start = 0.1f, clip_end = 100;
  float aperture_radius = 0, focus_distance = 10, aperture_rotation = 0;
  int aperture_blades = 0;
  std::vector<Affine> motion;  // camera-to-world at the shutter steps; empty: does not move
};

// The scene's `motion` section (docs/scene-dict.md, *Motion blur*).
struct MotionSettings {
  bool enabled = false;
  float open = 0, length = 0;  // shutter open and length, frames relative to the frame
  std::vector<float> curve;    // shutter curve densities; empty: uniform
  bool rolling = false;
  float rolling_duration = 0.1f;
};

enum FilterType { kFilterBox = 0, kFilterGaussian = 1, kFilterBlackmanHarris = 2 };

struct RenderSettings {
  int width = 0, height = 0;
  int region_x = 0, region_y = 0, region_w = 0, region_h = 0;
  int max_bounces = 12;
  int max_diffuse_bounces = 4, max_glossy_bounces = 4, max_transmission_bounces = 12, max_transparent_bounces = 8;
  uint32_t seed = 0;
  int filter = kFilterBlackmanHarris;
  float filter_width = 1.5f;
  float clamp_direct = 0, clamp_indirect = 0;
  bool transparent = false;  // Film › Transparent
};

class ThreadPool;

// Bytes of host memory a scene holds, by kind (Renderer.memory in Python). Arrays shared by
// several geometries or attributes count once.
struct MemoryStats {
  size_t geometry = 0;  // the core's own copies: index arrays, normalised normals, sphere data
  size_t borrowed = 0;  // float arrays read in place from the scene dict (which keeps them alive)
  size_t bvh = 0;       // BVH nodes, triangle leaf blocks, primitive orders (and the instances' TLAS)
  size_t other = 0;     // textures, instances, emissive triangles and light tables
};

class Scene {
 public:
  RenderSettings settings;
  CameraDesc camera;
  MotionSettings motion;
  // Geometry is shared between successive scenes when its arrays did not change, so a
  // moved object or camera never rebuilds a mesh's BVH.
  std::vector<std::shared_ptr<GeometryData>> geometries;
  // Material slots per geometry (global material indices), used unless an instance
  // overrides them. Per scene, since material indices are.
  std::vector<std::vector<int32_t>> geometry_slots;
  // Slot lists that instances use instead of their geometry's: one per instance group, shared
  // by its instances (10,000 placements do not make 10,000 copies).
  std::vector<std::vector<int32_t>> instance_slots;
  std::vector<InstanceData> instances;
  std::vector<ShaderProgram> materials;  // [0] is the default material
  ShaderProgram world;
  bool world_is_constant = true;
  float3 world_color{0, 0, 0};
  // The world's sun disc for light sampling to aim at (direction, half angle); half angle 0: none.
  float3 world_sun_dir{0, 0, 1};
  float world_sun_half_angle = 0.0f;
  std::vector<TextureData> textures;
  std::vector<AttributeRequest> attribute_requests;  // scene-wide; programs index into it
  std::vector<LightView> lights;

  // Builds BVHs, light tables and the kernel's view. Call once after filling the fields.
  // `previous`: the scene this one replaces; its instance BVH is taken over when the
  // instances are the same (a view change, or the viewport's next pixel size).
  void prepare(ThreadPool &pool, const Scene *previous = nullptr);
  // Whether this scene places the same geometry objects at the same transforms as `other`.
  bool same_placements(const Scene &other) const;
  // Whether this scene's world is `other`'s: the same program reading the same pixels.
  bool same_world(const Scene &other) const;
  // Whether prepare() took the world's importance map over from the previous scene.
  bool world_map_reused() const { return world_map_reused_; }
  const KernelScene &kernel() const { return kernel_; }
  MemoryStats memory() const;

 private:
  void build_geometry_bvhs(ThreadPool &pool);
  void build_instances(ThreadPool &pool, const Scene *previous);
  void build_attributes();
  void build_emissive();
  void build_camera();
  void build_programs();

  Bvh tlas_;
  std::vector<InstanceView> instance_views_;
  std::vector<int32_t> slot_materials_;
  std::vector<GeometryView> geometry_views_;
  std::vector<AttributeView> attribute_views_;
  std::vector<int32_t> attribute_map_;
  std::vector<TextureView> texture_views_;
  std::vector<ShaderProgramView> program_views_;
  std::vector<MotionTransform> motion_transforms_, camera_motion_;
  std::vector<float> shutter_table_;
  std::vector<EmissiveTri> emissive_;
  std::vector<float> emissive_cdf_;
  float emissive_total_ = 0;
  CameraView camera_view_{};
  SobolTable sobol_{};
  std::shared_ptr<const WorldMap> world_map_;  // shared with the next scene while the world stays
  bool world_map_reused_ = false;
  KernelScene kernel_{};
};

// Affine inverse; throws std::invalid_argument for a singular matrix.
Affine invert_affine(const Affine &m);

// The kernel's view of a host program.
ShaderProgramView program_view(const ShaderProgram &p);

}  // namespace optica
