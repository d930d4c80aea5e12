// Python bindings of the core (module optica_core._native). Python-facing checks live here;
// everything heavy runs with the GIL released.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "fp_mode.h"
#include "kernel/lights.h"
#include "motion.h"
#include "optix/py_devices.h"
#include "py_arrays.h"
#include "py_renderer.h"
#include "renderer.h"
#include "scene_reader.h"
#include "shader_program.h"

namespace py = pybind11;
using namespace optica;

namespace {

// Serialises set_scene/accumulate/intersect; cancel() stays lock-free so it can interrupt.
struct PyRenderer {
  explicit PyRenderer(int threads) : renderer(threads) {}
  Renderer renderer;
  std::mutex busy;
  GeometryCache geometry;  // touched only with the GIL held
};

std::shared_ptr<FilmBuffers> film_of(PyRenderer &r) {
  auto fb = r.renderer.film().buffers();
  if (!fb) throw std::runtime_error("no scene: call set_scene() first");
  return fb;
}

// The film's AOV names, in FilmAov bit order.
constexpr std::pair<const char *, uint32_t> kAovNames[] = {
    {"noise", kAovNoise}, {"albedo", kAovAlbedo}, {"normal", kAovNormal}, {"depth", kAovDepth},
    {"object_id", kAovObjectId}};

std::shared_ptr<FilmBuffers> film_aov(PyRenderer &r, uint32_t aov, const char *name) {
  auto fb = film_of(r);
  if (!(fb->aovs & aov))
    throw std::runtime_error(std::string(name) + ": this renderer's film does not keep it (set_film_aovs)");
  return fb;
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "Optica's native path-tracing core (use the optica_core package, not this module)";

  m.def("svm_opcodes", [] {
    py::list out;
    for (const OpcodeSpec &s : svm_opcode_specs()) out.append(py::make_tuple(s.name, s.pure, s.layout));
    return out;
  }, "The shader instruction set: (name, pure, operand layout) per opcode, in opcode order");
  m.def("svm_enums", [] {
    py::dict out;
    for (const EnumTable &t : svm_enum_tables()) {
      py::list values;
      for (const std::string &v : t.values) values.append(v);
      out[t.name.c_str()] = values;
    }
    return out;
  }, "The enum tables instruction operands index");
  m.def(
      "svm_fold",
      [](py::array_t<int32_t, py::array::c_style | py::array::forcecast> code,
         py::array_t<float, py::array::c_style | py::array::forcecast> constants) {
        std::vector<int32_t> c(code.data(), code.data() + code.size());
        std::vector<float> k(constants.data(), constants.data() + constants.size());
        std::string error = verify_program(c.data(), c.size(), k.size(), 0, 0);
        if (!error.empty()) throw py::value_error("svm_fold: " + error);
        std::vector<float> stack;
        try {
          stack = fold_program(c, k);
        } catch (const std::invalid_argument &e) {
          throw py::value_error(e.what());
        }
        return py::array_t<float>(stack.size(), stack.data());
      },
      py::arg("code"), py::arg("constants"), "Runs pure instructions on constants; returns the stack");
  m.def(
      "svm_verify",
      [](py::array_t<int32_t, py::array::c_style | py::array::forcecast> code, size_t constants, size_t textures,
         size_t attributes) { return verify_program(code.data(), code.size(), constants, textures, attributes); },
      py::arg("code"), py::arg("constants"), py::arg("textures"), py::arg("attributes"),
      "What is wrong with a program ('' if nothing)");

  // Testing only: the kernel's motion-blur routines on their own (kernel/motion.h, motion.cpp).
  using F32 = py::array_t<float, py::array::c_style | py::array::forcecast>;
  auto affine_steps = [](const F32 &steps) {
    if (steps.ndim() != 3 || steps.shape(0) < 2 || steps.shape(1) != 4 || steps.shape(2) != 4)
      throw py::value_error("steps: expected (S, 4, 4) with S >= 2");
    std::vector<Affine> out(size_t(steps.shape(0)));
    for (size_t s = 0; s < out.size(); ++s) std::memcpy(out[s].m, steps.data() + 16 * s, 12 * sizeof(float));
    return decompose_motion(out);
  };
  m.def(
      "_testing_motion_transforms",
      [affine_steps](const F32 &steps, const F32 &times) {
        std::vector<MotionTransform> d = affine_steps(steps);
        py::array_t<float> out({size_t(times.size()), size_t(4), size_t(4)});
        float *o = out.mutable_data();
        for (py::ssize_t i = 0; i < times.size(); ++i) {
          Affine a = motion_transform_at(d.data(), int(d.size()), times.data()[i]);
          for (int k = 0; k < 12; ++k) o[16 * i + k] = a.m[k];
          o[16 * i + 12] = o[16 * i + 13] = o[16 * i + 14] = 0.0f;
          o[16 * i + 15] = 1.0f;
        }
        return out;
      },
      py::arg("steps"), py::arg("times"), "The object-to-world matrices the kernel interpolates at times τ");
  m.def(
      "_testing_motion_bounds",
      [affine_steps](const F32 &steps, const F32 &lo, const F32 &hi) {
        if (lo.size() != 3 || hi.size() != 3) throw py::value_error("lo, hi: expected 3 floats");
        std::vector<MotionTransform> d = affine_steps(steps);
        Aabb box;
        box.lo = make3(lo.data()[0], lo.data()[1], lo.data()[2]);
        box.hi = make3(hi.data()[0], hi.data()[1], hi.data()[2]);
        Aabb b = motion_bounds(d.data(), int(d.size()), box);
        return py::make_tuple(py::make_tuple(b.lo.x, b.lo.y, b.lo.z), py::make_tuple(b.hi.x, b.hi.y, b.hi.z));
      },
      py::arg("steps"), py::arg("lo"), py::arg("hi"), "The box a moving instance's local box sweeps (the TLAS's)");
  m.def(
      "_testing_shutter_times",
      [](const py::object &curve, bool rolling, float duration, const F32 &u,
         const py::array_t<int32_t, py::array::c_style | py::array::forcecast> &rows, float height) {
        if (u.size() != rows.size()) throw py::value_error("u, rows: expected the same length");
        std::vector<float> table;
        if (!curve.is_none()) {
          F32 c = curve.cast<F32>();
          if (c.size() < 2) throw py::value_error("curve: expected at least 2 values");
          table = shutter_table(std::vector<float>(c.data(), c.data() + c.size()));
        }
        ShutterView sh{};
        sh.table = table.empty() ? nullptr : table.data();
        sh.rolling = rolling ? 1 : 0;
        sh.rolling_duration = duration;
        py::array_t<float> out(u.size());
        for (py::ssize_t i = 0; i < u.size(); ++i)
          out.mutable_data()[i] = shutter_time(sh, u.data()[i], rows.data()[i], height);
        return out;
      },
      py::arg("curve"), py::arg("rolling"), py::arg("duration"), py::arg("u"), py::arg("rows"), py::arg("height"),
      "Camera-ray times τ for uniform numbers u at pixel rows counted from the top");

  // Testing only: how the kernel samples a rectangular area light from shading points
  // (kernel/lights.h sample_light), and the pdf it gives a ray that hits the light there
  // (area_light_pdf, the MIS weight of a BSDF ray). Per point and (u, v) draw: the direction,
  // the distance, the sampling pdf and the hit pdf (all 0 where no sample is made).
  m.def(
      "_testing_area_light_samples",
      [](const F32 &pos, const F32 &axis_u, const F32 &axis_v, const F32 &dir, const F32 &points, const F32 &uv) {
        auto vec3 = [](const F32 &a, const char *name) {
          if (a.size() != 3) throw py::value_error(std::string(name) + ": expected 3 floats");
          return make3(a.data()[0], a.data()[1], a.data()[2]);
        };
        if (points.ndim() != 2 || points.shape(1) != 3) throw py::value_error("points: expected (N, 3)");
        if (uv.ndim() != 2 || uv.shape(1) != 2) throw py::value_error("uv: expected (M, 2)");
        LightView l{};
        l.type = kLightArea;
        l.radiance = make3(1.0f);
        l.pos = vec3(pos, "pos");
        l.axis_u = vec3(axis_u, "axis_u");
        l.axis_v = vec3(axis_v, "axis_v");
        l.dir = normalize(vec3(dir, "dir"));
        l.area = 4.0f * length(cross(l.axis_u, l.axis_v));
        KernelScene s{};
        const py::ssize_t n = points.shape(0), m_count = uv.shape(0);
        py::array_t<float> out({size_t(n), size_t(m_count), size_t(6)});
        float *o = out.mutable_data();
        for (py::ssize_t i = 0; i < n; ++i) {
          const float *p = points.data() + 3 * i;
          float3 pt = make3(p[0], p[1], p[2]);
          for (py::ssize_t j = 0; j < m_count; ++j, o += 6) {
            LightSample ls;
            std::fill(o, o + 6, 0.0f);
            if (!sample_light(s, l, pt, uv.data()[2 * j], uv.data()[2 * j + 1], ls)) continue;
            o[0] = ls.wi.x, o[1] = ls.wi.y, o[2] = ls.wi.z, o[3] = ls.dist, o[4] = ls.pdf;
            o[5] = area_light_pdf(l, pt, ls.dist, -dot(ls.wi, l.dir));
          }
        }
        return out;
      },
      py::arg("pos"), py::arg("axis_u"), py::arg("axis_v"), py::arg("dir"), py::arg("points"), py::arg("uv"),
      "Area-light samples from points: (N, M, 6) = direction, distance, sampling pdf, hit pdf");

  // Testing only: the calling thread's floating-point control word (x86 MXCSR, AArch64 FPCR),
  // so tests can run the core from a thread in another mode, as a host process may.
  m.def(
      "_testing_fp_mode",
      [](const py::object &mode) {
        uint32_t before = fp_mode_get();
        if (!mode.is_none()) fp_mode_set(mode.cast<uint32_t>());
        return before;
      },
      py::arg("mode") = py::none(), "Returns the calling thread's FP control word; sets it to `mode` if given");
  m.attr("_KERNEL_FP_MODE") = kKernelFpMode;
#if defined(OPTICA_FP_MXCSR)
  m.attr("_FP_CONTROL") = "mxcsr";
#elif defined(OPTICA_FP_FPCR)
  m.attr("_FP_CONTROL") = "fpcr";
#else
  m.attr("_FP_CONTROL") = "none";
#endif

  py::class_<PyRenderer>(m, "Renderer")
      .def(py::init<int>(), py::arg("threads") = 0)
      .def_property_readonly("threads", [](PyRenderer &r) { return r.renderer.threads(); })
      .def(
          "set_scene",
          [](PyRenderer &r, const py::dict &d, const py::dict &programs) { set_scene_locked(r, d, programs); },
          py::arg("scene"), py::arg("programs"),
          "Builds the scene (a dict normalised by optica_core.validate_scene, with the shader programs "
          "optica_core.shading compiled for it).")
      .def(
          "accumulate",
          [](PyRenderer &r, int n) { return accumulate_locked(r, n); },
          py::arg("n") = 1)
      .def("cancel", [](PyRenderer &r) { r.renderer.cancel(); })
      .def(
          "set_adaptive",
          [](PyRenderer &r, float threshold, int min_samples) {
            if (!(threshold >= 0.0f)) throw py::value_error("set_adaptive: threshold must be >= 0");
            if (min_samples < 0) throw py::value_error("set_adaptive: min_samples must be >= 0");
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(r.busy);
            r.renderer.set_adaptive(threshold, min_samples);
          },
          py::arg("threshold"), py::arg("min_samples") = 16)
      .def_property_readonly("converged", [](PyRenderer &r) { return r.renderer.all_converged(); })
      .def(
          "converged_fraction",
          [](PyRenderer &r, float threshold) {
            film_aov(r, kAovNoise, "converged_fraction");
            return r.renderer.film().converged_fraction(threshold);
          },
          py::arg("threshold"))
      .def("reset", [](PyRenderer &r) {
        py::gil_scoped_release release;
        std::lock_guard<std::mutex> lock(r.busy);
        r.renderer.reset();
      })
      .def_property_readonly("samples", [](PyRenderer &r) { return r.renderer.samples(); })
      .def_property_readonly("geometry_reused", [](PyRenderer &r) { return r.geometry.reused; },
                             "How many geometries the last set_scene reused instead of rebuilding")
      .def_property_readonly(
          "world_map_size",
          [](PyRenderer &r) {
            const Scene *s = r.renderer.scene();
            int w = s ? int(s->kernel().world_map.res_x) : 0, h = s ? int(s->kernel().world_map.res_y) : 0;
            return py::make_tuple(w, h);
          },
          "(width, height) of the world's importance map; (0, 0) when the world is not sampled as a light")
      .def_property_readonly(
          "world_map_reused",
          [](PyRenderer &r) { return r.renderer.scene() != nullptr && r.renderer.scene()->world_map_reused(); },
          "Whether the last set_scene took the world's importance map over from the previous scene")
      .def_property_readonly("color", [](PyRenderer &r) { auto fb = film_of(r); return film_view(fb, fb->color, 4); })
      .def_property_readonly("albedo", [](PyRenderer &r) {
        auto fb = film_aov(r, kAovAlbedo, "albedo");
        return film_view(fb, fb->albedo, 3);
      })
      .def_property_readonly("normal", [](PyRenderer &r) {
        auto fb = film_aov(r, kAovNormal, "normal");
        return film_view(fb, fb->normal, 3);
      })
      .def_property_readonly("depth", [](PyRenderer &r) {
        auto fb = film_aov(r, kAovDepth, "depth");
        return film_view(fb, fb->depth, 1);
      })
      .def_property_readonly("object_id", [](PyRenderer &r) {
        auto fb = film_aov(r, kAovObjectId, "object_id");
        return film_view(fb, fb->object_id, 1);
      })
      .def(
          "set_film_aovs",
          [](PyRenderer &r, const std::vector<std::string> &names) {
            uint32_t bits = 0;
            for (const std::string &n : names) {
              uint32_t bit = 0;
              for (const auto &[known, b] : kAovNames)
                if (n == known) bit = b;
              if (!bit)
                throw py::value_error("set_film_aovs: unknown AOV '" + n +
                                      "' (expected noise, albedo, normal, depth, object_id)");
              bits |= bit;
            }
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(r.busy);
            r.renderer.set_film_aovs(bits);
          },
          py::arg("names"), "Which AOV buffers the film keeps besides colour; a change clears the film")
      .def_property_readonly(
          "memory",
          [](PyRenderer &r) {
            MemoryStats m;
            size_t film = 0;
            {
              // Never wait for the lock holding the GIL: a set_scene holding the lock may need
              // the GIL to release the previous scene's borrowed arrays.
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(r.busy);
              if (r.renderer.scene()) m = r.renderer.scene()->memory();
              if (auto fb = r.renderer.film().buffers())
                film = sizeof(float) * (fb->color.size() + fb->half.size() + fb->albedo.size() + fb->normal.size() +
                                        fb->depth.size() + fb->object_id.size());
            }
            py::dict out;
            out["geometry"] = m.geometry;
            out["borrowed"] = m.borrowed;
            out["bvh"] = m.bvh;
            out["other"] = m.other;
            out["film"] = film;
            return out;
          },
          "Bytes of host memory by kind (see MemoryStats in scene.h)")
      .def_property_readonly("film_aovs", [](PyRenderer &r) {
        py::list out;
        for (const auto &[name, bit] : kAovNames)
          if (r.renderer.film().aovs() & bit) out.append(name);
        return out;
      })
      .def(
          "intersect",
          [](PyRenderer &r, const py::object &origins, const py::object &directions) {
            if (!r.renderer.has_scene()) throw std::runtime_error("intersect: no scene; call set_scene() first");
            RayBatch rays = ray_batch(origins, directions);
            size_t n = rays.n;
            const float *dp = rays.directions.data();
            const RayArray &o = rays.origins;
            py::array_t<float> t(n);
            py::array_t<int32_t> prim(n), obj(n);
            float *tp = t.mutable_data();
            int32_t *pp = prim.mutable_data(), *op = obj.mutable_data();
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(r.busy);
              r.renderer.intersect(o.data(), dp, n, tp, pp, op);
            }
            return py::make_tuple(t, prim, obj);
          },
          py::arg("origins"), py::arg("directions"));

  register_devices(m);
}
