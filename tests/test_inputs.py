"""What a new user's inputs and settings met (issue #31, item 5): each refused or taken at its root,
with a line that says what it is."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
from conftest import REPO, grey_photo
from PIL import Image
from test_cli import DEBLUR, assert_one_line_error

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.data import ImageError, expand_inputs, read_image
from selfdeblur_jax.problems import plan_sources

GREY = (grey_photo()[200:224, 230:254] * 255).astype(np.uint8)


def test_a_cmyk_jpeg_is_called_cmyk(tmp_path):
  path = tmp_path / "print.jpg"
  Image.fromarray(np.dstack([GREY] * 3)).convert("CMYK").save(path)
  with pytest.raises(ImageError, match="CMYK") as refused:
    read_image(path, mode="rgb")
  assert "RGBA" not in str(refused.value) and "alpha" not in str(refused.value)


def test_a_file_whose_name_holds_glob_characters_is_taken_as_the_file(tmp_path):
  Image.fromarray(GREY).save(tmp_path / "shot[1].png")
  Image.fromarray(GREY).save(tmp_path / "shot1.png")  # what the name read as a pattern would match
  assert expand_inputs(str(tmp_path / "shot[1].png")) == [tmp_path / "shot[1].png"]
  assert expand_inputs(str(tmp_path / "shot[0-9].png")) == [tmp_path / "shot1.png"]  # still a pattern


def test_a_glob_skips_the_folders_it_matches(tmp_path):
  Image.fromarray(GREY).save(tmp_path / "a.png")
  (tmp_path / "old.png").mkdir()  # a folder whose name looks like an image
  assert expand_inputs(str(tmp_path / "*.png")) == [tmp_path / "a.png"]
  (tmp_path / "a.png").unlink()
  with pytest.raises(ImageError, match=r"matches 1 folder\(s\) and no file"):
    expand_inputs(str(tmp_path / "*.png"))


def test_a_kernel_sizes_key_that_names_no_input_is_an_error(tmp_path):
  """An error, not a warning: the misspelt image would run, for hours, with the default kernel size."""
  for name in ("a", "b"):
    Image.fromarray(GREY).save(tmp_path / f"{name}.png")
  config = get_base_config()
  config.data_dir, config.kernel_size = str(tmp_path), 5
  config.kernel_sizes = {"a": 7, "bb": 9}
  with pytest.raises(ImageError, match=r"kernel_sizes names 'bb', which is no input's name \(the inputs: a, b\)"):
    plan_sources(config)
  config.kernel_sizes = {"a": 7}
  sources, errors = plan_sources(config)
  assert [(s.name, s.kernel_size) for s in sources] == [("a", 7), ("b", 5)] and not errors


@pytest.mark.parametrize("config,known", [("mini_levin:robsut", "known: robust"),
                                          ("photo:CPU", "known: cpu, robust")])
def test_a_misspelt_preset_is_one_clean_line_listing_the_known_ones(tmp_path, config, known):
  result = subprocess.run([*DEBLUR, f"--config={config}", f"--workdir={tmp_path}"], capture_output=True,
                          text=True, timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
  assert_one_line_error(result, 2, "unknown config argument", known)
  assert 'File "' not in result.stderr
