"""What the app needs installed, checked before anything starts.

torch is read from the installed package's metadata, not imported: the window and
the command line start without torch (only the worker imports it), and an old
torch is named in one line instead of failing later in some op's card.
"""

from __future__ import annotations

import re
from importlib import metadata

from viz.errors import StudioError

TORCH_FLOOR = (2, 13)  # pyproject.toml declares the same: torch>=2.13
FLOOR_TEXT = ".".join(map(str, TORCH_FLOOR))


def torch_problem(version: str | None = None) -> str | None:
    """What is wrong with the installed torch (or ``version``), or None."""
    if version is None:
        try:
            version = metadata.version("torch")
        except metadata.PackageNotFoundError:
            return "torch is not installed"
    numbers = re.match(r"(\d+)\.(\d+)", version)
    if numbers is None:
        return None  # a build that names itself oddly: let it try
    if (int(numbers[1]), int(numbers[2])) < TORCH_FLOOR:
        return f"torch {version} is installed; Autograd Studio needs torch {FLOOR_TEXT} or newer"
    return None


def require_torch(version: str | None = None) -> None:
    """StudioError (kind ``option``, exit 2) when torch is missing or too old."""
    problem = torch_problem(version)
    if problem:
        raise StudioError("option", problem, "<environment>", 0, 0,
                          f"pip install 'torch>={FLOOR_TEXT}' (or run `make setup`)")
