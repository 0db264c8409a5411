"""The run limits' ranges, declared once.

Edit > Preferences offers exactly these ranges, a workspace's settings must lie inside
them, settings read back from disk are moved into them, and a request to the worker
is clamped to them. So no file, settings entry or caller can hand the worker a limit
the window never offers: a 2**31 s time limit overflows the parent's ``wait()``, and a
day-long one lets a later lesson run unbounded. Plain numbers, no Qt: ``viz`` and
``ui`` both import it.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from typing import Any, TypeVar

from viz.errors import StudioError

T = TypeVar("T")


@dataclass(frozen=True)
class Range:
    """The values a limit may take, ``low`` to ``high`` inclusive; ``label`` is what
    Preferences calls it, ``unit`` what its box shows after the number."""

    label: str
    low: float
    high: float
    unit: str
    default: float  # what a run gets when nobody chose (the CLI, a fresh Preferences)

    def __contains__(self, value: object) -> bool:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and self.low <= value <= self.high)

    def clamp(self, value: float) -> Any:
        """``value`` moved into the range, in the range's own type (NaN goes to ``low``)."""
        kind = type(self.low)
        if not value >= self.low:  # also NaN
            return kind(self.low)
        return kind(self.high) if value > self.high else kind(value)

    def text(self) -> str:
        """``from 0.1 to 3,600 s``: the words a message uses."""
        return f"from {self.low:,g} to {self.high:,.0f} {self.unit}"


TIME_LIMIT_S = Range("time limit", 0.1, 3600.0, "s", 10.0)
# At 64-128 MB a run's own threads (output pumps, progress timer: their stacks and malloc
# arenas) held more address space than the limit before the code began, and three lines
# failed (red team 93); 256 MB ran them 5 of 5 (tests/viz/test_lowest_memory_limit.py).
MEMORY_LIMIT_MB = Range("memory limit", 256, 1_048_576, "MB", 4096)
MAX_NODES = Range("graph size limit", 10, 10_000_000, "nodes", 20_000)

# By the field names a run request, RunOptions and a workspace's settings share.
RUN_LIMITS: dict[str, Range] = {"time_limit_s": TIME_LIMIT_S,
                                "memory_limit_mb": MEMORY_LIMIT_MB,
                                "max_nodes": MAX_NODES}


def clamp_request(request: T) -> T:
    """``request`` (a dataclass) with each run limit it carries moved into its range;
    a limit that is None ("the worker's own") or absent is left as it is."""
    if not dataclasses.is_dataclass(request) or isinstance(request, type):
        return request
    changes = {}
    for name, limit in RUN_LIMITS.items():
        value = getattr(request, name, None)
        if value is not None and limit.clamp(value) != value:
            changes[name] = limit.clamp(value)
    return dataclasses.replace(request, **changes) if changes else request


# The training lab's networks: the form's "Hidden sizes" box takes any list, so these
# are checked by TrainConfig.validate, and a workspace's history may name at most
# MAX_HIDDEN_LAYERS + 1 layers. 32 covers a deep vanishing-gradient lesson; each layer
# costs the lab a curve and a weights plot (3,000 froze the window for 109 s).
MAX_HIDDEN_LAYERS = 32
MAX_HIDDEN_UNITS = 4096
# Weights the Training Lab trains at most, all layers together: with their gradients and
# Adam's two moments, 16 bytes each, 1 GB. 32 layers of 4,096 units (each size within
# its range) are 537 million, 8.6 GB of one training process (red team 48).
MAX_TRAIN_PARAMETERS = 64_000_000

DEFAULT_MEMORY_MB = MEMORY_LIMIT_MB.default
FILE_SIZE_LIMIT = 256 * 1024 * 1024  # the largest file code may write in its scratch folder

# Before each request the parent sends its limits apart, as numbers (seconds, MB; 0:
# the default): the worker sets them without unpickling the request.
LIMITS = struct.Struct("!dQ")
# Code the window parses again itself (names for the narration, What if's rewrite, a
# failure's context) is at most this long: Python's parser holds the GIL, so the window,
# in proportion to the code's tokens (512 KB of dense ``a;a;a;``: 0.8-4 s a parse, red
# teams 52 and 61). The longest tutorial of the corpus is 17 KB. Longer code still runs.
MAX_REPARSED_CHARS = 64_000
# While a request runs, the parent may send this (Esc): the worker tells the run, which
# stops as at its time limit and says the line it was on (viz.isolation.worker.stop).
STOP_RUN = b"stop"


def stopped_error(request: Any, line: int, col: int = 0) -> StudioError:
    """A run the user stopped (Esc) at ``line``: a failure of no code's making."""
    return StudioError("cancelled", "the run was stopped (Esc) while it ran", request.where, line, col,
                       "press Ctrl+Enter to run it again (a loop of fewer steps ends sooner)")


def time_limit_error(request: Any, line: int = 0, col: int = 0) -> StudioError:
    return StudioError(
        "limit", f"the code ran longer than the time limit of {request.time_limit_s:g} s",
        request.where, line, col, "does a loop here never end? If the code is only slow, raise the "
        "Time limit in Edit > Preferences (--time-limit on the command line)",
    )


def memory_limit_error(request: Any, line: int = 0, col: int = 0) -> StudioError:
    return StudioError(
        "limit", f"the code needed more memory than its limit of {request.memory_limit_mb or DEFAULT_MEMORY_MB:,} MB",
        request.where, line, col, "use smaller tensors, or raise the Memory limit in Edit > Preferences or with --memory-limit",
    )
