"""Planning inputs from their headers (issue #10, multi-host): the plan agrees with what reading the
pixels gives, and a process of several reads only the inputs of its own batches."""

from __future__ import annotations

import imageio.v3 as iio
import jax
import numpy as np
import pytest
from conftest import grey_photo
from PIL import Image

from selfdeblur_jax import cli, problems
from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.data import ImageError, image_shape, read_image
from selfdeblur_jax.problems import load_item, load_source, plan_sources, prepared_shape


def _config(**fields):
  config = get_base_config()
  for key, value in fields.items():
    config[key] = value
  return config


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  """A grey PNG, a colour JPEG, and a JPEG stored landscape whose EXIF orientation (6) turns it."""
  d = tmp_path_factory.mktemp("plan")
  grey = (grey_photo()[:150, :203] * 255).astype(np.uint8)
  iio.imwrite(d / "grey.png", grey)
  iio.imwrite(d / "colour.jpg", np.dstack([grey, grey[::-1], grey[:, ::-1]]))
  exif = Image.Exif()
  exif[0x0112] = 6  # rotate 90° clockwise on display
  Image.fromarray(grey).save(d / "turned.jpg", exif=exif)
  return d


def test_header_shape_is_the_read_shape_exif_orientation_included(files):
  for name in ("grey.png", "colour.jpg", "turned.jpg"):
    assert image_shape(files / name) == read_image(files / name, mode="rgb").shape[:2], name
  assert image_shape(files / "turned.jpg") == (203, 150)


@pytest.mark.parametrize("fields", [
    {},
    {"crop": 64},
    {"downscale": 2},
    {"downscale": 3, "crop": 40},
    {"color_mode": "ycbcr", "crop": 100},
    {"restore": "nonblind", "estimate_window": 64},
    {"restore": "nonblind", "estimate_window": 500},
    {"restore": "nonblind", "estimate_window": 48, "estimate_max_kernel": 7},
    {"restore": "nonblind", "estimate_window": 400, "estimate_max_kernel": 5, "downscale": 2},
])
def test_plan_matches_the_prepared_problem(files, fields):
  """prepared_shape mirrors load_item's preparation for every setting that changes the shape."""
  colour = fields.get("color_mode") == "ycbcr" or fields.get("restore") == "nonblind"
  names = ("colour.jpg", "turned.jpg") if colour else ("grey.png", "turned.jpg")
  config = _config(kernel_size=13, **fields)
  if colour:
    config.color_mode = "ycbcr"
  for name in names:
    path = files / name
    item = load_item(path, config)
    shape, size = prepared_shape(path, image_shape(path), 13, config)
    assert (item.y.shape, item.kernel_size) == (shape, size), (name, fields)


def test_plan_refuses_what_loading_refuses_with_the_same_line(files):
  for fields in ({"crop": 400}, {"kernel_size": 151}, {"downscale": 20}):
    config = _config(**{"kernel_size": 13, **fields})
    with pytest.raises(ImageError) as loaded:
      load_item(files / "grey.png", config)
    with pytest.raises(ImageError) as planned:
      prepared_shape(files / "grey.png", image_shape(files / "grey.png"), config.kernel_size, config)
    assert str(loaded.value) == str(planned.value)


def test_a_file_changed_after_planning_is_refused_not_run(files, tmp_path):
  path = tmp_path / "changing.png"
  iio.imwrite(path, iio.imread(files / "grey.png"))
  config = _config(kernel_size=13, data_dir=str(path))
  [source], errors = plan_sources(config)
  assert not errors and source.shape == (150, 203)
  iio.imwrite(path, iio.imread(files / "grey.png")[:100])
  with pytest.raises(ImageError, match="changed during the run"):
    load_source(source, config)


def test_planning_reads_no_pixels_and_a_process_reads_only_its_batches(files, tmp_path, monkeypatch):
  """Process 1 of 2 with one image per batch: batches 0 and 2 are process 0's, so process 1 decodes
  exactly the second input, once."""
  inputs = tmp_path / "in"
  inputs.mkdir()
  photo = grey_photo()
  for i, (top, left) in enumerate([(200, 230), (300, 100), (50, 400)]):
    iio.imwrite(inputs / f"im{i}.png", (photo[top:top + 16, left:left + 16] * 255).astype(np.uint8))
  reads = []

  def counting_read(path, mode="grey"):
    reads.append(path.name)
    return read_image(path, mode)

  monkeypatch.setattr(problems, "read_image", counting_read)
  config = _config(data_dir=str(inputs), kernel_size=5, max_batch_size=1, num_steps=2, chunk_size=2,
                   checkpoint_every=0, figure_steps=1)
  config.model_x.channels, config.model_x.skip_channels, config.model_x.num_scales = 4, 2, 2
  config.model_x.use_nonlocal, config.model_k.hidden, config.loss.switch_step = False, (8,), 1
  sources, _ = plan_sources(config)
  assert [s.name for s in sources] == ["im0", "im1", "im2"] and reads == []
  monkeypatch.setattr(jax, "process_count", lambda: 2)
  monkeypatch.setattr(jax, "process_index", lambda: 1)
  assert cli.deblur(config, tmp_path / "work", resume=False, quiet=True) == 0
  assert reads == ["im1.png"]
  assert sorted(p.name for p in (tmp_path / "work").glob("*.npz")) == ["im1.npz"]
