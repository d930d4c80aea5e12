// Context, modules (ours and OptiX's built-in sphere intersector), program groups, pipeline and
// shader binding table. Names of the programs match programs.cu.
#include "optix/optix_pipeline.h"

#include <optix.h>
#include <optix_stack_size.h>
#include <optix_stubs.h>

#include <stdexcept>

#include "optix/embedded_programs.h"
#include "optix/launch_params.h"
#include "optix/optix_probe.h"

namespace optica {

namespace {

// An SBT record carries only its header: the programs read everything from the launch params.
struct alignas(OPTIX_SBT_RECORD_ALIGNMENT) EmptyRecord {
  char header[OPTIX_SBT_RECORD_HEADER_SIZE];
};

constexpr unsigned int kPayloadValues = 6;  // t, u, v, prim, instance, slot (programs.cu)

}  // namespace

void optix_check(int result, const char *what) {
  if (result == OPTIX_SUCCESS) return;
  const char *name = optixGetErrorName(OptixResult(result));
  throw std::runtime_error(std::string("OptiX: ") + what + ": " + (name ? name : "unknown error"));
}

OptixPipelineState::OptixPipelineState() {
  require_optix();
  std::string why;
  cu_ = cuda_driver(why);
  cuda_check(*cu_, cu_->cuDeviceGet(&device_, 0), "cuDeviceGet");
  char name[256] = {0};
  cu_->cuDeviceGetName(name, sizeof(name) - 1, device_);
  device_name_ = name;
  cuda_check(*cu_, cu_->cuDevicePrimaryCtxRetain(&cuda_context_, device_), "cuDevicePrimaryCtxRetain");
  make_current();
  cuda_check(*cu_, cu_->cuStreamCreate(&stream_, CU_STREAM_DEFAULT), "cuStreamCreate");
  OptixDeviceContextOptions options{};
  optix_check(optixDeviceContextCreate(cuda_context_, &options, &context_), "optixDeviceContextCreate");
  raygen_record_ = DeviceBuffer(cu_);
  miss_records_ = DeviceBuffer(cu_);
  hit_records_ = DeviceBuffer(cu_);
  create_modules();
  create_program_groups();
  create_pipeline();
  create_sbt();
}

OptixPipelineState::~OptixPipelineState() {
  if (!cu_) return;
  try_make_current();
  raygen_record_.release();
  miss_records_.release();
  hit_records_.release();
  if (pipeline_) optixPipelineDestroy(pipeline_);
  for (auto &kind : hit_)
    for (OptixProgramGroup g : kind)
      if (g) optixProgramGroupDestroy(g);
  for (OptixProgramGroup g : miss_)
    if (g) optixProgramGroupDestroy(g);
  if (raygen_) optixProgramGroupDestroy(raygen_);
  if (module_) optixModuleDestroy(module_);
  // The built-in sphere module belongs to the context.
  if (context_) optixDeviceContextDestroy(context_);
  if (stream_) cu_->cuStreamDestroy_v2(stream_);
  if (cuda_context_) cu_->cuDevicePrimaryCtxRelease_v2(device_);
}

void OptixPipelineState::make_current() const { cuda_check(*cu_, cu_->cuCtxSetCurrent(cuda_context_), "cuCtxSetCurrent"); }

bool OptixPipelineState::try_make_current() const noexcept {
  return cuda_context_ && cu_->cuCtxSetCurrent(cuda_context_) == CUDA_SUCCESS;
}

void OptixPipelineState::create_modules() {
  module_options_.maxRegisterCount = OPTIX_COMPILE_DEFAULT_MAX_REGISTER_COUNT;
  module_options_.optLevel = OPTIX_COMPILE_OPTIMIZATION_DEFAULT;
  module_options_.debugLevel = OPTIX_COMPILE_DEBUG_LEVEL_NONE;
  pipeline_options_.usesMotionBlur = 0;
  pipeline_options_.traversableGraphFlags = OPTIX_TRAVERSABLE_GRAPH_FLAG_ALLOW_SINGLE_LEVEL_INSTANCING;
  pipeline_options_.numPayloadValues = kPayloadValues;
  pipeline_options_.numAttributeValues = 2;
  pipeline_options_.exceptionFlags = OPTIX_EXCEPTION_FLAG_NONE;
  pipeline_options_.pipelineLaunchParamsVariableName = "params";
  pipeline_options_.usesPrimitiveTypeFlags = OPTIX_PRIMITIVE_TYPE_FLAGS_TRIANGLE | OPTIX_PRIMITIVE_TYPE_FLAGS_SPHERE;
  char log[2048];
  size_t log_size = sizeof(log);
  OptixResult r = optixModuleCreate(context_, &module_options_, &pipeline_options_,
                                    reinterpret_cast<const char *>(optica_programs_ir), optica_programs_ir_size, log,
                                    &log_size, &module_);
  if (r != OPTIX_SUCCESS) throw std::runtime_error(std::string("OptiX: optixModuleCreate failed: ") + log);
  OptixBuiltinISOptions sphere{};
  sphere.builtinISModuleType = OPTIX_PRIMITIVE_TYPE_SPHERE;
  sphere.buildFlags = kAccelBuildFlags;
  static_assert(kAccelBuildFlags == OPTIX_BUILD_FLAG_PREFER_FAST_TRACE, "launch_params.h names the build flags");
  optix_check(optixBuiltinISModuleGet(context_, &module_options_, &pipeline_options_, &sphere, &sphere_module_),
              "optixBuiltinISModuleGet(sphere)");
}

void OptixPipelineState::create_program_groups() {
  OptixProgramGroupOptions options{};
  char log[2048];
  size_t log_size;
  auto create = [&](const OptixProgramGroupDesc &desc, OptixProgramGroup &out, const char *what) {
    log_size = sizeof(log);
    optix_check(optixProgramGroupCreate(context_, &desc, 1, &options, log, &log_size, &out), what);
  };
  OptixProgramGroupDesc rg{};
  rg.kind = OPTIX_PROGRAM_GROUP_KIND_RAYGEN;
  rg.raygen.module = module_;
  rg.raygen.entryFunctionName = "__raygen__main";
  create(rg, raygen_, "raygen program group");
  const char *miss_names[2] = {"__miss__closest", "__miss__shadow"};
  for (int i = 0; i < 2; ++i) {
    OptixProgramGroupDesc m{};
    m.kind = OPTIX_PROGRAM_GROUP_KIND_MISS;
    m.miss.module = module_;
    m.miss.entryFunctionName = miss_names[i];
    create(m, miss_[i], "miss program group");
  }
  for (uint32_t kind = 0; kind < kKindCount; ++kind) {
    for (uint32_t ray = 0; ray < kRayTypeCount; ++ray) {
      OptixProgramGroupDesc h{};
      h.kind = OPTIX_PROGRAM_GROUP_KIND_HITGROUP;
      if (ray == kRayClosest) {
        h.hitgroup.moduleCH = module_;
        h.hitgroup.entryFunctionNameCH = "__closesthit__closest";
      }  // shadow rays end on the first hit with closest-hit disabled: no program
      if (kind == kKindSpheres) h.hitgroup.moduleIS = sphere_module_;
      create(h, hit_[kind][ray], "hit group");
    }
  }
}

void OptixPipelineState::create_pipeline() {
  OptixProgramGroup groups[] = {raygen_, miss_[0], miss_[1], hit_[0][0], hit_[0][1], hit_[1][0], hit_[1][1]};
  OptixPipelineLinkOptions link{};
  link.maxTraceDepth = 1;  // the path loop traces from raygen only
  char log[2048];
  size_t log_size = sizeof(log);
  optix_check(optixPipelineCreate(context_, &pipeline_options_, &link, groups, sizeof(groups) / sizeof(groups[0]),
                                  log, &log_size, &pipeline_),
              "optixPipelineCreate");
  OptixStackSizes sizes{};
  for (OptixProgramGroup g : groups) optix_check(optixUtilAccumulateStackSizes(g, &sizes, pipeline_), "stack sizes");
  unsigned int dc_traversal = 0, dc_state = 0, continuation = 0;
  optix_check(optixUtilComputeStackSizes(&sizes, 1, 0, 0, &dc_traversal, &dc_state, &continuation), "stack sizes");
  // Two levels: the IAS and the GASes under it.
  optix_check(optixPipelineSetStackSize(pipeline_, dc_traversal, dc_state, continuation, 2), "optixPipelineSetStackSize");
}

void OptixPipelineState::create_sbt() {
  EmptyRecord rg, miss[2], hits[kKindCount * kRayTypeCount];
  optix_check(optixSbtRecordPackHeader(raygen_, &rg), "optixSbtRecordPackHeader");
  for (int i = 0; i < 2; ++i) optix_check(optixSbtRecordPackHeader(miss_[i], &miss[i]), "optixSbtRecordPackHeader");
  for (uint32_t kind = 0; kind < kKindCount; ++kind)
    for (uint32_t ray = 0; ray < kRayTypeCount; ++ray)
      optix_check(optixSbtRecordPackHeader(hit_[kind][ray], &hits[kind * kRayTypeCount + ray]), "optixSbtRecordPackHeader");
  raygen_record_.upload(&rg, sizeof(rg));
  miss_records_.upload(miss, sizeof(miss));
  hit_records_.upload(hits, sizeof(hits));
  sbt_.raygenRecord = raygen_record_.ptr();
  sbt_.missRecordBase = miss_records_.ptr();
  sbt_.missRecordStrideInBytes = sizeof(EmptyRecord);
  sbt_.missRecordCount = 2;
  sbt_.hitgroupRecordBase = hit_records_.ptr();
  sbt_.hitgroupRecordStrideInBytes = sizeof(EmptyRecord);
  sbt_.hitgroupRecordCount = kKindCount * kRayTypeCount;
}

}  // namespace optica
