// Compiled shader programs on the host: the instruction set's operand layouts (parsed once
// from kernel/svm/opcodes.h), the verifier that every program passes before the kernel may
// run it (memory safety rests on it), and constant folding by running pure instructions.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernel/scene_data.h"

namespace optica {

enum OperandKind : int {
  kOperandIn1, kOperandIn3, kOperandOptIn1, kOperandOptIn3, kOperandOut1, kOperandOut3,
  kOperandEnum, kOperandBool, kOperandTexture, kOperandAttribute, kOperandJump, kOperandBlock,
};

struct OperandSpec {
  OperandKind kind;
  int enum_table = -1;  // kOperandEnum: index into svm_enum_tables()
  int block_size = -1;  // kOperandBlock: the required count, -1 for any
  std::string text;     // the layout token, e.g. "e:math"
};

struct OpcodeSpec {
  std::string name;
  bool pure;
  std::string layout;
  std::vector<OperandSpec> operands;
  int words;  // 1 + operands (a constant block takes two words)
};

struct EnumTable {
  std::string name;
  std::vector<std::string> values;
};

const std::vector<OpcodeSpec> &svm_opcode_specs();
const std::vector<EnumTable> &svm_enum_tables();

// Host copy of one program (the arrays a ShaderProgramView points into).
struct ShaderProgram {
  std::vector<int32_t> code;
  std::vector<float> constants;
  std::vector<std::string> texture_names;  // resolved to scene textures by the scene reader
  std::vector<int32_t> textures;           // scene texture index per program texture, -1: missing
  std::vector<int32_t> attributes;         // scene attribute request per program attribute
  int32_t flags = 0;
  float3 emission_estimate{0, 0, 0};
  float pass_index = 0;
};

// Checks opcodes, operand ranges, stack slots, constant and table indices and jump targets;
// returns an empty string for a valid program, else what is wrong.
std::string verify_program(const int32_t *code, size_t code_size, size_t constant_count, size_t texture_count,
                           size_t attribute_count);

// Runs a program of pure instructions on an empty stack and returns the stack (constant
// folding in the compiler). The program must have been verified and hold pure opcodes only.
std::vector<float> fold_program(const std::vector<int32_t> &code, const std::vector<float> &constants);

}  // namespace optica
