"""The engine's one error type: every bad input becomes a StudioError with a place.

DESIGN.md fixes the one-line form the CLI prints and the GUI shows inline:
``error: <where>:<line>:<col>: <what> (<hint>)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


_ONE_LINE = {c: f"^{chr(c + 64)}" for c in range(32)}
_ONE_LINE.update({ord("\n"): " ", ord("\r"): " ", ord("\t"): " ", 0x7F: "^?"})


@dataclass
class StudioError(Exception):
    """Bad input, refused construct, user-code failure or an exceeded limit.

    ``kind`` names the family for tests and the GUI: ``syntax``, ``refused``,
    ``runtime``, ``no-output``, ``limit``, ``option``, ``io``.
    ``line``/``col`` are 1-based and refer to the user's code; 0 when not known.
    """

    kind: str
    what: str
    where: str = "<expr>"
    line: int = 0
    col: int = 0
    hint: str = ""
    # What the code printed before it failed (viz.output chunks), when it ran at all.
    output: list[dict[str, str | int | None]] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """One line, whatever the parts hold: line breaks become spaces and other
        control characters are shown, not obeyed (the user's code wrote some of it)."""
        place = f"{self.where}:{self.line}:{self.col}"
        text = f"error: {place}: {self.what}"
        text = f"{text} ({self.hint})" if self.hint else text
        return text.translate(_ONE_LINE)

    def message(self) -> str:
        """What and hint, without the place: for a message shown next to the very
        field it is about (the inspector's value editor)."""
        return f"{self.what} ({self.hint})" if self.hint else self.what

    def __str__(self) -> str:
        return self.one_line()

    def __reduce__(self):  # picklable (tests, Qt queued signals)
        return (StudioError, (self.kind, self.what, self.where, self.line, self.col, self.hint, self.output))


class Interrupt(BaseException):
    """A limit stopping the user's code (the worker's timer); BaseException so the
    user's ``except Exception`` cannot swallow it, and every handler of ours lets it pass."""
