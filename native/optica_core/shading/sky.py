"""The Sky Texture's host-side precompute: the per-node constants the kernel's sky models
(native/src/kernel/svm/sky.h) evaluate per direction, computed as Cycles' SkyTextureNode does."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

PREETHAM = 0.0  # SkyModel in kernel/svm/sky.h
# The sky types the kernel renders; the others are treated as muted by the Blender side.
EVALUATED = ("PREETHAM", "MULTIPLE_SCATTERING")


def _perez(lam, theta: float, gamma: float) -> float:
    return (1.0 + lam[0] * math.exp(lam[1] / math.cos(theta))) * (
        1.0 + lam[2] * math.exp(lam[3] * gamma) + lam[4] * math.cos(gamma) ** 2)


def preetham(sun_direction, turbidity: float) -> np.ndarray:
    """Preetham, Shirley & Smits' daylight for a sun along `sun_direction` (world space, need not
    be unit; a zero vector means the zenith) and the atmosphere's turbidity: the sun's zenith
    angle and azimuth, the zenith's luminance Y and chromaticity x, y, each normalised by its
    Perez distribution towards the zenith, and the three Perez coefficient sets."""
    d = np.asarray(sun_direction, np.float64)
    n = float(np.linalg.norm(d))
    d = d / n if n > 0.0 else np.array([0.0, 0.0, 1.0])
    theta = math.acos(max(-1.0, min(1.0, d[2])))
    phi = math.atan2(d[0], d[1])
    t = float(turbidity)
    t2, th2 = t * t, theta * theta
    th3 = th2 * theta
    chi = (4.0 / 9.0 - t / 120.0) * (math.pi - 2.0 * theta)
    zenith_Y = ((4.0453 * t - 4.9710) * math.tan(chi) - 0.2155 * t + 2.4192) * 0.06
    zenith_x = ((0.00166 * th3 - 0.00375 * th2 + 0.00209 * theta) * t2
                + (-0.02903 * th3 + 0.06377 * th2 - 0.03202 * theta + 0.00394) * t
                + (0.11693 * th3 - 0.21196 * th2 + 0.06052 * theta + 0.25886))
    zenith_y = ((0.00275 * th3 - 0.00610 * th2 + 0.00317 * theta) * t2
                + (-0.04214 * th3 + 0.08970 * th2 - 0.04153 * theta + 0.00516) * t
                + (0.15346 * th3 - 0.26756 * th2 + 0.06670 * theta + 0.26688))
    perez_Y = (0.1787 * t - 1.4630, -0.3554 * t + 0.4275, -0.0227 * t + 5.3251, 0.1206 * t - 2.5771,
               -0.0670 * t + 0.3703)
    perez_x = (-0.0193 * t - 0.2592, -0.0665 * t + 0.0008, -0.0004 * t + 0.2125, -0.0641 * t - 0.8989,
               -0.0033 * t + 0.0452)
    perez_y = (-0.0167 * t - 0.2608, -0.0950 * t + 0.0092, -0.0079 * t + 0.2102, -0.0441 * t - 1.6537,
               -0.0109 * t + 0.0529)
    # The model's zenith values hold at the zenith: divide out what Perez gives there.
    zenith_Y /= _perez(perez_Y, 0.0, theta)
    zenith_x /= _perez(perez_x, 0.0, theta)
    zenith_y /= _perez(perez_y, 0.0, theta)
    return np.array([PREETHAM, theta, phi, zenith_Y, zenith_x, zenith_y, *perez_Y, *perez_x, *perez_y], np.float32)


# ---- Multiple Scattering (Blender 5.0's default): García Liñán's four-wavelength atmosphere with
# its multiple-scattering fit, ray-marched into a 512 × 256 XYZ table over azimuth (from the
# sun) and a non-linear elevation, plus the sun disc's colour at its lowest and highest point.
# Constants of the model, in km and per km, as Cycles' sky_multiple_scattering.cpp uses them.
NISHITA = 1.0  # SkyModel in kernel/svm/sky.h
_W, _H = 512, 256
_EARTH, _THICKNESS = 6371.0, 100.0
_ATMOSPHERE = _EARTH + _THICKNESS
_STEPS = 64
_LUT_X, _LUT_Y = 256, 64
_SUN = np.array([1.679, 1.828, 1.986, 1.307])  # irradiance at 630, 560, 490, 430 nm
_MOLECULAR_SCATTERING = np.array([6.605e-3, 1.067e-2, 1.842e-2, 3.156e-2])
_OZONE_CROSS_SECTION = np.array([3.472e-25, 3.914e-25, 1.349e-25, 11.03e-27])
_OZONE_DOBSON = 334.5
_AEROSOL_ABSORPTION = np.array([2.8722e-24, 4.6168e-24, 7.9706e-24, 1.3578e-23])
_AEROSOL_SCATTERING = np.array([1.5908e-22, 1.7711e-22, 2.0942e-22, 2.4033e-22])
_AEROSOL_BASE, _AEROSOL_BACKGROUND, _AEROSOL_SCALE = 1.3681e20, 2e6, 0.73
_G = 0.8
_GROUND_ALBEDO = 0.3
_TO_XYZ = np.array([[53.386917738564668023, 22.981337506691024754, 0.0],
                    [43.904844466369358263, 71.347795700053393866, 0.102506867965741307],
                    [1.6137278251608962005, 18.422960591455485011, 31.742921188390805758],
                    [20.762668673810577145, 2.3614213523314368527, 110.48009643252140334]])
_MS_FIT = 0.02 * np.array([0.217, 0.347, 0.594, 1.0])


def _sphere_exit(origin_z, d, radius):
    """Distance along unit directions d (…, 3) from (0, 0, origin_z) to a sphere around the
    Earth's centre: the far hit from inside, the near hit from outside, −1 for a miss."""
    b = origin_z * d[..., 2]
    c = origin_z * origin_z - radius * radius
    disc = b * b - c
    root = np.sqrt(np.maximum(disc, 0.0))
    t = np.where(disc >= b * b, -b + root, -b - root)
    return np.where((disc < 0.0) | ((c > 0.0) & (b > 0.0)), -1.0, t)


def _coefficients(h, air, aerosol, ozone):
    """(extinction, molecular scattering, aerosol scattering), each (…, 4), at altitudes h (km)."""
    h = np.asarray(h, np.float64)[..., None]
    aerosol_density = _AEROSOL_BASE * (np.exp(-h / _AEROSOL_SCALE) + _AEROSOL_BACKGROUND / _AEROSOL_BASE) * aerosol
    log_h = np.log(np.maximum(h, 1e-4))
    ozone_density = 3.78547397e20 * np.exp(-((log_h - 3.22261) ** 2) * 5.55555555 - log_h)
    molecular_absorption = _OZONE_CROSS_SECTION * _OZONE_DOBSON * ozone_density * ozone
    molecular_scattering = _MOLECULAR_SCATTERING * np.exp(-0.07771971 * h ** 1.16364243) * air
    aerosol_scattering = _AEROSOL_SCATTERING * aerosol_density
    extinction = _AEROSOL_ABSORPTION * aerosol_density + aerosol_scattering + molecular_absorption + molecular_scattering
    return extinction, molecular_scattering, aerosol_scattering


def _transmittance(cos_theta, normalized_altitude, densities):
    """Transmittance (…, 4) towards a sun at cos_theta from the zenith, from an altitude given
    as a fraction of the atmosphere's thickness (64 midpoint steps)."""
    cos_theta = np.asarray(cos_theta, np.float64)
    r = _EARTH + np.asarray(normalized_altitude, np.float64) * _THICKNESS
    cos_theta, r = np.broadcast_arrays(cos_theta, r)
    d = np.stack([-np.sqrt(np.maximum(1.0 - cos_theta ** 2, 0.0)), np.zeros_like(cos_theta), cos_theta], -1)
    t_end = _sphere_exit(r, d, _ATMOSPHERE)
    dt = t_end / _STEPS
    depth = np.zeros(cos_theta.shape + (4,))
    for step in range(_STEPS):
        t = (step + 0.5) * dt
        x, z = d[..., 0] * t, r + d[..., 2] * t
        altitude = np.maximum(np.sqrt(x * x + z * z) - _EARTH, 0.0)
        depth += _coefficients(altitude, *densities)[0] * dt[..., None]
    return np.exp(-depth)


def _lut_lookup(lut, u, v):
    """Bilinear lookup of the transmittance table (rows: altitude, columns: cos θ), clamped."""
    x = (_LUT_X - 1) * np.clip(u, 0.0, 1.0)
    y = (_LUT_Y - 1) * np.clip(v, 0.0, 1.0)
    x1, y1 = x.astype(np.int64), y.astype(np.int64)
    x2, y2 = np.minimum(x1 + 1, _LUT_X - 1), np.minimum(y1 + 1, _LUT_Y - 1)
    fx, fy = (x - x1)[..., None], (y - y1)[..., None]
    bottom = lut[y1, x1] * (1 - fx) + lut[y1, x2] * fx
    top = lut[y2, x1] * (1 - fx) + lut[y2, x2] * fx
    return bottom * (1 - fy) + top * fy


def _sky_table(sun_elevation, altitude_km, densities) -> np.ndarray:
    """The (256, 512, 3) XYZ table: rows from straight down to straight up (elevation
    sign(l)·l²·π/2, l from −1 to 1), columns the azimuth from the sun (mirrored halves)."""
    u = (np.arange(_LUT_X) / (_LUT_X - 1)) * 2.0 - 1.0
    v = np.arange(_LUT_Y) / (_LUT_Y - 1)
    lut = _transmittance(u[None, :], v[:, None], densities)
    to_sun_column = lut[:, -1]  # cos θ = 1

    half = _W // 2
    az = 2.0 * math.pi * (np.arange(half) + 0.5) / _W
    l = 2.0 * (np.arange(_H) + 0.5) / _H - 1.0
    elev = np.sign(l) * l * l * (0.5 * math.pi)
    ce = np.cos(elev)[:, None]
    d = np.stack(np.broadcast_arrays(ce * np.cos(az)[None, :], ce * np.sin(az)[None, :], np.sin(elev)[:, None]), -1)
    r0 = _EARTH + altitude_km
    atmosphere, ground = _sphere_exit(r0, d, _ATMOSPHERE), _sphere_exit(r0, d, _EARTH)
    t_end = np.where(ground < 0.0, atmosphere, ground)
    cz = math.cos(0.5 * math.pi - sun_elevation)
    sun = np.array([-math.sqrt(max(1.0 - cz * cz, 0.0)), 0.0, cz])
    mu = -(d @ sun)
    molecular_phase = (3.0 / 16.0 / math.pi) * (1.0 + mu * mu)
    den = 1.0 + _G * _G + 2.0 * _G * mu
    aerosol_phase = (1.0 / (4.0 * math.pi)) * (1.0 - _G * _G) / (den * np.sqrt(den))
    dt = t_end / _STEPS
    radiance = np.zeros(d.shape[:2] + (4,))
    through = np.ones_like(radiance)
    for step in range(_STEPS):
        t = (step + 0.5) * dt
        p = d * t[..., None]
        p[..., 2] += r0
        dist = np.linalg.norm(p, axis=-1)
        altitude = np.maximum(dist - _EARTH, 0.0)
        hn = altitude / _THICKNESS
        cos_sun = (p @ sun) / dist
        extinction, molecular, aerosol = _coefficients(altitude, *densities)
        to_sun = _lut_lookup(lut, cos_sun * 0.5 + 0.5, hn)
        # Second-order light from the ground plus the fit of the atmosphere's multiple scattering.
        omega = 2.0 * math.pi * (1.0 - np.sqrt(np.maximum(1.0 - (_EARTH / dist) ** 2, 0.0)))
        to_ground = _lut_lookup(lut, cos_sun * 0.5 + 0.5, np.zeros_like(hn))
        yv = (_LUT_Y - 1) * np.clip(hn, 0.0, 1.0)
        y1 = yv.astype(np.int64)
        fy = (yv - y1)[..., None]
        at_height = to_sun_column[y1] * (1 - fy) + to_sun_column[np.minimum(y1 + 1, _LUT_Y - 1)] * fy
        ground_light = ((1.0 / (4.0 * math.pi)) * omega[..., None] * (_GROUND_ALBEDO / math.pi) * to_ground
                        * (to_sun_column[0] / at_height) * cos_sun[..., None])
        ms = _MS_FIT / (1.0 + 5.0 * np.exp(-17.92 * cos_sun))[..., None] + ground_light
        source = _SUN * (molecular * (molecular_phase[..., None] * to_sun + ms)
                         + aerosol * (aerosol_phase[..., None] * to_sun + ms))
        step_through = np.exp(-dt[..., None] * extinction)
        radiance += through * (source - source * step_through) / np.maximum(extinction, 1e-7)
        through *= step_through
    xyz = radiance @ _TO_XYZ
    return np.concatenate([xyz, xyz[:, ::-1]], axis=1)


def _wrap_sun(elevation: float, rotation: float) -> tuple[float, float]:
    """The sun's elevation in [−π/2, π/2] and rotation as Cycles' kernel holds them
    (SkyTextureNode::simplify_settings): an elevation past the zenith turns the sun around."""
    e = math.fmod(elevation, 2.0 * math.pi)
    if abs(e) >= math.pi:
        e -= math.copysign(2.0, e) * math.pi
    if e >= 0.5 * math.pi or e <= -0.5 * math.pi:
        e = math.copysign(math.pi, e) - e
        rotation += math.pi
    rotation = math.fmod(rotation, 2.0 * math.pi)
    if rotation < 0.0:
        rotation += 2.0 * math.pi
    return e, 2.0 * math.pi - rotation


@lru_cache(maxsize=8)
def multiple_scattering(sun_disc: bool, sun_size: float, sun_intensity: float, sun_elevation: float,
                        sun_rotation: float, altitude: float, air: float, aerosol: float, ozone: float) -> np.ndarray:
    """The kernel's data for a Multiple Scattering sky: model, sun disc colours (XYZ, lowest and
    highest point), elevation, rotation, angular diameter (−1: no disc), intensity, the
    elevation below which the Earth hides the sun, table width and height, then the table."""
    elevation, rotation = _wrap_sun(sun_elevation, sun_rotation)
    densities = (air, aerosol, ozone)
    km = min(max(altitude, 1.0), 99999.0) / 1000.0
    table = _sky_table(elevation, km, densities)
    diameter = max(sun_size, 0.0005)
    half = 0.5 * diameter
    solid_angle = 2.0 * math.pi * (1.0 - math.cos(half))
    disc = [(_SUN * _transmittance(math.cos(0.5 * math.pi - e), km / _THICKNESS, densities) / solid_angle) @ _TO_XYZ
            for e in (elevation - half, elevation + half)]
    horizon = 0.5 * math.pi - math.asin(_EARTH / (_EARTH + altitude / 1000.0))
    header = [NISHITA, *disc[0], *disc[1], elevation, rotation, diameter if sun_disc else -1.0, sun_intensity,
              -horizon, _W, _H]
    data = np.concatenate([np.asarray(header, np.float64), table.reshape(-1)]).astype(np.float32)
    data.setflags(write=False)
    return data


def sun_guide(data: np.ndarray) -> tuple:
    """(x, y, z, half angle) of the sun disc of multiple_scattering()'s data: where the kernel's
    sun_dir points (svm/sky.h)."""
    elevation, rotation, diameter = float(data[7]), float(data[8]), float(data[9])
    ce = math.cos(elevation)
    return (-ce * math.sin(rotation), ce * math.cos(rotation), math.sin(elevation), 0.5 * diameter)
