"""The package's layers as a contract (issue #30): every import of a selfdeblur_jax module, read from the
source with `ast`, goes to its own layer or a lower one, and `selfdeblur_jax.api` (the public face) is
imported by no module of the package but its own `__init__` and the command line. The one config split:
the program's keys are those `app_config.add_app_fields` adds."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import ml_collections
import pytest

PACKAGE = "selfdeblur_jax"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# Lowest first. A module belongs to the layer of its longest listed prefix (the package itself: exactly
# PACKAGE); it may import modules of its own layer and of the layers below.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("config", "color", "crashpoint", "data", "io", "sharding")),  # the engine's config, helpers
    ("core", ("physics", "models", "losses", "optim", "train")),  # the compute core
    ("method", ("restoration", "candidates", "evaluation")),  # non-blind deconvolution, candidates, scores
    ("configs", ("app_config", "configs")),  # the program's fields, the one split, the shipped configs
    ("fit", ("validation", "results", "fitting", "solver")),  # checked arguments, a fit's results, fitting,
    # the pure solver
    ("photo", ("photo",)),  # whole photos: window, restoration, check, the photo pipeline
    ("program", ("problems", "runner", "outputs", "entries", "records", "checkpoint", "figures", "lock")),  # a run
    ("api", ("api", "")),  # the public face: api.py and the package's own __init__ ("")
    ("cli", ("cli",)),  # the command line
)
API = f"{PACKAGE}.api"
API_IMPORTERS = {PACKAGE, f"{PACKAGE}.cli"}  # besides the benchmarks and users


def module_name(path: Path, root: Path = ROOT) -> str:
  parts = path.relative_to(root.parent).with_suffix("").parts
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
  return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def layer(module: str) -> int:
  """The index in LAYERS of a module's layer; KeyError for a module the table does not place."""
  best, index = -1, None
  for i, (_, members) in enumerate(LAYERS):
    for member in members:
      name = f"{PACKAGE}.{member}" if member else PACKAGE
      matches = module == name or (member and module.startswith(name + "."))
      if matches and len(name) > best:
        best, index = len(name), i
  if index is None:
    raise KeyError(f"{module} is in no layer of tests/test_layers.py's LAYERS; add it to one")
  return index


def imports(module: str, source: str, known: set[str]) -> Iterator[tuple[str, int]]:
  """(imported package module, line) of every import in `source` (at any depth, function bodies too).
  `from a import b` imports a.b where that is a module. Importing a.b.c runs the packages a.b above it,
  so each is counted too, unless it encloses `module` (then it is already running)."""
  is_package = any(other.startswith(module + ".") for other in known)
  for node in ast.walk(ast.parse(source)):
    targets: list[str] = []
    if isinstance(node, ast.Import):
      targets = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:  # relative: from the package holding `module` (or `module`, a package's __init__)
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[:len(anchor) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
      targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    for target in targets:
      if target == PACKAGE:
        yield PACKAGE, node.lineno
      if not target.startswith(PACKAGE + "."):
        continue
      parts = target.split(".")
      for depth in range(2, len(parts) + 1):  # the packages above the target, then the target
        name = ".".join(parts[:depth])
        if depth == len(parts) or not (module == name or module.startswith(name + ".")):
          yield name, node.lineno


def upward_imports(sources: dict[str, str]) -> list[str]:
  """Each import from a lower layer to a higher one, as 'importer (layer) -> imported (layer), line N'."""
  known = set(sources)
  found = []
  for module, source in sorted(sources.items()):
    for target, line in imports(module, source, known):
      if layer(target) > layer(module):
        found.append(f"{module} ({LAYERS[layer(module)][0]}) -> {target} ({LAYERS[layer(target)][0]}), "
                     f"line {line}")
  return found


def importers(sources: dict[str, str], target: str) -> set[str]:
  known = set(sources)
  return {module for module, source in sources.items()
          if any(name == target for name, _ in imports(module, source, known))}


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
  return {name: path.read_text() for name, path in modules().items()}


def test_every_module_has_a_layer(sources):
  for module in sources:
    layer(module)


def test_no_import_goes_up_a_layer(sources):
  assert upward_imports(sources) == []


def test_only_the_command_line_imports_the_public_face(sources):
  assert importers(sources, API) <= API_IMPORTERS


def test_the_check_finds_an_upward_import(sources):
  """The contract bites: the engine's config importing the candidates (what it did before issue #30),
  a lazy import in a function included, and a low module importing the public face."""
  bad = dict(sources)
  bad[f"{PACKAGE}.config"] += "\n\ndef _names():\n  from selfdeblur_jax.candidates.selection import SELECTORS\n"
  bad[f"{PACKAGE}.problems"] += "\nfrom selfdeblur_jax.api import fit_selfdeblur\n"
  found = upward_imports(bad)
  assert any(f.startswith(f"{PACKAGE}.config (base) -> {PACKAGE}.candidates.selection (method)") for f in found)
  assert any(f.startswith(f"{PACKAGE}.config (base) -> {PACKAGE}.candidates (method)") for f in found)
  assert any(f.startswith(f"{PACKAGE}.problems (program) -> {PACKAGE}.api (api)") for f in found)
  assert f"{PACKAGE}.problems" in importers(bad, API)


def test_the_program_keys_are_those_the_command_line_adds():
  from selfdeblur_jax.app_config import PHOTO_KEYS, PROGRAM_KEYS, add_app_fields, get_base_config, split
  from selfdeblur_jax.config import get_default_config

  base, engine = get_base_config(), get_default_config()
  assert set(PROGRAM_KEYS) == set(base.keys()) - set(engine.keys())
  assert set(PROGRAM_KEYS) == set(add_app_fields(ml_collections.ConfigDict()).keys())
  assert set(PHOTO_KEYS) < set(PROGRAM_KEYS)
  engine_part, program_part = split(base)
  assert set(engine_part.keys()) == set(engine.keys()) and set(program_part.keys()) == set(PROGRAM_KEYS)
  assert split({"num_steps": 3, "data_dir": "x", "typo": 1}) == ({"num_steps": 3, "typo": 1}, {"data_dir": "x"})


def test_photo_settings_name_photo_keys():
  from selfdeblur_jax.app_config import PHOTO_KEYS
  from selfdeblur_jax.photo import PhotoSettings

  keys = [field.metadata["key"] for field in dataclasses.fields(PhotoSettings)]
  assert len(set(keys)) == len(keys) and set(keys) <= set(PHOTO_KEYS)


def test_the_config_names_every_selector():
  from selfdeblur_jax.candidates import SELECTORS
  from selfdeblur_jax.config import SELECTOR_NAMES

  assert tuple(SELECTORS) == SELECTOR_NAMES
