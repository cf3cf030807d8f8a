"""The shipped config files: `deblur --config=NAME` (or `NAME:robust`) loads `NAME.py` from here, from any
directory; the repository's `configs/NAME.py` are the same files for a source checkout."""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
NAMES = tuple(sorted(p.stem for p in DIRECTORY.glob("*.py") if p.stem != "__init__"))


def config_path(name: str) -> Path | None:
  """The shipped config file called `name` (e.g. 'levin'), or None."""
  return DIRECTORY / f"{name}.py" if name in NAMES else None
