"""Where to draw the line for the cramped-kernel warning (`physics.kernel_shape.CRAMPED_ABOVE`), from the
labelled pool's final kernels. Backs benchmarks/RESULTS.md, "Kernel size".

At the authors' sizes (size factor 1) every Levin blur has room in its support, so a warning there is a
false alarm; at ⌈2K/3⌉ and ⌈4K/9⌉ the support is smaller than most blurs, so the kernel is cramped in
truth. For each, the share of the kernel's path on its support's outer ring (`path_border_mass`) and
of its whole mass (`border_mass`, which a diffuse floor inflates).

  python -m experiments.candidates.cramped_kernels [--threshold=0.15]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.common import RESULTS
from selfdeblur_jax.physics.kernel_shape import CRAMPED_ABOVE, border_mass, path_border_mass


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--pool", default=str(RESULTS / "pool_mini" / "plain"))
  parser.add_argument("--threshold", type=float, default=CRAMPED_ABOVE)
  args = parser.parse_args()
  groups: dict[str, list[tuple[float, float]]] = {"authors' size (room)": [], "smaller (cramped)": []}
  for path in sorted(Path(args.pool).glob("*/*.npz")):
    d = np.load(path)
    factor = float(d["size_factor"]) if "size_factor" in d.files else 1.0
    kernel = d["k"][-1]
    key = "authors' size (room)" if factor == 1.0 else "smaller (cramped)"
    groups[key].append((path_border_mass(kernel), border_mass(kernel)))
  print(f"threshold {args.threshold:g} on the path's share of the outer ring")
  for name, values in groups.items():
    path_share = np.asarray([v[0] for v in values])
    whole = np.asarray([v[1] for v in values])
    print(f"{name}: {len(values)} kernels; path share max {path_share.max():.3f}, above the threshold "
          f"{int(np.sum(path_share > args.threshold))}; whole-mass share max {whole.max():.3f}, above the "
          f"threshold {int(np.sum(whole > args.threshold))}, above 0.05 {int(np.sum(whole > 0.05))}")


if __name__ == "__main__":
  main()
