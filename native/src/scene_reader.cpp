// Reads a validated scene dictionary (docs/scene-dict.md) into a Scene. Validation has
// already happened in Python (optica_core.scene: a NormalisedScene, whose values have their
// types, shapes and ranges); anything still wrong here is reported as a ValueError naming the
// key, never a crash. The one per-element check kept is that indices stay inside what they
// index (one vectorised pass, only for geometry read rather than reused): a scene's arrays can
// still be changed in place after validation by whoever holds them, and an index out of range
// would read outside memory.
#include "scene_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>

namespace optica {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;
using ByteArray = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw py::value_error(path + ": " + what);
}

py::object get(const py::dict &d, const char *key, const std::string &path) {
  if (!d.contains(key)) fail(path, std::string("missing required key '") + key + "'");
  return d[key];
}
py::dict get_dict(const py::dict &d, const char *key, const std::string &path) {
  py::object o = get(d, key, path);
  if (!py::isinstance<py::dict>(o)) fail(path + "." + key, "expected a dict");
  return o.cast<py::dict>();
}
float get_float(const py::dict &d, const char *key, const std::string &path) {
  return get(d, key, path).cast<float>();
}
int get_int(const py::dict &d, const char *key, const std::string &path) {
  return get(d, key, path).cast<int>();
}
bool get_bool(const py::dict &d, const char *key, const std::string &path) {
  return get(d, key, path).cast<bool>();
}
std::string get_str(const py::dict &d, const char *key, const std::string &path) {
  return get(d, key, path).cast<std::string>();
}
float3 get_float3(const py::dict &d, const char *key, const std::string &path) {
  FloatArray a = FloatArray::ensure(get(d, key, path));
  if (!a || a.size() != 3) fail(path + "." + key, "expected 3 floats");
  const float *p = a.data();
  return make3(p[0], p[1], p[2]);
}
FloatArray get_floats(const py::dict &d, const char *key, const std::string &path, size_t cols) {
  FloatArray a = FloatArray::ensure(get(d, key, path));
  if (!a || (cols && (a.ndim() != 2 || size_t(a.shape(1)) != cols)))
    fail(path + "." + key, "expected a float array with " + std::to_string(cols) + " columns");
  return a;
}
IntArray get_ints(const py::dict &d, const char *key, const std::string &path) {
  IntArray a = IntArray::ensure(get(d, key, path));
  if (!a) fail(path + "." + key, "expected an int array");
  return a;
}
bool has(const py::dict &d, const char *key) { return d.contains(key) && !d[key].is_none(); }

template <class T>
std::vector<T> copy_rows(const FloatArray &a) {
  std::vector<T> out(a.size() * sizeof(float) / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), a.data(), out.size() * sizeof(T));
  return out;
}
std::vector<int32_t> copy_ints(const IntArray &a) {
  return std::vector<int32_t>(a.data(), a.data() + a.size());
}

// Keeps a Python object alive from C++; its last owner may drop it on any thread, with or
// without the GIL (a scene is freed inside set_scene, GIL released), hence the acquire.
std::shared_ptr<const void> keep_alive(const py::object &o) {
  return std::shared_ptr<const void>(new py::object(o), [](const void *p) {
    py::gil_scoped_acquire gil;
    delete static_cast<const py::object *>(p);
  });
}

// The rows of float array `a` without a copy (the array stays alive with the scene), unless its
// memory is not aligned for T. Only float data is borrowed: a value changed later by the caller
// changes the image, never where memory is read.
template <class T>
HostArray<T> borrow_rows(const FloatArray &a) {
  if (a.size() == 0) return {};
  if (reinterpret_cast<uintptr_t>(a.data()) % alignof(T) != 0) return HostArray<T>(copy_rows<T>(a));
  return HostArray<T>(reinterpret_cast<const T *>(a.data()), a.size() * sizeof(float) / sizeof(T), keep_alive(a));
}

// Shading normals: borrowed when every one already has unit length (Blender's do), else a
// normalised copy.
HostArray<float3> unit_normals(const FloatArray &a) {
  HostArray<float3> rows = borrow_rows<float3>(a);
  bool unit = true;
  for (const float3 &n : rows) {
    float len2 = n.x * n.x + n.y * n.y + n.z * n.z;
    unit &= std::fabs(len2 - 1.0f) <= 1e-5f;
  }
  if (unit) return rows;
  std::vector<float3> out(rows.begin(), rows.end());
  for (auto &n : out) n = normalize(n);
  return out;
}

// Whether every index in [p, p + n) is in [0, limit): an unsigned maximum (negative values
// wrap above any limit), which the compiler vectorises.
bool indices_below(const int32_t *p, size_t n, size_t limit) {
  uint32_t highest = 0;
  for (size_t i = 0; i < n; ++i) highest = std::max(highest, uint32_t(p[i]));
  return n == 0 || size_t(highest) < limit;
}

Affine affine_from(const FloatArray &m, const std::string &path) {
  if (m.size() != 16) fail(path, "expected a 4x4 matrix");
  Affine a;
  std::memcpy(a.m, m.data(), 12 * sizeof(float));
  return a;
}

std::string quoted(const std::string &kind, const std::string &name) { return kind + "['" + name + "']"; }

// Arrays compare by identity (the caller promises not to change them), other values
// (names, the texture space) by equality.
bool same_objects(const py::list &a, const py::list &b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].ptr() == b[i].ptr()) continue;
    if (py::isinstance<py::array>(a[i]) || py::isinstance<py::array>(b[i])) return false;
    if (!a[i].equal(b[i])) return false;
  }
  return true;
}

// Every value of a (nested) section in a fixed order: its identity for geometry reuse.
void collect_identity(const py::handle &value, py::list &out) {
  if (py::isinstance<py::dict>(value)) {
    for (auto item : value.cast<py::dict>()) {
      out.append(item.first);
      collect_identity(item.second, out);
    }
  } else if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    for (auto item : value) collect_identity(item, out);
  } else {
    out.append(value);
  }
}

py::list geometry_identity(const py::dict &d) {
  py::list out;
  collect_identity(d, out);
  return out;
}

// Blender's automatic texture space: the bounding box, with zero sizes made 1.
template <class Points>
void auto_texspace(const Points &lo_points, const Points &hi_points, float3 &loc, float3 &size) {
  if (lo_points.empty()) return;
  float3 lo = lo_points[0], hi = hi_points[0];
  for (size_t i = 0; i < lo_points.size(); ++i) {
    lo = min3(lo, lo_points[i]);
    hi = max3(hi, hi_points[i]);
  }
  loc = (lo + hi) * 0.5f;
  size = (hi - lo) * 0.5f;
  for (int k = 0; k < 3; ++k)
    if (size[k] == 0.0f) size[k] = 1.0f;
    else if (size[k] < 1e-5f) size[k] = 1e-5f;
}

struct Reader {
  Scene &scene;
  const GeometryCache &previous;
  GeometryCache &next;
  std::map<std::string, int32_t> materials, textures, geometries;
  std::map<AttributeRequest, int32_t> requests;
  std::map<PyObject *, HostArray<int32_t>> index_copies;  // of the mesh being read, see own_indices

  // Registers geometry under `key`, reusing the previous scene's if its arrays are the same.
  template <class ReadFn>
  void add_geometry(const std::string &name, const std::string &key, py::list arrays, std::vector<int32_t> slots,
                    ReadFn read) {
    std::shared_ptr<GeometryData> g;
    auto it = previous.entries.find(key);
    if (it != previous.entries.end() && same_objects(it->second.arrays, arrays)) {
      g = it->second.geometry;
      ++next.reused;
    } else {
      g = std::make_shared<GeometryData>(read());
    }
    next.entries[key] = GeometryCache::Entry{arrays, g};
    geometries[name] = int32_t(scene.geometries.size());
    scene.geometries.push_back(g);
    scene.geometry_slots.push_back(std::move(slots));
  }

  int32_t material_index(const py::object &name, const std::string &path) {
    if (name.is_none()) return 0;
    auto it = materials.find(name.cast<std::string>());
    if (it == materials.end()) fail(path, "no material named '" + name.cast<std::string>() + "'");
    return it->second;
  }
  std::vector<int32_t> slot_list(const py::object &names, const std::string &path) {
    std::vector<int32_t> slots;
    for (py::handle n : names) slots.push_back(material_index(py::reinterpret_borrow<py::object>(n), path));
    return slots;
  }

  void read_render(const py::dict &r) {
    const std::string p = "render";
    RenderSettings &s = scene.settings;
    s.width = get_int(r, "width", p);
    s.height = get_int(r, "height", p);
    s.region_x = 0; s.region_y = 0; s.region_w = s.width; s.region_h = s.height;
    if (has(r, "region")) {
      IntArray reg = IntArray::ensure(r["region"]);
      if (!reg || reg.size() != 4) fail(p + ".region", "expected [x, y, w, h]");
      const int32_t *v = reg.data();
      s.region_x = v[0]; s.region_y = v[1]; s.region_w = v[2]; s.region_h = v[3];
    }
    if (s.width <= 0 || s.height <= 0 || s.region_w <= 0 || s.region_h <= 0 || s.region_x < 0 || s.region_y < 0 ||
        s.region_x + s.region_w > s.width || s.region_y + s.region_h > s.height)
      fail(p, "invalid image size or region");
    s.max_bounces = get_int(r, "max_bounces", p);
    s.max_diffuse_bounces = get_int(r, "max_diffuse_bounces", p);
    s.max_glossy_bounces = get_int(r, "max_glossy_bounces", p);
    s.max_transmission_bounces = get_int(r, "max_transmission_bounces", p);
    s.max_transparent_bounces = get_int(r, "max_transparent_bounces", p);
    s.seed = uint32_t(get(r, "seed", p).cast<int64_t>());
    std::string f = get_str(r, "filter", p);
    s.filter = f == "box" ? kFilterBox : f == "gaussian" ? kFilterGaussian : kFilterBlackmanHarris;
    s.filter_width = get_float(r, "filter_width", p);
    if (!(s.filter_width > 0)) fail(p + ".filter_width", "must be > 0");
    s.clamp_direct = get_float(r, "clamp_direct", p);
    s.clamp_indirect = get_float(r, "clamp_indirect", p);
    s.transparent = get_bool(r, "transparent", p);
  }

  // The `motion` section (None: no motion blur; then every motion step is ignored).
  void read_motion(const py::object &value) {
    if (value.is_none()) return;
    const std::string p = "motion";
    py::dict d = value.cast<py::dict>();
    MotionSettings &ms = scene.motion;
    ms.length = get_float(d, "shutter", p);
    if (!(ms.length > 0) || !std::isfinite(ms.length)) fail(p + ".shutter", "must be > 0");
    std::string position = get_str(d, "position", p);
    ms.open = position == "START" ? 0.0f : position == "END" ? -ms.length : -0.5f * ms.length;
    if (has(d, "shutter_curve")) {
      FloatArray curve = FloatArray::ensure(d["shutter_curve"]);
      if (!curve || curve.ndim() != 1 || curve.size() < 2) fail(p + ".shutter_curve", "expected at least 2 values");
      ms.curve.assign(curve.data(), curve.data() + curve.size());
      double sum = 0;
      for (float v : ms.curve) {
        if (!(v >= 0) || !std::isfinite(v)) fail(p + ".shutter_curve", "expected finite values >= 0");
        sum += v;
      }
      if (!(sum > 0)) fail(p + ".shutter_curve", "expected at least one value > 0");
    }
    ms.rolling = get_str(d, "rolling_shutter", p) == "TOP";
    ms.rolling_duration = get_float(d, "rolling_shutter_duration", p);
    ms.enabled = true;
  }

  // S affine steps from an (S, …, 4, 4) array: element `index` of each step's block of `count`.
  static std::vector<Affine> motion_steps(const FloatArray &a, size_t count, size_t index) {
    std::vector<Affine> steps(size_t(a.shape(0)));
    for (size_t s = 0; s < steps.size(); ++s)
      std::memcpy(steps[s].m, a.data() + 16 * (s * count + index), 12 * sizeof(float));
    return steps;
  }

  void read_camera(const py::dict &c) {
    const std::string p = "camera";
    CameraDesc &cam = scene.camera;
    cam.orthographic = get_str(c, "type", p) == "orthographic";
    FloatArray m = get_floats(c, "matrix", p, 4);
    if (m.size() != 16) fail(p + ".matrix", "expected a 4x4 matrix");
    std::memcpy(cam.matrix, m.data(), sizeof(cam.matrix));
    cam.lens = get_float(c, "lens", p);
    cam.sensor_width = get_float(c, "sensor_width", p);
    cam.sensor_height = get_float(c, "sensor_height", p);
    std::string fit = get_str(c, "sensor_fit", p);
    cam.sensor_fit = fit == "HORIZONTAL" ? 1 : fit == "VERTICAL" ? 2 : 0;
    cam.ortho_scale = get_float(c, "ortho_scale", p);
    cam.shift_x = get_float(c, "shift_x", p);
    cam.shift_y = get_float(c, "shift_y", p);
    cam.clip_start = get_float(c, "clip_start", p);
    cam.clip_end = get_float(c, "clip_end", p);
    cam.aperture_radius = get_float(c, "aperture_radius", p);
    cam.focus_distance = get_float(c, "focus_distance", p);
    cam.aperture_blades = get_int(c, "aperture_blades", p);
    cam.aperture_rotation = get_float(c, "aperture_rotation", p);
    if (!(cam.lens > 0) || !(cam.ortho_scale > 0) || !(cam.sensor_width > 0) || !(cam.sensor_height > 0))
      fail(p, "lens, sensor sizes and ortho_scale must be > 0");
    if (scene.motion.enabled && has(c, "motion")) {
      FloatArray steps = FloatArray::ensure(c["motion"]);
      if (!steps || steps.ndim() != 3 || steps.shape(0) < 2 || steps.shape(1) != 4 || steps.shape(2) != 4)
        fail(p + ".motion", "expected (S, 4, 4) with S >= 2");
      cam.motion = motion_steps(steps, 1, 0);
    }
  }

  void read_textures(const py::dict &texs) {
    for (auto item : texs) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("textures", name);
      textures[name] = int32_t(scene.textures.size());
      scene.textures.push_back(read_texture(item.second.cast<py::dict>(), p));
    }
  }

  // Stores an image as Cycles does: bytes stay bytes (sRGB decoded after interpolation),
  // 3-channel images get an opaque alpha, colour is associated with alpha unless the image is
  // data (Non-Color), channel-packed or has its alpha ignored.
  TextureData read_texture(const py::dict &t, const std::string &p) {
    py::array pixels = py::array::ensure(get(t, "pixels", p));
    if (!pixels || pixels.ndim() != 3) fail(p + ".pixels", "expected an (H, W, C) array");
    int h = int(pixels.shape(0)), w = int(pixels.shape(1)), ch = int(pixels.shape(2));
    if (h <= 0 || w <= 0 || (ch != 1 && ch != 3 && ch != 4)) fail(p + ".pixels", "expected (H, W, 1|3|4)");
    std::string colorspace = get_str(t, "colorspace", p), alpha_mode = get_str(t, "alpha_mode", p);
    bool data = colorspace == "non_color";
    bool associate = ch == 4 && !data && alpha_mode != "CHANNEL_PACKED" && alpha_mode != "NONE";
    TextureData td;
    td.width = w;
    td.height = h;
    td.channels = ch == 1 ? 1 : 4;
    td.srgb = colorspace == "srgb";
    td.unassociate = associate;
    size_t n = size_t(w) * h;
    bool bytes = pixels.dtype().is(py::dtype::of<uint8_t>());
    if (bytes) {
      ByteArray by = ByteArray::ensure(pixels);
      const uint8_t *src = by.data();
      td.bytes.resize(n * td.channels);
      for (size_t i = 0; i < n; ++i) {
        uint8_t *o = &td.bytes[i * td.channels];
        if (ch == 1) { o[0] = src[i]; continue; }
        for (int k = 0; k < 3; ++k) o[k] = src[i * ch + k];
        o[3] = ch == 4 && alpha_mode != "NONE" ? src[i * ch + 3] : 255;
        if (associate && alpha_mode == "STRAIGHT")  // Blender's byte premultiplication, truncating
          for (int k = 0; k < 3; ++k) o[k] = uint8_t((int(o[k]) * int(o[3])) / 255);
      }
    } else {
      FloatArray fl = FloatArray::ensure(pixels);
      const float *src = fl.data();
      td.floats.resize(n * td.channels);
      for (size_t i = 0; i < n; ++i) {
        float *o = &td.floats[i * td.channels];
        if (ch == 1) { o[0] = std::isfinite(src[i]) ? src[i] : 0.0f; continue; }
        for (int k = 0; k < 3; ++k) o[k] = src[i * ch + k];
        o[3] = ch == 4 && alpha_mode != "NONE" ? src[i * ch + 3] : 1.0f;
        if (!(std::isfinite(o[0]) && std::isfinite(o[1]) && std::isfinite(o[2]) && std::isfinite(o[3])))
          o[0] = o[1] = o[2] = o[3] = 0.0f;
        if (associate && alpha_mode == "STRAIGHT")
          for (int k = 0; k < 3; ++k) o[k] *= o[3];
      }
    }
    return td;
  }

  // One compiled program: arrays, texture names resolved to scene textures, attribute
  // requests made scene-wide, then verified.
  ShaderProgram read_program(const py::dict &d, const std::string &p) {
    ShaderProgram prog;
    IntArray code = get_ints(d, "code", p);
    FloatArray constants = FloatArray::ensure(get(d, "constants", p));
    if (!constants) fail(p + ".constants", "expected a float array");
    prog.code.assign(code.data(), code.data() + code.size());
    prog.constants.assign(constants.data(), constants.data() + constants.size());
    for (py::handle name : get(d, "textures", p)) {
      if (name.is_none()) { prog.textures.push_back(-1); continue; }
      auto it = textures.find(name.cast<std::string>());
      if (it == textures.end()) fail(p + ".textures", "no texture named '" + name.cast<std::string>() + "'");
      prog.textures.push_back(it->second);
    }
    static const char *kinds[] = {"uv", "color", "attribute", "tangent"};
    for (py::handle request : get(d, "attributes", p)) {
      py::sequence r = py::reinterpret_borrow<py::sequence>(request);
      if (r.size() != 2) fail(p + ".attributes", "expected [kind, name] pairs");
      std::string kind = r[0].cast<std::string>();
      int k = 0;
      while (k < 4 && kind != kinds[k]) ++k;
      if (k == 4) fail(p + ".attributes", "unknown attribute kind '" + kind + "'");
      prog.attributes.push_back(attribute_request(AttributeRequest{k, r[1].cast<std::string>()}));
    }
    prog.flags = get_int(d, "flags", p);
    prog.emission_estimate = get_float3(d, "emission_estimate", p);
    prog.pass_index = get_float(d, "pass_index", p);
    std::string error = verify_program(prog.code.data(), prog.code.size(), prog.constants.size(),
                                       prog.textures.size(), prog.attributes.size());
    if (!error.empty()) fail(p, "invalid shader program: " + error);
    return prog;
  }

  int32_t attribute_request(const AttributeRequest &r) {
    auto it = requests.find(r);
    if (it != requests.end()) return it->second;
    int32_t index = int32_t(scene.attribute_requests.size());
    scene.attribute_requests.push_back(r);
    requests[r] = index;
    return index;
  }

  void read_programs(const py::dict &programs, const py::dict &mats) {
    scene.materials.push_back(read_program(get_dict(programs, "default", "programs"), "programs['default']"));
    py::dict compiled = get_dict(programs, "materials", "programs");
    for (auto item : mats) {
      std::string name = item.first.cast<std::string>();
      if (!compiled.contains(name)) fail(quoted("materials", name), "no compiled program");
      materials[name] = int32_t(scene.materials.size());
      scene.materials.push_back(read_program(compiled[name.c_str()].cast<py::dict>(), quoted("programs", name)));
    }
    py::dict world = get_dict(programs, "world", "programs");
    scene.world = read_program(world, "programs['world']");
    scene.world_is_constant = has(world, "constant_emission");
    if (scene.world_is_constant) scene.world_color = get_float3(world, "constant_emission", "programs['world']");
    if (has(world, "sun_guide")) {
      py::object o = world["sun_guide"];
      if (!py::isinstance<py::sequence>(o) || py::len(o) != 4) fail("programs['world'].sun_guide", "expected 4 numbers");
      py::sequence seq = o.cast<py::sequence>();
      float g[4];
      for (int i = 0; i < 4; ++i) {
        py::object item = seq[i];
        if (!py::isinstance<py::float_>(item) && !py::isinstance<py::int_>(item))
          fail("programs['world'].sun_guide", "expected 4 numbers");
        g[i] = item.cast<float>();
      }
      float3 d = make3(g[0], g[1], g[2]);
      float len = length(d);
      if (!(len > 0.0f) || !(g[3] > 0.0f && g[3] < 1.5f)) fail("programs['world'].sun_guide", "a bad direction or angle");
      scene.world_sun_dir = d / len;
      scene.world_sun_half_angle = g[3];
    }
  }

  void read_meshes(const py::dict &meshes) {
    for (auto item : meshes) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("meshes", name);
      py::dict m = item.second.cast<py::dict>();
      std::vector<int32_t> slots = slot_list(get(m, "materials", p), p + ".materials");
      std::string key = "meshes/" + name;
      // Velocities become positions at shutter open and close: the shutter is part of the geometry.
      if (scene.motion.enabled && has(m, "motion") && has(m["motion"].cast<py::dict>(), "velocities"))
        key += "@" + std::to_string(scene.motion.open) + "+" + std::to_string(scene.motion.length);
      add_geometry(name, key, geometry_identity(m), std::move(slots), [&] { return read_mesh(m, p); });
    }
  }

  GeometryData read_mesh(const py::dict &m, const std::string &p) {
    GeometryData g;
    g.type = kGeomMesh;
    FloatArray verts = get_floats(m, "vertices", p, 3);
    index_copies.clear();
    g.vertices = borrow_rows<float3>(verts);
    g.tri_idx = own_indices(m, "triangles", p);  // validate_scene gives per-vertex data these very indices
    if (g.tri_idx.size() % 3) fail(p + ".triangles", "expected shape (T, 3)");
    size_t nv = g.vertices.size(), nt = g.tri_idx.size() / 3;
    if (!indices_below(g.tri_idx.data(), g.tri_idx.size(), nv)) fail(p + ".triangles", "index out of range");
    if (scene.motion.enabled && has(m, "motion")) read_deformation(g, m["motion"].cast<py::dict>(), p + ".motion");
    if (has(m, "normals")) {
      g.normals = unit_normals(get_floats(m, "normals", p, 3));
      if (has(m, "normal_indices")) g.normal_idx = own_indices(m, "normal_indices", p);
      check_indices(g.normal_idx.empty() ? g.tri_idx : g.normal_idx, g.tri_idx.size(), g.normals.size(),
                    p + ".normal_indices");
    }
    if (has(m, "uvs")) {
      g.default_uv = add_corner_attribute(g, m, "uvs", "uv_indices", 2, p);
      if (has(m, "active_uv_map")) g.active_uv_map = get_str(m, "active_uv_map", p);
    }
    if (has(m, "material_ids")) {
      g.material_ids = copy_ints(get_ints(m, "material_ids", p));
      if (g.material_ids.size() != nt) fail(p + ".material_ids", "expected one per triangle");
    }
    for (auto item : get_dict(m, "uv_maps", p)) {
      std::string uv_name = item.first.cast<std::string>();
      g.uv_maps[uv_name] = add_corner_attribute(g, item.second.cast<py::dict>(), "uvs", "uv_indices", 2,
                                                p + ".uv_maps['" + uv_name + "']");
    }
    for (auto item : get_dict(m, "tangents", p)) {
      std::string uv_name = item.first.cast<std::string>();
      g.tangents[uv_name] = add_corner_attribute(g, item.second.cast<py::dict>(), "data", "indices", 4,
                                                 p + ".tangents['" + uv_name + "']");
    }
    for (auto item : get_dict(m, "attributes", p)) {
      std::string attr_name = item.first.cast<std::string>();
      g.named[attr_name] = add_named_attribute(g, item.second.cast<py::dict>(), nv, nt,
                                               p + ".attributes['" + attr_name + "']");
    }
    if (has(m, "active_color_attribute")) g.active_color = get_str(m, "active_color_attribute", p);
    if (has(m, "texspace")) {
      FloatArray ts = FloatArray::ensure(m["texspace"]);
      if (!ts || ts.size() != 6) fail(p + ".texspace", "expected 6 floats");
      g.texspace_loc = make3(ts.data()[0], ts.data()[1], ts.data()[2]);
      g.texspace_size = make3(ts.data()[3], ts.data()[4], ts.data()[5]);
    } else {
      auto_texspace(g.vertices, g.vertices, g.texspace_loc, g.texspace_size);
    }
    return g;
  }

  // Deformation blur: S steps of the vertices, or velocities (units per frame) turned into the
  // two steps at shutter open and close (p + t · v is linear in t, so that is exact).
  void read_deformation(GeometryData &g, const py::dict &d, const std::string &p) {
    size_t nv = g.vertices.size();
    if (has(d, "vertices")) {
      FloatArray steps = FloatArray::ensure(d["vertices"]);
      if (!steps || steps.ndim() != 3 || steps.shape(0) < 2 || size_t(steps.shape(1)) != nv || steps.shape(2) != 3)
        fail(p + ".vertices", "expected (S, V, 3) with S >= 2 and V the mesh's vertex count");
      g.deform_steps = int32_t(steps.shape(0));
      g.step_vertices = borrow_rows<float3>(steps);
    } else if (has(d, "velocities")) {
      FloatArray vel = get_floats(d, "velocities", p, 3);
      if (size_t(vel.shape(0)) != nv) fail(p + ".velocities", "expected one velocity per vertex");
      std::vector<float3> steps(2 * nv);
      float t0 = scene.motion.open, t1 = scene.motion.open + scene.motion.length;
      for (size_t i = 0; i < nv; ++i) {
        float3 vi = make3(vel.data()[3 * i], vel.data()[3 * i + 1], vel.data()[3 * i + 2]);
        steps[i] = g.vertices[i] + vi * t0;
        steps[nv + i] = g.vertices[i] + vi * t1;
      }
      g.deform_steps = 2;
      g.step_vertices = std::move(steps);
    }
  }

  // Per-corner data: rows of `columns` floats and (T, 3) indices (the triangles when absent).
  int32_t add_corner_attribute(GeometryData &g, const py::dict &d, const char *values, const char *indices,
                                      size_t columns, const std::string &p) {
    AttributeData a;
    a.domain = kDomainCorner;
    a.channels = int32_t(columns);
    FloatArray data = get_floats(d, values, p, columns);
    a.data = borrow_rows<float>(data);
    a.indices = has(d, indices) ? own_indices(d, indices, p) : g.tri_idx;
    check_indices(a.indices, g.tri_idx.size(), a.data.size() / columns, p + "." + indices);
    g.attributes.push_back(std::move(a));
    return int32_t(g.attributes.size() - 1);
  }

  int32_t add_named_attribute(GeometryData &g, const py::dict &d, size_t nv, size_t nt, const std::string &p) {
    AttributeData a;
    std::string domain = get_str(d, "domain", p);
    a.domain = domain == "corner" ? kDomainCorner : domain == "face" ? kDomainFace : kDomainPoint;
    FloatArray data = FloatArray::ensure(get(d, "data", p));
    if (!data || data.ndim() != 2 || data.shape(1) < 1 || data.shape(1) > 4)
      fail(p + ".data", "expected an (N, C) float array, C in 1..4");
    a.channels = int32_t(data.shape(1));
    a.data = borrow_rows<float>(data);
    size_t rows = size_t(data.shape(0));
    if (a.domain == kDomainCorner) {
      a.indices = own_indices(d, "indices", p);
      check_indices(a.indices, g.tri_idx.size(), rows, p + ".indices");
    } else if (rows != (a.domain == kDomainFace ? nt : nv)) {
      fail(p + ".data", "wrong number of rows for its domain");
    }
    g.attributes.push_back(std::move(a));
    return int32_t(g.attributes.size() - 1);
  }

  // The core's copy of index array d[key]; one copy per array object of the mesh being read
  // (the exporter hands one corner-index array to the normals, every UV map and attribute).
  HostArray<int32_t> own_indices(const py::dict &d, const char *key, const std::string &p) {
    py::object o = get(d, key, p);
    auto it = index_copies.find(o.ptr());
    if (it != index_copies.end()) return it->second;
    HostArray<int32_t> copy = copy_ints(get_ints(d, key, p));
    index_copies.emplace(o.ptr(), copy);
    return copy;
  }

  static void check_indices(const HostArray<int32_t> &idx, size_t expected, size_t limit, const std::string &p) {
    if (idx.size() != expected) fail(p, "expected shape (T, 3)");
    if (!indices_below(idx.data(), idx.size(), limit)) fail(p, "index out of range");
  }

  void read_spheres(const py::dict &sets) {
    for (auto item : sets) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("spheres", name);
      py::dict s = item.second.cast<py::dict>();
      if (geometries.count(name)) fail(p, "a mesh has the same name");
      std::vector<int32_t> slots{material_index(get(s, "material", p), p + ".material")};
      add_geometry(name, "spheres/" + name, geometry_identity(s), std::move(slots),
                   [&] { return read_sphere_set(s, p); });
    }
  }

  GeometryData read_sphere_set(const py::dict &s, const std::string &p) {
    GeometryData g;
    g.type = kGeomSpheres;
    std::vector<float3> centers = copy_rows<float3>(get_floats(s, "centers", p, 3));
    FloatArray radii = FloatArray::ensure(get(s, "radii", p));
    if (!radii || size_t(radii.size()) != centers.size()) fail(p + ".radii", "expected one radius per sphere");
    g.spheres.resize(centers.size());
    std::vector<float3> lo(centers.size()), hi(centers.size());
    for (size_t i = 0; i < centers.size(); ++i) {
      float r = radii.data()[i];
      if (!(r > 0)) fail(p + ".radii", "radii must be > 0");
      g.spheres[i] = SphereAccel{centers[i], r};
      lo[i] = centers[i] - make3(r);
      hi[i] = centers[i] + make3(r);
    }
    auto_texspace(lo, hi, g.texspace_loc, g.texspace_size);
    if (has(s, "colors")) {
      AttributeData a;
      a.domain = kDomainPoint;
      a.channels = 3;
      FloatArray colors = get_floats(s, "colors", p, 3);
      if (size_t(colors.shape(0)) != centers.size()) fail(p + ".colors", "expected one colour per sphere");
      a.data = borrow_rows<float>(colors);
      g.attributes.push_back(std::move(a));
      g.sphere_colors = int32_t(g.attributes.size() - 1);
    }
    return g;
  }

  void read_curves(const py::dict &sets) {
    for (auto item : sets) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("curves", name);
      py::dict c = item.second.cast<py::dict>();
      if (geometries.count(name)) fail(p, "a mesh or sphere set has the same name");
      std::vector<int32_t> slots = slot_list(get(c, "materials", p), p + ".materials");
      std::string key = "curves/" + name;
      // Velocities become positions at shutter open and close: the shutter is part of the geometry.
      if (scene.motion.enabled && has(c, "motion") && has(c["motion"].cast<py::dict>(), "velocities"))
        key += "@" + std::to_string(scene.motion.open) + "+" + std::to_string(scene.motion.length);
      add_geometry(name, key, geometry_identity(c), std::move(slots), [&] { return read_curve_set(c, p); });
    }
  }

  // A curve set (docs/scene-dict.md, `curves`): one segment per pair of neighbouring points of
  // a curve, its outer control points clamped to the curve's ends; with motion blur on, its
  // `motion` points (or velocities, as two steps) move the points over the shutter.
  GeometryData read_curve_set(const py::dict &c, const std::string &p) {
    GeometryData g;
    g.type = kGeomCurves;
    FloatArray points = get_floats(c, "points", p, 3);
    const size_t np = size_t(points.shape(0));
    FloatArray radii = FloatArray::ensure(get(c, "radii", p));
    if (!radii || radii.ndim() != 1 || size_t(radii.size()) != np) fail(p + ".radii", "expected one radius per point");
    std::vector<int32_t> offsets = copy_ints(get_ints(c, "offsets", p));
    if (offsets.empty() || offsets.front() != 0 || size_t(offsets.back()) != np)
      fail(p + ".offsets", "expected 0 first and the number of points last");
    const size_t nc = offsets.size() - 1;
    std::string shape = has(c, "shape") ? get_str(c, "shape", p) : "round";
    if (shape == "round") g.curve_shape = kCurveRound;
    else if (shape == "ribbon") g.curve_shape = kCurveRibbon;
    else fail(p + ".shape", "unknown curve shape '" + shape + "'");
    std::string basis = has(c, "segments") ? get_str(c, "segments", p) : "catmull_rom";
    if (basis == "catmull_rom") g.curve_basis = kBasisCatmullRom;
    else if (basis == "b_spline") g.curve_basis = kBasisBSpline;
    else if (basis == "linear") g.curve_basis = kBasisLinear;
    else fail(p + ".segments", "unknown curve segments '" + basis + "'");
    g.curve_keys.resize(np);
    const float *pt = points.data(), *rd = radii.data();
    std::vector<float3> lo(np), hi(np);
    for (size_t i = 0; i < np; ++i) {
      float r = rd[i];
      if (!(r >= 0.0f) || !std::isfinite(r)) fail(p + ".radii", "expected finite radii >= 0");
      g.curve_keys[i] = CurveKey{make3(pt[3 * i], pt[3 * i + 1], pt[3 * i + 2]), r};
      lo[i] = g.curve_keys[i].p - make3(r);
      hi[i] = g.curve_keys[i].p + make3(r);
    }
    auto_texspace(lo, hi, g.texspace_loc, g.texspace_size);
    size_t segments = 0;
    for (size_t k = 0; k < nc; ++k) {
      if (offsets[k + 1] <= offsets[k]) fail(p + ".offsets", "expected strictly increasing offsets");
      segments += size_t(offsets[k + 1] - offsets[k] - 1);
    }
    g.curve_segments.reserve(segments);
    for (size_t k = 0; k < nc; ++k) {
      const int32_t first = offsets[k], last = offsets[k + 1] - 1;
      for (int32_t i = first; i < last; ++i) {
        CurveSegment s;
        s.k[0] = std::max(i - 1, first);
        s.k[1] = i;
        s.k[2] = i + 1;
        s.k[3] = std::min(i + 2, last);
        s.curve = uint32_t(k);
        s.reach = 0.0f;  // set with the BVH
        g.curve_segments.push_back(s);
      }
    }
    auto per = [&](const char *key, size_t rows) {
      FloatArray a = FloatArray::ensure(get(c, key, p));
      if (!a || a.ndim() != 1 || size_t(a.size()) != rows) fail(p + "." + key, "expected one value per row");
      return std::vector<float>(a.data(), a.data() + a.size());
    };
    g.curve_intercept = per("intercept", np);
    g.curve_length = per("length", nc);
    g.curve_random = per("random", nc);
    if (has(c, "material_ids")) {
      g.material_ids = copy_ints(get_ints(c, "material_ids", p));
      if (g.material_ids.size() != nc) fail(p + ".material_ids", "expected one per curve");
    }
    if (scene.motion.enabled && has(c, "motion")) {
      py::dict m = c["motion"].cast<py::dict>();
      if (has(m, "points")) {
        FloatArray steps = FloatArray::ensure(m["points"]);
        if (!steps || steps.ndim() != 3 || steps.shape(0) < 2 || size_t(steps.shape(1)) != np || steps.shape(2) != 3)
          fail(p + ".motion.points", "expected (S, P, 3) with S >= 2 and P the set's point count");
        g.curve_steps = int32_t(steps.shape(0));
        g.curve_step_points = borrow_rows<float3>(steps);
      } else if (has(m, "velocities")) {
        FloatArray vel = get_floats(m, "velocities", p + ".motion", 3);
        if (size_t(vel.shape(0)) != np) fail(p + ".motion.velocities", "expected one velocity per point");
        std::vector<float3> steps(2 * np);
        const float t0 = scene.motion.open, t1 = scene.motion.open + scene.motion.length;
        for (size_t i = 0; i < np; ++i) {
          float3 vi = make3(vel.data()[3 * i], vel.data()[3 * i + 1], vel.data()[3 * i + 2]);
          steps[i] = g.curve_keys[i].p + vi * t0;
          steps[np + i] = g.curve_keys[i].p + vi * t1;
        }
        g.curve_steps = 2;
        g.curve_step_points = std::move(steps);
      }
    }
    return g;
  }

  void read_instances(const py::list &groups) {
    int32_t running_id = 0;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      std::string p = "instances[" + std::to_string(gi) + "]";
      py::dict grp = groups[gi].cast<py::dict>();
      std::string geom = get_str(grp, "geometry", p);
      auto it = geometries.find(geom);
      if (it == geometries.end()) fail(p + ".geometry", "no mesh, sphere set or curve set named '" + geom + "'");
      FloatArray xf = FloatArray::ensure(get(grp, "transforms", p));
      if (!xf || xf.ndim() != 3 || xf.shape(1) != 4 || xf.shape(2) != 4) fail(p + ".transforms", "expected (N, 4, 4)");
      size_t n = size_t(xf.shape(0));
      std::vector<int32_t> ids;
      if (has(grp, "object_ids")) {
        ids = copy_ints(get_ints(grp, "object_ids", p));
        if (ids.size() != n) fail(p + ".object_ids", "expected one id per transform");
      }
      int32_t slot_list = -1;
      if (has(grp, "materials")) {
        slot_list = int32_t(scene.instance_slots.size());
        scene.instance_slots.push_back(this->slot_list(grp["materials"], p + ".materials"));
      }
      // A default-constructed pybind11 array is a real (empty) numpy array, so it tests true:
      // whether a section was given is kept in its own flag, never read from the array handle
      // (reading an empty array's data() here once gave each process its own heap garbage as
      // object colours and Shadow Terminator offsets).
      FloatArray colors, randoms;
      IntArray pass_indices;
      const bool has_info = has(grp, "object_info");
      if (has_info) {
        py::dict info = get_dict(grp, "object_info", p);
        colors = get_floats(info, "color", p + ".object_info", 4);
        pass_indices = get_ints(info, "pass_index", p + ".object_info");
        randoms = FloatArray::ensure(get(info, "random", p + ".object_info"));
        if (size_t(colors.shape(0)) != n || size_t(pass_indices.size()) != n || !randoms ||
            size_t(randoms.size()) != n)
          fail(p + ".object_info", "expected one value per transform");
      }
      FloatArray motion;
      const bool has_motion = scene.motion.enabled && has(grp, "motion");
      if (has_motion) {
        motion = FloatArray::ensure(grp["motion"]);
        if (!motion || motion.ndim() != 4 || motion.shape(0) < 2 || size_t(motion.shape(1)) != n ||
            motion.shape(2) != 4 || motion.shape(3) != 4)
          fail(p + ".motion", "expected (S, N, 4, 4) with S >= 2 and N the number of transforms");
      }
      FloatArray geometry_offsets, shading_offsets;
      const bool has_terminator = has(grp, "shadow_terminator");
      if (has_terminator) {
        const std::string q = p + ".shadow_terminator";
        py::dict t = get_dict(grp, "shadow_terminator", p);
        geometry_offsets = FloatArray::ensure(get(t, "geometry_offset", q));
        shading_offsets = FloatArray::ensure(get(t, "shading_offset", q));
        if (!geometry_offsets || size_t(geometry_offsets.size()) != n || !shading_offsets ||
            size_t(shading_offsets.size()) != n)
          fail(q, "expected one value per transform");
      }
      for (size_t i = 0; i < n; ++i) {
        InstanceData inst;
        std::memcpy(inst.xfm.m, xf.data() + 16 * i, 12 * sizeof(float));
        inst.geometry = uint32_t(it->second);
        inst.object_id = ids.empty() ? running_id : ids[i];
        inst.slot_list = slot_list;
        if (has_info) {
          for (int c = 0; c < 4; ++c) inst.color[c] = colors.data()[4 * i + c];
          inst.pass_index = float(pass_indices.data()[i]);
          inst.random = randoms.data()[i];
        } else {
          // Without object info: Blender's defaults, and a random number from the object id.
          inst.random = float(hash_u32(uint32_t(inst.object_id) ^ 0x9e3779b9u) >> 8) * (1.0f / 16777216.0f);
        }
        if (has_motion) inst.motion = motion_steps(motion, n, i);
        if (has_terminator) {
          inst.terminator_geometry_offset = geometry_offsets.data()[i];
          inst.terminator_shading_offset = shading_offsets.data()[i];
        }
        scene.instances.push_back(std::move(inst));
        ++running_id;
      }
    }
  }

  void read_lights(const py::dict &lights) {
    for (auto item : lights) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("lights", name);
      py::dict l = item.second.cast<py::dict>();
      std::string type = get_str(l, "type", p);
      FloatArray mat = get_floats(l, "matrix", p, 4);
      Affine m = affine_from(mat, p + ".matrix");
      float3 color = get_float3(l, "color", p);
      LightView v{};
      v.pos = make3(m.m[3], m.m[7], m.m[11]);
      v.dir = normalize(make3(-m.m[2], -m.m[6], -m.m[10]));
      if (type == "point" || type == "spot") {
        v.type = type == "point" ? kLightPoint : kLightSpot;
        float power = get_float(l, "power", p);
        v.radius = get_float(l, "radius", p);
        v.radiance = v.radius > 0 ? color * (power / (4.0f * kPi * kPi * v.radius * v.radius))
                                  : color * (power / (4.0f * kPi));
        if (v.type == kLightSpot) {
          float size = get_float(l, "spot_size", p), blend = get_float(l, "spot_blend", p);
          v.cos_half_spot = std::cos(0.5f * size);
          v.spot_smooth = blend > 0 ? 1.0f / ((1.0f - v.cos_half_spot) * blend) : 1e30f;
        }
      } else if (type == "sun") {
        v.type = kLightSun;
        float strength = get_float(l, "strength", p), angle = get_float(l, "angle", p);
        float half = 0.5f * angle;
        v.cos_half_angle = half > 0 ? std::cos(half) : 1.0f;
        float sin2 = std::sin(half) * std::sin(half);
        v.radiance = half > 0 ? color * (strength / (kPi * sin2)) : color * strength;
      } else if (type == "area") {
        v.type = kLightArea;
        std::string shape = get_str(l, "shape", p);
        float sx = get_float(l, "size_x", p);
        float sy = (shape == "rectangle" || shape == "ellipse") ? get_float(l, "size_y", p) : sx;
        v.ellipse = (shape == "disk" || shape == "ellipse") ? 1 : 0;
        // Object scale stretches the light, as in Cycles.
        v.axis_u = make3(m.m[0], m.m[4], m.m[8]) * (0.5f * sx);
        v.axis_v = make3(m.m[1], m.m[5], m.m[9]) * (0.5f * sy);
        v.dir = normalize(cross(v.axis_u, v.axis_v)) * -1.0f;
        float lu = length(v.axis_u), lv = length(v.axis_v);
        v.area = v.ellipse ? kPi * lu * lv : 4.0f * lu * lv;
        if (!(v.area > 0)) fail(p, "area light of zero size");
        v.radiance = color * (get_float(l, "power", p) / (kPi * v.area));
      } else {
        fail(p + ".type", "unknown light type '" + type + "'");
      }
      if (!is_black(v.radiance)) scene.lights.push_back(v);
    }
  }
};

}  // namespace

std::unique_ptr<Scene> scene_from_dict(const py::dict &d, const py::dict &programs, const GeometryCache &previous,
                                       GeometryCache &next) {
  auto scene = std::make_unique<Scene>();
  next.entries.clear();
  next.reused = 0;
  Reader r{*scene, previous, next, {}, {}, {}, {}, {}};
  if (get_int(d, "version", "scene") != 2) fail("version", "unsupported scene version (validate_scene upgrades it)");
  r.read_render(get_dict(d, "render", "scene"));
  if (d.contains("motion")) r.read_motion(d["motion"]);
  r.read_camera(get_dict(d, "camera", "scene"));
  r.read_textures(get_dict(d, "textures", "scene"));
  r.read_programs(programs, get_dict(d, "materials", "scene"));
  r.read_meshes(get_dict(d, "meshes", "scene"));
  r.read_spheres(get_dict(d, "spheres", "scene"));
  if (d.contains("curves")) r.read_curves(get_dict(d, "curves", "scene"));
  py::object inst = get(d, "instances", "scene");
  r.read_instances(inst.cast<py::list>());
  r.read_lights(get_dict(d, "lights", "scene"));
  return scene;
}

}  // namespace optica
