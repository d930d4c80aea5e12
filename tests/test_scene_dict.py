"""The scene dictionary layer of optica_core: validation, files and the built-in scenes.

Pure Python and numpy: no native module and no Blender needed. Each kind of bad input must
raise a ValueError whose message starts with the key path of the problem (docs/scene-dict.md).
"""

from __future__ import annotations

import os
import re
import struct
import time
import warnings
import zipfile

import numpy as np
import pytest

from optica_core import scenes
from optica_core.io import load_scene, save_scene
from optica_core.scene import SCENE_VERSION, SceneWarning, validate_scene

# --------------------------------------------------------------------------------------------
# A small scene that uses every section, with inputs in loose forms (float64, int64, lists)


def small_scene() -> dict:
    vertices, triangles = scenes.box()
    corner_normals = np.tile(np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), (3, 1))  # 6 normals
    return {
        "version": 1,
        "render": {"width": 32, "height": 24},
        "camera": {"matrix": scenes.look_at((0, -5, 1), (0, 0, 0)).astype(np.float64)},
        "world": {"color": [0.1, 0.2, 0.3]},
        "textures": {"checker": {"pixels": np.full((4, 4, 3), 200, np.uint8)}},
        "materials": {
            "Red": {"base_color": [0.8, 0.1, 0.1], "base_color_texture": "checker"},
            "Blue": {"base_color": (0.1, 0.1, 0.8), "roughness": 0.2},
        },
        "meshes": {
            "Cube": {
                "vertices": vertices.astype(np.float64),
                "triangles": triangles.astype(np.int64),
                "normals": corner_normals,
                "normal_indices": np.arange(36).reshape(12, 3) % 6,
                "uvs": np.zeros((8, 2)),
                "material_ids": [0, 1] * 6,
                "materials": ["Red", "Blue"],
            },
        },
        "spheres": {
            "Dots": {"centers": [[0, 0, 0], [1, 0, 0]], "radii": [0.5, 0.25], "colors": [[1, 0, 0], [0, 1, 0]]},
        },
        "instances": [
            {"geometry": "Cube", "transforms": np.eye(4)[None]},
            {"geometry": "Dots", "transforms": np.stack([np.eye(4), scenes.translation((0, 2, 0))]),
             "materials": ["Blue"]},
            {"geometry": "Cube", "transforms": np.eye(4)[None], "object_ids": [40], "materials": [None, "Red"]},
            {"geometry": "Dots", "transforms": np.eye(4)[None]},
        ],
        "lights": {
            "Key": {"type": "point", "power": 100, "matrix": scenes.translation((0, 0, 3))},
            "Spot": {"type": "spot", "power": 50.0, "spot_size": 0.5, "matrix": np.eye(4)},
            "Sun": {"type": "sun", "strength": 2.0, "matrix": np.eye(4)},
            "Panel": {"type": "area", "power": 20.0, "shape": "rectangle", "size_x": 1.0, "size_y": 0.5,
                      "matrix": np.eye(4)},
            "Disk": {"type": "area", "power": 20.0, "shape": "disk", "size_x": 0.3, "matrix": np.eye(4)},
        },
    }


def mesh(d):
    return d["meshes"]["Cube"]


def _set(path, value):
    """A mutation setting d[path...] = value; path is a tuple of keys and indices."""
    def mutate(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _delete(path):
    def mutate(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


def _singular():
    m = np.eye(4)
    m[2, 2] = 0.0
    return m


def _sheared_flat():
    m = np.eye(4)
    m[:3, 1] = m[:3, 0] * 2  # two parallel columns
    return m


def _projective():
    m = np.eye(4)
    m[3, 2] = 0.5
    return m


def _with_nan(array, index):
    array = np.array(array, dtype=np.float64)
    array[index] = np.nan
    return array


# (id, mutation, expected start of the message)
BAD_INPUTS = [
    # top level and version
    ("version not an int", _set(("version",), "1"), r"version: expected an int, got '1'"),
    ("version 3", _set(("version",), 3), r"version: unsupported scene version 3 \(this core reads 1 and 2\)"),
    ("version missing", _delete(("version",)), r"scene: missing required key 'version'"),
    ("render missing", _delete(("render",)), r"scene: missing required key 'render'"),
    ("unknown top-level key", _set(("colour",), 1), r"scene: unknown key 'colour'"),
    # render
    ("negative width", _set(("render", "width"), -3), r"render\.width: expected an int > 0, got -3"),
    ("bool width", _set(("render", "width"), True), r"render\.width: expected an int > 0, got True"),
    ("float height", _set(("render", "height"), 24.0), r"render\.height: expected an int > 0, got 24\.0"),
    ("huge seed", _set(("render", "seed"), 2**40), r"render\.seed: 1099511627776 does not fit in int32"),
    ("bad filter", _set(("render", "filter"), "mitchell"), r"render\.filter: unknown filter 'mitchell'"),
    # Light Paths › Max Bounces by type
    ("negative diffuse bounces", _set(("render", "max_diffuse_bounces"), -1),
     r"render\.max_diffuse_bounces: expected an int >= 0, got -1"),
    ("float glossy bounces", _set(("render", "max_glossy_bounces"), 4.0),
     r"render\.max_glossy_bounces: expected an int >= 0, got 4\.0"),
    ("bool transmission bounces", _set(("render", "max_transmission_bounces"), True),
     r"render\.max_transmission_bounces: expected an int >= 0, got True"),
    ("huge transparent bounces", _set(("render", "max_transparent_bounces"), 2**31),
     r"render\.max_transparent_bounces: 2147483648 does not fit in int32"),
    ("string transparent bounces", _set(("render", "max_transparent_bounces"), "8"),
     r"render\.max_transparent_bounces: expected an int >= 0, got '8'"),
    ("NaN filter width", _set(("render", "filter_width"), float("nan")), r"render\.filter_width: expected a float > 0"),
    ("region outside", _set(("render", "region"), [20, 0, 16, 24]), r"render\.region: \(20, 0, 16, 24\) is not"),
    ("region empty", _set(("render", "region"), [0, 0, 0, 24]), r"render\.region: "),
    ("region negative", _set(("render", "region"), (-1, 0, 8, 8)), r"render\.region: "),
    ("region of floats", _set(("render", "region"), [0.0, 0, 8, 8]), r"render\.region: expected 4 ints"),
    # camera
    ("camera matrix missing", _delete(("camera", "matrix")), r"camera: missing required key 'matrix'"),
    ("camera unknown key", _set(("camera", "fov"), 40), r"camera: unknown key 'fov'"),
    ("camera singular", _set(("camera", "matrix"), _singular()), r"camera\.matrix: not invertible"),
    ("camera projective", _set(("camera", "matrix"), _projective()), r"camera\.matrix: not affine"),
    ("camera matrix shape", _set(("camera", "matrix"), np.eye(3)),
     r"camera\.matrix: expected shape \(4, 4\), got \(3, 3\)"),
    ("camera type", _set(("camera", "type"), "fisheye"), r"camera\.type: unknown camera type 'fisheye'"),
    ("sensor fit case", _set(("camera", "sensor_fit"), "auto"), r"camera\.sensor_fit: unknown sensor fit 'auto'"),
    ("lens zero", _set(("camera", "lens"), 0), r"camera\.lens: expected a float > 0, got 0"),
    ("lens string", _set(("camera", "lens"), "50"), r"camera\.lens: expected a float > 0, got '50'"),
    ("clip order", _set(("camera", "clip_end"), 0.05), r"camera\.clip_end: expected more than clip_start"),
    ("two blades", _set(("camera", "aperture_blades"), 2),
     r"camera\.aperture_blades: expected 0 \(round\) or an int >= 3"),
    # world
    ("world colour length", _set(("world", "color"), [1, 1]), r"world\.color: expected 3 floats >= 0, got \[1, 1\]"),
    ("world colour negative", _set(("world", "color"), [1, -1, 1]), r"world\.color: expected 3 floats >= 0"),
    ("world colour inf", _set(("world", "color"), [1, np.inf, 1]), r"world\.color: expected 3 floats >= 0"),
    # textures
    ("pixels missing", _delete(("textures", "checker", "pixels")),
     r"textures\['checker'\]: missing required key 'pixels'"),
    ("pixels two channels", _set(("textures", "checker", "pixels"), np.zeros((4, 4, 2), np.uint8)),
     r"textures\['checker'\]\.pixels: expected 1, 3 or 4 channels"),
    ("pixels 2-D", _set(("textures", "checker", "pixels"), np.zeros((4, 4), np.float32)),
     r"textures\['checker'\]\.pixels: expected shape \(H, W, C\), got \(4, 4\)"),
    ("pixels uint16", _set(("textures", "checker", "pixels"), np.zeros((4, 4, 3), np.uint16)),
     r"textures\['checker'\]\.pixels: expected float or uint8 pixels, got dtype uint16"),
    ("pixels NaN", _set(("textures", "checker", "pixels"), _with_nan(np.zeros((4, 4, 3)), (1, 2, 0))),
     r"textures\['checker'\]\.pixels: contains NaN or Inf"),
    ("texture extension", _set(("textures", "checker", "extension"), "mirror"),
     r"textures\['checker'\]\.extension: unknown extension 'mirror'"),
    # materials
    ("dangling texture", _set(("materials", "Red", "base_color_texture"), "x"),
     r"materials\['Red'\]\.base_color_texture: no texture named 'x'"),
    ("base colour above 1", _set(("materials", "Red", "base_color"), [1.5, 0, 0]),
     r"materials\['Red'\]\.base_color: expected 3 floats in \[0, 1\]"),
    ("roughness above 1", _set(("materials", "Blue", "roughness"), 2),
     r"materials\['Blue'\]\.roughness: expected a float in \[0, 1\], got 2"),
    ("ior below 1", _set(("materials", "Blue", "ior"), 0.9), r"materials\['Blue'\]\.ior: expected a float >= 1"),
    ("material unknown key", _set(("materials", "Blue", "Roughness"), 0.2),
     r"materials\['Blue'\]: unknown key 'Roughness'"),
    ("material not a dict", _set(("materials", "Blue"), 0.2), r"materials\['Blue'\]: expected a dict, got float"),
    ("name not a string", _set(("materials", 3), {}), r"materials\[3\]: names must be non-empty strings"),
    # meshes: arrays
    ("vertices shape", _set(("meshes", "Cube", "vertices"), np.zeros((8, 2))),
     r"meshes\['Cube'\]\.vertices: expected shape \(V, 3\), got \(8, 2\)"),
    ("vertices strings", _set(("meshes", "Cube", "vertices"), np.full((8, 3), "a")),
     r"meshes\['Cube'\]\.vertices: expected a float array, got dtype <U1"),
    ("vertices objects", _set(("meshes", "Cube", "vertices"), [[0, 0, None]] * 8),
     r"meshes\['Cube'\]\.vertices: expected a float array, got dtype object"),
    ("vertices ragged", _set(("meshes", "Cube", "vertices"), [[0, 0, 0], [0, 0]]),
     r"meshes\['Cube'\]\.vertices: expected a float array of shape \(V, 3\), got a list numpy cannot convert"),
    ("vertices NaN", lambda d: _set(("meshes", "Cube", "vertices"), _with_nan(mesh(d)["vertices"], (3, 1)))(d),
     r"meshes\['Cube'\]\.vertices: contains NaN or Inf"),
    ("vertices Inf", lambda d: mesh(d).update(vertices=mesh(d)["vertices"] * np.array([1, 1, np.inf])),
     r"meshes\['Cube'\]\.vertices: contains NaN or Inf"),
    ("vertices beyond float32", lambda d: mesh(d).update(vertices=mesh(d)["vertices"] * 1e300),
     r"meshes\['Cube'\]\.vertices: contains values beyond the float32 range"),
    ("vertices missing", _delete(("meshes", "Cube", "vertices")), r"meshes\['Cube'\]: missing required key 'vertices'"),
    ("triangles floats", lambda d: mesh(d).update(triangles=mesh(d)["triangles"].astype(float)),
     r"meshes\['Cube'\]\.triangles: expected an integer array, got dtype float64"),
    ("triangles shape", lambda d: mesh(d).update(triangles=mesh(d)["triangles"].reshape(-1)),
     r"meshes\['Cube'\]\.triangles: expected shape \(T, 3\), got \(36,\)"),
    # meshes: index ranges
    ("triangle index too high", lambda d: mesh(d)["triangles"].__setitem__((5, 1), 12),
     r"meshes\['Cube'\]\.triangles: index 12 out of range for 8 vertices"),
    ("triangle index equal to V", lambda d: mesh(d)["triangles"].__setitem__((11, 2), 8),
     r"meshes\['Cube'\]\.triangles: index 8 out of range for 8 vertices"),
    ("triangle index negative", lambda d: mesh(d)["triangles"].__setitem__((0, 0), -1),
     r"meshes\['Cube'\]\.triangles: index -1 out of range for 8 vertices"),
    ("triangle index beyond int32", lambda d: mesh(d)["triangles"].__setitem__((0, 0), 2**35),
     r"meshes\['Cube'\]\.triangles: index 34359738368 out of range for 8 vertices"),
    ("normal index too high", lambda d: mesh(d)["normal_indices"].__setitem__((11, 2), 6),
     r"meshes\['Cube'\]\.normal_indices: index 6 out of range for 6 normals"),
    ("normal indices rows", lambda d: mesh(d).update(normal_indices=mesh(d)["normal_indices"][:5]),
     r"meshes\['Cube'\]\.normal_indices: expected shape \(T, 3\) with T = 12 \(as triangles\), got \(5, 3\)"),
    ("normal indices without normals", _delete(("meshes", "Cube", "normals")),
     r"meshes\['Cube'\]\.normal_indices: given without normals"),
    ("per-vertex normals count", _delete(("meshes", "Cube", "normal_indices")),
     r"meshes\['Cube'\]\.normals: expected 8 rows, one per vertex \(there are no normal_indices\), got 6"),
    ("zero normal", lambda d: mesh(d).update(normals=mesh(d)["normals"] * np.array([[1], [1], [0], [1], [1], [1]])),
     r"meshes\['Cube'\]\.normals: row 2 has zero length"),
    ("uv index too high", lambda d: mesh(d).update(uv_indices=np.full((12, 3), 9)),
     r"meshes\['Cube'\]\.uv_indices: index 9 out of range for 8 uvs"),
    ("uvs shape", _set(("meshes", "Cube", "uvs"), np.zeros((8, 3))),
     r"meshes\['Cube'\]\.uvs: expected shape \(U, 2\), got \(8, 3\)"),
    ("material id too high", _set(("meshes", "Cube", "material_ids"), [0, 2] * 6),
     r"meshes\['Cube'\]\.material_ids: index 2 out of range for 2 materials"),
    ("material id negative", _set(("meshes", "Cube", "material_ids"), [0, -1] * 6),
     r"meshes\['Cube'\]\.material_ids: index -1 out of range for 2 materials"),
    ("material id without materials", _set(("meshes", "Cube", "materials"), []),
     r"meshes\['Cube'\]\.material_ids: index 1 but the mesh has no materials \(only 0 is allowed\)"),
    ("material ids rows", _set(("meshes", "Cube", "material_ids"), [0, 1]),
     r"meshes\['Cube'\]\.material_ids: expected shape \(T,\) with T = 12"),
    ("dangling mesh material", _set(("meshes", "Cube", "materials"), ["Red", "Green"]),
     r"meshes\['Cube'\]\.materials\[1\]: no material named 'Green'"),
    ("mesh unknown key", _set(("meshes", "Cube", "colors"), None), r"meshes\['Cube'\]: unknown key 'colors'"),
    # spheres
    ("radius zero", _set(("spheres", "Dots", "radii"), [0.5, 0.0]),
     r"spheres\['Dots'\]\.radii: expected radii > 0, got 0"),
    ("radii count", _set(("spheres", "Dots", "radii"), [0.5]),
     r"spheres\['Dots'\]\.radii: expected shape \(N,\) with N = 2"),
    ("sphere colour above 1", _set(("spheres", "Dots", "colors"), [[2, 0, 0], [0, 1, 0]]),
     r"spheres\['Dots'\]\.colors: expected values in \[0, 1\]"),
    ("dangling sphere material", _set(("spheres", "Dots", "material"), "Gold"),
     r"spheres\['Dots'\]\.material: no material named 'Gold'"),
    ("shared geometry name", _set(("spheres", "Cube"), {"centers": [[0, 0, 0]], "radii": [1]}),
     r"spheres\['Cube'\]: name already used by a mesh"),
    # instances
    ("dangling geometry", _set(("instances", 3, "geometry"), "Foo"),
     r"instances\[3\]\.geometry: no mesh, sphere set or curve set named 'Foo'"),
    ("singular transform", lambda d: d["instances"][1].update(transforms=np.stack([np.eye(4), _singular()])),
     r"instances\[1\]\.transforms\[1\]: not invertible \(determinant 0\)"),
    ("sheared flat transform", _set(("instances", 0, "transforms"), _sheared_flat()[None]),
     r"instances\[0\]\.transforms\[0\]: not invertible"),
    ("NaN transform", _set(("instances", 0, "transforms"), _with_nan(np.eye(4)[None], (0, 0, 3))),
     r"instances\[0\]\.transforms: contains NaN or Inf"),
    ("single 4x4 transform", _set(("instances", 0, "transforms"), np.eye(4)),
     r"instances\[0\]\.transforms: expected shape \(N, 4, 4\), got \(4, 4\)"),
    ("object ids count", _set(("instances", 2, "object_ids"), [1, 2]),
     r"instances\[2\]\.object_ids: expected shape \(N,\) with N = 1"),
    ("object id negative", _set(("instances", 2, "object_ids"), [-1]),
     r"instances\[2\]\.object_ids: expected ids >= 0"),
    ("object id beyond int32", _set(("instances", 2, "object_ids"), [2**31]),
     r"instances\[2\]\.object_ids: value 2147483648 does not fit in int32"),
    ("too few override materials", _set(("instances", 2, "materials"), ["Red"]),
     r"instances\[2\]\.materials: 1 materials, but mesh 'Cube' uses material index 1"),
    ("dangling override material", _set(("instances", 1, "materials"), ["Nope"]),
     r"instances\[1\]\.materials\[0\]: no material named 'Nope'"),
    ("instances not a list", _set(("instances",), {"geometry": "Cube"}), r"instances: expected a list of dicts"),
    ("instance geometry missing", _delete(("instances", 0, "geometry")),
     r"instances\[0\]: missing required key 'geometry'"),
    # lights
    ("light type", _set(("lights", "Key", "type"), "laser"), r"lights\['Key'\]\.type: unknown light type 'laser'"),
    ("light type missing", _delete(("lights", "Key", "type")), r"lights\['Key'\]: missing required key 'type'"),
    ("light power missing", _delete(("lights", "Key", "power")), r"lights\['Key'\]: missing required key 'power'"),
    ("light key of another type", _set(("lights", "Key", "strength"), 3.0),
     r"lights\['Key'\]: unknown key 'strength' for a point light"),
    ("light negative power", _set(("lights", "Key", "power"), -1.0),
     r"lights\['Key'\]\.power: expected a float >= 0, got -1\.0"),
    ("light singular", _set(("lights", "Sun", "matrix"), _singular()), r"lights\['Sun'\]\.matrix: not invertible"),
    ("spot size zero", _set(("lights", "Spot", "spot_size"), 0.0),
     r"lights\['Spot'\]\.spot_size: expected a float in \(0, 3\.14159\]"),
    ("spot blend", _set(("lights", "Spot", "spot_blend"), 1.5),
     r"lights\['Spot'\]\.spot_blend: expected a float in \[0, 1\]"),
    ("area shape", _set(("lights", "Panel", "shape"), "star"),
     r"lights\['Panel'\]\.shape: unknown area light shape 'star'"),
    ("rectangle without size_y", _delete(("lights", "Panel", "size_y")),
     r"lights\['Panel'\]: missing required key 'size_y'"),
    ("disk with another size_y", _set(("lights", "Disk", "size_y"), 0.5),
     r"lights\['Disk'\]\.size_y: a disk area light has size_y = size_x"),
    ("area size zero", _set(("lights", "Disk", "size_x"), 0.0), r"lights\['Disk'\]\.size_x: expected a float > 0"),
    ("light colour", _set(("lights", "Sun", "color"), "white"),
     r"lights\['Sun'\]\.color: expected 3 floats >= 0, got 'white'"),
]


@pytest.mark.parametrize("mutate, message", [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_names_its_key_path(mutate, message):
    d = small_scene()
    mutate(d)
    with pytest.raises(ValueError, match="^" + message):
        validate_scene(d)


def test_small_scene_is_valid():
    validate_scene(small_scene())


def test_top_level_must_be_a_dict():
    with pytest.raises(ValueError, match=r"^scene: expected a dict, got list"):
        validate_scene([])


# --------------------------------------------------------------------------------------------
# Strictness


def test_unknown_keys_are_errors_when_strict():
    d = small_scene()
    d["camera"]["fov"] = 40
    with pytest.raises(ValueError, match=r"^camera: unknown key 'fov'$"):
        validate_scene(d, strict=True)


def test_unknown_keys_warn_and_are_dropped_when_not_strict():
    d = small_scene()
    d["camera"]["fov"] = 40
    d["lights"]["Sun"]["power"] = 5.0
    d["extra"] = {}
    with pytest.warns(SceneWarning) as record:
        out = validate_scene(d, strict=False)
    messages = sorted(str(w.message) for w in record)
    assert messages == ["camera: unknown key 'fov'", "lights['Sun']: unknown key 'power' for a sun light",
                        "scene: unknown key 'extra'"]
    assert "fov" not in out["camera"] and "power" not in out["lights"]["Sun"] and "extra" not in out


def test_not_strict_still_rejects_other_problems():
    d = small_scene()
    d["render"]["width"] = 0
    with pytest.raises(ValueError, match=r"^render\.width"):
        validate_scene(d, strict=False)


# --------------------------------------------------------------------------------------------
# Normalised form


def _snapshot(value):
    """A deep copy that also records each array's dtype and the identity of every container."""
    if isinstance(value, dict):
        return ("dict", id(value), {k: _snapshot(v) for k, v in value.items()})
    if isinstance(value, list):
        return ("list", id(value), [_snapshot(v) for v in value])
    if isinstance(value, np.ndarray):
        return ("array", id(value), value.dtype, value.copy())
    return ("value", value)


def _same_snapshot(a, b) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "array":
        return a[1] == b[1] and a[2] == b[2] and np.array_equal(a[3], b[3])
    if a[0] == "dict":
        return a[1] == b[1] and a[2].keys() == b[2].keys() and all(_same_snapshot(a[2][k], b[2][k]) for k in a[2])
    if a[0] == "list":
        return a[1] == b[1] and len(a[2]) == len(b[2]) and all(map(_same_snapshot, a[2], b[2]))
    return a[1] == b[1]


def test_validate_does_not_mutate_its_input():
    d = small_scene()
    before = _snapshot(d)
    out = validate_scene(d)
    assert _same_snapshot(before, _snapshot(d))
    assert out is not d and out["meshes"] is not d["meshes"] and out["meshes"]["Cube"] is not d["meshes"]["Cube"]


def test_defaults_are_filled_in():
    d = {"version": 1, "render": {"width": 8, "height": 4}, "camera": {"matrix": np.eye(4)},
         "materials": {"m": {}}, "textures": {"f": {"pixels": np.zeros((2, 2, 1), np.float32)},
                                              "b": {"pixels": np.zeros((2, 2, 4), np.uint8)}},
         "meshes": {"tri": {"vertices": np.eye(3), "triangles": [[0, 1, 2]]}},
         "lights": {"p": {"type": "point", "power": 1.0, "matrix": np.eye(4)},
                    "s": {"type": "spot", "power": 1.0, "matrix": np.eye(4)},
                    "sun": {"type": "sun", "strength": 1.0, "matrix": np.eye(4)},
                    "a": {"type": "area", "power": 1.0, "size_x": 2.0, "matrix": np.eye(4)}}}
    out = validate_scene(d)
    assert list(out) == ["version", "render", "camera", "world", "materials", "textures", "meshes", "spheres",
                         "curves", "instances", "lights", "motion"]
    assert out["render"] == {"width": 8, "height": 4, "region": (0, 0, 8, 4), "max_bounces": 12, "seed": 0,
                             "filter": "blackman_harris", "filter_width": 1.5, "clamp_direct": 0.0,
                             "clamp_indirect": 0.0, "transparent": False,
                             # Absent Light Paths limits by type: as files without them rendered.
                             "max_diffuse_bounces": 12, "max_glossy_bounces": 12,
                             "max_transmission_bounces": 12, "max_transparent_bounces": 64}
    camera = dict(out["camera"])
    assert camera.pop("matrix").dtype == np.float32
    assert camera == {"type": "perspective", "lens": 50.0, "sensor_width": 36.0, "sensor_height": 24.0,
                      "sensor_fit": "AUTO", "ortho_scale": 6.0, "shift_x": 0.0, "shift_y": 0.0, "clip_start": 0.1,
                      "clip_end": 100.0, "aperture_radius": 0.0, "focus_distance": 10.0, "aperture_blades": 0,
                      "aperture_rotation": 0.0, "motion": None}
    # Version 1 comes back as version 2: the world colour is a Background node, the flat
    # material a Principled BSDF holding the version-1 defaults.
    assert out["version"] == SCENE_VERSION == 2
    background = out["world"]["nodes"]["Background"]
    assert background["inputs"] == {"Color": (0.0, 0.0, 0.0), "Strength": 1.0}
    material = out["materials"]["m"]
    assert material["links"] == [("Principled BSDF", "BSDF", "Material Output", "Surface")]
    inputs = material["nodes"]["Principled BSDF"]["inputs"]
    assert {k: inputs[k] for k in ("Base Color", "Metallic", "Roughness", "IOR", "Specular IOR Level",
                                   "Transmission Weight", "Emission Color", "Emission Strength", "Alpha")} == {
        "Base Color": (0.8, 0.8, 0.8), "Metallic": 0.0, "Roughness": 0.5, "IOR": 1.5, "Specular IOR Level": 0.5,
        "Transmission Weight": 0.0, "Emission Color": (1.0, 1.0, 1.0), "Emission Strength": 0.0, "Alpha": 1.0}
    assert out["textures"]["f"]["colorspace"] == "linear" and out["textures"]["b"]["colorspace"] == "srgb"
    assert out["textures"]["b"] == {"pixels": out["textures"]["b"]["pixels"], "colorspace": "srgb",
                                    "alpha_mode": "STRAIGHT"}
    tri = out["meshes"]["tri"]
    assert tri["normals"] is None and tri["normal_indices"] is None and tri["uvs"] is None and tri["uv_indices"] is None
    assert tri["materials"] == [] and tri["material_ids"] is None
    assert tri["uv_maps"] == {} and tri["attributes"] == {} and tri["tangents"] == {} and tri["texspace"] is None
    assert out["spheres"] == {} and out["instances"] == []
    lights = {name: {k: v for k, v in light.items() if k != "matrix"} for name, light in out["lights"].items()}
    assert lights["p"] == {"type": "point", "color": (1.0, 1.0, 1.0), "power": 1.0, "radius": 0.0}
    assert lights["s"] == {"type": "spot", "color": (1.0, 1.0, 1.0), "power": 1.0, "radius": 0.0,
                           "spot_size": pytest.approx(np.pi / 4), "spot_blend": 0.15}
    assert lights["sun"] == {"type": "sun", "color": (1.0, 1.0, 1.0), "strength": 1.0, "angle": 0.0}
    assert lights["a"] == {"type": "area", "color": (1.0, 1.0, 1.0), "power": 1.0, "shape": "square",
                           "size_x": 2.0, "size_y": 2.0}


def test_arrays_get_the_documented_dtypes_and_layout():
    out = validate_scene(small_scene())
    cube = out["meshes"]["Cube"]
    for key, dtype in [("vertices", np.float32), ("triangles", np.int32), ("normals", np.float32),
                       ("normal_indices", np.int32), ("uvs", np.float32), ("material_ids", np.int32)]:
        assert cube[key].dtype == dtype and cube[key].flags.c_contiguous, key
    assert out["textures"]["checker"]["pixels"].dtype == np.uint8
    assert out["spheres"]["Dots"]["radii"].dtype == np.float32
    for group in out["instances"]:
        assert group["transforms"].dtype == np.float32 and group["object_ids"].dtype == np.int32
    assert all(light["matrix"].dtype == np.float32 for light in out["lights"].values())
    color = out["world"]["nodes"]["Background"]["inputs"]["Color"]
    assert type(color) is tuple and all(type(c) is float for c in color)
    assert type(out["lights"]["Key"]["power"]) is float  # given as the int 100


def test_non_contiguous_arrays_are_made_contiguous_and_right_ones_are_shared():
    d = small_scene()
    vertices = np.asfortranarray(mesh(d)["vertices"].astype(np.float32))
    triangles = np.ascontiguousarray(mesh(d)["triangles"], dtype=np.int32)
    mesh(d).update(vertices=vertices, triangles=triangles)
    out = validate_scene(d)["meshes"]["Cube"]
    assert out["vertices"].flags.c_contiguous and np.array_equal(out["vertices"], vertices)
    assert out["triangles"] is triangles  # already int32 and C-contiguous: no copy


def test_per_vertex_attributes_share_the_triangles():
    d = small_scene()
    del mesh(d)["normal_indices"]
    mesh(d)["normals"] = mesh(d)["vertices"]  # one per vertex
    out = validate_scene(d)["meshes"]["Cube"]
    assert out["normal_indices"] is out["triangles"] and out["uv_indices"] is out["triangles"]


def test_default_object_ids_run_over_all_groups():
    out = validate_scene(small_scene())
    ids = [group["object_ids"].tolist() for group in out["instances"]]
    assert ids == [[0], [1, 2], [40], [4]]  # group 2's explicit id still takes running index 3


def test_instance_materials_default_to_the_geometrys():
    out = validate_scene(small_scene())
    assert out["instances"][0]["materials"] == ["Red", "Blue"]
    # The sphere set has colours and no material: in version 1 its colours replaced the default
    # material's colour; version 2 gives it a copy of the default material that reads them.
    dots = out["spheres"]["Dots"]["material"]
    assert out["instances"][3]["materials"] == [dots] == ["(default) (point colors)"]
    assert ("Color Attribute", "Color", "Diffuse BSDF", "Color") in out["materials"][dots]["links"]
    # A per-object material on the coloured spheres gets its own reading copy.
    assert out["instances"][1]["materials"] == ["Blue (point colors)"]
    links = out["materials"]["Blue (point colors)"]["links"]
    assert ("Color Attribute", "Color", "Principled BSDF", "Base Color") in links
    assert out["materials"]["Blue"]["links"] == [("Principled BSDF", "BSDF", "Material Output", "Surface")]


def test_empty_materials_list_accepts_all_zero_ids():
    d = small_scene()
    mesh(d).update(materials=[], material_ids=np.zeros(12, np.int64))
    del d["instances"][2]
    assert validate_scene(d)["meshes"]["Cube"]["materials"] == []


def test_validation_is_idempotent():
    once = validate_scene(small_scene())
    twice = validate_scene(once)
    _assert_same_scene(once, twice)


# --------------------------------------------------------------------------------------------
# Built-in scenes


BUILDERS = {
    "cornell_box": lambda: scenes.cornell_box(32, 32),
    "displaced_sphere": lambda: scenes.displaced_sphere(20_000, 32, 32),
    "spheres_and_plane": lambda: scenes.spheres_and_plane(32, 24),
    "furnace": lambda: scenes.furnace(),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_builtin_scene_is_valid_and_deterministic(name):
    first = BUILDERS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = validate_scene(first, strict=True)
    _assert_same_scene(out, validate_scene(BUILDERS[name]()))
    assert out["instances"], "a built-in scene must place some geometry"


def test_builders_take_the_image_size():
    assert validate_scene(scenes.cornell_box(40, 30, samples_hint=16))["render"]["region"] == (0, 0, 40, 30)
    assert validate_scene(scenes.furnace())["render"]["width"] == 64


def _face_normals(vertices, triangles):
    v = np.asarray(vertices, np.float64)
    return np.cross(v[triangles[:, 1]] - v[triangles[:, 0]], v[triangles[:, 2]] - v[triangles[:, 0]])


def test_uv_sphere_is_closed_outward_and_counts_as_documented():
    vertices, triangles, normals = scenes.uv_sphere(2.0, 12, 7)
    assert vertices.shape == (2 + 12 * 6, 3) and triangles.shape == (2 * 12 * 6, 3)
    assert np.allclose(np.linalg.norm(vertices, axis=1), 2.0, atol=1e-6)
    assert np.allclose(normals * 2.0, vertices, atol=1e-6)
    centroids = vertices[triangles].mean(axis=1)
    assert (np.einsum("ij,ij->i", _face_normals(vertices, triangles), centroids) > 0).all()
    edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert (counts == 2).all()  # closed: every edge shared by exactly two triangles


def test_box_faces_outward():
    vertices, triangles = scenes.box((1.0, 2.0, 3.0), (5.0, 0.0, 0.0), 0.3)
    centroids = vertices[triangles].mean(axis=1)
    assert (np.einsum("ij,ij->i", _face_normals(vertices, triangles), centroids - (5.0, 0.0, 0.0)) > 0).all()
    volume = np.einsum("ij,ij->i", vertices[triangles[:, 0]], _face_normals(vertices, triangles)).sum() / 6
    assert volume == pytest.approx(6.0, rel=1e-5)


def test_look_at_points_minus_z_at_the_target():
    m = scenes.look_at((1.0, -4.0, 2.0), (0.0, 0.0, 0.5)).astype(np.float64)
    forward = -m[:3, 2]
    expected = np.array([-1.0, 4.0, -1.5]) / np.linalg.norm([-1.0, 4.0, -1.5])
    assert np.allclose(forward, expected, atol=1e-6)
    assert np.allclose(m[:3, :3].T @ m[:3, :3], np.eye(3), atol=1e-6) and np.linalg.det(m[:3, :3]) > 0
    assert m[2, 1] > 0  # +Y of the camera leans towards world up
    assert np.allclose(m[:3, 3], (1.0, -4.0, 2.0)) and np.array_equal(m[3], (0, 0, 0, 1))


def test_cornell_box_walls_face_inside_and_blocks_outside():
    d = scenes.cornell_box()
    inside = np.array([0.0, 0.0, 1.0])
    for name in ("floor", "ceiling", "back_wall", "left_wall", "right_wall"):
        m = d["meshes"][name]
        centroids = m["vertices"][m["triangles"]].mean(axis=1)
        assert (np.einsum("ij,ij->i", _face_normals(m["vertices"], m["triangles"]), inside - centroids) > 0).all(), name
    for name in ("short_box", "tall_box"):
        m = d["meshes"][name]
        centre = m["vertices"].mean(axis=0)
        centroids = m["vertices"][m["triangles"]].mean(axis=1)
        assert (np.einsum("ij,ij->i", _face_normals(m["vertices"], m["triangles"]), centroids - centre) > 0).all(), name
    light = d["lights"]["ceiling_light"]
    assert light["type"] == "area" and 1.9 < light["matrix"][2, 3] < 2.0
    assert np.array_equal(light["matrix"][:3, :3], np.eye(3))  # emits along −Z: down


def test_displaced_sphere_is_bumpy_smooth_and_sized_as_asked():
    d = scenes.displaced_sphere(50_000)
    m = d["meshes"]["bumpy_sphere"]
    assert abs(len(m["triangles"]) - 50_000) < 0.01 * 50_000
    radius = np.linalg.norm(m["vertices"], axis=1)
    assert radius.max() - radius.min() > 0.05 and 0.85 < radius.min() and radius.max() < 1.15
    assert np.allclose(np.linalg.norm(m["normals"], axis=1), 1.0, atol=1e-5)
    assert (np.einsum("ij,ij->i", m["normals"], m["vertices"]) > 0).all()


def test_furnace_is_a_white_lambertian_sphere_under_a_white_sky():
    d = validate_scene(scenes.furnace())
    assert d["lights"] == {}
    assert d["world"]["nodes"]["Background"]["inputs"] == {"Color": (1.0, 1.0, 1.0), "Strength": 1.0}
    assert d["render"]["max_bounces"] == 64
    material = d["materials"][d["meshes"]["sphere"]["materials"][0]]["nodes"]["Principled BSDF"]["inputs"]
    assert material["Base Color"] == (1.0, 1.0, 1.0) and material["Specular IOR Level"] == 0.0
    assert material["Metallic"] == 0.0 and material["Roughness"] == 1.0 and material["Transmission Weight"] == 0.0
    assert np.allclose(np.linalg.norm(d["meshes"]["sphere"]["vertices"], axis=1), 1.0, atol=1e-6)


# --------------------------------------------------------------------------------------------
# Files


def _assert_same_scene(a, b, path="scene"):
    """Equal structure, equal values of equal types, arrays bit-equal with equal dtypes."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            _assert_same_scene(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_scene(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), path
        assert a.tobytes() == b.tobytes(), path  # bit-exact, not only numerically equal
    else:
        assert a == b, path


def _float_texture_scene():
    d = small_scene()
    rng = np.random.default_rng(3)
    d["textures"]["hdr"] = {"pixels": rng.uniform(0, 20, (5, 7, 4)).astype(np.float32), "extension": "clip"}
    d["materials"]["Blue"]["base_color_texture"] = "hdr"
    d["render"]["region"] = [4, 2, 10, 12]
    return d


ROUND_TRIP_SCENES = {"small (uint8 texture)": small_scene, "float texture": _float_texture_scene, **BUILDERS}


@pytest.mark.parametrize("name", ROUND_TRIP_SCENES)
def test_save_load_round_trips_bit_exactly(tmp_path, name):
    d = ROUND_TRIP_SCENES[name]()
    path = tmp_path / "scene.optica"
    save_scene(d, path)
    _assert_same_scene(validate_scene(d), load_scene(path))
    assert os.listdir(tmp_path) == ["scene.optica"]


def test_file_is_a_stored_zip_with_readable_json(tmp_path):
    path = tmp_path / "s.optica"
    save_scene(small_scene(), str(path))
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[0] == "scene.json"
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
        text = zf.read("scene.json").decode()
        assert '"$array": "arrays/' in text and '\n "render": {' in text


def test_shared_arrays_are_stored_once_and_stay_shared(tmp_path):
    d = small_scene()
    del mesh(d)["normal_indices"]
    mesh(d)["normals"] = mesh(d)["vertices"]
    save_scene(d, tmp_path / "s.optica")
    cube = load_scene(tmp_path / "s.optica")["meshes"]["Cube"]
    assert cube["normal_indices"] is cube["triangles"]


def test_save_overwrites_an_existing_file(tmp_path):
    path = tmp_path / "s.optica"
    save_scene(scenes.furnace(), path)
    save_scene(small_scene(), path)
    assert "Cube" in load_scene(path)["meshes"] and os.listdir(tmp_path) == ["s.optica"]


def test_saving_an_invalid_scene_writes_nothing(tmp_path):
    d = small_scene()
    d["version"] = 3
    with pytest.raises(ValueError, match=r"^version: unsupported"):
        save_scene(d, tmp_path / "s.optica")
    assert os.listdir(tmp_path) == []


def test_saving_into_a_missing_folder_writes_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        save_scene(small_scene(), tmp_path / "missing" / "s.optica")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_save_failing_midway_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch, error):
    path = tmp_path / "s.optica"
    save_scene(scenes.furnace(), path)
    old = path.read_bytes()
    calls = []

    def failing_write_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # a few members are already written
            raise error
        return real_write_array(*args, **kwargs)

    real_write_array = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(type(error)):
        save_scene(small_scene(), path)
    assert os.listdir(tmp_path) == ["s.optica"] and path.read_bytes() == old


def _corrupt(tmp_path, how) -> str:
    path = tmp_path / "bad.optica"
    save_scene(small_scene(), path)
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not a zip":
        path.write_text("{\"version\": 1}")
    elif how == "flipped byte":
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("arrays/1.npy")
        name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)  # local header
        data = bytearray(data)
        data[info.header_offset + 30 + name_length + extra_length + info.file_size - 1] ^= 0xFF  # last data byte
        path.write_bytes(bytes(data))
    else:
        members = {"no scene.json": {"arrays/0.npy": b"x"},
                   "bad json": {"scene.json": b"{version: 1"},
                   "json list": {"scene.json": b"[1, 2]"},
                   "missing member": {
                       "scene.json": b'{"version": 1, "camera": {"matrix": {"$array": "arrays/9.npy"}}}'},
                   "bad npy": {"scene.json": b'{"version": 1, "camera": {"matrix": {"$array": "arrays/0.npy"}}}',
                               "arrays/0.npy": b"\x93NUMPY garbage"}}[how]
        with zipfile.ZipFile(path, "w") as zf:
            for name, content in members.items():
                zf.writestr(name, content)
    return str(path)


@pytest.mark.parametrize("how", ["truncated", "empty", "not a zip", "flipped byte", "no scene.json", "bad json",
                                 "json list", "missing member", "bad npy"])
def test_loading_a_damaged_file_names_the_file(tmp_path, how):
    path = _corrupt(tmp_path, how)
    with pytest.raises(ValueError, match="^" + re.escape(path) + ": not a readable Optica scene file"):
        load_scene(path)


def test_loading_a_pickled_array_is_refused(tmp_path):
    path = tmp_path / "pickle.optica"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("scene.json", '{"version": 1, "camera": {"matrix": {"$array": "arrays/0.npy"}}}')
        with zf.open("arrays/0.npy", "w") as f:
            np.lib.format.write_array(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="^" + re.escape(str(path)) + ": not a readable.*allow_pickle"):
        load_scene(path)


def test_loading_an_invalid_scene_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "v3.optica"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("scene.json", '{"version": 3}')
    with pytest.raises(ValueError, match="^" + re.escape(str(path)) + r": version: unsupported scene version 3"):
        load_scene(path)


def test_loading_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_scene(tmp_path / "nothing.optica")


def test_a_million_triangles_validate_save_and_load_quickly(tmp_path):
    d = scenes.displaced_sphere(1_000_000)
    assert len(d["meshes"]["bumpy_sphere"]["triangles"]) > 990_000
    path = tmp_path / "big.optica"
    start = time.perf_counter()
    normalised = validate_scene(d)
    validated = time.perf_counter()
    save_scene(normalised, path)
    saved = time.perf_counter()
    loaded = load_scene(path)
    done = time.perf_counter()
    print(f"\n1M triangles ({os.path.getsize(path) / 1e6:.0f} MB): validate {validated - start:.3f} s, "
          f"save {saved - validated:.3f} s, load {done - saved:.3f} s")
    _assert_same_scene(normalised, loaded)
    assert validated - start < 1.0
    assert done - saved < 2.0


def test_version_constant():
    assert SCENE_VERSION == 2


# --------------------------------------------------------------------------------------------
# The normalised form: marked, read-only, taken by the core as it is


def test_normalised_scene_is_marked_and_read_only():
    import copy
    import pickle

    from optica_core.scene import NormalisedScene, is_normalised

    out = validate_scene(small_scene())
    assert is_normalised(out) and not is_normalised(small_scene())
    for change in (lambda: out.__setitem__("lights", {}), lambda: out.pop("lights"), lambda: out.update(x=1),
                   lambda: out["render"].__setitem__("width", 8), lambda: out["meshes"]["Cube"].pop("uvs"),
                   lambda: out["instances"].append({}), lambda: out["meshes"]["Cube"]["materials"].__setitem__(0, None)):
        with pytest.raises(TypeError, match="read-only"):
            change()
    for copied in (dict(out), copy.copy(out), copy.deepcopy(out), pickle.loads(pickle.dumps(out))):
        assert not is_normalised(copied) and type(copied) is dict
        copied["lights"] = {}  # a copy is the caller's to change (and is validated again)
    assert type(copy.deepcopy(out)["meshes"]["Cube"]) is dict
    with pytest.raises(TypeError, match="validate_scene only"):
        NormalisedScene({}, object())
    assert is_normalised(validate_scene(out))  # validating it again is allowed, and gives a new one


def test_renderer_takes_a_normalised_scene_without_validating_it_again(monkeypatch):
    import optica_core as oc

    calls = []
    real = oc.validate_scene
    monkeypatch.setattr(oc, "validate_scene", lambda *a, **k: calls.append(1) or real(*a, **k))
    r = oc.Renderer(threads=1)
    normalised = real(small_scene())
    r.set_scene(normalised)
    assert calls == [] and r.accumulate(1) == 1
    r.set_scene(dict(normalised))  # a copy: validated again
    assert calls == [1]


def test_repeated_validations_skip_the_checks_of_the_very_same_arrays():
    from optica_core.scene import CheckedArrays

    checked = CheckedArrays()
    d = small_scene()
    first = validate_scene(d, checked=checked)
    assert checked.reused == 0
    again = validate_scene(d, checked=checked)
    assert checked.reused > 5
    cube, cube_again = first["meshes"]["Cube"], again["meshes"]["Cube"]
    # float64/int64 input made float32/int32 copies once: the same copies again (so the core can keep the BVH)
    assert cube_again["vertices"] is cube["vertices"] and cube_again["triangles"] is cube["triangles"]
    # a different array at the same place is checked, whatever the last validation saw there
    bad = d["meshes"]["Cube"]["triangles"].copy()
    bad[3, 1] = 99
    d["meshes"]["Cube"]["triangles"] = bad
    with pytest.raises(ValueError, match=r"meshes\['Cube'\]\.triangles: index 99 out of range for 8 vertices"):
        validate_scene(d, checked=checked)
    d["meshes"]["Cube"]["vertices"] = d["meshes"]["Cube"]["vertices"].copy()
    d["meshes"]["Cube"]["vertices"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"vertices: contains NaN"):
        validate_scene(d, checked=checked)


def test_renderer_keeps_the_bvh_of_a_float64_mesh_sent_again():
    """Arrays converted by validation (float64 → float32) are the same objects on the next
    set_scene of the same input, so the core reuses the geometry."""
    import optica_core as oc

    d = small_scene()
    d["meshes"]["Cube"]["material_ids"] = np.array(d["meshes"]["Cube"]["material_ids"])
    d["spheres"]["Dots"] = {key: np.array(value, np.float64) for key, value in d["spheres"]["Dots"].items()}
    r = oc.Renderer(threads=1)
    r.set_scene(d)
    d2 = dict(d)
    d2["camera"] = {"matrix": scenes.look_at((0, -6, 1), (0, 0, 0))}
    r.set_scene(d2)
    assert r.geometry_reused == 2  # the mesh and the sphere set


def test_with_view_replaces_camera_and_render_and_shares_the_rest():
    from optica_core.scene import is_normalised, with_view

    normalised = validate_scene(small_scene())
    view = with_view(normalised, {"matrix": scenes.look_at((0, -7, 2), (0, 0, 0))}, {"width": 8, "height": 6})
    assert is_normalised(view) and view["render"]["width"] == 8 and view["render"]["region"] == (0, 0, 8, 6)
    assert view["camera"]["lens"] == 50.0 and view["meshes"] is normalised["meshes"]
    assert normalised["render"]["width"] == 32  # the original is untouched
    with pytest.raises(ValueError, match=r"camera\.lens"):
        with_view(normalised, {"matrix": np.eye(4), "lens": -1.0}, {"width": 8, "height": 6})
    with pytest.raises(TypeError, match="read-only"):
        view["render"]["width"] = 9
    with pytest.raises(TypeError, match="validate_scene's result"):
        with_view(small_scene(), {"matrix": np.eye(4)}, {"width": 8, "height": 6})


@pytest.mark.parametrize("key", ["triangles", "uv_indices"])
def test_indices_changed_in_place_after_validation_are_an_error_not_a_crash(key):
    """Arrays of a scene must not change once handed over; if one does anyway, the native reader's
    one remaining check (indices inside what they index) turns it into a ValueError."""
    import optica_core as oc

    d = small_scene()
    d["meshes"]["Cube"]["uv_indices"] = np.array(d["meshes"]["Cube"]["triangles"], np.int32)
    d["meshes"]["Cube"]["triangles"] = np.array(d["meshes"]["Cube"]["triangles"], np.int32)
    normalised = validate_scene(d)
    normalised["meshes"]["Cube"][key][5, 2] = 1_000_000  # the caller's own array, changed behind the validation
    with pytest.raises(ValueError, match=rf"meshes\['Cube'\]\.{key}: index out of range"):
        oc.Renderer(threads=1).set_scene(normalised)


# --------------------------------------------------------------------------------------------
# Light Paths limits and Shadow Terminator offsets


def _v2_box() -> dict:
    """The Cornell box in version-2 form, its render section reduced to the frame size."""
    d = dict(validate_scene(scenes.cornell_box(8, 8)))  # a normalised scene is read-only
    d["render"] = {"width": 8, "height": 8}
    d["instances"] = [dict(group) for group in d["instances"]]
    return d


def test_light_path_limits_given_are_kept_and_absent_ones_render_as_before():
    d = _v2_box()
    d["render"].update(max_bounces=9, max_diffuse_bounces=0, max_glossy_bounces=3, max_transparent_bounces=5)
    r = validate_scene(d)["render"]
    assert (r["max_diffuse_bounces"], r["max_glossy_bounces"], r["max_transmission_bounces"],
            r["max_transparent_bounces"]) == (0, 3, 9, 5)  # transmission: absent, the total's


def _terminator_scene(terminator):
    d = _v2_box()
    d["instances"][0]["shadow_terminator"] = terminator
    return d


def test_shadow_terminator_defaults_and_values():
    n = len(_v2_box()["instances"][0]["transforms"])
    out = validate_scene(_terminator_scene({"shading_offset": np.full(n, 0.25)}))["instances"][0]["shadow_terminator"]
    assert out["geometry_offset"].dtype == np.float32 and np.all(out["geometry_offset"] == np.float32(0.1))
    assert np.all(out["shading_offset"] == 0.25)
    assert validate_scene(_terminator_scene(None))["instances"][0]["shadow_terminator"] is None


@pytest.mark.parametrize("terminator, message", [
    ({"geometry_offset": [1.5]}, r"instances\[0\]\.shadow_terminator\.geometry_offset: expected values in \[0, 1\], got 1\.5"),
    ({"shading_offset": [-0.1]}, r"instances\[0\]\.shadow_terminator\.shading_offset: expected values in \[0, 1\], got -0\.1"),
    ({"shading_offset": [0.1, 0.2, 0.3]}, r"instances\[0\]\.shadow_terminator\.shading_offset: "),
    ({"geometry_offset": [float("nan")]}, r"instances\[0\]\.shadow_terminator\.geometry_offset: "),
    ({"offset": [0.1]}, r"instances\[0\]\.shadow_terminator: unknown key 'offset'"),
    ([0.1], r"instances\[0\]\.shadow_terminator: expected a dict"),
])
def test_bad_shadow_terminator_names_its_key_path(terminator, message):
    d = _terminator_scene(terminator)
    assert len(d["instances"][0]["transforms"]) == 1  # the cases above are written for one placement
    with pytest.raises(ValueError, match="^" + message):
        validate_scene(d)
