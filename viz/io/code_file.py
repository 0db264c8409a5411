"""Code files: reading one (a lesson someone sent may be a device, a pipe or a 5 MB
line), and whether a path a workspace names is where its code came from (a save
target: Save must never write over a file that is not the code's own, ``own_file``).
"""

from __future__ import annotations

import functools
import os
import re
import stat
import unicodedata
from pathlib import Path

from viz.errors import StudioError
from viz.io.files import NotRegularFile, read_at_most

# What a code file may hold: the editor lays out 0.5 MB of code in about half a second,
# and a 10,000-character line at once; a 5 MB one-line "lesson" froze it for 12 s.
MAX_CODE_BYTES = 512 * 1024
MAX_LINE_CHARS = 10_000
# Far past any lesson; each line costs the editor a highlighted, laid-out block (red team
# 17: 524,000 empty lines, within 512 KB, held the window 6.4 s).
MAX_CODE_LINES = 20_000
# Times a line may change script or writing direction (Latin letters, Arabic ones, digits,
# emoji, kana, the explicit direction marks): the editor lays out and shapes each run
# apart, some 4 us a run, a whole line at a time. 33 lines alternating a Latin and an
# Arabic letter 5,000 times each held the window 2.4 s (red team 48; a Hebrew letter and
# a digit, or a letter and an emoji, cost as much; and, red team 49, punctuation that
# takes a direction, letters from another font, tabs, joiners: 2-3.7 s for 40 lines). A
# comment in Arabic, Hebrew or Japanese with a few English words changes a few dozen
# times, a French or Vietnamese one a few hundred.
MAX_SCRIPT_CHANGES = 1_000
_EXPLICIT = frozenset("LRE LRO RLE RLO PDF LRI RLI FSI PDI".split())
_BLOCK = re.compile("\r\n|[\n\r\u2029]")  # where the editor (QTextDocument) starts a block


def read_code_file(path: str | Path) -> str:
    """The text of the code file at ``path`` (UTF-8, a BOM dropped), as the editor and
    the command line take it; StudioError (kind "io") when it is not a regular file,
    is larger than ``MAX_CODE_BYTES``, is not UTF-8, has a line past
    ``MAX_LINE_CHARS`` or more than ``MAX_CODE_LINES`` lines. Opened without blocking: a FIFO or a device is never read."""
    where = str(path)
    name = Path(path).name
    try:
        data, size = read_at_most(path, MAX_CODE_BYTES)
    except NotRegularFile:
        raise StudioError("io", f"{name} is not a regular file (a folder, a device or a pipe)", where, 0, 0,
                          "open a .py file") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        raise StudioError("io", f"cannot open {name}: {err.strerror if isinstance(err, OSError) else err}",
                          where, 0, 0, "check the path") from None
    if size > MAX_CODE_BYTES or len(data) > MAX_CODE_BYTES:
        raise StudioError("io", f"{name} is larger than {MAX_CODE_BYTES // 1024} KB, more than a lesson or a "
                          "script holds", where, 0, 0, "keep data in a data file the code reads")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise StudioError("io", f"{name} is not UTF-8 text", where, data[: err.start].count(b"\n") + 1, 0,
                          "save it as UTF-8 (a Python source file)") from None
    check_lines(text, where)
    return text


def check_lines(text: str, where: str) -> None:
    """StudioError naming the first line longer than ``MAX_LINE_CHARS`` or changing script
    more than ``MAX_SCRIPT_CHANGES`` times, or saying the code has more than
    ``MAX_CODE_LINES`` lines. Lines are counted wherever ``str.splitlines`` ends one: the
    editor starts a line at a bare \r (and lays out \u2028 as one), so counting \n alone
    let 524,000 editor lines through as one (red team 42: 2-3 s). Their length and changes
    are those of the editor's own lines, its blocks (``_BLOCK``): a form feed or \x1c ends
    a line for splitlines, not for the editor, which laid out 33 such "lines" as one block
    of 329,000 characters for 14-28 s (red team 49)."""
    if len(text) <= MAX_SCRIPT_CHANGES:
        return
    lines = len((text + ".").splitlines())  # a last line break starts a line, as in the editor
    if lines > MAX_CODE_LINES:
        raise StudioError("io", f"the code has {lines:,} lines; a lesson may have at most {MAX_CODE_LINES:,}",
                          where, MAX_CODE_LINES + 1, 0, "keep data in a data file the code reads")
    for number, line in enumerate(_BLOCK.split(text), 1):
        if len(line) > MAX_LINE_CHARS:
            raise StudioError("io", f"line {number} is {len(line):,} characters long; code lines may have at "
                              f"most {MAX_LINE_CHARS:,}", where, number, 0,
                              "keep data in a data file the code reads")
        changes = script_changes(line) if len(line) > MAX_SCRIPT_CHANGES else 0
        if changes > MAX_SCRIPT_CHANGES:
            raise StudioError("io", f"line {number} changes script or writing direction {changes:,} times "
                              "(letters of several alphabets, digits, symbols, tabs or joiners mixed); code "
                              f"lines may change it at most {MAX_SCRIPT_CHANGES:,} times", where, number, 0,
                              "keep such text in a data file the code reads")


def script_changes(line: str) -> int:
    """How many times ``line`` changes script, writing direction or font as the editor
    lays it out in runs, counted on the safe side. ASCII letters are one kind, digits
    another; any other character that takes a direction (a letter, a digit, a mark such
    as the Arabic question mark or the Hebrew maqaf: its Unicode bidirectional class) is
    of its direction and script, by the first word of its Unicode name (LATIN, ARABIC,
    CJK...; two for OLD ITALIC and its like), apart from ASCII even when Latin (a ligature
    such as U+FB00 comes from another font); a symbol (an emoji) is a symbol; a tab, a
    joiner and any other format character is a change each. What takes its neighbours'
    direction (spaces, punctuation, combining marks) changes nothing. A line of printable
    ASCII alone: 0."""
    if line.isascii() and "\t" not in line:
        return 0
    changes, last = 0, ""
    for char in line:
        kind = script_kind(char)
        if kind and (kind != last or kind == "x"):
            changes += bool(last)
            last = kind
    return changes


_SIDES = {"L": "l", "R": "r", "AL": "r", "EN": "n", "AN": "n"}
_TWO_WORDS = frozenset({"OLD", "NEW", "MODIFIER", "SMALL", "CAPITAL", "FULLWIDTH", "HALFWIDTH", "MATHEMATICAL",
                        "TAI", "MENDE", "PAU", "WARANG", "MASARAM", "GUNJALA", "HANIFI", "ZANABAZAR", "NYIAKENG"})


@functools.lru_cache(maxsize=4096)
def script_kind(char: str) -> str:
    """The kind of run ``char`` lays out in (see ``script_changes``): "" takes its
    neighbours' kind, "x" is a change by itself."""
    if char.isascii() and char.isalnum():
        return "n" if char.isdigit() else "ascii"
    bidi = unicodedata.bidirectional(char)
    category = unicodedata.category(char)
    if char == "\t" or category == "Cf" or bidi in _EXPLICIT:
        return "x"
    side = _SIDES.get(bidi)
    if side is None:  # takes its neighbours' direction
        return "s" if category[0] == "S" else ""
    words = unicodedata.name(char, "?").split(" ")
    return side + " ".join(words[:2] if words[0] in _TWO_WORDS else words[:1])


def is_network_path(path: str | os.PathLike[str]) -> bool:
    """Two slashes or backslashes first: a host's share (on Windows, reaching it sends
    the user's credentials; anywhere, a hung host holds whoever looks)."""
    return os.fspath(path).startswith(("\\\\", "//"))


def named_file_refusal(path: str | os.PathLike[str]) -> str:
    """Why ``path``, as a sent file names it, is no save target, from its text alone
    (nothing on disk is touched): "" when it may be one. A network path (two slashes or
    backslashes first) would make the window reach that host to look (on Windows, with
    the user's credentials)."""
    path = os.fspath(path)
    try:
        os.fsencode(path)  # a lone surrogate (red team 51) no file name on this system holds
    except UnicodeError:
        return "it is not a name a file can have here"
    if is_network_path(path):
        return "it is a network path"
    target = Path(path)
    if not target.is_absolute():
        return "it is a relative path"
    if target.suffix != ".py":
        return "it is not a .py file"
    return ""


def own_file(path: str | None, code: str) -> tuple[Path | None, str]:
    """``path`` when Save may write there, else None and why not (a few words).

    A workspace someone sent can name any file (``~/.bashrc``, a ``.pth`` in
    site-packages), and Save would overwrite it with the sender's text. So the path is
    a save target only when it is absolute, ends in ``.py`` (the file a symlink leads to
    as well), is a regular file, and holds exactly ``code`` as the editor reads a file
    (UTF-8, universal newlines): then it is where the code came from, and saving it
    writes nothing new. The file is opened without blocking and read only as far as
    the code's length allows: a FIFO or a device named here is never read.
    """
    if path is None:
        return None, ""
    why = named_file_refusal(path)
    if why:
        return None, why
    target = Path(path)
    if Path(os.path.realpath(target)).suffix != ".py":
        return None, "it is not a .py file"
    expected = code.encode("utf-8", "surrogatepass")
    # A file saved with \r\n line ends is up to twice the code's size.
    cap = 2 * len(expected) + 3
    try:
        if not stat.S_ISREG(os.stat(target).st_mode):
            return None, "it is not a regular file"
        handle = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        with os.fdopen(handle, "rb") as source:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                return None, "it is not a regular file"
            raw = source.read(cap + 1)
    except FileNotFoundError:
        return None, "there is no such file"
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        return None, f"it cannot be read ({err.strerror if isinstance(err, OSError) else err})"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "that file holds other text"
    if len(raw) > cap or _lines(text) != _lines(code):
        return None, "that file holds other text"
    return target, ""


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
