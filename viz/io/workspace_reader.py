"""Reading a workspace's fields: typed access whose errors say which field, in which
file (``viz.io.workspace``)."""

from __future__ import annotations

from typing import Any, Callable

from viz.errors import StudioError

# Qt's spin boxes and progress bars hold a C int; a larger count would raise in the window.
INT_MAX = 2**31 - 1


def short(value: Any) -> str:
    """A value for a one-line message: a hand-edited file can hold a megabyte list."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Reader:
    """Typed field access whose errors say which field, in which file."""

    def __init__(self, where: str, prefix: str = "") -> None:
        self.where = where
        self.prefix = prefix  # said before each error
        self.stopped: Callable[[], bool] = lambda: False

    def error(self, what: str, hint: str = "the file may be damaged; "
              "open another workspace or save a new one") -> StudioError:
        return StudioError("io", self.prefix + what, self.where, 0, 0, hint)

    def get(self, data: dict[str, Any], key: str, kind: type | tuple[type, ...],
            default: Any = ...) -> Any:
        if key not in data:
            if default is ...:
                raise self.error(f'missing "{key}"')
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(f'"{key}" has a bad value {value!r}')
        if not isinstance(value, kinds):
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise self.error(f'"{key}" should be {names}, got {type(value).__name__}')
        return value

    def count(self, data: dict[str, Any], key: str) -> int:
        """A whole number the window shows in a Qt widget: 0..INT_MAX."""
        value = self.get(data, key, int)
        if not 0 <= value <= INT_MAX:
            raise self.error(f'"{key}" is {short(value)}, out of range',
                             f"it must be a whole number from 0 to {INT_MAX}")
        return value
