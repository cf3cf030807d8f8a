"""Generators: SPEC parameter counts, kernel constraints, image range, the loop-safe convolution."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from selfdeblur_jax.config import resolve_config
from selfdeblur_jax.models import DipKernelNet, KernelNet, NonLocalBlock, SkipNet
from selfdeblur_jax.models import conv as conv_module
from selfdeblur_jax.models.conv import conv2d
from selfdeblur_jax.models.layers import batch_norm
from selfdeblur_jax.models.skip_net import _upsample_2x
from selfdeblur_jax.train import create_models, make_generators, z_k_shape


def count(tree) -> int:
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def param_count(module, *inputs) -> int:
  # eval_shape: shapes only, nothing is computed.
  return count(jax.eval_shape(module.init, jax.random.PRNGKey(0), *inputs)["params"])


@pytest.mark.parametrize("channels,expected", [(128, 2_365_521), (64, 621_873)])
def test_skip_net_parameter_count_matches_spec(channels, expected):
  net = SkipNet(channels_down=(channels,) * 5, channels_up=(channels,) * 5, channels_skip=(16,) * 5)
  assert param_count(net, jnp.zeros((1, 271, 271, 8))) == expected


def test_three_nonlocal_blocks_hold_100032_parameters():
  with_nl = SkipNet()
  without = SkipNet(nonlocal_from_scale=None)
  z = jnp.zeros((1, 271, 271, 8))
  assert param_count(with_nl, z) - param_count(without, z) == 100_032
  assert param_count(NonLocalBlock(), jnp.zeros((1, 9, 9, 128))) == 33_344


@pytest.mark.parametrize("size,expected", [(11, 322_121), (15, 426_225), (17, 490_289), (27, 930_729)])
def test_kernel_net_parameter_count_matches_spec(size, expected):
  assert param_count(KernelNet(size), jnp.zeros(200)) == expected


@pytest.mark.parametrize("hidden", [(), (1000,), (1000, 1000)])
@pytest.mark.parametrize("support", [None, 5])
def test_kernel_is_nonnegative_and_sums_to_one(hidden, support):
  size = 9
  net = KernelNet(size, hidden=hidden)
  z = jax.random.uniform(jax.random.PRNGKey(1), (200,)) * 0.1
  mask = None
  if support:
    mask = np.zeros((size, size), bool)
    off = (size - support) // 2
    mask[off:off + support, off:off + support] = True
  params = net.init(jax.random.PRNGKey(2), z, mask)
  # Also after a large random perturbation of the weights: the constraint holds by construction.
  noisy = jax.tree.map(lambda p: p + 3.0 * jax.random.normal(jax.random.PRNGKey(3), p.shape), params)
  for variables in (params, noisy):
    k = np.asarray(net.apply(variables, z, mask), np.float64)
    assert k.shape == (size, size)
    assert k.min() >= 0.0
    assert abs(k.sum() - 1.0) <= 1e-6
    if mask is not None:
      assert np.all(k[~mask] == 0.0)


def test_skip_net_output_is_an_image_in_unit_range():
  net = SkipNet(channels_down=(8,) * 3, channels_up=(8,) * 3, channels_skip=(4,) * 3)
  z = jax.random.uniform(jax.random.PRNGKey(0), (1, 37, 41, 8)) * 0.1
  variables = jax.jit(net.init)(jax.random.PRNGKey(1), z)  # jitted: one compile, not one per op
  scaled = jax.tree.map(lambda p: p * 50.0, variables["params"])  # push the sigmoid to saturation
  apply = jax.jit(lambda params: net.apply({"params": params, "batch_stats": variables["batch_stats"]},
                                           z, mutable=["batch_stats"]))
  for params in (variables["params"], scaled):
    x, _ = apply(params)
    assert x.shape == (1, 37, 41, 1)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_batchnorm_uses_each_problems_own_statistics():
  """vmapped G_x on [a, b] gives the same as G_x on a alone: no statistics shared across problems."""
  net = SkipNet(channels_down=(8,) * 2, channels_up=(8,) * 2, channels_skip=(4,) * 2,
                nonlocal_from_scale=None)
  za = jax.random.uniform(jax.random.PRNGKey(0), (1, 16, 16, 8))
  zb = 5.0 * jax.random.uniform(jax.random.PRNGKey(1), (1, 16, 16, 8))
  variables = jax.jit(net.init)(jax.random.PRNGKey(2), za)  # jitted: one compile, not one per op
  apply = lambda z: net.apply(variables, z, mutable=["batch_stats"])[0]
  together = jax.jit(jax.vmap(apply))(jnp.stack([za, zb]))
  np.testing.assert_allclose(together[0], jax.jit(apply)(za), atol=1e-6)


@pytest.mark.parametrize("batch,height,width,size,stride", [
    (1, 11, 12, 3, 1), (1, 12, 12, 3, 2), (1, 11, 13, 3, 2), (1, 9, 9, 1, 1), (1, 10, 9, 1, 2),
    (2, 10, 11, 3, 1), (2, 13, 12, 5, 2)])
@pytest.mark.parametrize("block_bytes", [None, 64])  # 64: the weight gradient in blocks of 1–2 rows
def test_conv2d_and_its_gradient_match_lax(batch, height, width, size, stride, block_bytes, monkeypatch):
  if block_bytes is not None:
    monkeypatch.setattr(conv_module, "_DW_BLOCK_BYTES", block_bytes)
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(batch, height, width, 4)), jnp.float32)
  w = jnp.asarray(rng.normal(size=(size, size, 4, 5)), jnp.float32)
  reference = lambda x, w: jax.lax.conv_general_dilated(
      x, w, (stride, stride), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  y_ref, vjp_ref = jax.vjp(reference, x, w)
  y, vjp = jax.vjp(lambda x, w: conv2d(x, w, stride), x, w)
  np.testing.assert_allclose(y, y_ref, atol=1e-5)
  dy = jnp.asarray(rng.normal(size=y.shape), jnp.float32)
  for got, want in zip(vjp(dy), vjp_ref(dy)):
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-5)


def test_double_dip_kernel_generator_is_selectable_and_gives_a_kernel():
  """model_k.kind='dip' (the paper's Double-DIP): a K×K kernel, ≥ 0, sum 1, zero outside its support;
  a kernel too small for its scales is refused by name."""
  config = resolve_config({"model_k": {"kind": "dip", "input_dim": 4, "dip_channels": 8, "dip_scales": 2}})
  gx, gk = create_models(config, 7)
  assert isinstance(gk, DipKernelNet) and z_k_shape(config, 7) == (1, 7, 7, 4)
  z = jax.random.uniform(jax.random.PRNGKey(0), z_k_shape(config, 7)) * 0.1
  params = jax.jit(gk.init)(jax.random.PRNGKey(1), z)["params"]
  _, generate_k = make_generators(config, 7)
  support = np.zeros((7, 7), bool)
  support[1:6, 1:6] = True  # a 5×5 kernel on a 7×7 support
  for mask in (np.ones((7, 7), bool), support):
    k = np.asarray(jax.jit(generate_k)(params, z, jnp.asarray(mask)))
    assert k.shape == (7, 7) and k.min() >= 0 and abs(float(k.sum()) - 1) < 1e-6
    assert np.all(k[~mask] == 0) and np.all(k[mask] > 0)
  with pytest.raises(ValueError, match="dip_scales"):
    DipKernelNet(kernel_size=3, num_scales=2).init(jax.random.PRNGKey(0), jnp.zeros((1, 3, 3, 4)))
  with pytest.raises(ValueError, match="model_k.kind"):
    resolve_config({"model_k": {"kind": "unet"}})


@pytest.mark.parametrize("shape", [(1, 5, 7, 3), (2, 4, 4, 2), (1, 1, 3, 1)])
def test_bilinear_upsample_stencil_equals_half_pixel_resize(shape):
  """G_x's ×2 bilinear upsampling (a two-tap stencil) equals jax.image.resize's half-pixel bilinear,
  which is PyTorch's Upsample(scale_factor=2, mode='bilinear', align_corners=False)."""
  x = jnp.asarray(np.random.default_rng(0).normal(size=shape), jnp.float32)
  n, h, w, c = shape
  want = jax.image.resize(x, (n, 2 * h, 2 * w, c), method="bilinear")
  np.testing.assert_allclose(_upsample_2x(x, "bilinear"), want, atol=1e-6)


@pytest.mark.parametrize("x64", [False, True])
def test_batch_norm_matches_flax_in_values_gradients_and_running_statistics(x64):
  """Our BatchNorm (closed-form gradient) against flax's nn.BatchNorm in training mode, two-pass
  variance: same outputs, parameter and input gradients, and running-statistics updates."""
  with jax.enable_x64(x64):
    dtype = jnp.float64 if x64 else jnp.float32
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(2.0, 3.0, (2, 9, 7, 5)), dtype)
    target = jnp.asarray(rng.normal(size=x.shape), dtype)
    flax_bn = nn.BatchNorm(use_running_average=False, momentum=0.9, epsilon=1e-5, use_fast_variance=False)
    variables = flax_bn.init(jax.random.PRNGKey(0), x)
    assert jax.tree.structure(variables) == jax.tree.structure(batch_norm().init(jax.random.PRNGKey(0), x))
    variables = {"params": {"scale": jnp.linspace(0.5, 2.0, 5, dtype=dtype),
                            "bias": jnp.linspace(-1.0, 1.0, 5, dtype=dtype)},
                 "batch_stats": variables["batch_stats"]}

    def loss(module, variables, x):
      y, updates = module.apply(variables, x, mutable=["batch_stats"])
      return jnp.sum(jnp.sin(y) * target), updates

    want = jax.value_and_grad(loss, argnums=(1, 2), has_aux=True)(flax_bn, variables, x)
    got = jax.value_and_grad(loss, argnums=(1, 2), has_aux=True)(batch_norm(), variables, x)
    tolerance = 1e-12 if x64 else 2e-5
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(g, w, rtol=tolerance, atol=tolerance)
