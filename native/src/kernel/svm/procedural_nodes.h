// The interpreter's cases for the procedural textures and the colour, converter and vector
// nodes: decodes each instruction's operands in the order opcodes.h lists them and calls the
// node's maths (noise.h, voronoi.h, gabor.h, textures.h, converter_nodes.h, color_nodes.h,
// ramp.h, blackbody.h, vector_nodes.h, wireframe.h). Kept out of eval.h so that file stays one switch of
// short cases.
#pragma once
#include "blackbody.h"
#include "color_nodes.h"
#include "converter_nodes.h"
#include "gabor.h"
#include "ramp.h"
#include "textures.h"
#include "vector_nodes.h"
#include "voronoi.h"
#include "wireframe.h"

namespace optica {

// A constant block operand: (first constant, count) → pointer and count.
OPTICA_HD const float *svm_block(SvmState &st, int &count) {
  int first = st.next();
  count = st.next();
  return st.program->constants + first;
}

OPTICA_HD_CALLED void svm_procedural_node(int op, SvmState &st) {
  switch (op) {
    case kSvm_TEX_NOISE: {
      int dims = st.next() + 1;
      NoiseParams np;
      np.type = st.next();
      np.normalize = st.next() != 0;
      float3 v = st.in3();
      float w = st.in1(), scale = st.in1();
      np.detail = st.in1();
      np.roughness = st.in1();
      np.lacunarity = st.in1();
      np.offset = st.in1();
      np.gain = st.in1();
      float distortion = st.in1();
      int out_fac = st.next(), out_color = st.next();
      float3 color = make3(0.0f);
      float fac = noise_texture(noise_point(dims, v * scale, w * scale), np, distortion, out_color != kSvmNone, color);
      st.store1(out_fac, fac);
      st.store3(out_color, color);
      break;
    }
    case kSvm_TEX_VORONOI: {
      VoronoiParams vp;
      vp.n = st.next() + 1;
      vp.feature = st.next();
      vp.metric = st.next();
      vp.normalize = st.next() != 0;
      float3 v = st.in3();
      float w = st.in1();
      vp.scale = st.in1();
      vp.detail = st.in1();
      vp.roughness = st.in1();
      vp.lacunarity = st.in1();
      vp.smoothness = st.in1();
      vp.exponent = st.in1();
      vp.randomness = st.in1();
      vp.max_distance = 0.0f;
      float distance, w_out, radius;
      float3 color, position;
      voronoi_texture(vp, v, w, distance, color, position, w_out, radius);
      st.store1(st.next(), distance);
      st.store3(st.next(), color);
      st.store3(st.next(), position);
      st.store1(st.next(), w_out);
      st.store1(st.next(), radius);
      break;
    }
    case kSvm_TEX_CHECKER: {
      float3 co = st.in3(), color1 = st.in3(), color2 = st.in3();
      float f = checker_texture(co * st.in1());
      st.store3(st.next(), f == 1.0f ? color1 : color2);
      st.store1(st.next(), f);
      break;
    }
    case kSvm_TEX_GRADIENT: {
      int type = st.next();
      float f = gradient_texture(type, st.in3());
      st.store3(st.next(), make3(f));
      st.store1(st.next(), f);
      break;
    }
    case kSvm_TEX_MAGIC: {
      int depth = int(st.in1());
      float3 co = st.in3();
      float scale = st.in1(), distortion = st.in1();
      float3 c = magic_texture(co, scale, depth, distortion);
      st.store3(st.next(), c);
      st.store1(st.next(), average(c));
      break;
    }
    case kSvm_TEX_WAVE: {
      int type = st.next(), bands = st.next(), rings = st.next(), profile = st.next();
      float3 co = st.in3();
      float scale = st.in1(), distortion = st.in1(), detail = st.in1(), detail_scale = st.in1();
      float detail_roughness = st.in1(), phase = st.in1();
      float f = wave_texture(type, bands, rings, profile, co * scale, distortion, detail, detail_scale,
                             detail_roughness, phase);
      st.store3(st.next(), make3(f));
      st.store1(st.next(), f);
      break;
    }
    case kSvm_TEX_BRICK: {
      float3 co = st.in3(), color1 = st.in3(), color2 = st.in3(), mortar = st.in3();
      float scale = st.in1();
      BrickParams b;
      b.mortar_size = st.in1();
      b.mortar_smooth = st.in1();
      b.bias = st.in1();
      b.brick_width = st.in1();
      b.row_height = st.in1();
      b.offset_amount = st.in1();
      b.offset_frequency = int(st.in1());
      b.squash_amount = st.in1();
      b.squash_frequency = int(st.in1());
      float2 tm = brick_texture(co * scale, b);
      if (tm.y != 1.0f) color1 = color1 * (1.0f - tm.x) + color2 * tm.x;
      st.store3(st.next(), color1 * (1.0f - tm.y) + mortar * tm.y);
      st.store1(st.next(), tm.y);
      break;
    }
    case kSvm_TEX_WHITE_NOISE: {
      int dims = st.next() + 1;
      float3 v = st.in3();
      float w = st.in1();
      int out_value = st.next(), out_color = st.next();
      if (out_value != kSvmNone) st.store1(out_value, white_noise_value(dims, v, w));
      if (out_color != kSvmNone) st.store3(out_color, white_noise_color(dims, v, w));
      break;
    }
    case kSvm_MAP_RANGE: {
      int type = st.next();
      bool clamp = st.next() != 0;
      float value = st.in1(), from_min = st.in1(), from_max = st.in1(), to_min = st.in1(), to_max = st.in1();
      float steps = st.in1();
      st.store1(st.next(), map_range(type, clamp, value, from_min, from_max, to_min, to_max, steps));
      break;
    }
    case kSvm_MAP_RANGE_VECTOR: {
      int type = st.next();
      bool clamp = st.next() != 0;
      float3 value = st.in3(), from_min = st.in3(), from_max = st.in3(), to_min = st.in3(), to_max = st.in3();
      float3 steps = st.in3();
      st.store3(st.next(), map_range_vector(type, clamp, value, from_min, from_max, to_min, to_max, steps));
      break;
    }
    case kSvm_CLAMP: {
      int type = st.next();
      float value = st.in1(), lo = st.in1(), hi = st.in1();
      st.store1(st.next(), clamp_node(type, value, lo, hi));
      break;
    }
    case kSvm_INVERT: {
      float fac = st.in1();
      float3 c = st.in3();
      st.store3(st.next(), invert_color(fac, c));
      break;
    }
    case kSvm_GAMMA: {
      float3 c = st.in3();
      st.store3(st.next(), gamma_color(c, st.in1()));
      break;
    }
    case kSvm_HUE_SATURATION: {
      float hue = st.in1(), saturation = st.in1(), value = st.in1(), fac = st.in1();
      float3 c = st.in3();
      st.store3(st.next(), hue_saturation_value(hue, saturation, value, fac, c));
      break;
    }
    case kSvm_BRIGHT_CONTRAST: {
      float3 c = st.in3();
      float bright = st.in1(), contrast = st.in1();
      st.store3(st.next(), bright_contrast(c, bright, contrast));
      break;
    }
    case kSvm_COLOR_RAMP: {
      int count;
      const float *table = svm_block(st, count);
      bool interpolate = st.next() != 0;
      float fac = st.in1();
      float3 color;
      float alpha;
      color_ramp(table, count / 4, interpolate, fac, color, alpha);
      st.store3(st.next(), color);
      st.store1(st.next(), alpha);
      break;
    }
    case kSvm_CURVES: {
      int count;
      const float *table = svm_block(st, count);
      bool extrapolate = st.next() != 0;
      float x_min = st.in1(), x_max = st.in1(), fac = st.in1();
      float3 c = st.in3();
      st.store3(st.next(), curves_rgb(table, count / 3, extrapolate, x_min, x_max, fac, c));
      break;
    }
    case kSvm_FLOAT_CURVE: {
      int count;
      const float *table = svm_block(st, count);
      bool extrapolate = st.next() != 0;
      float x_min = st.in1(), x_max = st.in1(), fac = st.in1(), v = st.in1();
      st.store1(st.next(), curve_float(table, count, extrapolate, x_min, x_max, fac, v));
      break;
    }
    case kSvm_VECTOR_ROTATE: {
      int type = st.next();
      bool invert = st.next() != 0;
      float3 v = st.in3(), center = st.in3(), axis = st.in3();
      float angle = st.in1();
      float3 rotation = st.in3();
      st.store3(st.next(), vector_rotate(type, invert, v, center, axis, angle, rotation));
      break;
    }
    case kSvm_VECTOR_TRANSFORM: {
      int type = st.next(), from = st.next(), to = st.next();
      float3 v = st.in3();
      st.store3(st.next(), vector_transform(*st.scene, *st.sd, type, from, to, v));
      break;
    }
    case kSvm_CAMERA_DATA: {
      // The shading point in Cycles' camera space (+Z forward).
      float3 q = world_to_cycles_camera(st.scene->camera, kTransformPoint, st.sd->P);
      st.store3(st.next(), normalize(q));
      st.store1(st.next(), q.z);
      st.store1(st.next(), length(q));
      break;
    }
    case kSvm_LIGHT_FALLOFF: {
      int type = st.next();
      float strength = st.in1(), smooth = st.in1();
      st.store1(st.next(), light_falloff(type, strength, smooth, st.sd->ray_length));
      break;
    }
    case kSvm_INDEX_RANDOM: {
      // Particle Info's Random: Cycles hashes the particle index with 0.
      uint32_t index = uint32_t(int(st.in1()));
      st.store1(st.next(), unit_from_hash(hash_u2(index, 0u)));
      break;
    }
    case kSvm_BLACKBODY: {
      float t = st.in1();
      st.store3(st.next(), blackbody_color(t));
      break;
    }
    case kSvm_WAVELENGTH: {
      float nm = st.in1();
      st.store3(st.next(), wavelength_color(nm));
      break;
    }
    case kSvm_TEX_GABOR: {
      int type = st.next();
      float3 co = st.in3();
      float scale = st.in1(), frequency = st.in1(), anisotropy = st.in1(), orientation_2d = st.in1();
      float3 orientation_3d = st.in3();
      float value, phase, intensity;
      gabor_texture(type, co * scale, frequency, anisotropy, orientation_2d, orientation_3d, value, phase, intensity);
      st.store1(st.next(), value);
      st.store1(st.next(), phase);
      st.store1(st.next(), intensity);
      break;
    }
    case kSvm_WIREFRAME: {
      bool pixel_size = st.next() != 0;
      int bump = st.next();
      float fw = st.in1(), size = st.in1();
      st.store1(st.next(), wireframe_fac(*st.scene, *st.sd, pixel_size, bump, fw, size));
      break;
    }
    default: break;
  }
}

}  // namespace optica
