#include "scene.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include "bsdf_tables.h"
#include "thread_pool.h"
#include "world_map.h"

namespace optica {
namespace {

// What intersecting one instance costs in triangle tests, for the top-level SAH (a few node
// tests and a ray transform at the least).
constexpr float kInstanceCost = 16.0f;
// Geometries with more primitives than this get the whole pool for their BVH build;
// smaller ones are built side by side, one per thread.
constexpr size_t kLargeGeometry = 1 << 16;

// A triangle's box; a deforming triangle's over all its steps (exact for linear motion).
Aabb triangle_box(const GeometryData &g, size_t t) {
  Aabb b;
  if (g.deform_steps) {
    size_t nv = g.vertices.size();
    for (int32_t s = 0; s < g.deform_steps; ++s)
      for (int k = 0; k < 3; ++k) b.grow(g.step_vertices[size_t(s) * nv + size_t(g.tri_idx[3 * t + k])]);
    return b;
  }
  for (int k = 0; k < 3; ++k) b.grow(g.vertices[g.tri_idx[3 * t + k]]);
  return b;
}

// A curve segment's box: the hull of its cubic's Bézier control points (which holds the
// curve, where the hull of Catmull-Rom points may not), widened by the largest radius there.
Aabb curve_segment_box(const GeometryData &g, size_t i, float &reach, int32_t step = -1) {
  const CurveSegment &seg = g.curve_segments[i];
  CurveKey c[4];
  for (int k = 0; k < 4; ++k) c[k] = g.curve_keys[size_t(seg.k[k])];
  if (step >= 0)
    for (int k = 0; k < 4; ++k) c[k].p = g.curve_step_points[size_t(step) * g.curve_keys.size() + size_t(seg.k[k])];
  float3 b[4];
  float r[4];
  if (g.curve_basis == kBasisLinear) {
    b[0] = b[1] = c[1].p;
    b[2] = b[3] = c[2].p;
    r[0] = r[1] = c[1].r;
    r[2] = r[3] = c[2].r;
  } else if (g.curve_basis == kBasisBSpline) {
    b[0] = (c[0].p + c[1].p * 4.0f + c[2].p) * (1.0f / 6.0f);
    b[1] = (c[1].p * 2.0f + c[2].p) * (1.0f / 3.0f);
    b[2] = (c[1].p + c[2].p * 2.0f) * (1.0f / 3.0f);
    b[3] = (c[1].p + c[2].p * 4.0f + c[3].p) * (1.0f / 6.0f);
    r[0] = (c[0].r + 4.0f * c[1].r + c[2].r) * (1.0f / 6.0f);
    r[1] = (2.0f * c[1].r + c[2].r) * (1.0f / 3.0f);
    r[2] = (c[1].r + 2.0f * c[2].r) * (1.0f / 3.0f);
    r[3] = (c[1].r + 4.0f * c[2].r + c[3].r) * (1.0f / 6.0f);
  } else {
    b[0] = c[1].p;
    b[1] = c[1].p + (c[2].p - c[0].p) * (1.0f / 6.0f);
    b[2] = c[2].p - (c[3].p - c[1].p) * (1.0f / 6.0f);
    b[3] = c[2].p;
    r[0] = c[1].r;
    r[1] = c[1].r + (c[2].r - c[0].r) * (1.0f / 6.0f);
    r[2] = c[2].r - (c[3].r - c[1].r) * (1.0f / 6.0f);
    r[3] = c[2].r;
  }
  Aabb box;
  float rmax = 0.0f, away = 0.0f;
  const float3 w = c[2].p - c[1].p;  // the chord the kernel's capsule test measures from
  const float ww = dot(w, w);
  for (int k = 0; k < 4; ++k) {
    box.grow(b[k]);
    rmax = std::max(rmax, std::fabs(r[k]));
    // Distance of the hull's corner from the chord: the curve stays within the largest.
    float s = ww > 0.0f ? std::min(1.0f, std::max(0.0f, dot(b[k] - c[1].p, w) / ww)) : 0.0f;
    away = std::max(away, length(b[k] - (c[1].p + w * s)));
  }
  reach = rmax + away;
  box.lo = box.lo - make3(rmax);
  box.hi = box.hi + make3(rmax);
  return box;
}

// Rewrites every mesh leaf of the BVH to point at Tri4 blocks holding its triangles.
void pack_triangle_leaves(GeometryData &g) {
  const std::vector<uint32_t> &order = g.bvh.prim_order;
  g.tri4.clear();
  size_t blocks = 0;
  for (const Bvh4Node &node : g.bvh.nodes)
    for (int c = 0; c < 4; ++c)
      if (node.child[c] < 0) blocks += (node.count[c] + 3) / 4;
  g.tri4.reserve(blocks);  // exactly: growing by doubling held two copies at its last step
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Bvh4Node &node : g.bvh.nodes) {
    for (int c = 0; c < 4; ++c) {
      if (node.child[c] >= 0 || node.count[c] == 0) continue;
      uint32_t first = uint32_t(~node.child[c]), count = node.count[c];
      node.child[c] = ~int32_t(g.tri4.size());
      for (uint32_t base = 0; base < count; base += 4) {
        Tri4 q;
        for (int lane = 0; lane < 4; ++lane) {
          bool used = base + lane < count;
          uint32_t prim = used ? order[first + base + lane] : 0;
          const int32_t *tri = &g.tri_idx[3 * size_t(prim)];
          float3 v0 = used ? g.vertices[tri[0]] : make3(nan);
          float3 e1 = used ? g.vertices[tri[1]] - v0 : make3(nan);
          float3 e2 = used ? g.vertices[tri[2]] - v0 : make3(nan);
          q.v0x[lane] = v0.x; q.v0y[lane] = v0.y; q.v0z[lane] = v0.z;
          q.e1x[lane] = e1.x; q.e1y[lane] = e1.y; q.e1z[lane] = e1.z;
          q.e2x[lane] = e2.x; q.e2y[lane] = e2.y; q.e2z[lane] = e2.z;
          q.prim[lane] = prim;
        }
        g.tri4.push_back(q);
      }
    }
  }
}

void build_one_geometry(GeometryData &g, ThreadPool &pool) {
  size_t n = g.primitive_count();
  std::vector<Aabb> boxes(n);
  if (g.type == kGeomMesh) {
    for (size_t t = 0; t < n; ++t) boxes[t] = triangle_box(g, t);
  } else if (g.type == kGeomCurves) {
    for (size_t i = 0; i < n; ++i) {
      boxes[i] = curve_segment_box(g, i, g.curve_segments[i].reach);
      // A deforming curve set: the box over every step (exact for linear motion); the kernel
      // skips the capsule test (the chord moves).
      for (int32_t s = 0; s < g.curve_steps; ++s) {
        float reach;
        boxes[i].grow(curve_segment_box(g, i, reach, s));
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      const SphereAccel &s = g.spheres[i];
      boxes[i].lo = s.c - make3(s.r);
      boxes[i].hi = s.c + make3(s.r);
    }
  }
  g.bvh = build_bvh(boxes, pool);
  const std::vector<uint32_t> &order = g.bvh.prim_order;
  if (g.type == kGeomMesh && g.deform_steps) {
    // Leaves index prim_order; each triangle is placed at the ray's time when tested.
  } else if (g.type == kGeomMesh) {
    pack_triangle_leaves(g);
    // Mesh leaves name their triangles in the Tri4 blocks; the order is only needed by spheres.
    std::vector<uint32_t>().swap(g.bvh.prim_order);
  } else if (g.type == kGeomCurves) {
    // Leaves index prim_order; segments stay in their order (shading reads them by index).
  } else {
    std::vector<SphereAccel> leaf(n);
    for (size_t i = 0; i < n; ++i) leaf[i] = g.spheres[order[i]];
    g.spheres.swap(leaf);
  }
}

Aabb transform_box(const Affine &m, const Aabb &b) {
  Aabb out;
  for (int i = 0; i < 8; ++i) {
    float3 c = make3((i & 1) ? b.hi.x : b.lo.x, (i & 2) ? b.hi.y : b.lo.y, (i & 4) ? b.hi.z : b.lo.z);
    out.grow(m.point(c));
  }
  return out;
}

bool is_identity(const Affine &m) {
  static const float id[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  for (int i = 0; i < 12; ++i)
    if (m.m[i] != id[i]) return false;
  return true;
}

// Pixel filters as Cycles defines them (film.cpp), as a function on [-radius, radius].
float filter_value(int type, float width, float x, float &radius) {
  switch (type) {
    case kFilterBox:
      radius = 0.5f * width;
      return 1.0f;
    case kFilterGaussian: {
      float w = 3.0f * width;
      radius = 0.5f * w;
      float v = x * 6.0f / w;
      return std::exp(-2.0f * v * v);
    }
    default: {
      float w = 2.0f * width;
      radius = 0.5f * w;
      float v = 2.0f * kPi * (x / w + 0.5f);
      return 0.35875f - 0.48829f * std::cos(v) + 0.14128f * std::cos(2 * v) - 0.01168f * std::cos(3 * v);
    }
  }
}

void make_filter_table(int type, float width, float *table) {
  constexpr int kSteps = 4096;
  float radius = 0;
  filter_value(type, width, 0.0f, radius);
  std::vector<double> cdf(kSteps + 1, 0.0);
  for (int i = 0; i < kSteps; ++i) {
    float x = -radius + (i + 0.5f) * (2.0f * radius / kSteps);
    cdf[i + 1] = cdf[i] + std::max(0.0f, filter_value(type, width, x, radius));
  }
  for (auto &c : cdf) c /= cdf[kSteps];
  // Invert: table[j] is the x at which the CDF reaches j / (size − 1).
  int k = 0;
  for (int j = 0; j < kFilterTableSize; ++j) {
    double u = double(j) / (kFilterTableSize - 1);
    while (k < kSteps - 1 && cdf[k + 1] < u) ++k;
    double span = cdf[k + 1] - cdf[k];
    double t = span > 0 ? (u - cdf[k]) / span : 0.0;
    t = std::min(1.0, std::max(0.0, t));
    table[j] = float(-radius + (k + t) * (2.0 * radius / kSteps));
  }
}

}  // namespace

Affine invert_affine(const Affine &a) {
  const float *m = a.m;
  float det = m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) +
              m[2] * (m[4] * m[9] - m[5] * m[8]);
  if (!(std::fabs(det) > 1e-30f) || !std::isfinite(det)) throw std::invalid_argument("singular transform");
  float id = 1.0f / det;
  Affine r;
  r.m[0] = (m[5] * m[10] - m[6] * m[9]) * id;
  r.m[1] = (m[2] * m[9] - m[1] * m[10]) * id;
  r.m[2] = (m[1] * m[6] - m[2] * m[5]) * id;
  r.m[4] = (m[6] * m[8] - m[4] * m[10]) * id;
  r.m[5] = (m[0] * m[10] - m[2] * m[8]) * id;
  r.m[6] = (m[2] * m[4] - m[0] * m[6]) * id;
  r.m[8] = (m[4] * m[9] - m[5] * m[8]) * id;
  r.m[9] = (m[1] * m[8] - m[0] * m[9]) * id;
  r.m[10] = (m[0] * m[5] - m[1] * m[4]) * id;
  for (int i = 0; i < 3; ++i)
    r.m[4 * i + 3] = -(r.m[4 * i] * m[3] + r.m[4 * i + 1] * m[7] + r.m[4 * i + 2] * m[11]);
  return r;
}

void Scene::build_geometry_bvhs(ThreadPool &pool) {
  std::vector<GeometryData *> small;
  for (auto &g : geometries) {
    if (g->built) continue;
    if (g->primitive_count() >= kLargeGeometry) build_one_geometry(*g, pool);
    else small.push_back(g.get());
  }
  pool.parallel_for(int64_t(small.size()), [&](int64_t i, int) {
    ThreadPool serial(1);
    build_one_geometry(*small[i], serial);
  });
  for (auto &g : geometries) g->built = true;
}

bool Scene::same_placements(const Scene &other) const {
  if (geometries.size() != other.geometries.size() || instances.size() != other.instances.size()) return false;
  for (size_t g = 0; g < geometries.size(); ++g)
    if (geometries[g] != other.geometries[g]) return false;
  for (size_t i = 0; i < instances.size(); ++i) {
    const InstanceData &a = instances[i], &b = other.instances[i];
    if (a.geometry != b.geometry || std::memcmp(a.xfm.m, b.xfm.m, sizeof(a.xfm.m)) != 0) return false;
    if (a.motion.size() != b.motion.size() ||
        (!a.motion.empty() && std::memcmp(a.motion.data(), b.motion.data(), a.motion.size() * sizeof(Affine)) != 0))
      return false;
  }
  return true;
}

void Scene::build_instances(ThreadPool &pool, const Scene *previous) {
  slot_materials_.clear();
  std::vector<uint32_t> geometry_slot_base(geometries.size()), instance_slot_base(instance_slots.size());
  for (size_t g = 0; g < geometries.size(); ++g) {
    geometry_slot_base[g] = uint32_t(slot_materials_.size());
    slot_materials_.insert(slot_materials_.end(), geometry_slots[g].begin(), geometry_slots[g].end());
  }
  for (size_t l = 0; l < instance_slots.size(); ++l) {
    instance_slot_base[l] = uint32_t(slot_materials_.size());
    slot_materials_.insert(slot_materials_.end(), instance_slots[l].begin(), instance_slots[l].end());
  }
  instance_views_.resize(instances.size());
  motion_transforms_.clear();
  std::vector<Aabb> boxes;
  std::vector<uint32_t> placed;  // instances with something to hit
  for (size_t i = 0; i < instances.size(); ++i) {
    const InstanceData &src = instances[i];
    InstanceView &v = instance_views_[i];
    v.xfm = src.xfm;
    v.inv = invert_affine(src.xfm);
    v.geometry = src.geometry;
    v.object_id = src.object_id;
    v.identity = is_identity(src.xfm) ? 1 : 0;
    for (int c = 0; c < 4; ++c) v.color[c] = src.color[c];
    v.pass_index = src.pass_index;
    v.random = src.random;
    v.terminator_geometry_offset = src.terminator_geometry_offset;
    v.terminator_frequency = 1.0f / (1.0f - 0.5f * src.terminator_shading_offset);
    v.motion_steps = 0;
    v.motion_base = 0;
    if (!src.motion.empty()) {
      std::vector<MotionTransform> steps = decompose_motion(src.motion);
      v.motion_steps = int32_t(steps.size());
      v.motion_base = uint32_t(motion_transforms_.size());
      motion_transforms_.insert(motion_transforms_.end(), steps.begin(), steps.end());
      v.identity = 0;
    }
    if (src.slot_list < 0 || instance_slots[src.slot_list].empty()) {
      v.slot_base = geometry_slot_base[src.geometry];
      v.slot_count = uint32_t(geometry_slots[src.geometry].size());
    } else {
      v.slot_base = instance_slot_base[src.slot_list];
      v.slot_count = uint32_t(instance_slots[src.slot_list].size());
    }
    const GeometryData &g = *geometries[src.geometry];
    if (g.primitive_count() == 0) continue;
    boxes.push_back(v.motion_steps ? motion_bounds(&motion_transforms_[v.motion_base], v.motion_steps, g.bvh.bounds)
                                   : transform_box(src.xfm, g.bvh.bounds));
    placed.push_back(uint32_t(i));
  }
  // The same geometry at the same places: the same BVH (a rebuild over 10,000 instances cost
  // 3-4 ms of every viewport step after a change).
  if (previous && same_placements(*previous)) {
    tlas_ = previous->tlas_;
    return;
  }
  // An instance test transforms the ray and walks the instance's own BVH: keep TLAS leaves small.
  tlas_ = build_bvh(boxes, pool, kInstanceCost);
  for (auto &p : tlas_.prim_order) p = placed[p];
}

void Scene::build_emissive() {
  emissive_.clear();
  auto emits = [&](int32_t material) {
    const ShaderProgram &p = materials[material];
    return (p.flags & kProgramEmissive) && !is_black(p.emission_estimate);
  };
  for (uint32_t index = 0; index < instance_views_.size(); ++index) {
    const InstanceView &inst = instance_views_[index];
    const GeometryData &g = *geometries[inst.geometry];
    if (g.type != kGeomMesh || inst.slot_count == 0) continue;
    bool any = false;
    for (uint32_t s = 0; s < inst.slot_count; ++s) any |= emits(slot_materials_[inst.slot_base + s]);
    if (!any) continue;
    size_t n = g.tri_idx.size() / 3;
    for (size_t t = 0; t < n; ++t) {
      int32_t slot = g.material_ids.empty() ? 0 : g.material_ids[t];
      slot = std::min<int32_t>(std::max(slot, 0), int32_t(inst.slot_count) - 1);
      int32_t material = slot_materials_[inst.slot_base + slot];
      if (!emits(material)) continue;
      const int32_t *tri = &g.tri_idx[3 * t];
      float3 v0 = inst.xfm.point(g.vertices[tri[0]]);
      float3 e1 = inst.xfm.point(g.vertices[tri[1]]) - v0;
      float3 e2 = inst.xfm.point(g.vertices[tri[2]]) - v0;
      float area = 0.5f * length(cross(e1, e2));
      if (!(area > 0.0f)) continue;
      emissive_.push_back(EmissiveTri{v0, e1, e2, materials[material].emission_estimate, area, index, uint32_t(t),
                                      material, (inst.motion_steps || g.deform_steps) ? 1 : 0});
    }
  }
  emissive_cdf_.assign(emissive_.size() + 1, 0.0f);
  double total = 0;
  for (size_t i = 0; i < emissive_.size(); ++i) {
    total += double(luminance(emissive_[i].estimate)) * emissive_[i].area;
    emissive_cdf_[i + 1] = float(total);
  }
  for (auto &c : emissive_cdf_) c = total > 0 ? float(c / total) : 0.0f;
  if (!emissive_.empty()) emissive_cdf_.back() = 1.0f;
  emissive_total_ = float(total);
  if (!(total > 0)) emissive_.clear();
}

int32_t GeometryData::resolve(const AttributeRequest &r) const {
  auto find = [](const std::map<std::string, int32_t> &m, const std::string &name) {
    auto it = m.find(name);
    return it == m.end() ? -1 : it->second;
  };
  switch (r.kind) {
    case kAttrUV:
      if (r.name.empty() || r.name == active_uv_map) return default_uv;
      return find(uv_maps, r.name);
    case kAttrColor:
      if (!r.name.empty()) return find(named, r.name);
      if (!active_color.empty()) return find(named, active_color);
      return sphere_colors;
    case kAttrNamed: {
      int32_t i = find(named, r.name);
      if (i < 0) i = find(uv_maps, r.name);
      if (i < 0 && r.name == active_uv_map) i = default_uv;
      if (i < 0 && r.name == "color") i = sphere_colors;
      return i;
    }
    case kAttrTangent:
      if (!r.name.empty()) return find(tangents, r.name);
      if (!active_uv_map.empty()) return find(tangents, active_uv_map);
      return tangents.size() == 1 ? tangents.begin()->second : -1;
  }
  return -1;
}

namespace {

template <class T>
size_t vector_bytes(const std::vector<T> &v) {
  return v.size() * sizeof(T);
}

struct MemoryCounter {
  MemoryStats stats;
  std::set<const void *> seen;
  template <class T>
  void add(const HostArray<T> &a) {
    if (a.empty() || !seen.insert(a.data()).second) return;
    (a.borrowed() ? stats.borrowed : stats.geometry) += a.size() * sizeof(T);
  }
};

}  // namespace

MemoryStats Scene::memory() const {
  MemoryCounter c;
  std::set<const GeometryData *> counted;
  for (const auto &gp : geometries) {
    const GeometryData &g = *gp;
    if (!counted.insert(&g).second) continue;
    c.add(g.vertices);
    c.add(g.tri_idx);
    c.add(g.normals);
    c.add(g.normal_idx);
    c.add(g.material_ids);
    c.add(g.step_vertices);
    c.add(g.curve_step_points);
    for (const AttributeData &a : g.attributes) {
      c.add(a.data);
      c.add(a.indices);
    }
    c.stats.geometry += vector_bytes(g.spheres) + vector_bytes(g.curve_segments) + vector_bytes(g.curve_keys) +
                        vector_bytes(g.curve_intercept) + vector_bytes(g.curve_length) + vector_bytes(g.curve_random);
    c.stats.bvh += vector_bytes(g.bvh.nodes) + vector_bytes(g.bvh.prim_order) + vector_bytes(g.tri4);
  }
  c.stats.bvh += vector_bytes(tlas_.nodes) + vector_bytes(tlas_.prim_order);
  for (const TextureData &t : textures) c.stats.other += vector_bytes(t.bytes) + vector_bytes(t.floats);
  c.stats.other += vector_bytes(instances) + vector_bytes(instance_views_) + vector_bytes(emissive_) +
                   vector_bytes(emissive_cdf_) + vector_bytes(motion_transforms_) + vector_bytes(camera_motion_);
  return c.stats;
}

// Every geometry's attributes in one array, and per geometry the answer to each request.
void Scene::build_attributes() {
  attribute_views_.clear();
  attribute_map_.assign(geometries.size() * attribute_requests.size(), -1);
  for (size_t gi = 0; gi < geometries.size(); ++gi) {
    const GeometryData &g = *geometries[gi];
    int32_t base = int32_t(attribute_views_.size());
    for (const AttributeData &a : g.attributes)
      attribute_views_.push_back(AttributeView{a.data.data(), a.indices.empty() ? nullptr : a.indices.data(), a.domain,
                                               a.channels});
    for (size_t r = 0; r < attribute_requests.size(); ++r) {
      int32_t local = g.resolve(attribute_requests[r]);
      attribute_map_[gi * attribute_requests.size() + r] = local < 0 ? -1 : base + local;
    }
  }
}

ShaderProgramView program_view(const ShaderProgram &p) {
  ShaderProgramView v{};
  v.code = p.code.data();
  v.code_size = int32_t(p.code.size());
  v.constants = p.constants.data();
  v.constant_count = int32_t(p.constants.size());
  v.textures = p.textures.data();
  v.attributes = p.attributes.data();
  v.flags = p.flags;
  v.emission_estimate = p.emission_estimate;
  v.pass_index = p.pass_index;
  return v;
}

void Scene::build_programs() {
  program_views_.resize(materials.size());
  for (size_t i = 0; i < materials.size(); ++i) program_views_[i] = program_view(materials[i]);
}

void Scene::build_camera() {
  const CameraDesc &c = camera;
  CameraView &v = camera_view_;
  // Camera to world without scale (Cycles clears it too).
  for (int col = 0; col < 3; ++col) {
    float len = std::sqrt(sqr(c.matrix[col]) + sqr(c.matrix[4 + col]) + sqr(c.matrix[8 + col]));
    if (!(len > 0)) throw std::invalid_argument("camera.matrix: singular rotation");
    for (int row = 0; row < 3; ++row) v.to_world.m[4 * row + col] = c.matrix[4 * row + col] / len;
  }
  for (int row = 0; row < 3; ++row) v.to_world.m[4 * row + 3] = c.matrix[4 * row + 3];
  float w = float(settings.width), h = float(settings.height);
  // Blender: AUTO fits sensor_width to the larger dimension; VERTICAL uses sensor_height.
  bool horizontal = c.sensor_fit == 1 || (c.sensor_fit == 0 && w >= h);
  float viewfac = horizontal ? w : h;
  float sensor = c.sensor_fit == 2 ? c.sensor_height : c.sensor_width;
  v.orthographic = c.orthographic ? 1 : 0;
  v.pixel_size = (c.orthographic ? c.ortho_scale : sensor / c.lens) / viewfac;
  v.x0 = (-0.5f * w + c.shift_x * viewfac) * v.pixel_size;
  v.y0 = (0.5f * h + c.shift_y * viewfac) * v.pixel_size;
  v.clip_start = c.clip_start;
  v.clip_end = c.clip_end;
  v.aperture_radius = c.aperture_radius;
  v.focus_distance = c.focus_distance;
  v.aperture_blades = c.aperture_blades;
  v.aperture_rotation = c.aperture_rotation;
  v.to_camera = invert_affine(v.to_world);
  // Camera motion: each step without its scale, as the frame's matrix.
  std::vector<Affine> steps;
  for (const Affine &m : c.motion) {
    Affine a = m;
    for (int col = 0; col < 3; ++col) {
      float len = std::sqrt(sqr(m.m[col]) + sqr(m.m[4 + col]) + sqr(m.m[8 + col]));
      if (!(len > 0)) throw std::invalid_argument("camera.motion: singular rotation");
      for (int row = 0; row < 3; ++row) a.m[4 * row + col] = m.m[4 * row + col] / len;
    }
    steps.push_back(a);
  }
  camera_motion_ = decompose_motion(steps);
  v.motion_steps = int32_t(camera_motion_.size());
  v.motion = camera_motion_.empty() ? nullptr : camera_motion_.data();
  v.frame_width = w;
  v.frame_height = h;
  make_filter_table(settings.filter, settings.filter_width, v.filter_table);
}

void Scene::prepare(ThreadPool &pool, const Scene *previous) {
  sobol_ = make_sobol_table();
  build_geometry_bvhs(pool);
  build_instances(pool, previous);
  build_emissive();
  build_camera();
  build_attributes();
  build_programs();

  geometry_views_.resize(geometries.size());
  for (size_t i = 0; i < geometries.size(); ++i) {
    const GeometryData &g = *geometries[i];
    GeometryView &v = geometry_views_[i];
    v = GeometryView{};
    v.type = g.type;
    v.nodes = g.bvh.nodes.data();
    v.prim_order = g.bvh.prim_order.data();
    v.tri4 = g.tri4.data();
    v.vertices = g.vertices.data();
    v.tri_idx = g.tri_idx.data();
    v.normals = g.normals.empty() ? nullptr : g.normals.data();
    v.normal_idx = g.normal_idx.empty() ? g.tri_idx.data() : g.normal_idx.data();
    v.material_ids = g.material_ids.empty() ? nullptr : g.material_ids.data();
    v.spheres = g.spheres.data();
    v.curve_segments = g.curve_segments.data();
    v.curve_keys = g.curve_keys.data();
    v.curve_intercept = g.curve_intercept.data();
    v.curve_length = g.curve_length.data();
    v.curve_random = g.curve_random.data();
    v.curve_shape = g.curve_shape;
    v.curve_basis = g.curve_basis;
    v.curve_steps = g.curve_steps;
    v.curve_step_points = g.curve_steps ? g.curve_step_points.data() : nullptr;
    v.attribute_base = int32_t(i * attribute_requests.size());
    v.texspace_loc = g.texspace_loc;
    v.texspace_size = g.texspace_size;
    v.deform_steps = g.deform_steps;
    v.vertex_count = uint32_t(g.type == kGeomCurves ? g.curve_keys.size() : g.vertices.size());
    v.step_vertices = g.deform_steps ? g.step_vertices.data() : nullptr;
  }
  texture_views_.resize(textures.size());
  for (size_t i = 0; i < textures.size(); ++i) {
    const TextureData &t = textures[i];
    TextureView &v = texture_views_[i];
    v.bytes = t.bytes.empty() ? nullptr : t.bytes.data();
    v.floats = t.floats.empty() ? nullptr : t.floats.data();
    v.width = t.width;
    v.height = t.height;
    v.channels = t.channels;
    v.srgb = t.srgb ? 1 : 0;
    v.unassociate = t.unassociate ? 1 : 0;
  }

  KernelScene &k = kernel_;
  k.tlas = tlas_.nodes.data();
  k.tlas_order = tlas_.prim_order.data();
  k.has_geometry = tlas_.prim_order.empty() ? 0 : 1;
  k.instances = instance_views_.data();
  k.geometries = geometry_views_.data();
  k.slot_materials = slot_materials_.data();
  k.materials = program_views_.data();
  k.world = program_view(world);
  k.world_is_constant = world_is_constant ? 1 : 0;
  k.world_color = world_color;
  k.textures = texture_views_.data();
  k.attributes = attribute_views_.data();
  k.attribute_map = attribute_map_.data();
  k.lights = lights.data();
  k.num_lights = int32_t(lights.size());
  k.emissive = emissive_.data();
  k.emissive_cdf = emissive_cdf_.data();
  k.num_emissive = int32_t(emissive_.size());
  k.emissive_total = emissive_total_;
  k.max_bounces = settings.max_bounces;
  k.max_diffuse_bounces = settings.max_diffuse_bounces;
  k.max_glossy_bounces = settings.max_glossy_bounces;
  k.max_transmission_bounces = settings.max_transmission_bounces;
  k.max_transparent_bounces = settings.max_transparent_bounces;
  k.clamp_direct = settings.clamp_direct;
  k.clamp_indirect = settings.clamp_indirect;
  k.has_transparency = 0;
  for (const auto &m : materials) k.has_transparency |= (m.flags & kProgramTransparent) ? 1 : 0;
  k.camera = camera_view_;
  k.has_motion = motion.enabled ? 1 : 0;
  k.motion_transforms = motion_transforms_.empty() ? nullptr : motion_transforms_.data();
  shutter_table_ = motion.enabled && !motion.curve.empty() ? optica::shutter_table(motion.curve) : std::vector<float>();
  k.shutter = ShutterView{};
  k.shutter.table = shutter_table_.empty() ? nullptr : shutter_table_.data();
  k.shutter.rolling = motion.rolling ? 1 : 0;
  k.shutter.rolling_duration = motion.rolling_duration;
  k.shutter.open = motion.open;
  k.shutter.length = motion.length;
  k.shutter.frame_time = motion.enabled && motion.length > 0 ? -motion.open / motion.length : 0.0f;
  k.sobol = &sobol_;
  k.tables = bsdf_tables();
  k.seed = settings.seed;
  k.transparent = settings.transparent ? 1 : 0;
  // Last: the map is the world evaluated through the finished kernel view. The scene this one
  // replaces lends its map when the world is the same: at Cycles' 4096 × 2048 it costs ~1 s on
  // two cores, which a viewport edit elsewhere must not pay.
  world_map_reused_ = previous && previous->world_map_ && same_world(*previous);
  if (world_map_reused_) {
    world_map_ = previous->world_map_;
  } else {
    int map_x, map_y;
    world_map_resolution(world.textures, texture_views_.data(), world_sun_half_angle > 0.0f, map_x, map_y);
    auto map = std::make_shared<WorldMap>();
    map->build(k, map_x, map_y, pool, world_sun_dir, world_sun_half_angle);
    world_map_ = std::move(map);
  }
  k.world_map = world_map_->view();
}

namespace {

bool same_texture(const TextureData &a, const TextureData &b) {
  return a.width == b.width && a.height == b.height && a.channels == b.channels && a.srgb == b.srgb &&
         a.unassociate == b.unassociate && a.bytes == b.bytes && a.floats == b.floats;
}

bool same_program_code(const ShaderProgram &a, const ShaderProgram &b) {
  return a.code == b.code && a.constants == b.constants && a.flags == b.flags &&
         a.attributes.size() == b.attributes.size() && a.textures.size() == b.textures.size();
}

}  // namespace

bool Scene::same_world(const Scene &other) const {
  if (!same_program_code(world, other.world) || world_is_constant != other.world_is_constant ||
      std::memcmp(&world_color, &other.world_color, sizeof(float3)) != 0 ||
      std::memcmp(&world_sun_dir, &other.world_sun_dir, sizeof(float3)) != 0 ||
      world_sun_half_angle != other.world_sun_half_angle)
    return false;
  // Attributes are scene-wide requests; a world that reads any is rebuilt (none of Blender's does).
  if (!world.attributes.empty()) return false;
  for (size_t i = 0; i < world.textures.size(); ++i) {
    int32_t a = world.textures[i], b = other.world.textures[i];
    if ((a < 0) != (b < 0)) return false;
    if (a >= 0 && !same_texture(textures[size_t(a)], other.textures[size_t(b)])) return false;
  }
  return true;
}

}  // namespace optica
