// Reads a validated scene dictionary (docs/scene-dict.md) into a Scene. Validation has
// already happened in Python (optica_core.scene); anything still wrong here is reported as
// a ValueError naming the key, never a crash.
#include "scene_reader.h"

#include <cmath>
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

Affine affine_from(const FloatArray &m, const std::string &path) {
  if (m.size() != 16) fail(path, "expected a 4x4 matrix");
  Affine a;
  std::memcpy(a.m, m.data(), 12 * sizeof(float));
  return a;
}

std::string quoted(const std::string &kind, const std::string &name) { return kind + "['" + name + "']"; }

bool same_objects(const py::tuple &a, const py::tuple &b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].ptr() != b[i].ptr()) return false;
  return true;
}

py::tuple array_identity(const py::dict &d, std::initializer_list<const char *> keys) {
  py::tuple t(keys.size());
  size_t i = 0;
  for (const char *k : keys) t[i++] = d.contains(k) ? py::object(d[k]) : py::none();
  return t;
}

struct Reader {
  Scene &scene;
  const GeometryCache &previous;
  GeometryCache &next;
  std::map<std::string, int32_t> materials, textures, geometries;

  // Registers geometry under `key`, reusing the previous scene's if its arrays are the same.
  template <class ReadFn>
  void add_geometry(const std::string &name, const std::string &key, py::tuple arrays, std::vector<int32_t> slots,
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
    s.seed = uint32_t(get(r, "seed", p).cast<int64_t>());
    std::string f = get_str(r, "filter", p);
    s.filter = f == "box" ? kFilterBox : f == "gaussian" ? kFilterGaussian : kFilterBlackmanHarris;
    s.filter_width = get_float(r, "filter_width", p);
    if (!(s.filter_width > 0)) fail(p + ".filter_width", "must be > 0");
    s.clamp_direct = get_float(r, "clamp_direct", p);
    s.clamp_indirect = get_float(r, "clamp_indirect", p);
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
  }

  void read_textures(const py::dict &texs) {
    for (auto item : texs) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("textures", name);
      py::dict t = item.second.cast<py::dict>();
      py::array pixels = py::array::ensure(get(t, "pixels", p));
      if (!pixels || pixels.ndim() != 3) fail(p + ".pixels", "expected an (H, W, C) array");
      int h = int(pixels.shape(0)), w = int(pixels.shape(1)), ch = int(pixels.shape(2));
      if (h <= 0 || w <= 0 || (ch != 1 && ch != 3 && ch != 4)) fail(p + ".pixels", "expected (H, W, 1|3|4)");
      bool srgb = get_str(t, "colorspace", p) == "srgb";
      TextureData td;
      td.width = w;
      td.height = h;
      std::string interp = get_str(t, "interpolation", p), ext = get_str(t, "extension", p);
      td.interpolation = interp == "closest" ? kInterpClosest : kInterpLinear;
      td.extension = ext == "extend" ? kExtExtend : ext == "clip" ? kExtClip : kExtRepeat;
      td.rgba.resize(size_t(w) * h * 4);
      bool bytes = pixels.dtype().is(py::dtype::of<uint8_t>());
      FloatArray fl;
      ByteArray by;
      if (bytes) by = ByteArray::ensure(pixels); else fl = FloatArray::ensure(pixels);
      // sRGB decoding through a 256-entry table for bytes, the exact curve for floats.
      float lut[256];
      for (int i = 0; i < 256; ++i) {
        float v = i / 255.0f;
        lut[i] = srgb ? (v <= 0.04045f ? v / 12.92f : std::pow((v + 0.055f) / 1.055f, 2.4f)) : v;
      }
      auto decode = [&](size_t idx) -> float {
        if (bytes) return lut[by.data()[idx]];
        float v = fl.data()[idx];
        return srgb ? (v <= 0.04045f ? v / 12.92f : std::pow((v + 0.055f) / 1.055f, 2.4f)) : v;
      };
      size_t n = size_t(w) * h;
      for (size_t i = 0; i < n; ++i) {
        float *o = &td.rgba[4 * i];
        if (ch == 1) { o[0] = o[1] = o[2] = decode(i); o[3] = 1.0f; continue; }
        for (int k = 0; k < 3; ++k) o[k] = decode(i * ch + k);
        // Alpha is never colour-managed.
        o[3] = ch == 4 ? (bytes ? by.data()[i * ch + 3] / 255.0f : fl.data()[i * ch + 3]) : 1.0f;
      }
      textures[name] = int32_t(scene.textures.size());
      scene.textures.push_back(std::move(td));
    }
  }

  void read_materials(const py::dict &mats) {
    MaterialView def{};
    def.base_color = make3(0.8f);
    def.base_color_texture = -1;
    def.roughness = 0.5f;
    def.ior = 1.5f;
    def.specular = 0.0f;  // Cycles' default surface is a plain 0.8 diffuse
    def.alpha = 1.0f;
    def.emission = make3(0.0f);
    scene.materials.push_back(def);
    for (auto item : mats) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("materials", name);
      py::dict m = item.second.cast<py::dict>();
      MaterialView v{};
      v.base_color = get_float3(m, "base_color", p);
      v.base_color_texture = -1;
      if (has(m, "base_color_texture")) {
        auto it = textures.find(m["base_color_texture"].cast<std::string>());
        if (it == textures.end()) fail(p + ".base_color_texture", "no such texture");
        v.base_color_texture = it->second;
      }
      v.metallic = get_float(m, "metallic", p);
      v.roughness = get_float(m, "roughness", p);
      v.ior = get_float(m, "ior", p);
      v.specular = get_float(m, "specular", p);
      v.transmission = get_float(m, "transmission", p);
      v.alpha = get_float(m, "alpha", p);
      v.emission = get_float3(m, "emission_color", p) * get_float(m, "emission_strength", p);
      materials[name] = int32_t(scene.materials.size());
      scene.materials.push_back(v);
    }
  }

  void read_meshes(const py::dict &meshes) {
    for (auto item : meshes) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("meshes", name);
      py::dict m = item.second.cast<py::dict>();
      std::vector<int32_t> slots = slot_list(get(m, "materials", p), p + ".materials");
      py::tuple arrays =
          array_identity(m, {"vertices", "triangles", "normals", "normal_indices", "uvs", "uv_indices", "material_ids"});
      add_geometry(name, "meshes/" + name, arrays, std::move(slots), [&] { return read_mesh(m, p); });
    }
  }

  GeometryData read_mesh(const py::dict &m, const std::string &p) {
    {
      GeometryData g;
      g.type = kGeomMesh;
      FloatArray verts = get_floats(m, "vertices", p, 3);
      IntArray tris = get_ints(m, "triangles", p);
      g.vertices = copy_rows<float3>(verts);
      g.tri_idx = copy_ints(tris);
      if (g.tri_idx.size() % 3) fail(p + ".triangles", "expected shape (T, 3)");
      size_t nv = g.vertices.size();
      for (int32_t i : g.tri_idx)
        if (i < 0 || size_t(i) >= nv) fail(p + ".triangles", "index out of range");
      if (has(m, "normals")) {
        g.normals = copy_rows<float3>(get_floats(m, "normals", p, 3));
        for (auto &n : g.normals) n = normalize(n);
        if (has(m, "normal_indices")) g.normal_idx = copy_ints(get_ints(m, "normal_indices", p));
        check_indices(g.normal_idx.empty() ? g.tri_idx : g.normal_idx, g.tri_idx.size(), g.normals.size(),
                      p + ".normal_indices");
      }
      if (has(m, "uvs")) {
        g.uvs = copy_rows<float2>(get_floats(m, "uvs", p, 2));
        if (has(m, "uv_indices")) g.uv_idx = copy_ints(get_ints(m, "uv_indices", p));
        check_indices(g.uv_idx.empty() ? g.tri_idx : g.uv_idx, g.tri_idx.size(), g.uvs.size(), p + ".uv_indices");
      }
      if (has(m, "material_ids")) {
        g.material_ids = copy_ints(get_ints(m, "material_ids", p));
        if (g.material_ids.size() != g.tri_idx.size() / 3) fail(p + ".material_ids", "expected one per triangle");
      }
      return g;
    }
  }

  static void check_indices(const std::vector<int32_t> &idx, size_t expected, size_t limit, const std::string &p) {
    if (idx.size() != expected) fail(p, "expected shape (T, 3)");
    for (int32_t i : idx)
      if (i < 0 || size_t(i) >= limit) fail(p, "index out of range");
  }

  void read_spheres(const py::dict &sets) {
    for (auto item : sets) {
      std::string name = item.first.cast<std::string>();
      std::string p = quoted("spheres", name);
      py::dict s = item.second.cast<py::dict>();
      if (geometries.count(name)) fail(p, "a mesh has the same name");
      std::vector<int32_t> slots{material_index(get(s, "material", p), p + ".material")};
      py::tuple arrays = array_identity(s, {"centers", "radii", "colors"});
      add_geometry(name, "spheres/" + name, arrays, std::move(slots), [&] { return read_sphere_set(s, p); });
    }
  }

  GeometryData read_sphere_set(const py::dict &s, const std::string &p) {
    {
      GeometryData g;
      g.type = kGeomSpheres;
      std::vector<float3> centers = copy_rows<float3>(get_floats(s, "centers", p, 3));
      FloatArray radii = FloatArray::ensure(get(s, "radii", p));
      if (!radii || size_t(radii.size()) != centers.size()) fail(p + ".radii", "expected one radius per sphere");
      g.spheres.resize(centers.size());
      for (size_t i = 0; i < centers.size(); ++i) {
        float r = radii.data()[i];
        if (!(r > 0)) fail(p + ".radii", "radii must be > 0");
        g.spheres[i] = SphereAccel{centers[i], r};
      }
      if (has(s, "colors")) {
        g.sphere_colors = copy_rows<float3>(get_floats(s, "colors", p, 3));
        if (g.sphere_colors.size() != centers.size()) fail(p + ".colors", "expected one colour per sphere");
      }
      return g;
    }
  }

  void read_instances(const py::list &groups) {
    int32_t running_id = 0;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      std::string p = "instances[" + std::to_string(gi) + "]";
      py::dict grp = groups[gi].cast<py::dict>();
      std::string geom = get_str(grp, "geometry", p);
      auto it = geometries.find(geom);
      if (it == geometries.end()) fail(p + ".geometry", "no mesh or sphere set named '" + geom + "'");
      FloatArray xf = FloatArray::ensure(get(grp, "transforms", p));
      if (!xf || xf.ndim() != 3 || xf.shape(1) != 4 || xf.shape(2) != 4) fail(p + ".transforms", "expected (N, 4, 4)");
      size_t n = size_t(xf.shape(0));
      std::vector<int32_t> ids;
      if (has(grp, "object_ids")) {
        ids = copy_ints(get_ints(grp, "object_ids", p));
        if (ids.size() != n) fail(p + ".object_ids", "expected one id per transform");
      }
      std::vector<int32_t> slots;
      if (has(grp, "materials")) slots = slot_list(grp["materials"], p + ".materials");
      for (size_t i = 0; i < n; ++i) {
        InstanceData inst;
        std::memcpy(inst.xfm.m, xf.data() + 16 * i, 12 * sizeof(float));
        inst.geometry = uint32_t(it->second);
        inst.object_id = ids.empty() ? running_id : ids[i];
        inst.slots = slots;
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

std::unique_ptr<Scene> scene_from_dict(const py::dict &d, const GeometryCache &previous, GeometryCache &next) {
  auto scene = std::make_unique<Scene>();
  next.entries.clear();
  next.reused = 0;
  Reader r{*scene, previous, next, {}, {}, {}};
  if (get_int(d, "version", "scene") != 1) fail("version", "unsupported scene version");
  r.read_render(get_dict(d, "render", "scene"));
  r.read_camera(get_dict(d, "camera", "scene"));
  py::dict world = get_dict(d, "world", "scene");
  scene->world = get_float3(world, "color", "world") * get_float(world, "strength", "world");
  r.read_textures(get_dict(d, "textures", "scene"));
  r.read_materials(get_dict(d, "materials", "scene"));
  r.read_meshes(get_dict(d, "meshes", "scene"));
  r.read_spheres(get_dict(d, "spheres", "scene"));
  py::object inst = get(d, "instances", "scene");
  r.read_instances(inst.cast<py::list>());
  r.read_lights(get_dict(d, "lights", "scene"));
  return scene;
}

}  // namespace optica
