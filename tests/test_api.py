"""Input validation: every bad input raises ValueError with a message that says what and how to fix."""

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY

from selfdeblur_jax import fit_batch, fit_selfdeblur, get_default_config, resolve_config

GOOD = np.full((16, 16), 0.5, np.float32)


@pytest.mark.parametrize("y,message", [
    (np.zeros((4, 16, 16)), "2-D H×W grey image"),
    (np.zeros((16, 16, 3)), "Y channel"),
    (np.zeros(16), "2-D"),
    (np.where(np.eye(16) > 0, np.nan, 0.5), "non-finite"),
    (np.full((16, 16), np.inf), "non-finite"),
    (np.full((16, 16), 255.0), r"values in \[0, 1\].*1/255"),
    (np.full((16, 16), -0.1), r"values in \[0, 1\]"),
    (np.array([["a"] * 16] * 16), "numbers"),
])
def test_bad_images_raise_value_error(y, message):
  with pytest.raises(ValueError, match=message):
    fit_selfdeblur(y, 3, config=TINY)


@pytest.mark.parametrize("size,message", [
    (4, "positive odd integer.*try 5"),
    (0, "positive odd integer"),
    (-3, "positive odd integer"),
    (3.0, "positive odd integer"),
    (True, "positive odd integer"),
    ("5", "positive odd integer"),
    (17, "not smaller than the image"),
    (21, "not smaller than the image"),
])
def test_bad_kernel_sizes_raise_value_error(size, message):
  with pytest.raises(ValueError, match=message):
    fit_selfdeblur(GOOD, size, config=TINY)


def test_unknown_config_keys_are_named():
  with pytest.raises(ValueError, match="unknown config key.*num_stepz"):
    fit_selfdeblur(GOOD, 3, config={"num_stepz": 3})
  with pytest.raises(ValueError, match="model_x.chanels"):
    resolve_config({"model_x": {"chanels": 3}})


def test_bad_config_values_are_refused():
  with pytest.raises(ValueError, match="data_term"):
    resolve_config({"loss": {"data_term": "l1"}})
  with pytest.raises(ValueError, match="num_steps"):
    resolve_config({"num_steps": 0})
  with pytest.raises(ValueError, match="optim.mode"):
    resolve_config({"optim": {"mode": "sgd"}})
  with pytest.raises(ValueError, match="num_steps"):
    resolve_config({"num_steps": "many"})


def test_config_overrides_merge_into_the_default():
  config = resolve_config({"num_steps": 7, "loss": {"switch_step": 3}, "optim": {"lr_k": 0.01}})
  assert config.num_steps == 7 and config.optim.lr_k == 0.01
  assert config.optim.lr_x == get_default_config().optim.lr_x
  assert resolve_config(get_default_config()) == get_default_config()


@pytest.mark.parametrize("seed", [-1, 2**32, 2**40, 2**64, 1.0, True, "0"])
def test_seeds_outside_the_documented_range_are_refused_not_aliased(seed):
  """Issue #10, item 4: seeds are integers in [0, 2**32 - 1]; 2**40 used to run as seed 0, 2**64 to
  raise OverflowError. The single-image API names its own argument."""
  with pytest.raises(ValueError, match=r"^seed must be an integer in \[0, 2\*\*32 - 1\]"):
    fit_selfdeblur(GOOD, 3, config=TINY, seed=seed)
  with pytest.raises(ValueError, match=r"^seeds\[1\] must be an integer"):
    fit_batch([GOOD, GOOD], 3, config=TINY, seeds=[0, seed])


def test_the_single_image_api_names_y_not_ys():
  """Issue #10, item 10: fit_selfdeblur's messages name its own arguments."""
  with pytest.raises(ValueError, match=r"candidate size 21 of y \("):
    fit_selfdeblur(GOOD, 5, config={**TINY, "candidates": {"size_margins": (0, 8)}})
  with pytest.raises(ValueError, match=r"candidate size 21 of ys\[0\] \("):
    fit_batch([GOOD], 5, config={**TINY, "candidates": {"size_margins": (0, 8)}})


def test_batch_arguments_are_checked():
  with pytest.raises(ValueError, match="empty"):
    fit_batch([], 3, config=TINY)
  with pytest.raises(ValueError, match="2 entries for 3 images"):
    fit_batch([GOOD] * 3, [3, 5], config=TINY)
  with pytest.raises(ValueError, match="seeds"):
    fit_batch([GOOD], 3, config=TINY, seeds=[-1])
  with pytest.raises(ValueError, match="sequence of H×W images"):
    fit_batch(GOOD, 3, config=TINY)
  with pytest.raises(ValueError, match="support_size 3 is smaller"):
    fit_batch([GOOD], 5, config=TINY, support_size=3)


def test_accepts_numpy_jax_and_integer_arrays():
  for y in (GOOD, jnp.asarray(GOOD), np.ones((16, 16), np.uint8)):
    assert fit_selfdeblur(y, 3, config=TINY).x.shape == (16, 16)


def test_a_program_config_file_works_in_the_api_too():
  """Issue #10, item 7: the engine takes its part of a configs/*.py config and ignores the program's."""
  from conftest import REPO

  from selfdeblur_jax.app_config import load_config_file

  config = load_config_file(str(REPO / "configs" / "levin.py"))
  resolved = resolve_config(config)
  assert resolved.num_steps == 5000 and "data_dir" not in resolved
  with pytest.raises(ValueError, match="unknown config key.*kernel_sizez"):
    resolve_config({"kernel_sizez": 3})
  result = fit_selfdeblur(GOOD, 3, config=resolve_config({**config.to_dict(), **TINY}))
  assert result.kernel.shape == (3, 3)


def test_the_nonblind_output_is_an_image_in_0_1(small_image):
  """Issue #31, item 4: with candidates.output="nonblind", x was the deconvolution's raw values (after a
  short run, [-0.35, 1.38] here); x and x_latent are images in [0, 1], as G_x's are."""
  result = fit_selfdeblur(small_image, 5, config={**TINY, "candidates": {"output": "nonblind"}})
  for image in (result.x, result.x_latent):
    assert 0 <= image.min() and image.max() <= 1 and image.max() > image.min()
  np.testing.assert_array_equal(result.x, result.x_latent[2:-2, 2:-2])


def test_a_value_one_float32_step_above_1_is_shown_as_it_is():
  """Issue #31: the message said "got [0, 1]" (4 significant digits) for a maximum of 1.0000001."""
  y = np.full((16, 16), 0.5, np.float32)
  y[3, 4] = np.nextafter(np.float32(1), np.float32(2))
  with pytest.raises(ValueError, match=r"got \[0\.5, 1\.0000001\]"):
    fit_selfdeblur(y, 3, config=TINY)


def test_a_section_that_is_not_a_mapping_is_named():
  """Issue #31: config={"model_x": None} gave "'NoneType' object is not subscriptable"."""
  with pytest.raises(ValueError, match=r"model_x must be a mapping of its settings.*got None"):
    fit_selfdeblur(GOOD, 3, config={"model_x": None})
  with pytest.raises(ValueError, match=r"candidates must be a mapping.*got 'robust'"):
    resolve_config({"candidates": "robust"})
