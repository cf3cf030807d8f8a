"""`bin/deblur` against what a careful user broke (issue #10): resume that checks what it resumes,
unreadable checkpoints, clashing file stems, out-of-range settings, summaries that keep earlier results."""

from __future__ import annotations

import json
import shutil

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import grey_photo
from test_cli import TINY_FLAGS, assert_one_line_error, deblur


@pytest.fixture(scope="session")
def finished(tmp_path_factory):
  """A finished tiny run of one image, with its final checkpoint kept."""
  root = tmp_path_factory.mktemp("finished")
  image = root / "good.png"
  iio.imwrite(image, (grey_photo()[200:224, 230:254] * 255).astype(np.uint8))
  flags = [f"--config.data_dir={image}", "--config.kernel_size=5", "--quiet", *TINY_FLAGS]
  result = deblur(*flags, f"--workdir={root / 'work'}")
  assert result.returncode == 0, result.stderr
  return root, flags


def copy_of(finished, tmp_path):
  root, flags = finished
  workdir = tmp_path / "work"
  shutil.copytree(root / "work", workdir)
  return workdir, flags


@pytest.mark.xdist_group("cli_finished")  # shares the module fixture finished
@pytest.mark.parametrize("change,fragment", [
    ("--config.num_steps=6", "num_steps 4 -> 6"),
    ("--config.kernel_size=7", "kernel_size 5 -> 7"),
    ("--config.seed=3", "seed 0 -> 3"),
])
def test_resume_refuses_a_finished_result_made_with_other_settings(finished, tmp_path, change, fragment):
  workdir, flags = copy_of(finished, tmp_path)
  before = (workdir / "summary.json").read_bytes()
  result = deblur(*flags, change, f"--workdir={workdir}", "--resume")
  assert_one_line_error(result, 2, "good", "other settings", fragment, "fresh --workdir")
  assert (workdir / "summary.json").read_bytes() == before


@pytest.mark.xdist_group("cli_finished")  # shares the module fixture finished
def test_resume_refuses_a_checkpoint_written_with_another_network(finished, tmp_path):
  workdir, flags = copy_of(finished, tmp_path)
  (workdir / "good_x.png").unlink()  # unfinished: the checkpoint would be resumed
  result = deblur(*flags, "--config.model_x.channels=6", f"--workdir={workdir}", "--resume")
  assert_one_line_error(result, 2, "checkpoints/batch_", "model_x.channels 4 -> 6")


@pytest.mark.xdist_group("cli_finished")  # shares the module fixture finished
def test_resume_refuses_a_checkpoint_of_a_run_with_another_length(finished, tmp_path):
  """The issue's first case: a checkpoint resumed with another num_steps used to end with zeros in
  the loss history, or to write an earlier state as final."""
  workdir, flags = copy_of(finished, tmp_path)
  (workdir / "good_x.png").unlink()
  result = deblur(*flags, "--config.num_steps=30", f"--workdir={workdir}", "--resume")
  assert_one_line_error(result, 2, "checkpoints/batch_", "num_steps 4 -> 30")


@pytest.mark.xdist_group("cli_finished")  # shares the module fixture finished
def test_resume_refuses_a_result_of_another_image_under_the_same_name(finished, tmp_path):
  workdir, flags = copy_of(finished, tmp_path)
  other = tmp_path / "good.png"
  iio.imwrite(other, (grey_photo()[300:324, 100:124] * 255).astype(np.uint8))
  flags = [f"--config.data_dir={other}", *flags[1:]]
  before = (workdir / "summary.json").read_bytes()
  result = deblur(*flags, f"--workdir={workdir}", "--resume")
  assert_one_line_error(result, 2, "good", "the image's content", "fresh --workdir")
  assert (workdir / "summary.json").read_bytes() == before


@pytest.mark.xdist_group("cli_finished")  # shares the module fixture finished
def test_a_truncated_checkpoint_is_named_with_the_way_out(finished, tmp_path):
  workdir, flags = copy_of(finished, tmp_path)
  (workdir / "good_x.png").unlink()
  (checkpoint,) = (workdir / "checkpoints").glob("batch_*.msgpack")
  checkpoint.write_bytes(checkpoint.read_bytes()[:100])
  result = deblur(*flags, f"--workdir={workdir}", "--resume")
  assert_one_line_error(result, 2, checkpoint.name, "cannot be read", "delete it")


@pytest.mark.xdist_group("cli_finished")  # shares the module fixture finished
@pytest.mark.parametrize("setting,fragment", [
    ("--config.seed=-1", "seed"), ("--config.seed=1099511627776", "seed"),
    ("--config.optim.lr_x=nan", "optim.lr_x"), ("--config.optim.lr_x=-1", "optim.lr_x"),
    ("--config.model_x.channels=0", "model_x.channels"),
])
def test_out_of_range_settings_are_refused_in_one_line(finished, tmp_path, setting, fragment):
  root, flags = finished
  result = deblur(*flags, setting, f"--workdir={tmp_path / 'w'}")
  assert_one_line_error(result, 2, fragment)


@pytest.mark.xdist_group("cli_finished")  # shares the module fixture finished
def test_a_failed_rerun_keeps_the_earlier_results_in_the_summary(finished, tmp_path):
  workdir, flags = copy_of(finished, tmp_path)
  before = json.loads((workdir / "summary.json").read_text())["images"]["good"]
  result = deblur(*flags, "--config.optim.lr_x=1e38", f"--workdir={workdir}")  # diverges
  assert result.returncode == 1
  assert "non-finite" in result.stderr and "Traceback" not in result.stderr
  summary = json.loads((workdir / "summary.json").read_text())
  assert summary["images"]["good"] == before
  assert any("non-finite" in e for e in summary["errors"])


def test_an_image_gives_the_same_result_alone_and_in_a_folder_with_other_kernel_sizes(tmp_path):
  """Issue #10, item 0: a folder's images of one shape but different kernel sizes used to run on the
  largest support, so an image's result changed with its batch-mates."""
  folder, alone = tmp_path / "folder", tmp_path / "alone"
  folder.mkdir()
  alone.mkdir()
  a = (grey_photo()[200:224, 230:254] * 255).astype(np.uint8)
  iio.imwrite(folder / "a.png", a)
  iio.imwrite(alone / "a.png", a)
  iio.imwrite(folder / "b.png", (grey_photo()[300:324, 100:124] * 255).astype(np.uint8))
  for inputs, sizes in ((folder, "{'a': 5, 'b': 7}"), (alone, "{'a': 5}")):
    result = deblur(f"--config.data_dir={inputs}", f"--config.kernel_sizes={sizes}", "--quiet",
                    *TINY_FLAGS, f"--workdir={inputs}_out")
    assert result.returncode == 0, result.stderr
  together, by_itself = np.load(f"{folder}_out/a.npz"), np.load(f"{alone}_out/a.npz")
  assert together["x_latent"].shape == by_itself["x_latent"].shape == (28, 28)
  np.testing.assert_array_equal(together["x"], by_itself["x"])
  np.testing.assert_array_equal(together["k"], by_itself["k"])


def test_inputs_with_the_same_stem_both_run(tmp_path):
  """grey.png and grey.tif in one directory: both processed, outputs that cannot collide."""
  d = tmp_path / "in"
  d.mkdir()
  crop = (grey_photo()[200:224, 230:254] * 255).astype(np.uint8)
  iio.imwrite(d / "grey.png", crop)
  iio.imwrite(d / "grey.tif", crop[::-1].copy())
  result = deblur(f"--config.data_dir={d}", "--config.kernel_size=5", "--quiet", *TINY_FLAGS,
                  f"--workdir={tmp_path / 'w'}")
  assert result.returncode == 0, result.stderr
  summary = json.loads((tmp_path / "w" / "summary.json").read_text())
  assert sorted(summary["images"]) == ["grey_png", "grey_tif"]
  assert (tmp_path / "w" / "grey_png_x.png").is_file() and (tmp_path / "w" / "grey_tif_x.png").is_file()


@pytest.mark.xdist_group("cli_finished")  # shares the module fixture finished
@pytest.mark.parametrize("setting,fragments", [
    ("--config.crop=-5", ("crop must be >= 0",)),
    ("--config.crop=99", ("good.png", "crop 99 is larger than the image")),
    ("--config.kernel_sizes.good=5", ("one mapping", "--config.kernel_sizes=")),
])
def test_small_setting_errors_say_what_to_write(finished, tmp_path, setting, fragments):
  root, flags = finished
  result = deblur(*flags, setting, f"--workdir={tmp_path / 'w'}")
  assert_one_line_error(result, 2, *fragments)  # the only image unusable: nothing could run


def test_help_shows_the_usage_and_configs_load_by_name_from_anywhere(tmp_path):
  import subprocess
  import sys

  from conftest import REPO
  env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
  shown = subprocess.run([sys.executable, str(REPO / "bin" / "deblur"), "--help"], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=120)
  for fragment in ("Usage: deblur --config=", "--workdir", "--resume", "--config=demo", ":robust"):
    assert fragment in shown.stdout, shown.stdout
  unknown = subprocess.run([sys.executable, str(REPO / "bin" / "deblur"), "--config=nothere"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
  assert unknown.returncode == 2 and "shipped config: color, default, demo" in unknown.stderr
  # From another directory, by name and as configs/NAME.py: the shipped file is found.
  for config in ("demo", "configs/demo.py"):
    result = subprocess.run([sys.executable, str(REPO / "bin" / "deblur"), f"--config={config}",
                             "--config.num_steps=abc"], capture_output=True, text=True, cwd=tmp_path,
                            env=env, timeout=120)
    assert result.returncode == 2 and "num_steps" in result.stderr and "no config file" not in result.stderr
