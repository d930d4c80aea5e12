"""The Sky Texture's host-side precompute: the per-node constants the kernel's sky models
(native/src/kernel/svm/sky.h) evaluate per direction, computed as Cycles' SkyTextureNode does."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

PREETHAM = 0.0  # SkyModel in kernel/svm/sky.h


def _perez(lam, theta: float, gamma: float) -> float:
    return (1.0 + lam[0] * math.exp(lam[1] / math.cos(theta))) * (
        1.0 + lam[2] * math.exp(lam[3] * gamma) + lam[4] * math.cos(gamma) ** 2)


def _sun_angles(sun_direction) -> tuple[float, float]:
    """The sun's zenith angle and azimuth (from +Y towards +X, as Cycles measures it) for a
    direction in world space that need not be unit; a zero vector means the zenith."""
    d = np.asarray(sun_direction, np.float64)
    n = float(np.linalg.norm(d))
    d = d / n if n > 0.0 else np.array([0.0, 0.0, 1.0])
    return math.acos(max(-1.0, min(1.0, d[2]))), math.atan2(d[0], d[1])


def preetham(sun_direction, turbidity: float) -> np.ndarray:
    """Preetham, Shirley & Smits' daylight for a sun along `sun_direction` (world space, need not
    be unit; a zero vector means the zenith) and the atmosphere's turbidity: the sun's zenith
    angle and azimuth, the zenith's luminance Y and chromaticity x, y, each normalised by its
    Perez distribution towards the zenith, and the three Perez coefficient sets."""
    theta, phi = _sun_angles(sun_direction)
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


# ---- Hosek / Wilkie: the analytic sky of "An Analytic Model for Full Spectral Sky-Dome Radiance"
# in its CIE XYZ form, as Cycles' SkyTextureNode sets it up: per channel nine distribution
# coefficients and an overall radiance, each blended from the published dataset
# (hosek_wilkie_data.py) over turbidity (linear between integers), ground albedo (linear between
# 0 and 1) and the sun's elevation (a quintic Bézier curve over the cube root of elevation / 90°).
HOSEK_WILKIE = 2.0  # SkyModel in kernel/svm/sky.h
HOSEK_TURBIDITY = (1.0, 10.0)  # the dataset's range, Blender's (the node's property clamps to it)
_BERNSTEIN5 = np.array([1.0, 5.0, 10.0, 10.0, 5.0, 1.0])


def _hosek_blend(table, turbidity: float, albedo: float, s: float):
    """table (…, 2 albedos, 10 turbidities, 6 control points, …) at (turbidity, albedo, s)."""
    k = np.arange(6)
    bezier = _BERNSTEIN5 * (1.0 - s) ** (5 - k) * s ** k
    low = int(turbidity)
    frac = turbidity - low
    out = 0.0
    for t, wt in ((low, 1.0 - frac), (low + 1, frac)):
        if t > 10:  # turbidity 10 exactly
            continue
        for a, wa in ((0, 1.0 - albedo), (1, albedo)):
            curve = np.tensordot(bezier, table[:, a, t - 1], axes=([0], [1]))  # (channels, …)
            out = out + wa * wt * curve
    return out


@lru_cache(maxsize=32)
def _hosek_wilkie(theta: float, turbidity: float, albedo: float) -> tuple:
    from .hosek_wilkie_data import CONFIG, RADIANCE

    s = ((0.5 * math.pi - theta) / (0.5 * math.pi)) ** (1.0 / 3.0)
    config = _hosek_blend(CONFIG, turbidity, albedo, s)  # (3, 9)
    radiance = _hosek_blend(RADIANCE, turbidity, albedo, s)  # (3,)
    return tuple(radiance), tuple(config.reshape(-1))


def hosek_wilkie(sun_direction, turbidity: float, ground_albedo: float) -> np.ndarray:
    """Hosek & Wilkie's sky for a sun along `sun_direction` (world space, need not be unit; a zero
    vector means the zenith; below the horizon it is held on the horizon, as Cycles), turbidity
    in 1 … 10 and ground albedo in 0 … 1: the sun's zenith angle and azimuth (as preetham()),
    the overall X, Y, Z radiance, then the nine coefficients for X, for Y and for Z."""
    t, a = float(turbidity), float(ground_albedo)
    if not HOSEK_TURBIDITY[0] <= t <= HOSEK_TURBIDITY[1]:
        raise ValueError(f"turbidity {turbidity!r} is outside Hosek / Wilkie's {HOSEK_TURBIDITY[0]:g} … "
                         f"{HOSEK_TURBIDITY[1]:g}")
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"ground_albedo {ground_albedo!r} is outside 0 … 1")
    theta, phi = _sun_angles(sun_direction)
    theta = min(theta, 0.5 * math.pi)
    radiance, config = _hosek_wilkie(theta, t, a)
    return np.array([HOSEK_WILKIE, theta, phi, *radiance, *config], np.float32)


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
    """(extinction, molecular scattering, aerosol scattering), each (…, 4), at altitudes h (km):
    three profiles over height (aerosol, ozone, molecules) times their spectra."""
    h = np.asarray(h, np.float64)
    aerosol_density = (_AEROSOL_BASE * np.exp(-h / _AEROSOL_SCALE) + _AEROSOL_BACKGROUND) * aerosol
    log_h = np.log(np.maximum(h, 1e-4))
    ozone_density = 3.78547397e20 * np.exp(-((log_h - 3.22261) ** 2) * 5.55555555 - log_h) * ozone
    molecular_density = np.exp(-0.07771971 * h ** 1.16364243) * air
    spectra = np.stack([_AEROSOL_ABSORPTION + _AEROSOL_SCATTERING, _OZONE_CROSS_SECTION * _OZONE_DOBSON,
                        _MOLECULAR_SCATTERING])
    extinction = np.stack([aerosol_density, ozone_density, molecular_density], -1) @ spectra
    return (extinction, molecular_density[..., None] * _MOLECULAR_SCATTERING,
            aerosol_density[..., None] * _AEROSOL_SCATTERING)


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


class _Lerp:
    """Linear interpolation weights over n samples of [0, 1] at positions t (clamped): the lower
    sample, the next, and the fraction towards it (…, 1), shared by every lookup at t."""

    def __init__(self, t, n: int):
        x = (n - 1) * np.clip(t, 0.0, 1.0)
        self.lo = x.astype(np.int64)
        self.hi = np.minimum(self.lo + 1, n - 1)
        self.f = (x - self.lo)[..., None]

    def __call__(self, table):  # table: (n, c)
        lo = np.take(table, self.lo, axis=0)
        return lo + (np.take(table, self.hi, axis=0) - lo) * self.f


def _sky_table(sun_elevation, altitude_km, densities) -> np.ndarray:
    """The (256, 512, 3) XYZ table: rows from straight down to straight up (elevation
    sign(l)·l²·π/2, l from −1 to 1), columns the azimuth from the sun (mirrored halves)."""
    u = (np.arange(_LUT_X) / (_LUT_X - 1)) * 2.0 - 1.0
    v = np.arange(_LUT_Y) / (_LUT_Y - 1)
    lut = _transmittance(u[None, :], v[:, None], densities)  # (altitude, cos θ, 4)
    to_sun_column = lut[:, -1]  # cos θ = 1
    flat = lut.reshape(-1, 4)

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
    molecular_phase = ((3.0 / 16.0 / math.pi) * (1.0 + mu * mu))[..., None]
    den = 1.0 + _G * _G + 2.0 * _G * mu
    aerosol_phase = ((1.0 / (4.0 * math.pi)) * (1.0 - _G * _G) / (den * np.sqrt(den)))[..., None]
    dt = t_end / _STEPS
    # The sample points as functions of t: |p|² = t² + 2·t·r0·d_z + r0², p·sun = t·(d·sun) + r0·sun_z.
    d_sun, d_z = d @ sun, d[..., 2]
    radiance = np.zeros(d.shape[:2] + (4,))
    through = np.ones_like(radiance)
    ground_scale = (1.0 / (4.0 * math.pi)) * (_GROUND_ALBEDO / math.pi) * to_sun_column[0]
    for step in range(_STEPS):
        t = (step + 0.5) * dt
        dist = np.sqrt(t * t + 2.0 * r0 * t * d_z + r0 * r0)
        altitude = np.maximum(dist - _EARTH, 0.0)
        hn = altitude / _THICKNESS
        cos_sun = (t * d_sun + r0 * sun[2]) / dist
        extinction, molecular, aerosol = _coefficients(altitude, *densities)
        across = _Lerp(cos_sun * 0.5 + 0.5, _LUT_X)
        up = _Lerp(hn, _LUT_Y)
        # Bilinear in the transmittance table: along cos θ on the two altitude rows, then between.
        low_row, high_row = up.lo * _LUT_X, up.hi * _LUT_X
        corner = np.take(flat, low_row + across.lo, axis=0)
        bottom = corner + (np.take(flat, low_row + across.hi, axis=0) - corner) * across.f
        corner = np.take(flat, high_row + across.lo, axis=0)
        top = corner + (np.take(flat, high_row + across.hi, axis=0) - corner) * across.f
        to_sun = bottom + (top - bottom) * up.f
        # Second-order light from the ground plus the fit of the atmosphere's multiple scattering.
        omega = 2.0 * math.pi * (1.0 - np.sqrt(np.maximum(1.0 - (_EARTH / dist) ** 2, 0.0)))
        to_ground = across(lut[0])
        ground_light = (ground_scale / up(to_sun_column)) * to_ground * (omega * cos_sun)[..., None]
        ms = _MS_FIT / (1.0 + 5.0 * np.exp(-17.92 * cos_sun))[..., None] + ground_light
        source = _SUN * (molecular * (molecular_phase * to_sun + ms) + aerosol * (aerosol_phase * to_sun + ms))
        step_through = np.exp(-dt[..., None] * extinction)
        radiance += through * source * (1.0 - step_through) / np.maximum(extinction, 1e-7)
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


def _nishita_data(table: np.ndarray, disc, elevation: float, rotation: float, sun_disc: bool, diameter: float,
                  sun_intensity: float, altitude: float) -> np.ndarray:
    """The kernel's data for a Nishita-type sky (svm/sky.h reads both scattering types alike):
    model, sun disc colours (XYZ, lowest and highest point), elevation, rotation, angular
    diameter (−1: no disc), intensity, the elevation below which the Earth hides the sun (from
    the unclamped altitude in m, as Cycles' SKY_earth_intersection_angle), table width and
    height, then the (256, 512, 3) table."""
    horizon = 0.5 * math.pi - math.asin(_EARTH / (_EARTH + altitude / 1000.0))
    header = [NISHITA, *disc[0], *disc[1], elevation, rotation, diameter if sun_disc else -1.0, sun_intensity,
              -horizon, _W, _H]
    data = np.concatenate([np.asarray(header, np.float64), table.reshape(-1)]).astype(np.float32)
    data.setflags(write=False)
    return data


@lru_cache(maxsize=8)
def multiple_scattering(sun_disc: bool, sun_size: float, sun_intensity: float, sun_elevation: float,
                        sun_rotation: float, altitude: float, air: float, aerosol: float, ozone: float) -> np.ndarray:
    """The kernel's data for a Multiple Scattering sky (layout: _nishita_data)."""
    elevation, rotation = _wrap_sun(sun_elevation, sun_rotation)
    densities = (air, aerosol, ozone)
    km = min(max(altitude, 1.0), 99999.0) / 1000.0
    table = _sky_table(elevation, km, densities)
    diameter = max(sun_size, 0.0005)
    half = 0.5 * diameter
    solid_angle = 2.0 * math.pi * (1.0 - math.cos(half))
    disc = [(_SUN * _transmittance(math.cos(0.5 * math.pi - e), km / _THICKNESS, densities) / solid_angle) @ _TO_XYZ
            for e in (elevation - half, elevation + half)]
    return _nishita_data(table, disc, elevation, rotation, sun_disc, diameter, sun_intensity, altitude)


# ---- Single Scattering: Nishita's older model as Cycles' sky_single_scattering.cpp computes it —
# 21 wavelengths from 380 to 780 nm, Rayleigh and Mie scattering and ozone absorption along 32
# steps of each view ray, each lit by the sun through an 8-node Gauss–Laguerre optical depth;
# the same 512 × 256 XYZ table layout (upper half ray-marched at latitudes π/2·(y/128 − 1)² and
# longitudes 2π·x/512 − π from the sun, mirrored; the lower half the horizon row faded out) and
# the same sun disc pair, read by the same kernel model. Lengths in m.
_SS_EARTH, _SS_ATMOSPHERE = 6360e3, 6420e3
_SS_RAYLEIGH_SCALE, _SS_MIE_SCALE = 8e3, 1.2e3  # scale heights
_SS_MIE, _SS_MIE_EXTINCTION = 2e-5, 1.11 * 2e-5  # aerosol scattering and extinction per m
_SS_G = 0.76  # aerosol anisotropy
_SS_STEPS = 32
_SS_STEP_LAMBDA = 20.0  # nm between the sampled wavelengths
# Tables at 380, 400, …, 780 nm, as Cycles' sky_single_scattering.cpp tabulates them: the sun's
# irradiance on top of the atmosphere (W m⁻² nm⁻¹), the Rayleigh scattering and ozone absorption
# coefficients (m⁻¹), and the CIE 1931 2° colour matching functions.
_SS_IRRADIANCE = np.array([
    1.45756829855592995315, 1.56596305559738380175, 1.65148449067670455293, 1.71496242737209314555,
    1.75797983805020541226, 1.78256407885924539336, 1.79095108475838560302, 1.78541550133410664714,
    1.76815554864306845317, 1.74122069647250410362, 1.70647127164943679389, 1.66556087452739887134,
    1.61993437242451854274, 1.57083597368892080581, 1.51932335059305478886, 1.46628494965214395407,
    1.41245852740172450623, 1.35844961970384092709, 1.30474913844739281998, 1.25174963272610817455,
    1.19975998755420620867])
_SS_RAYLEIGH = np.array([
    5.424820087636473e-05, 4.418549866505454e-05, 3.635151910165377e-05, 3.017929012024763e-05,
    2.526320226989157e-05, 2.130859310621843e-05, 1.809838025320633e-05, 1.547057129129042e-05,
    1.330284977336850e-05, 1.150184784075764e-05, 9.99557429990163e-06, 8.72799973630707e-06,
    7.65513700977967e-06, 6.74217203751443e-06, 5.96134125832052e-06, 5.29034598065810e-06,
    4.71115687557433e-06, 4.20910481110487e-06, 3.77218381260133e-06, 3.39051255477280e-06,
    3.05591531679811e-06])
_SS_OZONE = np.array([
    3.25126849861e-09, 5.85395365047e-09, 1.977191155085e-08, 7.309568762914e-08, 2.0084561514287e-07,
    4.0383958096161e-07, 6.3551335912363e-07, 9.6707041180970e-07, 1.54797400424410e-06, 2.09038647223331e-06,
    2.46128056164565e-06, 2.73551299461512e-06, 2.15125863128643e-06, 1.59051840791988e-06, 1.12356197979857e-06,
    7.3527551487574e-07, 4.6450130357806e-07, 3.3096079921048e-07, 2.2512612292678e-07, 1.4879129266490e-07,
    1.6828623364192e-07])
_SS_CMF = np.array([
    [0.00136800000, 0.00003900000, 0.00645000100], [0.01431000000, 0.00039600000, 0.06785001000],
    [0.13438000000, 0.00400000000, 0.64560000000], [0.34828000000, 0.02300000000, 1.74706000000],
    [0.29080000000, 0.06000000000, 1.66920000000], [0.09564000000, 0.13902000000, 0.81295010000],
    [0.00490000000, 0.32300000000, 0.27200000000], [0.06327000000, 0.71000000000, 0.07824999000],
    [0.29040000000, 0.95400000000, 0.02030000000], [0.59450000000, 0.99500000000, 0.00390000000],
    [0.91630000000, 0.87000000000, 0.00165000100], [1.06220000000, 0.63100000000, 0.00080000000],
    [0.85444990000, 0.38100000000, 0.00019000000], [0.44790000000, 0.17500000000, 0.00002000000],
    [0.16490000000, 0.06100000000, 0.00000000000], [0.04677000000, 0.01700000000, 0.00000000000],
    [0.01135916000, 0.00410200000, 0.00000000000], [0.00289932700, 0.00104700000, 0.00000000000],
    [0.00069007860, 0.00024920000, 0.00000000000], [0.00016615050, 0.00006000000, 0.00000000000],
    [0.00004150994, 0.00001499000, 0.00000000000]]) * _SS_STEP_LAMBDA
# Optical depth (air, aerosol, ozone) → extinction per wavelength.
_SS_EXTINCTION = np.stack([_SS_RAYLEIGH, np.full(21, _SS_MIE_EXTINCTION), _SS_OZONE])


def _ss_quadrature() -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Laguerre with 8 nodes for ∫ g(x) over a ray whose density falls off like exp(−x):
    the nodes scaled so the last lies inside the atmosphere (x / 25), the weights times exp(x)."""
    x, w = np.polynomial.laguerre.laggauss(8)
    return x / 25.0, w * np.exp(x) / 25.0


_SS_NODES, _SS_WEIGHTS = _ss_quadrature()


def _ss_density(h):
    """(…, 3) relative densities of air, aerosol and ozone at heights h (m) above sea level."""
    return np.stack([np.exp(-h / _SS_RAYLEIGH_SCALE), np.exp(-h / _SS_MIE_SCALE),
                     np.maximum(0.0, 1.0 - np.abs(h - 25000.0) / 15000.0)], -1)


# The geometry below runs in single precision in Cycles' order of operations: near the top of the
# atmosphere the difference of squares keeps few digits (a level ray at 59,999 m reaches the top
# after 4,096 m instead of 3,583 m: 14 % more sky), and Cycles' sky is what is matched.
_F = np.float32


def _ss_dot(a, b):
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def _ss_exit(p, d):
    """Length (float32) from points p (…, 3, float32) inside the atmosphere along unit d to its
    top: the far root of the ray–sphere quadratic, then the distance to that point."""
    b = _F(-2.0) * _ss_dot(d, -p)
    c = _ss_dot(p, p) - _F(_SS_ATMOSPHERE) * _F(_SS_ATMOSPHERE)
    t = (-b + np.sqrt(b * b - _F(4.0) * c)) / _F(2.0)
    end = p + d * t[..., None]
    return np.sqrt(_ss_dot(end - p, end - p))


def _ss_height(p):
    return (np.sqrt(_ss_dot(p, p)) - _F(_SS_EARTH)).astype(np.float64)


def _ss_optical_depth(p, d):
    """(…, 3) optical depth (air, aerosol, ozone, unscaled) from points p along unit d to space."""
    length = _ss_exit(p, d)
    segment = d * length[..., None]
    od = np.zeros(p.shape[:-1] + (3,))
    for node, weight in zip(_SS_NODES.astype(_F), _SS_WEIGHTS):
        od += _ss_density(_ss_height(p + node * segment)) * weight
    return od * length[..., None].astype(np.float64)


def _ss_spectra(dirs, origin_z: float, sun, densities) -> np.ndarray:
    """(N, 21) single-scattered radiance along unit view directions (N, 3) from (0, 0, origin_z):
    32 midpoint segments to the top of the atmosphere (the ground does not stop the ray), each
    lit by the sun unless the line towards it meets the Earth."""
    dirs, sun = dirs.astype(_F), sun.astype(_F)
    scale = np.asarray(densities, np.float64)
    origin = np.array([0.0, 0.0, origin_z], _F)
    segment_length = _ss_exit(origin, dirs) / _F(_SS_STEPS)
    segment = dirs * segment_length[:, None]
    mu = _ss_dot(dirs, sun).astype(np.float64)
    g2 = _SS_G * _SS_G
    rayleigh_phase = (3.0 / (16.0 * math.pi)) * (1.0 + mu * mu)
    mie_phase = (3.0 * (1.0 - g2) * (1.0 + mu * mu)
                 / (8.0 * math.pi * (2.0 + g2) * (1.0 + g2 - 2.0 * _SS_G * mu) ** 1.5))
    weight = np.stack([rayleigh_phase, mie_phase * _SS_MIE], -1)  # × density → scattering
    length64 = segment_length.astype(np.float64)[:, None]
    depth = np.zeros((len(dirs), 3))
    spectra = np.zeros((len(dirs), 21))
    p = origin + _F(0.5) * segment
    for _ in range(_SS_STEPS):
        density = scale * _ss_density(_ss_height(p))
        depth += length64 * density
        if sun[2] < 0.0:  # the Earth's shadow
            b = _F(-2.0) * _ss_dot(sun, -p)
            lit = b * b - _F(4.0) * (_ss_dot(p, p) - _F(_SS_EARTH) * _F(_SS_EARTH)) < 0.0
        else:
            lit = slice(None)
        total = depth[lit] + scale * _ss_optical_depth(p[lit], sun)
        scattering = (weight[lit] * density[lit, :2]) @ np.stack([_SS_RAYLEIGH, np.ones(21)])
        spectra[lit] += np.exp(-(total @ _SS_EXTINCTION)) * scattering * (_SS_IRRADIANCE * length64[lit])
        p = p + segment
    return spectra


def _ss_table(sun_elevation: float, altitude_m: float, densities) -> np.ndarray:
    """The (256, 512, 3) XYZ table of a Single Scattering sky (layout above)."""
    half_w, half_h = _W // 2, _H // 2
    latitude = _F(0.5 * math.pi) * (np.arange(half_h, _H, dtype=_F) / _F(half_h) - _F(1.0)) ** 2
    longitude = _F(2.0 * math.pi / _W) * np.arange(half_w, dtype=_F) - _F(math.pi)
    cl = np.cos(latitude.astype(np.float64))[:, None]
    dirs = np.stack(np.broadcast_arrays(cl * np.cos(longitude.astype(np.float64)),
                                        cl * np.sin(longitude.astype(np.float64)),
                                        np.sin(latitude.astype(np.float64))[:, None]), -1).reshape(-1, 3)
    sun = np.array([math.cos(sun_elevation), 0.0, math.sin(sun_elevation)])
    xyz = (_ss_spectra(dirs, _F(_SS_EARTH) + _F(altitude_m), sun, densities) @ _SS_CMF).reshape(half_h, half_w, 3)
    upper = np.concatenate([xyz, xyz[:, ::-1]], axis=1)
    # Below the horizon: the horizon row, fading out as the mirrored direction rises.
    z = np.sin(0.5 * math.pi * (np.arange(half_h) / half_h - 1.0) ** 2)
    fade = np.where(z < 0.4, (1.0 - 2.5 * z) ** 3, 0.0)
    return np.concatenate([fade[:, None, None] * upper[0], upper], axis=0)


def _ss_sun(elevation: float, diameter: float, altitude_m: float, air: float, aerosol: float) -> list:
    """The sun disc's XYZ at its lowest and highest point (black when the disc's top is below
    the horizon, each point at least on the horizon), through air and aerosol only (Cycles'
    SKY_single_scattering_precompute_sun leaves ozone out)."""
    half = 0.5 * diameter
    solid_angle = 2.0 * math.pi * (1.0 - math.cos(half))
    bottom, top = max(elevation - half, 0.0), max(elevation + half, 0.0)
    if top <= 0.0:
        return [np.zeros(3), np.zeros(3)]
    origin = np.array([0.0, 0.0, _F(_SS_EARTH) + _F(altitude_m)], _F)
    disc = []
    for e in (bottom, top):
        depth = _ss_optical_depth(origin, np.array([math.cos(e), 0.0, math.sin(e)], _F))
        tau = _SS_RAYLEIGH * depth[0] * air + _SS_MIE_EXTINCTION * depth[1] * aerosol
        disc.append((_SS_IRRADIANCE * np.exp(-tau) / solid_angle) @ _SS_CMF)
    return disc


@lru_cache(maxsize=8)
def single_scattering(sun_disc: bool, sun_size: float, sun_intensity: float, sun_elevation: float,
                      sun_rotation: float, altitude: float, air: float, aerosol: float, ozone: float) -> np.ndarray:
    """The kernel's data for a Single Scattering sky (layout: _nishita_data); the altitude
    (m) clamped to 1 … 59,999 m for the table and the disc, as Cycles does."""
    elevation, rotation = _wrap_sun(sun_elevation, sun_rotation)
    metres = min(max(altitude, 1.0), 59999.0)
    table = _ss_table(elevation, metres, (air, aerosol, ozone))
    diameter = max(sun_size, 0.0005)
    disc = _ss_sun(elevation, diameter, metres, air, aerosol)
    return _nishita_data(table, disc, elevation, rotation, sun_disc, diameter, sun_intensity, altitude)


def sun_guide(data: np.ndarray) -> tuple:
    """(x, y, z, half angle) of the sun disc of a Nishita-type sky's data (single_scattering(),
    multiple_scattering()): where the kernel's sun_dir points (svm/sky.h)."""
    elevation, rotation, diameter = float(data[7]), float(data[8]), float(data[9])
    ce = math.cos(elevation)
    return (-ce * math.sin(rotation), ce * math.cos(rotation), math.sin(elevation), 0.5 * diameter)
