"""Whether a path a workspace names is where its code came from (a save target).

A workspace someone sent can name any file; Save must never write over one that is
not the code's own (see ``own_file``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


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
    target = Path(path)
    if not target.is_absolute():
        return None, "it is a relative path"
    if target.suffix != ".py" or Path(os.path.realpath(target)).suffix != ".py":
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
