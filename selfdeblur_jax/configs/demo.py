"""The out-of-the-box demo; no data to fetch. A 96×96 crop of the photo bundled with matplotlib is
blurred with a seeded 11×11 motion kernel, then deblurred by a reduced SelfDeblur (16-channel G_x,
800 steps) in a few minutes on a 2-core CPU.

  bin/deblur --config=configs/demo.py --workdir=demo_out

summary.json reports the PSNR of the blurry and of the deblurred image against the sharp crop.
"""

from selfdeblur_jax.app_config import get_base_config
from selfdeblur_jax.candidates.presets import apply_preset


def get_config(arg: str | None = None):
  config = get_base_config()
  config.synthetic.enabled = True
  config.synthetic.size = 96
  config.synthetic.top = 165  # the face: glasses, eyes, mouth
  config.synthetic.left = 185
  config.synthetic.kernel_size = 11
  config.synthetic.kernel_seed = 0
  config.model_x.channels = 16
  config.model_x.skip_channels = 8
  config.model_x.num_scales = 4
  config.model_k.hidden = (200,)
  config.num_steps = 800
  config.loss.switch_step = 266
  config.optim.lr_k = 5e-4  # 800 steps, not 5000: G_k needs a faster rate than the released 1e-4
  config.optim.boundaries = (400, 560, 680)
  config.checkpoint_every = 200
  return apply_preset(config, arg)
