"""Motion steps and curve sets in the scene dictionary (docs/scene-dict.md, *Motion blur*,
`curves`): strict validation, the values the core derives as Cycles does, files, and a core
that leaves them out of the image and says so once.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from optica_core import Renderer, scenes
from optica_core.curves import curve_random, hash_uint2
from optica_core.io import load_scene, save_scene
from optica_core.scene import SceneWarning, not_rendered, shutter_interval, validate_scene


def base_scene() -> dict:
    vertices, triangles = scenes.box()
    return {
        "version": 2,
        "render": {"width": 16, "height": 12, "seed": 3},
        "camera": {"matrix": scenes.look_at((0, -5, 1), (0, 0, 0))},
        "meshes": {"box": {"vertices": vertices, "triangles": triangles}},
        "instances": [{"geometry": "box", "transforms": np.eye(4, dtype=np.float32)[None]}],
        "lights": {"sun": {"type": "sun", "strength": 3.0, "matrix": np.eye(4, dtype=np.float32)}},
    }


def hair() -> dict:
    points = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 3], [1, 0, 0], [1, 0, 0], [2, 0, 0], [5, 5, 5]], np.float32)
    return {"points": points, "radii": np.full(7, 0.01, np.float32), "offsets": [0, 3, 6, 7]}


def moving_scene() -> dict:
    d = base_scene()
    n_vertices = len(d["meshes"]["box"]["vertices"])
    steps = np.repeat(np.eye(4, dtype=np.float32)[None, None], 3, axis=0)
    steps[:, 0, 0, 3] = [-0.5, 0.0, 0.5]
    d["instances"][0]["motion"] = steps
    d["meshes"]["box"]["motion"] = {"vertices": np.stack([d["meshes"]["box"]["vertices"] * s for s in (1, 1.1)])}
    assert d["meshes"]["box"]["motion"]["vertices"].shape == (2, n_vertices, 3)
    camera_steps = np.repeat(d["camera"]["matrix"][None], 2, axis=0)
    d["camera"]["motion"] = camera_steps
    d["motion"] = {"shutter": 0.5, "position": "START", "shutter_curve": np.linspace(0, 1, 8)}
    d["curves"] = {"hair": hair()}
    d["instances"].append({"geometry": "hair", "transforms": np.eye(4, dtype=np.float32)[None]})
    return d


def test_motion_and_curves_validate_to_their_normalised_form():
    v = validate_scene(moving_scene())
    assert v["motion"]["position"] == "START" and v["motion"]["rolling_shutter"] == "NONE"
    assert v["motion"]["shutter_curve"].dtype == np.float32
    assert shutter_interval(v["motion"]) == (0.0, 0.5)
    assert v["instances"][0]["motion"].shape == (3, 1, 4, 4)
    assert v["instances"][1]["motion"] is None
    assert v["meshes"]["box"]["motion"]["velocities"] is None
    assert v["camera"]["motion"].shape == (2, 4, 4)
    c = v["curves"]["hair"]
    assert c["shape"] == "round" and c["segments"] == "catmull_rom" and c["offsets"].dtype == np.int32
    assert c["attributes"] == {} and c["motion"] is None and c["material_ids"] is None
    assert not_rendered(v) == []  # curves are drawn
    again = validate_scene(dict(v))  # the normalised form is valid and validates to itself
    assert again["curves"]["hair"]["random"] is not None and set(again) == set(v)


def test_older_version_2_scenes_still_load_and_hold_no_motion():
    v = validate_scene(base_scene())
    assert v["motion"] is None and v["curves"] == {} and v["camera"]["motion"] is None
    assert v["meshes"]["box"]["motion"] is None and v["instances"][0]["motion"] is None
    assert not_rendered(v) == []


def test_shutter_interval_follows_the_position():
    for position, expected in (("START", (0.0, 0.5)), ("CENTER", (-0.25, 0.25)), ("END", (-0.5, 0.0))):
        d = base_scene()
        d["motion"] = {"position": position}
        assert shutter_interval(validate_scene(d)["motion"]) == expected


def test_curve_intercept_length_and_random_are_cycles():
    c = validate_scene({**base_scene(), "curves": {"hair": hair()}})["curves"]["hair"]
    np.testing.assert_allclose(c["intercept"], [0, 1 / 3, 1, 0, 0, 1, 0], atol=1e-7)
    np.testing.assert_allclose(c["length"], [3, 1, 0])
    # Cycles' hash_uint2(0, 0) and hash_uint2(1, 0), written out from lookup3's final mix.
    assert hash_uint2(np.array([0], np.uint32))[0] == _lookup3_final(0, 0)
    assert hash_uint2(np.array([1], np.uint32))[0] == _lookup3_final(1, 0)
    np.testing.assert_allclose(c["random"], [_lookup3_final(i, 0) / 0xFFFFFFFF for i in range(3)], rtol=1e-6)
    assert curve_random(0).shape == (0,)


def _lookup3_final(kx: int, ky: int) -> int:
    m = 0xFFFFFFFF

    def rot(x, k):
        return ((x << k) | (x >> (32 - k))) & m

    a = b = c = (0xDEADBEEF + 8 + 13) & m
    a, b = (a + kx) & m, (b + ky) & m
    for x, y, z, k in (("c", "b", None, 14), ("a", "c", None, 11), ("b", "a", None, 25), ("c", "b", None, 16),
                       ("a", "c", None, 4), ("b", "a", None, 14), ("c", "b", None, 24)):
        v = {"a": a, "b": b, "c": c}
        v[x] = ((v[x] ^ v[y]) - rot(v[y], k)) & m
        a, b, c = v["a"], v["b"], v["c"]
    return c


def test_given_curve_attributes_are_kept():
    h = {**hair(), "intercept": np.linspace(0, 1, 7), "random": [0.1, 0.2, 0.3], "length": [1, 2, 3],
         "attributes": {"uv": {"domain": "curve", "data": np.zeros((3, 2))}}, "shape": "ribbon", "segments": "linear"}
    c = validate_scene({**base_scene(), "curves": {"hair": h}})["curves"]["hair"]
    np.testing.assert_allclose(c["random"], [0.1, 0.2, 0.3])
    assert c["attributes"]["uv"]["data"].shape == (3, 2) and c["shape"] == "ribbon"


BAD = [
    (lambda d: d.pop("motion"), "camera.motion: motion steps given, but the scene has no 'motion' section"),
    (lambda d: d["motion"].update(shutter=0), "motion.shutter: expected a float in (0"),
    (lambda d: d["motion"].update(position="MIDDLE"), "motion.position: unknown shutter position 'MIDDLE'"),
    (lambda d: d["motion"].update(shutter_curve=[0, 0]), "motion.shutter_curve: expected at least one value > 0"),
    (lambda d: d["motion"].update(shutter_curve=[1, -1]), "motion.shutter_curve: expected values >= 0"),
    (lambda d: d["motion"].update(rolling_shutter_duration=2), "motion.rolling_shutter_duration: expected a float"),
    (lambda d: d["motion"].update(blur=1), "motion: unknown key 'blur'"),
    (lambda d: d["instances"][0].update(motion=np.zeros((3, 1, 4, 4))), "instances[0].motion[0][0]: not affine"),
    (lambda d: d["instances"][0].update(motion=np.ones((3, 2, 4, 4))), "instances[0].motion: expected shape (S, N, 4, 4) with N = 1"),
    (lambda d: d["instances"][0].update(motion=np.ones((1, 1, 4, 4))), "instances[0].motion: expected 2 to 129 motion steps"),
    (lambda d: d["instances"][0].update(motion=np.full((200, 1, 4, 4), np.eye(4))), "expected 2 to 129 motion steps"),
    (lambda d: d["camera"].update(motion=np.eye(4)), "camera.motion: expected shape (S, 4, 4)"),
    (lambda d: d["meshes"]["box"].update(motion={"vertices": np.zeros((2, 3, 3))}),
     "meshes['box'].motion.vertices: expected shape (S, N, 3) with N = 8"),
    (lambda d: d["meshes"]["box"].update(motion={}), "meshes['box'].motion: expected exactly one of 'vertices'"),
    (lambda d: d["meshes"]["box"]["motion"].update(velocities=np.zeros((8, 3))), "expected exactly one of"),
    (lambda d: d["meshes"]["box"].update(motion={"velocities": np.full((8, 3), np.nan)}),
     "meshes['box'].motion.velocities: contains NaN or Inf"),
    (lambda d: d["curves"]["hair"].update(offsets=[0, 3, 3, 7]), "curves['hair'].offsets: curve 1 has no points"),
    # Unsigned offsets going down (the fuzzer: uint16 differences wrapped and passed as steps up)
    (lambda d: d["curves"]["hair"].update(offsets=np.array([0, 5, 3, 7], np.uint16)),
     "curves['hair'].offsets: curve 1 has no points"),
    (lambda d: d["curves"]["hair"].update(offsets=[1, 3, 7]), "curves['hair'].offsets: expected 0 first"),
    (lambda d: d["curves"]["hair"].update(offsets=[0, 3, 6]), "curves['hair'].offsets: expected 7 last"),
    (lambda d: d["curves"]["hair"].update(offsets=[0.0, 7.0]), "curves['hair'].offsets: expected an integer array"),
    (lambda d: d["curves"]["hair"].update(radii=-np.ones(7)), "curves['hair'].radii: expected radii >= 0"),
    (lambda d: d["curves"]["hair"].update(radii=np.ones(6)), "curves['hair'].radii: expected shape (P,) with P = 7"),
    (lambda d: d["curves"]["hair"].update(shape="flat"), "curves['hair'].shape: unknown curve shape 'flat'"),
    (lambda d: d["curves"]["hair"].update(segments="bezier"), "curves['hair'].segments: unknown curve segment type"),
    (lambda d: d["curves"]["hair"].update(material_ids=[0, 1, 0]), "curves['hair'].material_ids: index 1 but"),
    (lambda d: d["curves"]["hair"].update(intercept=np.full(7, 2.0)), "curves['hair'].intercept: expected values in [0, 1]"),
    (lambda d: d["curves"]["hair"].update(random=[0.5]), "curves['hair'].random: expected shape (N,) with N = 3"),
    (lambda d: d["curves"]["hair"].update(attributes={"a": {"domain": "face", "data": [1.0]}}),
     "curves['hair'].attributes['a'].domain: unknown curve attribute domain 'face'"),
    (lambda d: d["curves"]["hair"].update(attributes={"a": {"domain": "curve", "data": np.zeros(7)}}),
     "curves['hair'].attributes['a'].data: expected 3 rows for a curve attribute, got 7"),
    (lambda d: d["curves"]["hair"].update(motion={"points": np.zeros((2, 6, 3))}),
     "curves['hair'].motion.points: expected shape (S, N, 3) with N = 7"),
    (lambda d: d["curves"].update(box=hair()), "curves['box']: name already used by a mesh geometry"),
    (lambda d: d["motion"].update(shutter_curve=[1.0]), "motion.shutter_curve: expected 2 to 4096 values, got 1"),
    (lambda d: d["motion"].update(shutter_curve=np.ones(5000)), "motion.shutter_curve: expected 2 to 4096 values"),
    (lambda d: d["motion"].update(rolling_shutter="BOTTOM"), "motion.rolling_shutter: unknown rolling shutter type"),
    (lambda d: d.update(motion=[0.5]), "motion: expected a dict, got list"),
    (lambda d: d["camera"].update(motion=np.zeros((2, 4, 4))), "camera.motion[0]: not affine"),
    (lambda d: d["camera"].update(motion=np.ones((1, 4, 4))), "camera.motion: expected 2 to 129 motion steps"),
    (lambda d: d["meshes"]["box"].update(motion={"vertices": np.zeros((1, 8, 3))}),
     "meshes['box'].motion.vertices: expected 2 to 129 motion steps"),
    (lambda d: d["meshes"]["box"].update(motion={"normals": np.zeros((8, 3))}), "meshes['box'].motion: unknown key 'normals'"),
    (lambda d: d["meshes"]["box"].update(motion=[1]), "meshes['box'].motion: expected a dict, got list"),
    (lambda d: d["curves"]["hair"].update(offsets=np.zeros(0, np.int32)), "curves['hair'].offsets: expected at least one value"),
    (lambda d: d["curves"]["hair"].update(length=[1, -1, 0]), "curves['hair'].length: expected lengths >= 0"),
    (lambda d: d["curves"]["hair"].update(attributes=[1]), "curves['hair'].attributes: expected a dict of name -> dict"),
    (lambda d: d["curves"]["hair"].update(attributes={"": {"domain": "point", "data": np.zeros(7)}}),
     "curves['hair'].attributes['']: names must be non-empty strings"),
    (lambda d: d["curves"]["hair"].update(attributes={"a": {"domain": "point", "data": np.zeros((7, 5))}}),
     "curves['hair'].attributes['a'].data: expected 1 to 4 channels"),
    (lambda d: d["curves"]["hair"].update(colour=1), "curves['hair']: unknown key 'colour'"),
    (lambda d: d["curves"]["hair"].pop("offsets"), "curves['hair']: missing required key 'offsets'"),
    (lambda d: d["curves"].update(fur=[1]), "curves['fur']: expected a dict, got list"),
    (lambda d: d["instances"].append({"geometry": "fur", "transforms": np.eye(4)[None]}),
     "instances[2].geometry: no mesh, sphere set or curve set named 'fur'"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_motion_and_curve_data_name_the_member(change, message):
    d = moving_scene()
    change(d)
    with pytest.raises(ValueError) as e:
        validate_scene(d)
    assert message in str(e.value)


def test_files_round_trip_motion_and_curves(tmp_path):
    d = moving_scene()
    d["meshes"]["box"]["motion"] = {"velocities": np.arange(24, dtype=np.float32).reshape(8, 3)}
    path = tmp_path / "moving.optica"
    save_scene(d, path)
    back = load_scene(path)
    v = validate_scene(d)
    np.testing.assert_array_equal(back["instances"][0]["motion"], v["instances"][0]["motion"])
    np.testing.assert_array_equal(back["meshes"]["box"]["motion"]["velocities"], v["meshes"]["box"]["motion"]["velocities"])
    np.testing.assert_array_equal(back["camera"]["motion"], v["camera"]["motion"])
    for key in ("points", "radii", "offsets", "intercept", "length", "random"):
        np.testing.assert_array_equal(back["curves"]["hair"][key], v["curves"]["hair"][key])
    assert back["motion"]["position"] == "START"
    np.testing.assert_array_equal(back["motion"]["shutter_curve"], v["motion"]["shutter_curve"])


def test_the_core_renders_motion_and_curves_without_a_warning():
    still = moving_scene()
    still["curves"] = {}
    still["instances"] = still["instances"][:1]
    blurred = dict(still, instances=list(still["instances"]))
    plain, moving, curved = Renderer(threads=1), Renderer(threads=1), Renderer(threads=1)
    plain.set_scene(base_scene())
    plain.accumulate(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        moving.set_scene(blurred)
        curved.set_scene(moving_scene())
        curved.set_scene(moving_scene())
    assert not [w for w in caught if issubclass(w.category, SceneWarning)]
    assert moving.not_rendered == [] and curved.not_rendered == []
    moving.accumulate(2)
    curved.accumulate(2)
    # Motion is drawn (the box moves and grows over the shutter).
    assert not np.array_equal(np.asarray(moving.color), np.asarray(plain.color))
    assert np.isfinite(np.asarray(curved.color)).all()
    assert len(curved.get_scene()["instances"]) == 2  # the scene kept as given


def test_built_in_moving_hair_scene_renders_its_hair():
    d = scenes.moving_hair(16, 12)
    v = validate_scene(d)
    assert v["curves"]["hair"]["offsets"].shape == (401,) and v["instances"][0]["motion"].shape == (3, 1, 4, 4)
    r = Renderer(threads=1)
    r.set_scene(d)
    assert r.not_rendered == []
    r.accumulate(1)
    with_hair = np.asarray(r.color)[..., :3].copy()
    assert with_hair.mean() > 0  # the box and the ground, lit
    bare = dict(d, instances=[g for g in d["instances"] if g["geometry"] != "hair"])
    r.set_scene(bare)
    r.accumulate(1)
    assert not np.array_equal(np.asarray(r.color)[..., :3], with_hair)  # the hair is drawn


def test_derived_curve_data_is_computed_once_per_arrays():
    from optica_core.scene import CheckedArrays

    d = {**base_scene(), "curves": {"hair": hair()}}
    d["curves"]["hair"]["offsets"] = np.array(d["curves"]["hair"]["offsets"], np.int32)
    checked = CheckedArrays()
    first = validate_scene(d, checked=checked)
    again = validate_scene(d, checked=checked)
    assert again["curves"]["hair"]["intercept"] is first["curves"]["hair"]["intercept"]
    d["curves"]["hair"]["offsets"] = np.array([0, 2, 6, 7], np.int32)  # new offsets: derived again
    third = validate_scene(d, checked=checked)
    np.testing.assert_allclose(third["curves"]["hair"]["length"], [1, 1 + np.sqrt(10), 0], rtol=1e-6)
