// The scene as the kernel sees it: plain structs of pointers into arrays the host owns.
#pragma once
#include "bvh_traverse.h"
#include "camera.h"
#include "closure/tables.h"
#include "curve.h"
#include "defs.h"
#include "motion.h"
#include "sampler.h"

namespace optica {

enum GeometryType : int32_t { kGeomMesh = 0, kGeomSpheres = 1, kGeomCurves = 2 };

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
  const int32_t *material_ids;  // null: slot 0 everywhere (curves: one per curve)
  // Spheres (leaf order for intersection).
  const SphereAccel *spheres;
  // Curves: segments in original order (leaves index them through prim_order), control points,
  // and per-point intercept, per-curve length and random (Hair Info / Curves Info).
  const CurveSegment *curve_segments;
  const CurveKey *curve_keys;
  const float *curve_intercept, *curve_length, *curve_random;
  int32_t curve_shape, curve_basis;
  // Curve deformation blur: S > 0 steps of the points at τ = i / (S − 1) (radii stay the
  // frame's); the BVH then bounds each segment over all steps.
  int32_t curve_steps;
  const float3 *curve_step_points;
  // Attributes the shader programs ask for: KernelScene::attribute_map[attribute_base + request]
  // is an index into KernelScene::attributes, or -1 when this geometry lacks it.
  int32_t attribute_base;
  float3 texspace_loc, texspace_size;  // Blender's texture space, for Generated coordinates
  // Deformation blur (meshes): S > 0 steps of `vertex_count` vertices at τ = i / (S − 1) in
  // `step_vertices`; the BVH then bounds each triangle over all steps, its leaves index
  // `prim_order` (no Tri4 blocks) and `vertices` stay the frame's (smooth normals, texture space).
  int32_t deform_steps;
  uint32_t vertex_count;
  const float3 *step_vertices;
};

enum AttributeDomain : int32_t { kDomainPoint = 0, kDomainCorner = 1, kDomainFace = 2 };

// Per-point (sphere), per-vertex, per-corner (indexed by `indices`, (T, 3)) or per-face data.
struct AttributeView {
  const float *data;
  const int32_t *indices;  // corner domain only
  int32_t domain;
  int32_t channels;        // 1..4
};

struct InstanceView {
  Affine xfm, inv;
  uint32_t geometry;
  int32_t object_id;
  uint32_t slot_base, slot_count;  // material slots in KernelScene::slot_materials
  int32_t identity;                // transform is the identity: skip the ray transform
  float color[4];                  // Object Info: object colour and alpha
  float pass_index, random;        // Object Info: Object Index, Random
  float terminator_geometry_offset;  // Shadow Terminator › Geometry Offset (a cosine cutoff)
  float terminator_frequency;        // Shading Offset s as Cycles' kernel holds it: 1 / (1 − s/2)
  // Transform motion: S > 0 decomposed steps at KernelScene::motion_transforms[motion_base …];
  // `xfm` / `inv` are then the frame's (for what does not depend on the ray's time).
  int32_t motion_steps;
  uint32_t motion_base;
};

enum ProgramFlags : int32_t {
  kProgramEmissive = 1,     // may emit light (mesh lights are built from these)
  kProgramTransparent = 2,  // may let light through (shadow rays must evaluate it)
  kProgramHoldout = 4,
};

// A compiled shader program (optica_core.shading): int32 instructions and float constants,
// checked by the host (src/shader_program.cpp) before the kernel sees them.
struct ShaderProgramView {
  const int32_t *code;
  int32_t code_size;
  const float *constants;
  int32_t constant_count;
  const int32_t *textures;    // program texture -> KernelScene::textures index, -1: missing image
  const int32_t *attributes;  // program attribute -> scene attribute request
  int32_t flags;
  float3 emission_estimate;   // bound on the emitted radiance, for light selection
  float pass_index;           // Object Info › Material Index
};

enum TexInterp : int32_t { kInterpLinear = 0, kInterpClosest = 1, kInterpCubic = 2, kInterpSmart = 3 };
enum TexExtension : int32_t { kExtRepeat = 0, kExtExtend = 1, kExtClip = 2, kExtMirror = 3 };

// An image as Cycles keeps it: bytes stay bytes, sRGB-encoded when `srgb` and decoded after
// interpolation; floats are scene-linear, or sRGB-encoded when `srgb` (a float or 16-bit file
// in the sRGB colour space, which Cycles keeps encoded too); RGBA images are alpha-associated
// unless they are data (Non-Color) or channel-packed.
struct TextureView {
  const uint8_t *bytes;  // one of bytes / floats is set
  const float *floats;
  int32_t width, height, channels;  // channels: 1 or 4
  int32_t srgb;                     // the pixels hold sRGB-encoded values
  int32_t unassociate;              // the Alpha output divides the colour by alpha
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

// One emissive triangle in world space, for next-event estimation. `estimate` is its
// program's emission bound (selection weight); the emitted radiance itself comes from
// evaluating the program at the sampled point.
struct EmissiveTri {
  float3 v0, e1, e2;
  float3 estimate;
  float area;
  uint32_t instance, prim;
  int32_t material;  // index into KernelScene::materials
  int32_t moving;    // its instance or mesh moves: v0, e1, e2 are the frame's, sampled at the ray's time
};

// The world's importance map (world_sampling.h); res_x = 0: the world is not sampled as a
// light (a constant colour, or black). Pairs are (function value, CDF); entry res of a row
// (and of the marginal) holds the total.
struct WorldMapView {
  const float2 *marginal;     // res_y + 1
  const float2 *conditional;  // res_y rows of res_x + 1
  int32_t res_x, res_y;
  // A sun disc sampled apart from the map (Cycles' sun guiding): its direction, the cosine of
  // its half angle, and the probability of sampling it instead of the map (0: no disc).
  float3 sun_dir;
  float sun_cos;
  float sun_prob;
};

struct KernelScene {
  const Bvh4Node *tlas;
  const uint32_t *tlas_order;
  const InstanceView *instances;
  const GeometryView *geometries;
  const int32_t *slot_materials;
  const ShaderProgramView *materials;  // [0] is the default material
  ShaderProgramView world;
  const TextureView *textures;
  const AttributeView *attributes;
  const int32_t *attribute_map;
  const LightView *lights;
  int32_t num_lights;
  const EmissiveTri *emissive;
  const float *emissive_cdf;       // num_emissive + 1 entries, last = 1
  int32_t num_emissive;
  float emissive_total;            // Σ luminance(estimate)·area (selection weights)
  int32_t world_is_constant;       // the world program is a constant colour: `world_color`
  float3 world_color;
  WorldMapView world_map;
  int32_t transparent;             // Film › Transparent: camera rays do not see the world
  int32_t max_bounces;             // Light Paths › Max Bounces, as the user sets them
  int32_t max_diffuse_bounces, max_glossy_bounces, max_transmission_bounces, max_transparent_bounces;
  float clamp_direct, clamp_indirect;
  int32_t has_transparency;        // some material may let shadow rays through
  int32_t has_geometry;
  CameraView camera;
  // Motion blur: camera rays draw a time over the shutter (`has_motion`), moving instances'
  // steps live in `motion_transforms`.
  int32_t has_motion;
  ShutterView shutter;
  const MotionTransform *motion_transforms;
  const SobolTable *sobol;
  BsdfTables tables;
  uint32_t seed;
};

// A triangle's object-space vertices at time τ (a deforming mesh's interpolated steps).
OPTICA_HD void triangle_vertices_at(const GeometryView &g, uint32_t prim, float time, float3 v[3]) {
  const int32_t *tri = g.tri_idx + 3 * size_t(prim);
  if (g.deform_steps) {
    for (int k = 0; k < 3; ++k) v[k] = motion_vertex(g.step_vertices, g.deform_steps, g.vertex_count, tri[k], time);
  } else {
    for (int k = 0; k < 3; ++k) v[k] = g.vertices[tri[k]];
  }
}

// A curve segment's four control points at time τ (a deforming curve set's interpolated steps).
OPTICA_HD void curve_segment_keys(const GeometryView &g, uint32_t prim, float time, CurveKey c[4]) {
  const CurveSegment &seg = g.curve_segments[prim];
  for (int k = 0; k < 4; ++k) c[k] = g.curve_keys[seg.k[k]];
  if (!g.curve_steps) return;
  float f;
  const int step = motion_step(g.curve_steps, time, f);
  const float3 *a = g.curve_step_points + size_t(step) * g.vertex_count, *b = a + g.vertex_count;
  for (int k = 0; k < 4; ++k) c[k].p = a[seg.k[k]] * (1.0f - f) + b[seg.k[k]] * f;
}

// An instance's object-to-world at time τ (its frame transform when it does not move).
OPTICA_HD Affine instance_transform_at(const KernelScene &s, const InstanceView &inst, float time) {
  if (!inst.motion_steps) return inst.xfm;
  return motion_transform_at(s.motion_transforms + inst.motion_base, inst.motion_steps, time);
}

}  // namespace optica
