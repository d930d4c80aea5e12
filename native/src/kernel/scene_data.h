// The scene as the kernel sees it: plain structs of pointers into arrays the host owns.
#pragma once
#include "bsdf.h"
#include "bvh_traverse.h"
#include "camera.h"
#include "defs.h"
#include "sampler.h"

namespace optica {

enum GeometryType : int32_t { kGeomMesh = 0, kGeomSpheres = 1 };

struct GeometryView {
  int32_t type;
  const Bvh4Node *nodes;
  const uint32_t *prim_order;   // leaf slot -> primitive index
  // Triangles (leaf order for intersection, original order for shading).
  const Tri4 *tri4;              // mesh leaves: blocks of four triangles
  const float3 *vertices;
  const int32_t *tri_idx;
  const float3 *normals;        // null: flat shading
  const int32_t *normal_idx;
  const float2 *uvs;            // null: no UVs
  const int32_t *uv_idx;
  const int32_t *material_ids;  // null: slot 0 everywhere
  // Spheres (leaf order for intersection, original order for colours).
  const SphereAccel *spheres;
  const float3 *sphere_colors;  // null: the material's colour
};

struct InstanceView {
  Affine xfm, inv;
  uint32_t geometry;
  int32_t object_id;
  uint32_t slot_base, slot_count;  // material slots in KernelScene::slot_materials
  int32_t identity;                // transform is the identity: skip the ray transform
};

struct MaterialView {
  float3 base_color;
  int32_t base_color_texture;  // -1: none
  float metallic, roughness, ior, specular, transmission, alpha;
  float3 emission;             // radiance, W·m⁻²·sr⁻¹
};

enum TexInterp : int32_t { kInterpLinear = 0, kInterpClosest = 1 };
enum TexExtension : int32_t { kExtRepeat = 0, kExtExtend = 1, kExtClip = 2 };

struct TextureView {
  const float *rgba;  // linear, row 0 at v = 0
  int32_t width, height, interpolation, extension;
};

enum LightType : int32_t { kLightPoint = 0, kLightSpot = 1, kLightSun = 2, kLightArea = 3 };

struct LightView {
  int32_t type;
  int32_t ellipse;      // area: 1 for disk/ellipse, 0 for square/rectangle
  float3 radiance;      // emitted radiance; for a delta point: intensity (W/sr); delta sun: irradiance
  float3 pos;
  float3 dir;           // emission axis: the light's −Z
  float3 axis_u, axis_v;  // area: half extents along the light's X and Y
  float radius;         // point/spot sphere radius
  float area;           // area light's area
  float cos_half_spot, spot_smooth;  // spot cone and 1 / ((1 − cos) · blend)
  float cos_half_angle; // sun: half the angular diameter
};

// One emissive triangle in world space, for next-event estimation.
struct EmissiveTri {
  float3 v0, e1, e2;
  float3 radiance;
  float area;
};

struct KernelScene {
  const Bvh4Node *tlas;
  const uint32_t *tlas_order;
  const InstanceView *instances;
  const GeometryView *geometries;
  const int32_t *slot_materials;
  const MaterialView *materials;   // [0] is the default material
  const TextureView *textures;
  const LightView *lights;
  int32_t num_lights;
  const EmissiveTri *emissive;
  const float *emissive_cdf;       // num_emissive + 1 entries, last = 1
  int32_t num_emissive;
  float emissive_total;            // Σ luminance·area (selection weights)
  float3 world;                    // background radiance
  int32_t max_bounces;
  float clamp_direct, clamp_indirect;
  int32_t has_alpha;
  int32_t has_geometry;
  CameraView camera;
  const SobolTable *sobol;
  const GgxAlbedoTable *ggx_albedo;
  uint32_t seed;
};

}  // namespace optica
