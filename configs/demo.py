"""The out-of-the-box demo: no data to fetch. A crop of the photo bundled with matplotlib is blurred with
a seeded motion kernel and deblurred by a reduced SelfDeblur (a few minutes on a 2-core CPU).

  bin/deblur --config=configs/demo.py --workdir=demo_out

summary.json reports the PSNR of the blurry and the deblurred image against the sharp crop.
"""

from selfdeblur_jax.app_config import get_base_config


def get_config():
  config = get_base_config()
  config.synthetic.enabled = True
  config.synthetic.size = 96
  config.synthetic.kernel_size = 13
  config.synthetic.kernel_seed = 0
  config.model_x.channels = 32
  config.num_steps = 1000
  config.loss.switch_step = 200
  config.optim.boundaries = (400, 600, 800)
  config.checkpoint_every = 0
  return config
