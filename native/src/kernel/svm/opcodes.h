// The shader program's instruction set: every opcode with its operand layout, and the enum
// tables its operands index. This list is the one source of truth for the layout: the host
// verifier (src/shader_program.cpp) checks programs against it, the Python compiler
// (optica_core.shading) reads it through optica_core._native.svm_opcodes(), and the
// interpreter (svm/eval.h) decodes instructions in the same order.
//
// An instruction is [opcode, operand...] in int32 words. Operand kinds:
//   f / v   float / 3-float input: a value reference (>= 0 stack slot, < 0 constant -ref-1)
//   F / V   the same, optional: kSvmNone means "not given" (the node uses its own default)
//   o / w   float / 3-float output stack slot; kSvmNone when nothing reads it
//   e:NAME  index into the enum table NAME (OPTICA_SVM_ENUMS)
//   b       0 or 1
//   t       texture of the program's texture table, or -1 (no image: Cycles' magenta)
//   a       attribute request of the program's attribute table
//   j       forward jump: words to skip after this instruction
//   c / cN  constant block: two words, first constant and count (cN: count must be N)
// The second field marks pure opcodes: their outputs depend on their inputs only, so the
// compiler folds them when every input is constant (by running them, see svm_fold()).
//
// Adding a node: add its opcode here (at the end of the list, so the numbers of the others
// stay), its case in svm/eval.h, and its compile function in optica_core/shading/nodes/.
#pragma once

#define OPTICA_SVM_OPCODES(X)                                                                  \
  X(JUMP_IF_ZERO, 0, "f j")                                                                    \
  X(CONVERT_COLOR_TO_FLOAT, 1, "v o")                                                          \
  X(CONVERT_VECTOR_TO_FLOAT, 1, "v o")                                                         \
  X(CONVERT_FLOAT_TO_VECTOR, 1, "f w")                                                         \
  X(MATH, 1, "e:math b f f f o")                                                               \
  X(VECTOR_MATH, 1, "e:vector_math v v v f w o")                                               \
  X(MIX_FLOAT, 1, "b f f f o")                                                                 \
  X(MIX_VECTOR, 1, "b f v v w")                                                                \
  X(MIX_VECTOR_NON_UNIFORM, 1, "b v v v w")                                                    \
  X(MIX_COLOR, 1, "e:blend b b f v v w")                                                       \
  X(SEPARATE_COLOR, 1, "e:color_mode v o o o")                                                 \
  X(COMBINE_COLOR, 1, "e:color_mode f f f w")                                                  \
  X(SEPARATE_XYZ, 1, "v o o o")                                                                \
  X(COMBINE_XYZ, 1, "f f f w")                                                                 \
  X(MAPPING, 1, "e:mapping v v v v w")                                                         \
  X(TEX_COORD, 0, "e:tex_coord e:bump f w")                                                    \
  X(ATTRIBUTE, 0, "a e:bump f w o o")                                                          \
  X(GEOMETRY_VECTOR, 0, "e:geometry_vector e:bump f w")                                        \
  X(GEOMETRY_FLOAT, 0, "e:geometry_float o")                                                   \
  X(OBJECT_INFO_VECTOR, 0, "e:object_info_vector w")                                           \
  X(OBJECT_INFO_FLOAT, 0, "e:object_info_float f o")                                           \
  X(LIGHT_PATH, 0, "e:light_path o")                                                           \
  X(FRESNEL, 0, "f V o")                                                                       \
  X(LAYER_WEIGHT, 0, "f V o o")                                                                \
  X(NORMAL, 1, "v v w o")                                                                      \
  X(TANGENT, 0, "e:tangent_direction e:axis a w")                                              \
  X(NORMAL_MAP, 0, "e:normal_map_space a f v w")                                               \
  X(BUMP, 0, "b f f f f f f V w")                                                              \
  X(TEX_IMAGE, 0, "t e:interpolation e:extension e:projection b v w o")                        \
  X(TEX_IMAGE_BOX, 0, "t e:interpolation e:extension f b v w o")                               \
  X(MIX_CLOSURE, 1, "f F o o")                                                                 \
  X(PRINCIPLED_BSDF, 0,                                                                        \
    "F e:principled_distribution v f f f f V f f v f f f f v f f V f f f f v V f f v v f f f")   \
  X(DIFFUSE_BSDF, 0, "F v f V")                                                                \
  X(GLOSSY_BSDF, 0, "F e:glossy_distribution v f f f V V")                                     \
  X(METALLIC_BSDF, 0, "F e:metallic_distribution e:metallic_fresnel v v v v f f f V V f f")    \
  X(GLASS_BSDF, 0, "F e:glass_distribution v f f V f f")                                       \
  X(REFRACTION_BSDF, 0, "F e:refraction_distribution v f f V")                                 \
  X(TRANSPARENT_BSDF, 0, "F v")                                                                \
  X(TRANSLUCENT_BSDF, 0, "F v V")                                                              \
  X(SHEEN_BSDF, 0, "F e:sheen_distribution v f V")                                             \
  X(EMISSION, 0, "F v f")                                                                      \
  X(BACKGROUND, 0, "F v f")                                                                    \
  X(HOLDOUT, 0, "F")                                                                           \
  X(TRANSFORM_POINT, 1, "c12 v w")                                                              \
  X(TEX_NOISE, 1, "e:dimensions e:noise_type b v f f f f f f f f o w")                          \
  X(TEX_VORONOI, 1, "e:dimensions e:voronoi_feature e:voronoi_metric b v f f f f f f f f o w w o o") \
  X(TEX_CHECKER, 1, "v v v f w o")                                                              \
  X(TEX_GRADIENT, 1, "e:gradient_type v w o")                                                   \
  X(TEX_MAGIC, 1, "f v f f w o")                                                                \
  X(TEX_WAVE, 1, "e:wave_type e:bands_direction e:rings_direction e:wave_profile v f f f f f f w o") \
  X(TEX_BRICK, 1, "v v v v f f f f f f f f f f w o")                                            \
  X(TEX_WHITE_NOISE, 1, "e:dimensions v f o w")                                                 \
  X(MAP_RANGE, 1, "e:map_range b f f f f f f o")                                                \
  X(MAP_RANGE_VECTOR, 1, "e:map_range b v v v v v v w")                                         \
  X(CLAMP, 1, "e:clamp_type f f f o")                                                           \
  X(INVERT, 1, "f v w")                                                                         \
  X(GAMMA, 1, "v f w")                                                                          \
  X(HUE_SATURATION, 1, "f f f f v w")                                                           \
  X(BRIGHT_CONTRAST, 1, "v f f w")                                                              \
  X(COLOR_RAMP, 1, "c b f w o")                                                                 \
  X(CURVES, 1, "c b f f f v w")                                                                 \
  X(FLOAT_CURVE, 1, "c b f f f f o")                                                            \
  X(VECTOR_ROTATE, 1, "e:vector_rotate b v v v f v w")                                          \
  X(VECTOR_TRANSFORM, 0, "e:vector_transform_type e:vector_transform_space e:vector_transform_space v w") \
  X(CAMERA_DATA, 0, "w o o")                                                                    \
  X(LIGHT_FALLOFF, 0, "e:light_falloff f f o")                                                  \
  X(INDEX_RANDOM, 1, "f o")                                                                     \
  X(BLACKBODY, 1, "f w")                                                                        \
  X(WAVELENGTH, 1, "f w")                                                                       \
  X(TEX_GABOR, 1, "e:gabor_type v f f f f v o o o")                                             \
  X(WIREFRAME, 0, "b e:bump f f o")                                                             \
  X(TEX_ENVIRONMENT, 0, "t e:interpolation e:env_projection v w")                         \
  X(TEX_SKY, 0, "c v w")                                                                        \
  X(HAIR_INFO, 0, "o o o o w o")                                                                \
  X(PRINCIPLED_HAIR_BSDF, 0, "F e:hair_model e:hair_parametrization v f f v v f f f f f f f f b f f f") \
  X(HAIR_BSDF, 0, "F e:hair_component v f f f V")

// Enum tables, in Blender's order (the registry's `values`; a test checks they agree).
#define OPTICA_SVM_ENUMS(X)                                                                    \
  X(math,                                                                                      \
    "ADD SUBTRACT MULTIPLY DIVIDE MULTIPLY_ADD POWER LOGARITHM SQRT INVERSE_SQRT ABSOLUTE "    \
    "EXPONENT MINIMUM MAXIMUM LESS_THAN GREATER_THAN SIGN COMPARE SMOOTH_MIN SMOOTH_MAX "      \
    "ROUND FLOOR CEIL TRUNC FRACT MODULO FLOORED_MODULO WRAP SNAP PINGPONG SINE COSINE "       \
    "TANGENT ARCSINE ARCCOSINE ARCTANGENT ARCTAN2 SINH COSH TANH RADIANS DEGREES")             \
  X(vector_math,                                                                               \
    "ADD SUBTRACT MULTIPLY DIVIDE MULTIPLY_ADD CROSS_PRODUCT PROJECT REFLECT REFRACT "         \
    "FACEFORWARD DOT_PRODUCT DISTANCE LENGTH SCALE NORMALIZE ABSOLUTE POWER SIGN MINIMUM "     \
    "MAXIMUM FLOOR CEIL FRACTION MODULO WRAP SNAP SINE COSINE TANGENT")                        \
  X(blend,                                                                                     \
    "MIX DARKEN MULTIPLY BURN LIGHTEN SCREEN DODGE ADD OVERLAY SOFT_LIGHT LINEAR_LIGHT "       \
    "DIFFERENCE EXCLUSION SUBTRACT DIVIDE HUE SATURATION COLOR VALUE")                         \
  X(color_mode, "RGB HSV HSL")                                                                 \
  X(mapping, "POINT TEXTURE VECTOR NORMAL")                                                    \
  X(bump, "CENTER DX DY")                                                                      \
  X(tex_coord, "Generated Normal UV Object Camera Window Reflection")                          \
  X(geometry_vector, "Position Normal Tangent True_Normal Incoming Parametric")                \
  X(geometry_float, "Backfacing Pointiness Random_Per_Island")                                 \
  X(object_info_vector, "Location Color")                                                      \
  X(object_info_float, "Alpha Object_Index Material_Index Random")                             \
  X(light_path,                                                                                \
    "Is_Camera_Ray Is_Shadow_Ray Is_Diffuse_Ray Is_Glossy_Ray Is_Singular_Ray "                \
    "Is_Reflection_Ray Is_Transmission_Ray Is_Volume_Scatter_Ray Ray_Length Ray_Depth "        \
    "Diffuse_Depth Glossy_Depth Transparent_Depth Transmission_Depth Portal_Depth")            \
  X(tangent_direction, "RADIAL UV_MAP")                                                        \
  X(axis, "X Y Z")                                                                             \
  X(normal_map_space, "TANGENT OBJECT WORLD BLENDER_OBJECT BLENDER_WORLD")                     \
  X(interpolation, "Linear Closest Cubic Smart")                                               \
  X(extension, "REPEAT EXTEND CLIP MIRROR")                                                    \
  X(projection, "FLAT BOX SPHERE TUBE")                                                        \
  X(principled_distribution, "GGX MULTI_GGX")                                                  \
  X(glossy_distribution, "BECKMANN GGX ASHIKHMIN_SHIRLEY MULTI_GGX")                           \
  X(metallic_distribution, "BECKMANN GGX MULTI_GGX")                                           \
  X(metallic_fresnel, "PHYSICAL_CONDUCTOR F82")                                                \
  X(glass_distribution, "BECKMANN GGX MULTI_GGX")                                              \
  X(refraction_distribution, "BECKMANN GGX")                                                   \
  X(sheen_distribution, "ASHIKHMIN MICROFIBER")                                               \
  X(dimensions, "1D 2D 3D 4D")                                                                  \
  X(noise_type, "MULTIFRACTAL RIDGED_MULTIFRACTAL HYBRID_MULTIFRACTAL FBM HETERO_TERRAIN")      \
  X(voronoi_feature, "F1 F2 SMOOTH_F1 DISTANCE_TO_EDGE N_SPHERE_RADIUS")                        \
  X(voronoi_metric, "EUCLIDEAN MANHATTAN CHEBYCHEV MINKOWSKI")                                  \
  X(gradient_type, "LINEAR QUADRATIC EASING DIAGONAL SPHERICAL QUADRATIC_SPHERE RADIAL")        \
  X(wave_type, "BANDS RINGS")                                                                   \
  X(bands_direction, "X Y Z DIAGONAL")                                                          \
  X(rings_direction, "X Y Z SPHERICAL")                                                         \
  X(wave_profile, "SIN SAW TRI")                                                                \
  X(map_range, "LINEAR STEPPED SMOOTHSTEP SMOOTHERSTEP")                                        \
  X(clamp_type, "MINMAX RANGE")                                                                 \
  X(vector_rotate, "AXIS_ANGLE X_AXIS Y_AXIS Z_AXIS EULER_XYZ")                                 \
  X(vector_transform_type, "POINT VECTOR NORMAL")                                               \
  X(vector_transform_space, "WORLD OBJECT CAMERA")                                              \
  X(light_falloff, "Quadratic Linear Constant")                                                 \
  X(gabor_type, "2D 3D")                                                                        \
  X(env_projection, "EQUIRECTANGULAR MIRROR_BALL")                                              \
  X(hair_model, "CHIANG HUANG")                                                                 \
  X(hair_parametrization, "ABSORPTION MELANIN COLOR")                                           \
  X(hair_component, "Reflection Transmission")

namespace optica {

enum SvmOpcode : int {
#define OPTICA_SVM_OPCODE_ENUM(name, pure, layout) kSvm_##name,
  OPTICA_SVM_OPCODES(OPTICA_SVM_OPCODE_ENUM)
#undef OPTICA_SVM_OPCODE_ENUM
      kSvmOpcodeCount
};

// An optional input or unused output.
constexpr int kSvmNone = -2147483647 - 1;
// Stack slots of the interpreter (floats); a 3-float value takes three consecutive slots.
constexpr int kSvmStackSize = 256;

}  // namespace optica
