"""A seeded fuzz test of the input layer (issue #10): random shapes, dtypes, value ranges and config values
into `fit_selfdeblur`, and random files into the command line's reader. Every outcome must be a result
or a ValueError (ImageError is one), never another exception."""

from __future__ import annotations

import warnings

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import TINY

from selfdeblur_jax import fit_selfdeblur
from selfdeblur_jax.data import image_shape, read_image

DTYPES = (np.float16, np.float32, np.float64, np.int8, np.uint8, np.int64, bool, np.complex64, object)
ODD_VALUES = (0, -1, 1, 3, 4, 2.5, -3.0, float("nan"), float("inf"), 1e40, "7", None, True, (3,), [])
# Config values: mostly out of range or of the wrong type (each accepted value compiles a program).
CONFIG_VALUES = (0, -1, 2.5, -3.0, float("nan"), float("inf"), "7", None, (3,), [])


def random_image(rng: np.random.Generator):
  kind = rng.integers(6) if rng.random() < 0.6 else 0
  if kind == 0:  # valid: one shape, so that each valid kernel size compiles one program
    return rng.random((12, 16)).astype(np.float32)
  if kind == 1:
    shape = tuple(int(s) for s in rng.integers(0, 14, size=rng.integers(0, 5)))
    return (rng.normal(size=shape) * rng.choice([0.5, 3, 300])).astype(rng.choice(DTYPES[:7]))
  if kind == 2:
    image = rng.random((12, 12))
    image[rng.integers(12), rng.integers(12)] = rng.choice([np.nan, np.inf, -np.inf, -0.5, 2.0])
    return image
  if kind == 3:
    return rng.random((12, 12)).astype(np.complex64)
  if kind == 4:
    return [[rng.random()] * int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 4)))]  # ragged
  return rng.choice(["an image", None, 3.0, {"y": 1}])


def random_config(rng: np.random.Generator) -> dict:
  config = {**TINY, "num_steps": 2, "loss": {"switch_step": 1}}
  choice = rng.integers(6) if rng.random() < 0.5 else 0
  odd = CONFIG_VALUES[rng.integers(len(CONFIG_VALUES))]
  if choice == 1:
    config["num_steps"] = odd
  elif choice == 2:
    config["optim"] = {**TINY["optim"], "lr_x": odd}
  elif choice == 3:
    config["model_x"] = {**TINY["model_x"], "channels": odd}
  elif choice == 4:
    config["candidates"] = {"restarts": odd}
  elif choice == 5:
    config["seed"] = odd
  return config


@pytest.mark.xdist_group("fuzz")  # one worker compiles the valid cases' programs once for all seeds
@pytest.mark.parametrize("seed", range(4))
def test_fit_selfdeblur_returns_a_result_or_raises_value_error(seed):
  rng = np.random.default_rng(seed)
  outcomes = {"result": 0, "ValueError": 0}
  for _ in range(20):
    y = random_image(rng)
    kernel_size = ODD_VALUES[rng.integers(len(ODD_VALUES))] if rng.random() < 0.3 else 3
    config = random_config(rng)
    fit_seed = int(rng.integers(3)) if rng.random() < 0.9 else ODD_VALUES[rng.integers(len(ODD_VALUES))]
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      try:
        result = fit_selfdeblur(y, kernel_size, config=config, seed=fit_seed)
      except ValueError as error:
        assert str(error), "a ValueError must say what is wrong"
        outcomes["ValueError"] += 1
        continue
    assert result.x.shape == np.shape(y)
    assert result.status == "failed" or np.all(np.isfinite(result.kernel))  # a diverging rate
    outcomes["result"] += 1
  assert outcomes["ValueError"] > 0 and outcomes["result"] > 0, outcomes


def random_file(rng: np.random.Generator, path) -> None:
  kind = rng.integers(5)
  if kind == 0:
    path.write_bytes(rng.bytes(int(rng.integers(0, 300))))
  elif kind == 1:
    shape = [(9, 7), (9, 7, 3), (9, 7, 4), (9, 7, 2), (1, 1)][rng.integers(5)]
    dtype = np.uint16 if len(shape) == 2 and rng.random() < 0.5 else np.uint8  # what PNG can hold
    iio.imwrite(path, rng.integers(0, 255, size=shape).astype(dtype), extension=".png")
  elif kind == 2:
    iio.imwrite(path, rng.integers(0, 255, size=(8, 8, 3)).astype(np.uint8), extension=".jpg")
  elif kind == 3:
    data = iio.imwrite("<bytes>", rng.integers(0, 255, size=(8, 8)).astype(np.uint8), extension=".png")
    path.write_bytes(data[: int(rng.integers(1, len(data)))])  # truncated
  else:
    path.write_bytes(b"")


@pytest.mark.parametrize("mode", ["grey", "rgb"])
def test_the_readers_return_an_image_or_raise_value_error(tmp_path, mode):
  rng = np.random.default_rng(7)
  for i in range(40):
    path = tmp_path / f"f{i}.png"
    random_file(rng, path)
    try:
      shape = image_shape(path)  # the header reader that plans a run
    except ValueError as error:
      assert str(path) in str(error)
      shape = None
    try:
      image = read_image(path, mode=mode)
    except ValueError as error:
      assert str(path) in str(error)
      continue
    assert image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    assert image.ndim == (2 if mode == "grey" else 3)
    assert shape == image.shape[:2]  # whatever reads, plans to the shape it reads
