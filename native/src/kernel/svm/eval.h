// The shader program interpreter: runs a compiled program (opcodes.h) at a shading point and
// fills the closure list. Operands are decoded in the order opcodes.h lists them; the host
// has checked every index before the program reaches the kernel.
#pragma once
#include "closure_nodes.h"
#include "environment.h"
#include "geometry_nodes.h"
#include "image.h"
#include "procedural_nodes.h"
#include "sky.h"

namespace optica {

// Runs `prog` with the state `st` (its stack stays readable afterwards: constant folding).
OPTICA_HD void svm_run(const KernelScene &s, const ShaderProgramView &prog, ShaderData &sd, SvmState &st,
                       ClosureList &cl) {
  closures_clear(cl);
  st.scene = &s;
  st.program = &prog;
  st.sd = &sd;
  st.code = prog.code;
  st.pc = 0;
  const BsdfTables &tables = s.tables;
  // A light sample only needs the emission: BSDF nodes then add nothing.
  const bool lobes_wanted = !(sd.path.flags & kPathEmission);
  while (st.pc < prog.code_size) {
    int op = st.next();
    switch (op) {
      case kSvm_JUMP_IF_ZERO: {
        float w = st.in1();
        int skip = st.next();
        if (!(w > 0.0f)) st.pc += skip;
        break;
      }
      case kSvm_CONVERT_COLOR_TO_FLOAT: {
        float3 c = st.in3();
        st.store1(st.next(), color_to_gray(c));
        break;
      }
      case kSvm_CONVERT_VECTOR_TO_FLOAT: {
        float3 v = st.in3();
        st.store1(st.next(), average(v));
        break;
      }
      case kSvm_CONVERT_FLOAT_TO_VECTOR: {
        float f = st.in1();
        st.store3(st.next(), make3(f));
        break;
      }
      case kSvm_MATH: {
        int type = st.next();
        bool clamp = st.next() != 0;
        float a = st.in1(), b = st.in1(), c = st.in1();
        float r = svm_math(type, a, b, c);
        st.store1(st.next(), clamp ? saturatef(r) : r);
        break;
      }
      case kSvm_VECTOR_MATH: {
        int type = st.next();
        float3 a = st.in3(), b = st.in3(), c = st.in3();
        float scale = st.in1();
        float value;
        float3 v = svm_vector_math(type, a, b, c, scale, value);
        st.store3(st.next(), v);
        st.store1(st.next(), value);
        break;
      }
      case kSvm_MIX_FLOAT: {
        bool clamp = st.next() != 0;
        float t = st.in1(), a = st.in1(), b = st.in1();
        if (clamp) t = saturatef(t);
        st.store1(st.next(), a * (1.0f - t) + b * t);
        break;
      }
      case kSvm_MIX_VECTOR: {
        bool clamp = st.next() != 0;
        float t = st.in1();
        float3 a = st.in3(), b = st.in3();
        if (clamp) t = saturatef(t);
        st.store3(st.next(), a * (1.0f - t) + b * t);
        break;
      }
      case kSvm_MIX_VECTOR_NON_UNIFORM: {
        bool clamp = st.next() != 0;
        float3 t = st.in3(), a = st.in3(), b = st.in3();
        if (clamp) t = saturate3(t);
        st.store3(st.next(), a * (make3(1.0f) - t) + b * t);
        break;
      }
      case kSvm_MIX_COLOR: {
        int blend = st.next();
        bool clamp_factor = st.next() != 0, clamp_result = st.next() != 0;
        float t = st.in1();
        float3 a = st.in3(), b = st.in3();
        if (clamp_factor) t = saturatef(t);
        float3 r = blend_colors(blend, t, a, b);
        st.store3(st.next(), clamp_result ? saturate3(r) : r);
        break;
      }
      case kSvm_SEPARATE_COLOR: {
        int mode = st.next();
        float3 c = color_from_rgb(mode, st.in3());
        st.store1(st.next(), c.x);
        st.store1(st.next(), c.y);
        st.store1(st.next(), c.z);
        break;
      }
      case kSvm_COMBINE_COLOR: {
        int mode = st.next();
        float r = st.in1(), g = st.in1(), b = st.in1();
        st.store3(st.next(), color_to_rgb(mode, make3(r, g, b)));
        break;
      }
      case kSvm_SEPARATE_XYZ: {
        float3 v = st.in3();
        st.store1(st.next(), v.x);
        st.store1(st.next(), v.y);
        st.store1(st.next(), v.z);
        break;
      }
      case kSvm_COMBINE_XYZ: {
        float x = st.in1(), y = st.in1(), z = st.in1();
        st.store3(st.next(), make3(x, y, z));
        break;
      }
      case kSvm_MAPPING: {
        int type = st.next();
        float3 v = st.in3(), loc = st.in3(), rot = st.in3(), scale = st.in3();
        st.store3(st.next(), svm_mapping(type, v, loc, rot, scale));
        break;
      }
      case kSvm_TEX_COORD: {
        int which = st.next(), bump = st.next();
        float fw = st.in1();
        st.store3(st.next(), svm_tex_coord(s, sd, which, bump, fw));
        break;
      }
      case kSvm_ATTRIBUTE: {
        int request = prog.attributes[st.next()];
        int bump = st.next();
        float fw = st.in1();
        int out_color = st.next(), out_fac = st.next(), out_alpha = st.next();
        svm_attribute(st, request, bump, fw, out_color, out_fac, out_alpha);
        break;
      }
      case kSvm_GEOMETRY_VECTOR: {
        int which = st.next(), bump = st.next();
        float fw = st.in1();
        st.store3(st.next(), svm_geometry_vector(s, sd, which, bump, fw));
        break;
      }
      case kSvm_GEOMETRY_FLOAT: {
        int which = st.next();
        st.store1(st.next(), svm_geometry_float(sd, which));
        break;
      }
      case kSvm_OBJECT_INFO_VECTOR: {
        int which = st.next();
        st.store3(st.next(), svm_object_info_vector(s, sd, which));
        break;
      }
      case kSvm_OBJECT_INFO_FLOAT: {
        int which = st.next();
        float material_index = st.in1();
        st.store1(st.next(), svm_object_info_float(s, sd, which, material_index));
        break;
      }
      case kSvm_LIGHT_PATH: {
        int which = st.next();
        st.store1(st.next(), svm_light_path(sd, which));
        break;
      }
      case kSvm_FRESNEL: {
        float ior = st.in1();
        float3 n = st.load3_or(st.next(), sd.N);
        st.store1(st.next(), svm_fresnel(sd, ior, n));
        break;
      }
      case kSvm_LAYER_WEIGHT: {
        float blend = st.in1();
        float3 n = st.load3_or(st.next(), sd.N);
        float fresnel, facing;
        svm_layer_weight(sd, blend, n, fresnel, facing);
        st.store1(st.next(), fresnel);
        st.store1(st.next(), facing);
        break;
      }
      case kSvm_NORMAL: {
        float3 direction = normalize(st.in3());
        float3 n = st.in3();
        st.store3(st.next(), direction);
        st.store1(st.next(), dot(direction, normalize(n)));
        break;
      }
      case kSvm_TANGENT: {
        int direction = st.next(), axis = st.next();
        int request = prog.attributes[st.next()];
        st.store3(st.next(), svm_tangent(s, sd, direction, axis, request));
        break;
      }
      case kSvm_NORMAL_MAP: {
        int space = st.next();
        int request = prog.attributes[st.next()];
        float strength = st.in1();
        float3 color = st.in3();
        st.store3(st.next(), svm_normal_map(s, sd, space, request, strength, color));
        break;
      }
      case kSvm_BUMP: {
        bool invert = st.next() != 0;
        float strength = st.in1(), distance = st.in1(), fw = st.in1();
        float hc = st.in1(), hx = st.in1(), hy = st.in1();
        float3 n = st.load3_or(st.next(), sd.N);
        st.store3(st.next(), svm_bump(sd, invert, strength, distance, fw, hc, hx, hy, n));
        break;
      }
      case kSvm_TEX_IMAGE: {
        int tex = st.next();
        int interp = st.next(), ext = st.next(), projection = st.next();
        bool alpha_used = st.next() != 0;
        float3 co = st.in3();
        int out_color = st.next(), out_alpha = st.next();
        int32_t index = tex < 0 ? -1 : prog.textures[tex];
        Texel4 r = svm_image_flat(s, index, interp, ext, projection, alpha_used, co);
        st.store3(out_color, make3(r.v[0], r.v[1], r.v[2]));
        st.store1(out_alpha, r.v[3]);
        break;
      }
      case kSvm_TEX_IMAGE_BOX: {
        int tex = st.next();
        int interp = st.next(), ext = st.next();
        float blend = st.in1();
        bool alpha_used = st.next() != 0;
        float3 co = st.in3();
        int out_color = st.next(), out_alpha = st.next();
        int32_t index = tex < 0 ? -1 : prog.textures[tex];
        float3 n_object = world_to_object_normal(s, sd, sd.N);
        Texel4 r = svm_image_box(s, n_object, index, interp, ext, blend, alpha_used, co);
        st.store3(out_color, make3(r.v[0], r.v[1], r.v[2]));
        st.store1(out_alpha, r.v[3]);
        break;
      }
      case kSvm_MIX_CLOSURE: {
        float fac = saturatef(st.in1());
        float w = st.load1_or(st.next(), 1.0f);
        st.store1(st.next(), w * (1.0f - fac));
        st.store1(st.next(), w * fac);
        break;
      }
      case kSvm_PRINCIPLED_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        PrincipledInputs in;
        in.multiscatter = st.next() == 1;
        in.base_color = st.in3();
        in.metallic = st.in1();
        in.roughness = st.in1();
        in.ior = st.in1();
        in.alpha = st.in1();
        in.normal = st.load3_or(st.next(), sd.N);
        in.diffuse_roughness = st.in1();
        in.subsurface_weight = st.in1();
        in.subsurface_radius = st.in3();
        in.subsurface_scale = st.in1();
        in.subsurface_ior = st.in1();
        in.subsurface_anisotropy = st.in1();
        in.specular_ior_level = st.in1();
        in.specular_tint = st.in3();
        in.anisotropic = st.in1();
        in.anisotropic_rotation = st.in1();
        int32_t tangent = st.next();
        in.has_tangent = tangent != kSvmNone;
        in.tangent = st.load3_or(tangent, make3(0.0f));
        in.transmission_weight = st.in1();
        in.coat_weight = st.in1();
        in.coat_roughness = st.in1();
        in.coat_ior = st.in1();
        in.coat_tint = st.in3();
        in.coat_normal = st.load3_or(st.next(), in.normal);
        in.sheen_weight = st.in1();
        in.sheen_roughness = st.in1();
        in.sheen_tint = st.in3();
        in.emission_color = st.in3();
        in.emission_strength = st.in1();
        in.thin_film_thickness = st.in1();
        in.thin_film_ior = st.in1();
        if (w != 0.0f) principled_bsdf(cl, tables, sd, in, w);
        break;
      }
      case kSvm_DIFFUSE_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        float3 color = st.in3();
        float roughness = st.in1();
        float3 n = safe_normalize_or(st.load3_or(st.next(), sd.N), sd.N);
        if (w != 0.0f && lobes_wanted) add_diffuse(cl, sd, color * w, n, roughness < 1e-5f ? 0.0f : roughness, saturate3(color));
        break;
      }
      case kSvm_GLOSSY_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        int distribution = st.next();
        float3 color = st.in3();
        float roughness = st.in1(), anisotropy = st.in1(), rotation = st.in1();
        float3 n = st.load3_or(st.next(), sd.N);
        int32_t tangent = st.next();
        if (w != 0.0f && lobes_wanted)
          glossy_bsdf(cl, tables, sd, w, distribution, color, roughness, anisotropy, rotation, n,
                      st.load3_or(tangent, make3(0.0f)), tangent != kSvmNone);
        break;
      }
      case kSvm_METALLIC_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        int distribution = st.next(), fresnel = st.next();
        float3 base = st.in3(), edge = st.in3(), n_ior = st.in3(), k = st.in3();
        float roughness = st.in1(), anisotropy = st.in1(), rotation = st.in1();
        float3 n = st.load3_or(st.next(), sd.N);
        int32_t tangent = st.next();
        st.in1();  // thin film thickness: not rendered (docs/scene-dict.md, Node types)
        st.in1();
        if (w != 0.0f && lobes_wanted)
          metallic_bsdf(cl, tables, sd, w, distribution, fresnel, base, edge, n_ior, k, roughness, anisotropy, rotation,
                        n, st.load3_or(tangent, make3(0.0f)), tangent != kSvmNone);
        break;
      }
      case kSvm_GLASS_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        int distribution = st.next();
        float3 color = st.in3();
        float roughness = st.in1(), ior = st.in1();
        float3 n = st.load3_or(st.next(), sd.N);
        st.in1();  // thin film
        st.in1();
        if (w != 0.0f && lobes_wanted) glass_bsdf(cl, tables, sd, w, distribution, color, roughness, ior, n);
        break;
      }
      case kSvm_REFRACTION_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        int distribution = st.next();
        float3 color = st.in3();
        float roughness = st.in1(), ior = st.in1();
        float3 n = st.load3_or(st.next(), sd.N);
        if (w != 0.0f && lobes_wanted) refraction_bsdf(cl, sd, w, distribution, color, roughness, ior, n);
        break;
      }
      case kSvm_TRANSPARENT_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        float3 color = st.in3();
        if (w != 0.0f && lobes_wanted) closure_add_transparent(cl, color * w, sd.N);
        break;
      }
      case kSvm_TRANSLUCENT_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        float3 color = st.in3();
        float3 n = st.load3_or(st.next(), sd.N);
        if (w != 0.0f && lobes_wanted) translucent_bsdf(cl, sd, w, color, n);
        break;
      }
      case kSvm_SHEEN_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        st.next();  // distribution: both rendered by the one sheen lobe (sheen.h)
        float3 color = st.in3();
        float roughness = st.in1();
        float3 n = safe_normalize_or(st.load3_or(st.next(), sd.N), sd.N);
        if (w != 0.0f && lobes_wanted) add_sheen(cl, tables, sd, color * w, n, saturatef(roughness), nullptr);
        break;
      }
      case kSvm_EMISSION:
      case kSvm_BACKGROUND: {
        float w = st.load1_or(st.next(), 1.0f);
        float3 color = st.in3();
        float strength = st.in1();
        cl.emission += color * (strength * w);
        break;
      }
      case kSvm_HOLDOUT: {
        float w = st.load1_or(st.next(), 1.0f);
        cl.holdout += make3(w);
        break;
      }
      case kSvm_TRANSFORM_POINT: {
        int first = st.next();
        st.next();  // count: 12, checked by the host
        float3 p = st.in3();
        Affine m;
        for (int i = 0; i < 12; ++i) m.m[i] = prog.constants[first + i];
        st.store3(st.next(), m.point(p));
        break;
      }
      // Procedural textures and colour, converter and vector nodes (procedural_nodes.h).
      case kSvm_TEX_NOISE:
      case kSvm_TEX_VORONOI:
      case kSvm_TEX_CHECKER:
      case kSvm_TEX_GRADIENT:
      case kSvm_TEX_MAGIC:
      case kSvm_TEX_WAVE:
      case kSvm_TEX_BRICK:
      case kSvm_TEX_WHITE_NOISE:
      case kSvm_MAP_RANGE:
      case kSvm_MAP_RANGE_VECTOR:
      case kSvm_CLAMP:
      case kSvm_INVERT:
      case kSvm_GAMMA:
      case kSvm_HUE_SATURATION:
      case kSvm_BRIGHT_CONTRAST:
      case kSvm_COLOR_RAMP:
      case kSvm_CURVES:
      case kSvm_FLOAT_CURVE:
      case kSvm_VECTOR_ROTATE:
      case kSvm_VECTOR_TRANSFORM:
      case kSvm_CAMERA_DATA:
      case kSvm_LIGHT_FALLOFF:
      case kSvm_INDEX_RANDOM:
      case kSvm_BLACKBODY:
      case kSvm_WAVELENGTH:
      case kSvm_TEX_GABOR:
      case kSvm_WIREFRAME:
        svm_procedural_node(op, st);
        break;
      case kSvm_TEX_ENVIRONMENT: {
        int tex = st.next();
        int interp = st.next(), projection = st.next();
        float3 co = st.in3();
        int32_t index = tex < 0 ? -1 : prog.textures[tex];
        Texel4 r = svm_environment(s, index, interp, projection, co);
        st.store3(st.next(), make3(r.v[0], r.v[1], r.v[2]));
        break;
      }
      case kSvm_HAIR_INFO: {
        HairInfo h = svm_hair_info(s, sd);
        st.store1(st.next(), h.is_strand);
        st.store1(st.next(), h.intercept);
        st.store1(st.next(), h.length);
        st.store1(st.next(), h.thickness);
        st.store3(st.next(), h.tangent_normal);
        st.store1(st.next(), h.random);
        break;
      }
      case kSvm_PRINCIPLED_HAIR_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        PrincipledHairInputs in;
        in.model = st.next();
        in.parametrization = st.next();
        in.color = st.in3();
        in.melanin = st.in1();
        in.melanin_redness = st.in1();
        in.tint = st.in3();
        in.absorption = st.in3();
        in.roughness = st.in1();
        in.radial_roughness = st.in1();
        in.coat = st.in1();
        in.ior = st.in1();
        in.offset = st.in1();
        in.random_roughness = st.in1();
        in.random_color = st.in1();
        in.random = st.in1();
        bool random_from_curve = st.next() != 0;
        in.lobe_r = st.in1();
        in.lobe_tt = st.in1();
        in.lobe_trt = st.in1();
        if (w != 0.0f && lobes_wanted) {
          // Cycles: with Random unlinked, the curve's Curves Info › Random where there is one.
          if (random_from_curve && sd.curve) {
            const GeometryView &g = s.geometries[s.instances[sd.instance].geometry];
            in.random = g.curve_random[g.curve_segments[sd.prim].curve];
          }
          float3 dPdu, dPdv;
          sd_dPdudv(s, sd, dPdu, dPdv);
          principled_hair_bsdf(cl, sd, dPdu, in, w);
        }
        break;
      }
      case kSvm_HAIR_BSDF: {
        float w = st.load1_or(st.next(), 1.0f);
        int component = st.next();
        float3 color = st.in3();
        float offset = st.in1(), roughness_u = st.in1(), roughness_v = st.in1();
        int32_t tangent = st.next();
        if (w != 0.0f && lobes_wanted) {
          float3 dPdu, dPdv;
          sd_dPdudv(s, sd, dPdu, dPdv);
          hair_bsdf(cl, sd, dPdu, dPdv, w, component, color, offset, roughness_u, roughness_v,
                    st.load3_or(tangent, make3(0.0f)), tangent != kSvmNone);
        }
        break;
      }
      case kSvm_TEX_SKY: {
        int count;
        const float *data = svm_block(st, count);
        float3 dir = st.in3();
        st.store3(st.next(), svm_sky(data, count, dir));
        break;
      }
      default:
        st.pc = prog.code_size;  // unreachable for verified programs
        break;
    }
  }
}

OPTICA_HD_CALLED void svm_eval(const KernelScene &s, const ShaderProgramView &prog, ShaderData &sd,
                               ClosureList &cl) {
  SvmState st;
  svm_run(s, prog, sd, st, cl);
}

}  // namespace optica
