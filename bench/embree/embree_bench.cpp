// Benchmark-only harness: Embree 3 (Debian's libembree-dev) called natively, so that
// bench/traversal.py can put optica_core's traversal next to it on the very same rays.
// Never a product dependency: nothing outside bench/ includes or links this.
//
// Input: raw little-endian files written by bench/traversal.py
//   --verts V.f32     float32 (V, 3) world-space vertices
//   --tris  T.i32     int32   (T, 3) triangle indices
//   --rays  NAME=O.f32,D.f32   float32 (N, 3) origins and (normalised) directions; repeatable
// Options
//   --threads 1,2     thread counts to measure (0 = all hardware threads)
//   --quality medium  scene/geometry build quality: low | medium (Embree's default) | high
//   --repeat 3        trace passes per (ray set, thread count); the best is reported
//   --build-repeat 2  scene builds per thread count; the best rtcCommitScene is reported
//   --dump DIR        write DIR/<NAME>.t.f32 and DIR/<NAME>.prim.i32 (first pass, last thread count)
//   --json FILE       results (stdout stays free for Embree's own verbose output)
//   --verbose N       Embree device verbosity (1 prints the selected ISA)
//   --serve           interactive mode (what bench/traversal.py uses, so that it can alternate
//                     Embree's and optica's passes under the same machine load): builds the
//                     scene once (one build thread), prints "@ ready {json}", then answers one line
//                     "@ {json}" (or "@ error ...") per command read from stdin:
//                       rays NAME O.f32 D.f32    load a ray set
//                       trace NAME THREADS       one timed pass -> {"s", "hits", "t_sum"}
//                       dump NAME DIR            one pass on all threads, writes DIR/NAME.t.f32, .prim.i32
//                       build THREADS            a new device with THREADS build threads, one timed
//                                                rtcCommitScene -> {"commit_ms"}
//                       quit
//   --config STR      extra rtcNewDevice configuration, e.g. "isa=sse4.2" or "isa=avx2"
//   --no-ftz          leave the MXCSR as it is (by default every thread sets flush-to-zero
//                     and denormals-are-zero, as Embree's documentation asks)
//
// Every ray: tnear = 0, tfar = inf, mask = all, one rtcIntersect1 per ray,
// RTCIntersectContext with Embree's default flags (incoherent).

#include <embree3/rtcore.h>
#include <pmmintrin.h>
#include <xmmintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <class T>
std::vector<T> read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot open " + path);
  const std::streamsize size = f.tellg();
  if (size % static_cast<std::streamsize>(sizeof(T)) != 0)
    throw std::runtime_error("size of " + path + " is not a multiple of the element size");
  std::vector<T> v(static_cast<size_t>(size) / sizeof(T));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), size);
  if (!f) throw std::runtime_error("short read on " + path);
  return v;
}

template <class T>
void write_raw(const std::string& path, const std::vector<T>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  if (!f) throw std::runtime_error("cannot write " + path);
}

struct RaySet {
  std::string name;
  std::vector<float> org, dir;  // (N, 3)
  size_t count() const { return org.size() / 3; }
};

struct Result {  // one trace pass
  std::vector<float> t;
  std::vector<int32_t> prim;
};

void error_handler(void*, RTCError code, const char* str) {
  std::fprintf(stderr, "embree error %d: %s\n", static_cast<int>(code), str ? str : "");
  std::exit(2);
}

RTCBuildQuality parse_quality(const std::string& q) {
  if (q == "low") return RTC_BUILD_QUALITY_LOW;
  if (q == "medium") return RTC_BUILD_QUALITY_MEDIUM;
  if (q == "high") return RTC_BUILD_QUALITY_HIGH;
  throw std::runtime_error("unknown quality " + q);
}

// Builds the scene; returns the seconds spent in rtcCommitScene alone.
RTCScene build_scene(RTCDevice device, const std::vector<float>& verts, const std::vector<int32_t>& tris,
                     RTCBuildQuality quality, double* commit_s) {
  RTCScene scene = rtcNewScene(device);
  rtcSetSceneBuildQuality(scene, quality);
  RTCGeometry geom = rtcNewGeometry(device, RTC_GEOMETRY_TYPE_TRIANGLE);
  rtcSetGeometryBuildQuality(geom, quality);
  const size_t nv = verts.size() / 3, nt = tris.size() / 3;
  // Embree allocates its own (padded) buffers: the copy is not part of the timed commit.
  auto* vb = static_cast<float*>(
      rtcSetNewGeometryBuffer(geom, RTC_BUFFER_TYPE_VERTEX, 0, RTC_FORMAT_FLOAT3, 3 * sizeof(float), nv));
  std::memcpy(vb, verts.data(), verts.size() * sizeof(float));
  auto* ib = static_cast<uint32_t*>(
      rtcSetNewGeometryBuffer(geom, RTC_BUFFER_TYPE_INDEX, 0, RTC_FORMAT_UINT3, 3 * sizeof(uint32_t), nt));
  std::memcpy(ib, tris.data(), tris.size() * sizeof(int32_t));
  rtcCommitGeometry(geom);
  rtcAttachGeometry(scene, geom);
  rtcReleaseGeometry(geom);
  const auto t0 = Clock::now();
  rtcCommitScene(scene);
  *commit_s = seconds_since(t0);
  return scene;
}

bool g_ftz = true;

void set_ftz() {
  if (!g_ftz) return;
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

void trace_range(RTCScene scene, const RaySet& rays, size_t begin, size_t end, Result* out) {
  RTCIntersectContext ctx;
  rtcInitIntersectContext(&ctx);
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t i = begin; i < end; ++i) {
    RTCRayHit rh;
    rh.ray.org_x = rays.org[3 * i + 0];
    rh.ray.org_y = rays.org[3 * i + 1];
    rh.ray.org_z = rays.org[3 * i + 2];
    rh.ray.dir_x = rays.dir[3 * i + 0];
    rh.ray.dir_y = rays.dir[3 * i + 1];
    rh.ray.dir_z = rays.dir[3 * i + 2];
    rh.ray.tnear = 0.0f;
    rh.ray.tfar = inf;
    rh.ray.time = 0.0f;
    rh.ray.mask = 0xFFFFFFFFu;
    rh.ray.id = 0;
    rh.ray.flags = 0;
    rh.hit.geomID = RTC_INVALID_GEOMETRY_ID;
    rh.hit.primID = RTC_INVALID_GEOMETRY_ID;
    rh.hit.instID[0] = RTC_INVALID_GEOMETRY_ID;
    rtcIntersect1(scene, &ctx, &rh);
    const bool hit = rh.hit.geomID != RTC_INVALID_GEOMETRY_ID;
    out->t[i] = hit ? rh.ray.tfar : inf;
    out->prim[i] = hit ? static_cast<int32_t>(rh.hit.primID) : -1;
  }
}

// One pass over all rays on `threads` std::threads; dynamic chunks from an atomic counter.
double trace_all(RTCScene scene, const RaySet& rays, int threads, Result* out) {
  const size_t n = rays.count();
  out->t.assign(n, 0.0f);
  out->prim.assign(n, -1);
  const size_t chunk = 4096;
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    set_ftz();
    for (;;) {
      const size_t b = next.fetch_add(chunk);
      if (b >= n) break;
      trace_range(scene, rays, b, std::min(n, b + chunk), out);
    }
  };
  const auto t0 = Clock::now();
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int k = 0; k < threads; ++k) pool.emplace_back(worker);
    for (auto& th : pool) th.join();
  }
  return seconds_since(t0);
}

std::vector<int> parse_int_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::stoi(item));
  return v;
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

const char* quality_name(RTCBuildQuality q) {
  switch (q) {
    case RTC_BUILD_QUALITY_LOW: return "low";
    case RTC_BUILD_QUALITY_MEDIUM: return "medium";
    case RTC_BUILD_QUALITY_HIGH: return "high";
    default: return "refit";
  }
}

RTCDevice new_device(int threads, int verbose, const std::string& extra_config) {
  // The device's "threads" setting bounds the TBB workers that build the BVH.
  std::string config = "threads=" + std::to_string(threads);
  if (verbose > 0) config += ",verbose=" + std::to_string(verbose);
  if (!extra_config.empty()) config += "," + extra_config;
  RTCDevice device = rtcNewDevice(config.c_str());
  if (!device) throw std::runtime_error("rtcNewDevice failed (config \"" + config + "\")");
  rtcSetDeviceErrorFunction(device, error_handler, nullptr);
  std::fflush(stdout);
  return device;
}

void reply(const std::string& s) {
  std::printf("@ %s\n", s.c_str());
  std::fflush(stdout);
}

int serve(const std::vector<float>& verts, const std::vector<int32_t>& tris, RTCBuildQuality quality, int hw,
          int verbose, const std::string& extra_config) {
  // Embree 3 runs every device's builds on max(threads of all live devices) TBB threads, so the
  // long-lived tracing device asks for one: the devices of "build" commands then set the count.
  RTCDevice device = new_device(1, verbose, extra_config);
  double commit = 0;
  RTCScene scene = build_scene(device, verts, tris, quality, &commit);
  std::vector<RaySet> sets;
  auto find = [&](const std::string& name) -> const RaySet& {
    for (const auto& rs : sets)
      if (rs.name == name) return rs;
    throw std::runtime_error("no ray set " + name);
  };
  {
    std::ostringstream js;
    js << "{\"embree_version\": " << json_str(RTC_VERSION_STRING) << ", \"build_quality\": "
       << json_str(quality_name(quality)) << ", \"default_build_quality\": \"medium\", \"hardware_threads\": " << hw
       << ", \"device_config\": " << json_str(extra_config) << ", \"ftz_daz\": " << (g_ftz ? "true" : "false")
       << ", \"triangles\": " << tris.size() / 3 << ", \"first_commit_ms\": " << commit * 1e3 << "}";
    reply("ready " + js.str());
  }
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, stdin)) {
    std::istringstream in(buf);
    std::string cmd;
    in >> cmd;
    try {
      if (cmd == "quit") break;
      if (cmd == "rays") {
        RaySet rs;
        std::string o, d;
        in >> rs.name >> o >> d;
        rs.org = read_raw<float>(o);
        rs.dir = read_raw<float>(d);
        if (rs.org.size() != rs.dir.size() || rs.org.size() % 3) throw std::runtime_error("bad ray arrays");
        sets.erase(std::remove_if(sets.begin(), sets.end(), [&](const RaySet& x) { return x.name == rs.name; }),
                   sets.end());
        sets.push_back(std::move(rs));
        reply("{\"n\": " + std::to_string(sets.back().count()) + "}");
      } else if (cmd == "trace" || cmd == "dump") {
        std::string name, arg;
        in >> name >> arg;
        const RaySet& rs = find(name);
        const int threads = cmd == "dump" ? hw : (std::stoi(arg) <= 0 ? hw : std::stoi(arg));
        Result res;
        const double s = trace_all(scene, rs, threads, &res);
        size_t hits = 0;
        double tsum = 0;
        for (size_t i = 0; i < rs.count(); ++i)
          if (res.prim[i] >= 0) {
            ++hits;
            tsum += res.t[i];
          }
        if (cmd == "dump") {
          write_raw(arg + "/" + name + ".t.f32", res.t);
          write_raw(arg + "/" + name + ".prim.i32", res.prim);
        }
        std::ostringstream js;
        js.precision(9);
        js << "{\"s\": " << s << ", \"threads\": " << threads << ", \"hits\": " << hits << ", \"t_sum\": " << tsum
           << "}";
        reply(js.str());
      } else if (cmd == "build") {
        int threads = 0;
        in >> threads;
        if (threads <= 0) threads = hw;
        RTCDevice dev = new_device(threads, 0, extra_config);
        double c = 0;
        RTCScene sc = build_scene(dev, verts, tris, quality, &c);
        rtcReleaseScene(sc);
        rtcReleaseDevice(dev);
        std::ostringstream js;
        js.precision(9);
        js << "{\"commit_ms\": " << c * 1e3 << ", \"threads\": " << threads << "}";
        reply(js.str());
      } else if (!cmd.empty()) {
        throw std::runtime_error("unknown command " + cmd);
      }
    } catch (const std::exception& e) {
      reply(std::string("error ") + e.what());
    }
  }
  rtcReleaseScene(scene);
  rtcReleaseDevice(device);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string verts_path, tris_path, dump_dir, json_path, quality_s = "medium", extra_config;
    std::vector<std::pair<std::string, std::string>> ray_specs;  // name, "o,d"
    std::vector<int> thread_counts = {1, 0};
    int repeat = 3, build_repeat = 2, verbose = 0;
    bool serve_mode = false;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
        return argv[++i];
      };
      if (a == "--verts") verts_path = next();
      else if (a == "--tris") tris_path = next();
      else if (a == "--rays") {
        const std::string s = next();
        const auto eq = s.find('=');
        if (eq == std::string::npos) throw std::runtime_error("--rays NAME=O.f32,D.f32");
        ray_specs.emplace_back(s.substr(0, eq), s.substr(eq + 1));
      } else if (a == "--threads") thread_counts = parse_int_list(next());
      else if (a == "--quality") quality_s = next();
      else if (a == "--repeat") repeat = std::max(1, std::stoi(next()));
      else if (a == "--build-repeat") build_repeat = std::max(1, std::stoi(next()));
      else if (a == "--dump") dump_dir = next();
      else if (a == "--json") json_path = next();
      else if (a == "--verbose") verbose = std::stoi(next());
      else if (a == "--config") extra_config = next();
      else if (a == "--no-ftz") g_ftz = false;
      else if (a == "--serve") serve_mode = true;
      else throw std::runtime_error("unknown argument " + a);
    }
    if (verts_path.empty() || tris_path.empty()) throw std::runtime_error("--verts and --tris are required");
    const RTCBuildQuality quality = parse_quality(quality_s);
    set_ftz();
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int& k : thread_counts)
      if (k <= 0) k = hw;

    const auto verts = read_raw<float>(verts_path);
    const auto tris = read_raw<int32_t>(tris_path);
    if (verts.size() % 3 || tris.size() % 3) throw std::runtime_error("vertex/triangle arrays must be (N, 3)");
    if (serve_mode) return serve(verts, tris, quality, hw, verbose, extra_config);
    std::vector<RaySet> ray_sets;
    for (const auto& [name, files] : ray_specs) {
      const auto comma = files.find(',');
      if (comma == std::string::npos) throw std::runtime_error("--rays NAME=O.f32,D.f32");
      RaySet rs;
      rs.name = name;
      rs.org = read_raw<float>(files.substr(0, comma));
      rs.dir = read_raw<float>(files.substr(comma + 1));
      if (rs.org.size() != rs.dir.size() || rs.org.size() % 3) throw std::runtime_error("bad ray arrays for " + name);
      ray_sets.push_back(std::move(rs));
    }

    std::ostringstream js;
    js << "{\n  \"embree_version\": " << json_str(RTC_VERSION_STRING) << ",\n";
    js << "  \"build_quality\": " << json_str(quality_name(quality)) << ",\n";
    js << "  \"default_build_quality\": \"medium\",\n";
    js << "  \"hardware_threads\": " << hw << ",\n";
    js << "  \"device_config\": " << json_str(extra_config) << ",\n";
    js << "  \"ftz_daz\": " << (g_ftz ? "true" : "false") << ",\n";
    js << "  \"triangles\": " << tris.size() / 3 << ",\n  \"runs\": [\n";
    bool first_run = true;
    for (size_t ti = 0; ti < thread_counts.size(); ++ti) {
      const int threads = thread_counts[ti];
      RTCDevice device = new_device(threads, ti == 0 ? verbose : 0, extra_config);
      double best_commit = 1e30;
      RTCScene scene = nullptr;
      for (int b = 0; b < build_repeat; ++b) {
        if (scene) rtcReleaseScene(scene);
        double c = 0;
        scene = build_scene(device, verts, tris, quality, &c);
        best_commit = std::min(best_commit, c);
      }
      for (const auto& rs : ray_sets) {
        double best = 1e30;
        Result res, first;
        for (int r = 0; r < repeat; ++r) {
          const double s = trace_all(scene, rs, threads, &res);
          best = std::min(best, s);
          if (r == 0) first = res;
        }
        size_t hits = 0;
        double tsum = 0;
        for (size_t i = 0; i < rs.count(); ++i)
          if (first.prim[i] >= 0) {
            ++hits;
            tsum += first.t[i];
          }
        if (!dump_dir.empty() && ti + 1 == thread_counts.size()) {
          write_raw(dump_dir + "/" + rs.name + ".t.f32", first.t);
          write_raw(dump_dir + "/" + rs.name + ".prim.i32", first.prim);
        }
        js << (first_run ? "" : ",\n") << "    {\"threads\": " << threads << ", \"rays\": " << json_str(rs.name)
           << ", \"n\": " << rs.count() << ", \"best_s\": " << best
           << ", \"mrays_per_s\": " << (rs.count() / best * 1e-6) << ", \"hits\": " << hits
           << ", \"t_sum\": " << tsum << ", \"commit_ms\": " << best_commit * 1e3 << "}";
        first_run = false;
      }
      if (ray_sets.empty()) {
        js << (first_run ? "" : ",\n") << "    {\"threads\": " << threads << ", \"commit_ms\": " << best_commit * 1e3
           << "}";
        first_run = false;
      }
      rtcReleaseScene(scene);
      rtcReleaseDevice(device);
    }
    js << "\n  ]\n}\n";
    if (json_path.empty()) {
      std::fputs(js.str().c_str(), stdout);
    } else {
      std::ofstream f(json_path);
      f << js.str();
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embree_bench: %s\n", e.what());
    return 1;
  }
}
