// The interpreter's state while it runs one program: the value stack, how operands read
// inputs (stack slot or constant) and write outputs, and the instruction cursor.
#pragma once
#include "opcodes.h"
#include "shader_data.h"

namespace optica {

struct SvmState {
  const KernelScene *scene;
  const ShaderProgramView *program;
  ShaderData *sd;
  const int32_t *code;
  int32_t pc;
  float stack[kSvmStackSize];

  OPTICA_HD int32_t next() { return code[pc++]; }

  OPTICA_HD float load1(int32_t ref) const {
    return ref >= 0 ? stack[ref] : program->constants[-ref - 1];
  }
  OPTICA_HD float3 load3(int32_t ref) const {
    const float *p = ref >= 0 ? stack + ref : program->constants + (-ref - 1);
    return make3(p[0], p[1], p[2]);
  }
  OPTICA_HD float load1_or(int32_t ref, float fallback) const { return ref == kSvmNone ? fallback : load1(ref); }
  OPTICA_HD float3 load3_or(int32_t ref, float3 fallback) const { return ref == kSvmNone ? fallback : load3(ref); }
  OPTICA_HD void store1(int32_t slot, float v) {
    if (slot != kSvmNone) stack[slot] = v;
  }
  OPTICA_HD void store3(int32_t slot, float3 v) {
    if (slot == kSvmNone) return;
    stack[slot] = v.x;
    stack[slot + 1] = v.y;
    stack[slot + 2] = v.z;
  }
  // Reads the next operand as an input value.
  OPTICA_HD float in1() { return load1(next()); }
  OPTICA_HD float3 in3() { return load3(next()); }
};

}  // namespace optica
