"""A request that runs code with the real builtins and modules inside the worker's
guard: it stands for a hole in the sandbox's first wall, to test the second."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class RawRequest:
    code: str
    where: str = "<raw>"
    time_limit_s: float = 20.0
    memory_limit_mb: int = 4096

    def execute(self) -> Any:
        from viz.errors import Interrupt
        from viz.evaluate import user_error

        namespace: dict[str, Any] = {"__name__": "__raw__"}
        try:
            exec(compile(self.code, self.where, "exec"), namespace)
        except Interrupt:
            raise
        except BaseException as err:  # as the engine reports the user's failures
            raise user_error(err, self.where) from None
        return namespace.get("result")
