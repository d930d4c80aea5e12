#include "shader_program.h"

#include <sstream>
#include <stdexcept>

#include "kernel/svm/eval.h"

namespace optica {
namespace {

std::vector<std::string> split_words(const char *text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

std::vector<EnumTable> make_enum_tables() {
  std::vector<EnumTable> tables;
#define OPTICA_SVM_ENUM_ENTRY(name, values) tables.push_back(EnumTable{#name, split_words(values)});
  OPTICA_SVM_ENUMS(OPTICA_SVM_ENUM_ENTRY)
#undef OPTICA_SVM_ENUM_ENTRY
  return tables;
}

int enum_index(const std::vector<EnumTable> &tables, const std::string &name) {
  for (size_t i = 0; i < tables.size(); ++i)
    if (tables[i].name == name) return int(i);
  throw std::logic_error("opcodes.h: unknown enum table " + name);
}

OperandSpec parse_operand(const std::string &token, const std::vector<EnumTable> &tables) {
  OperandSpec op;
  op.text = token;
  if (token.rfind("e:", 0) == 0) {
    op.kind = kOperandEnum;
    op.enum_table = enum_index(tables, token.substr(2));
    return op;
  }
  if (token.size() > 1 && token[0] == 'c' && token.find_first_not_of("0123456789", 1) == std::string::npos) {
    op.kind = kOperandBlock;
    op.block_size = std::stoi(token.substr(1));
    return op;
  }
  static const struct { char c; OperandKind k; } kinds[] = {
      {'f', kOperandIn1},  {'v', kOperandIn3},      {'F', kOperandOptIn1}, {'V', kOperandOptIn3},
      {'o', kOperandOut1}, {'w', kOperandOut3},     {'b', kOperandBool},   {'t', kOperandTexture},
      {'a', kOperandAttribute}, {'j', kOperandJump}, {'c', kOperandBlock},
  };
  for (const auto &k : kinds)
    if (token.size() == 1 && token[0] == k.c) {
      op.kind = k.k;
      return op;
    }
  throw std::logic_error("opcodes.h: unknown operand kind " + token);
}

std::vector<OpcodeSpec> make_opcode_specs() {
  const std::vector<EnumTable> &tables = svm_enum_tables();
  std::vector<OpcodeSpec> specs;
#define OPTICA_SVM_OPCODE_ENTRY(name, pure, layout) specs.push_back(OpcodeSpec{#name, pure != 0, layout, {}, 1});
  OPTICA_SVM_OPCODES(OPTICA_SVM_OPCODE_ENTRY)
#undef OPTICA_SVM_OPCODE_ENTRY
  for (OpcodeSpec &s : specs) {
    for (const std::string &token : split_words(s.layout.c_str())) {
      s.operands.push_back(parse_operand(token, tables));
      s.words += s.operands.back().kind == kOperandBlock ? 2 : 1;
    }
  }
  return specs;
}

// A value reference of `width` floats: a stack slot range or a constant range.
bool valid_input(int32_t ref, int width, size_t constant_count) {
  if (ref >= 0) return ref + width <= kSvmStackSize;
  if (ref == kSvmNone) return false;
  int64_t c = -int64_t(ref) - 1;
  return c + width <= int64_t(constant_count);
}

bool valid_output(int32_t slot, int width) {
  return slot == kSvmNone || (slot >= 0 && slot + width <= kSvmStackSize);
}

}  // namespace

const std::vector<EnumTable> &svm_enum_tables() {
  static const std::vector<EnumTable> tables = make_enum_tables();
  return tables;
}

const std::vector<OpcodeSpec> &svm_opcode_specs() {
  static const std::vector<OpcodeSpec> specs = make_opcode_specs();
  return specs;
}

std::string verify_program(const int32_t *code, size_t code_size, size_t constant_count, size_t texture_count,
                           size_t attribute_count) {
  const std::vector<OpcodeSpec> &specs = svm_opcode_specs();
  const std::vector<EnumTable> &tables = svm_enum_tables();
  // Instruction starts, so a jump can be checked to land on one.
  std::vector<char> starts(code_size + 1, 0);
  std::vector<std::pair<size_t, size_t>> jumps;  // (word index of the jump, target)
  size_t pc = 0;
  while (pc < code_size) {
    starts[pc] = 1;
    int32_t op = code[pc];
    std::ostringstream where;
    where << "instruction at word " << pc;
    if (op < 0 || op >= int32_t(specs.size())) return where.str() + ": opcode " + std::to_string(op) + " out of range";
    const OpcodeSpec &spec = specs[op];
    if (pc + size_t(spec.words) > code_size) return where.str() + " (" + spec.name + "): truncated";
    size_t w = pc + 1;
    for (size_t k = 0; k < spec.operands.size(); ++k) {
      const OperandSpec &o = spec.operands[k];
      int32_t v = code[w];
      bool ok = true;
      switch (o.kind) {
        case kOperandIn1: ok = valid_input(v, 1, constant_count); break;
        case kOperandIn3: ok = valid_input(v, 3, constant_count); break;
        case kOperandOptIn1: ok = v == kSvmNone || valid_input(v, 1, constant_count); break;
        case kOperandOptIn3: ok = v == kSvmNone || valid_input(v, 3, constant_count); break;
        case kOperandOut1: ok = valid_output(v, 1); break;
        case kOperandOut3: ok = valid_output(v, 3); break;
        case kOperandEnum: ok = v >= 0 && v < int32_t(tables[o.enum_table].values.size()); break;
        case kOperandBool: ok = v == 0 || v == 1; break;
        case kOperandTexture: ok = v == -1 || (v >= 0 && size_t(v) < texture_count); break;
        case kOperandAttribute: ok = v >= 0 && size_t(v) < attribute_count; break;
        case kOperandJump:
          ok = v >= 0 && pc + size_t(spec.words) + size_t(v) <= code_size;
          if (ok) jumps.push_back({w, pc + size_t(spec.words) + size_t(v)});
          break;
        case kOperandBlock: {
          int32_t count = code[w + 1];
          ok = v >= 0 && count >= 0 && int64_t(v) + count <= int64_t(constant_count) &&
               (o.block_size < 0 || count == o.block_size);
          ++w;
          break;
        }
      }
      if (!ok)
        return where.str() + " (" + spec.name + "): operand " + std::to_string(k) + " (" + o.text + ") = " +
               std::to_string(v) + " is out of range";
      ++w;
    }
    pc += size_t(spec.words);
  }
  starts[code_size] = 1;
  for (const auto &j : jumps)
    if (!starts[j.second]) return "jump at word " + std::to_string(j.first) + " lands inside an instruction";
  return "";
}

std::vector<float> fold_program(const std::vector<int32_t> &code, const std::vector<float> &constants) {
  const std::vector<OpcodeSpec> &specs = svm_opcode_specs();
  for (size_t pc = 0; pc < code.size(); pc += size_t(specs[code[pc]].words))
    if (!specs[code[pc]].pure) throw std::invalid_argument("fold: " + specs[code[pc]].name + " is not pure");
  KernelScene scene{};
  ShaderProgramView view{};
  view.code = code.data();
  view.code_size = int32_t(code.size());
  view.constants = constants.data();
  view.constant_count = int32_t(constants.size());
  ShaderData sd{};
  SvmState st;
  ClosureList cl;
  svm_run(scene, view, sd, st, cl);
  return std::vector<float>(st.stack, st.stack + kSvmStackSize);
}

}  // namespace optica
