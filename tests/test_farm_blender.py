# SPDX-License-Identifier: GPL-3.0-or-later
"""The farm from Blender: an animation exported as scene files (`optica.export_scene_files`, the
SCENE_FILES method), rendered without Blender (`python -m optica_core render`) and on a real Dask
LocalCluster (2 worker processes on 127.0.0.1) by the DASK method of the Export Animation dialog.

- the farm's video is made of exactly the frames the STREAM export hands its encoder (the same
  8-bit images before encoding), for the same scene and seed;
- a frame rendered from the folder equals Blender's Render Result (same samples and seed);
- cancelling stops the farm and its local cluster, leaves no video and keeps the rendered frames;
  the next run renders only the missing ones, here on a scheduler given by address.

The scene is test_export_video's (64×48, 4 samples, 2 bounces) with a static 40×40 grid mesh,
the part every frame shares.
"""

import json
import os
import time
from pathlib import Path

import bpy  # conftest has pointed Blender's user folders at a temporary folder already
import numpy as np
import pytest

from conftest import read_image_file
from test_export_video import FRAMES, H, W, _export, _material, _mesh, _mod, build_scene, decode, leftovers

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

from optica_core import cli  # noqa: E402
from optica_core.sequence import Sequence  # noqa: E402


def _grid(scene, n=40):
    """A static n×n quad grid behind the cube: big enough to be stored as an array file."""
    xs = np.linspace(-3, 3, n + 1)
    verts = [(x, 1.5, z) for z in np.linspace(0, 3, n + 1) for x in xs]
    faces = [(r * (n + 1) + c, r * (n + 1) + c + 1, (r + 1) * (n + 1) + c + 1, (r + 1) * (n + 1) + c)
             for r in range(n) for c in range(n)]
    return _mesh(scene, f"{scene.name}.Grid", verts, faces, _material("Wall", (0.3, 0.5, 0.7)))


@pytest.fixture
def shot_scene(optica_scene):
    scene = build_scene(optica_scene)
    _grid(scene)
    return scene


def _workers_running() -> list:
    """Child processes of this one that Dask's nannies spawned (its workers)."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.NoSuchProcess:
            continue
    return found


# ---------------------------------------------------------------------------------------------
# scene files


def test_scene_files_hold_the_animation_with_its_settings(shot_scene, tmp_path):
    folder = tmp_path / "shot"
    shot_scene.optica_export.codec = "HEVC"  # the panel's encoder settings go into the manifest
    assert bpy.ops.optica.export_scene_files(scene_folder=str(folder), crf=7) == {"FINISHED"}
    seq = Sequence(folder)
    m = seq.manifest
    assert m.frames == list(range(1, FRAMES + 1)) and m.fps == (24, 1)
    assert m.render == {"samples": 4, "time_limit": 0.0, "noise_threshold": 0.0, "denoise": False,
                        "denoise_quality": "high"}
    assert m.color == {"view": "Standard", "display": "sRGB", "look": "None", "exposure": 0.0, "gamma": 1.0}
    assert (m.encoder["codec"], m.encoder["crf"]) == ("HEVC", 7)
    assert m.ocio == _mod("colour").blender_config_path()  # referenced, not copied
    # the grid is stored once, named by frame 1; the other frames hold what differs: the cube moved
    documents = [json.loads((folder / "frames" / f"frame_{n:06d}.json").read_text()) for n in m.frames]
    grid = next(v for k, v in documents[0]["meshes"].items() if "Grid" in k)
    assert '"$array"' in json.dumps(grid)
    assert all(d["$base"] == 1 for d in documents[1:])
    changed = {path[0] for d in documents[1:] for path, _value in d["$patch"]}
    assert "instances" in changed and "meshes" not in changed
    stored = list((folder / "arrays").glob("*/*.npy"))
    assert 1 <= len(stored) <= 6, [p.name for p in stored]
    last = seq.load_frame(FRAMES)
    assert (last["render"]["width"], last["render"]["height"]) == (W, H)
    assert last["meshes"][next(k for k in last["meshes"] if "Grid" in k)]["vertices"].shape == (41 * 41, 3)
    # a second export finds every file in place
    again = _export(shot_scene, "", method="SCENE_FILES", scene_folder=str(folder), codec="HEVC", crf=7)
    assert (again.rendered, again.resumed, again.frames) == (0, FRAMES, FRAMES) and again.path == folder
    assert "scene files (0 written, 4 unchanged)" in again.summary()


def test_a_cancelled_scene_files_export_keeps_complete_files_and_continues(shot_scene, tmp_path):
    folder = tmp_path / "shot"
    seen = []
    result = _export(shot_scene, "", method="SCENE_FILES", scene_folder=str(folder), copy_ocio=True,
                     progress=lambda p: seen.append(p.done), should_cancel=lambda: len(seen) > 2)
    assert result.cancelled and result.kept_frames == folder
    assert "scene files written so far are in" in result.summary()
    written = sorted(p.name for p in (folder / "frames").iterdir())
    assert 1 <= len(written) < FRAMES and not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
    assert Sequence(folder).ocio_config() == str(folder / "ocio" / "config.ocio")  # copied
    result = _export(shot_scene, "", method="SCENE_FILES", scene_folder=str(folder), copy_ocio=True)
    assert (result.rendered, result.resumed) == (FRAMES - len(written), len(written))
    assert Sequence(folder).missing_frames() == []
    assert shot_scene.frame_current == 1


def test_scene_files_refuse_what_they_cannot_hold(shot_scene, tmp_path):
    plan = _mod("plan")
    second = build_scene(bpy.data.scenes.new("Second"))
    with pytest.raises(plan.ExportError, match="one scene's animation"):
        _export(shot_scene, "", method="SCENE_FILES", scene_folder=str(tmp_path / "two"),
                scenes=[shot_scene.name, second.name])
    with pytest.raises(plan.ExportError, match="no output file given"):
        _export(shot_scene, "", method="SCENE_FILES")
    (tmp_path / "file").write_text("")
    with pytest.raises(plan.ExportError, match="is a file, not a folder"):
        _export(shot_scene, "", method="SCENE_FILES", scene_folder=str(tmp_path / "file"))
    assert leftovers(tmp_path) == ["file"]


def test_a_frame_rendered_without_blender_equals_the_render_result(shot_scene, tmp_path):
    shot_scene.optica.seed = 7
    shot_scene.view_layers[0].use_pass_z = True
    shot_scene.view_layers[0].use_pass_normal = True
    assert bpy.ops.optica.export_scene_files(scene_folder=str(tmp_path / "shot")) == {"FINISHED"}
    shot_scene.frame_set(3)
    im = shot_scene.render.image_settings
    im.media_type, im.color_depth = "MULTI_LAYER_IMAGE", "32"
    shot_scene.render.filepath = str(tmp_path / "blender.exr")
    assert bpy.ops.render.render(write_still=True) == {"FINISHED"}
    blender = read_image_file(tmp_path / "blender.exr")
    assert cli.main(["render", str(tmp_path / "shot"), "--frame", "3", "-o", str(tmp_path / "optica.exr"),
                     "--passes", "depth,normal", "-q"]) == 0
    ours = read_image_file(tmp_path / "optica.exr")
    assert ours[""].shape == (H, W, 4) and ours[""][..., :3].max() > 0.05
    assert np.array_equal(ours[""], blender["ViewLayer.Combined"])
    assert np.array_equal(ours["Depth"], blender["ViewLayer.Depth"])
    assert np.array_equal(ours["Normal"], blender["ViewLayer.Normal"])


# ---------------------------------------------------------------------------------------------
# DASK


def test_the_farms_video_is_the_stream_exports_frame_for_frame(shot_scene, handed, tmp_path):
    stream = _export(shot_scene, tmp_path / "stream.mp4", method="STREAM")
    streamed = list(handed)
    handed.clear()
    seen = []
    farm = _export(shot_scene, tmp_path / "farm.mp4", method="DASK", workers=2, progress=seen.append)
    assert (stream.frames, farm.frames) == (FRAMES, FRAMES) and farm.path == tmp_path / "farm.mp4"
    assert len(handed) == FRAMES and all(np.array_equal(a, b) for a, b in zip(streamed, handed))
    assert [np.array_equal(a[0], b[0]) for a, b in zip(decode(tmp_path / "stream.mp4")[0],
                                                        decode(tmp_path / "farm.mp4")[0])] == [True] * FRAMES
    texts = [p.text for p in seen]
    assert any(t.startswith("Writing scene files") for t in texts)
    assert any("Rendering on Dask (local cluster)" in t and "frames/s on 2 workers" in t for t in texts)
    assert sorted(leftovers(tmp_path)) == ["farm.mp4", "farm.optica-scenes", "stream.mp4"]
    assert not _workers_running()  # the local cluster is gone


def test_cancelling_the_farm_stops_its_cluster_and_a_rerun_renders_the_rest(shot_scene, tmp_path, monkeypatch):
    farm_thread = _mod("methods.dask")._FarmThread
    report = farm_thread._progress

    def report_then_hold(self, frame, tracker):  # the farm waits for the cancel after two frames
        report(self, frame, tracker)
        if tracker.count >= 2:
            self.stop.wait(60)

    monkeypatch.setattr(farm_thread, "_progress", report_then_hold)
    shot_scene.frame_end = 6
    progress = []
    t0 = time.monotonic()
    result = _export(shot_scene, tmp_path / "farm.mp4", method="DASK", workers=2, progress=progress.append,
                     should_cancel=lambda: any(p.phase == "render" and p.done >= 2 for p in progress))  # Esc
    assert result.cancelled and "no video was written" in result.summary()
    state = tmp_path / ".farm.mp4.optica-farm"
    assert result.kept_frames == state and "export again to render only the missing ones" in result.summary()
    kept = sorted(state.glob("frame_*.png"))
    assert 2 <= len(kept) < 6
    assert sorted(leftovers(tmp_path)) == [".farm.mp4.optica-farm", "farm.optica-scenes"]  # no (partial) video
    assert not _workers_running() and time.monotonic() - t0 < 120
    monkeypatch.undo()
    # again, on a running scheduler given by its address: only the missing frames are rendered
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  timeout=60) as cluster:
        again = _export(shot_scene, tmp_path / "farm.mp4", method="DASK", scheduler=cluster.scheduler_address)
    assert (again.frames, again.rendered, again.resumed) == (6, 6 - len(kept), len(kept))
    assert len(decode(tmp_path / "farm.mp4")[0]) == 6
    assert sorted(leftovers(tmp_path)) == ["farm.mp4", "farm.optica-scenes"]


def test_a_cancel_that_comes_after_the_farm_finished_is_no_failure(shot_scene, tmp_path):
    video = tmp_path / "farm.mp4"
    progress = []

    def once_the_video_is_written():  # Esc, arriving while the farm completes on its thread
        if not (progress and progress[-1].phase == "render"):
            return False
        deadline = time.monotonic() + 60
        while not video.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return True

    result = _export(shot_scene, video, method="DASK", workers=1, progress=progress.append,
                     should_cancel=once_the_video_is_written)
    assert not result.cancelled and result.path == video and result.frames == FRAMES
    assert sorted(leftovers(tmp_path)) == ["farm.mp4", "farm.optica-scenes"]


def test_the_dask_method_says_what_is_wrong_before_rendering(shot_scene, tmp_path):
    plan = _mod("plan")
    with pytest.raises(plan.ExportError, match="no output file given"):
        _export(shot_scene, "", method="DASK", scene_folder=str(tmp_path / "shot"))
    with pytest.raises(plan.ExportError, match="worker processes cannot be negative"):
        _export(shot_scene, tmp_path / "a.mp4", method="DASK", workers=-1)
    assert leftovers(tmp_path) == []
    assert os.path.isdir(Path(_mod("colour").blender_config_path()).parent)
