"""The engine's one error type: every bad input becomes a StudioError with a place.

DESIGN.md fixes the one-line form the CLI prints and the GUI shows inline:
``error: <where>:<line>:<col>: <what> (<hint>)``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


# What a terminal (or a text view) would act on rather than show: C0 controls but tab,
# newline and carriage return, DEL, the C1 controls (U+009B is CSI, U+009D OSC on some
# terminals), the line and paragraph separators, and the bidi overrides and isolates
# that reorder what follows them. Each is shown as a visible escape.
_TERMINAL = {c: f"^{chr(c + 64)}" for c in range(32) if chr(c) not in "\t\n\r"}
_TERMINAL.update({0x7F: "^?", **{c: f"\\x{c:02x}" for c in range(0x80, 0xA0)}})
_TERMINAL.update({c: f"\\u{c:04x}" for c in (0x2028, 0x2029, *range(0x202A, 0x202F),
                                            *range(0x2066, 0x206A))})
_ONE_LINE = {**_TERMINAL, ord("\n"): " ", ord("\r"): " ", ord("\t"): " "}


def terminal_text(text: str) -> str:
    """``text`` (which the user's code or the worker wrote) with every control character
    shown, not obeyed; tabs and line breaks are kept."""
    return str(text).translate(_TERMINAL)


# The escape sequences printed output may keep: a CSI of numbers that only draws (colours
# and styles "m", erasing "K" "J", moving the cursor "A"-"H" "f" "d"), as tqdm, IPython's
# clear_output and coloured logs print them. Any other (a title or the clipboard set by
# OSC, modes such as bracketed paste switched off, a report the terminal would type into
# the shell) is shown, not obeyed.
_DRAWING = re.compile(r"\x1b\[[0-9;]{0,32}[mKJABCDEFGHfd]")


def printed_text(text: str) -> str:
    """What the user's code printed, for a terminal or wherever the command's output goes:
    as ``terminal_text`` but the sequences that only draw (``_DRAWING``) are kept."""
    text, kept, at = str(text), [], 0
    for drawing in _DRAWING.finditer(text):
        kept += [text[at:drawing.start()].translate(_TERMINAL), drawing.group()]
        at = drawing.end()
    return "".join(kept) + text[at:].translate(_TERMINAL)


def shown_output(text: str) -> str:
    """What the user's code printed, for the window's text views: the sequences that only
    draw dropped (a view draws no colours), every other control character shown as text,
    so that nothing copied from the window holds one (red team 124: a sent lesson printed
    ``ESC[201~ ^U touch ~/PWNED``; copied from the Output panel and pasted in a terminal,
    it ran). Tabs and line breaks are kept."""
    return _DRAWING.sub("", str(text)).translate(_TERMINAL)


def one_line_text(text: str) -> str:
    """``text`` as one line for a terminal: line breaks become spaces, controls shown."""
    return str(text).translate(_ONE_LINE)


# Bidi overrides and isolates: invisible, they make an editor show a line in another
# order than Python reads it ("Trojan Source": a comment seen closing an if's condition
# that Python reads inside it). Code holding one is refused where it stands, as Rust
# refuses them; the marks of right-to-left text (U+200E, U+200F, U+061C) stay allowed.
_REORDERING = re.compile("[\u202a-\u202e\u2066-\u2069]")


def refuse_reordering(code: str, where: str) -> None:
    """Raise StudioError at the first bidi override or isolate in ``code``, if any."""
    found = _REORDERING.search(code)
    if found is None:
        return
    at, char = found.start(), found.group()
    line, column = code.count("\n", 0, at) + 1, at - code.rfind("\n", 0, at)
    raise StudioError("syntax", f"an invisible U+{ord(char):04X} {unicodedata.name(char, '')} makes the line "
                      "show in another order than Python reads it", where, line, column,
                      f"remove it; in a string write it as '\\u{ord(char):04x}' if the text needs it")


# The engine tells more about some of torch's errors than torch does (viz.engine.recorder: which
# saved tensor an in-place op changed, on which line): the words ride on the exception.
_EXPLANATION = "_studio_explanation"


def add_explanation(err: BaseException, text: str) -> None:
    if text:
        try:
            setattr(err, _EXPLANATION, text)
        except (AttributeError, TypeError):  # an exception type without a __dict__
            pass


def explanation(err: BaseException) -> str:
    """What the engine added to ``err`` (``add_explanation``), or ""."""
    try:
        text = err.__dict__.get(_EXPLANATION, "")
    except Exception:  # noqa: BLE001 - the user's exception class may make __dict__ raise
        return ""
    return text if type(text) is str else ""


# What ``ast.parse`` raises on text it cannot make a tree of: besides SyntaxError, a
# chain 5,000 deep (RecursionError, MemoryError), a NUL or a lone surrogate (ValueError).
PARSE_FAILURES = (SyntaxError, ValueError, RecursionError, MemoryError)

MAX_PART_CHARS = 10_000  # of an error's what, where or hint: pages of text, never megabytes


def _at_most(text: object) -> str:
    text = str.__str__(text) if isinstance(text, str) else str(text)
    if len(text) <= MAX_PART_CHARS:
        return text
    return f"{text[:MAX_PART_CHARS]}\u2026 ({len(text):,} characters in all)"


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
    # What the code printed before it failed (viz.engine.output chunks), when it ran at all.
    output: list[dict[str, str | int | None]] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The user's code picks its exception's message (60 MB froze the Output panel
        # for 6 s); a forged reply picks all of them.
        self.what, self.where, self.hint = (_at_most(part) for part in (self.what, self.where, self.hint))
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """One line, whatever the parts hold: line breaks become spaces and other
        control characters are shown, not obeyed (the user's code wrote some of it)."""
        place = f"{self.where}:{self.line}:{self.col}"
        text = f"error: {place}: {self.what}"
        text = f"{text} ({self.hint})" if self.hint else text
        return one_line_text(text)

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
