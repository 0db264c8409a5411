"""What the user's code prints reaches a command's stdout and stderr as ``python FILE``
would write it, each stream to its own, with one difference: its control characters are
shown, not obeyed, wherever the stream goes, unless they only draw. A pipe's reader
(``| tee log.txt``, ``| cat``) or a later ``cat log.txt`` passes them to a terminal, which
would obey an escape sequence (a title, a clipboard write: red team 115); tabs, line
breaks, a ``\\r`` progress line, colours and IPython's clear_output (``ESC[2K``) are kept:
real tutorials print them (tests/viz/test_tutorial_corpus.py)."""

from __future__ import annotations

import io

import pytest

from cli.common import print_progress

PRINTED = "epoch 1\r\x1b[32mloss 0.5\x1b[0m\tdone\n"
CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07\x9d52;c;eA==\x9c\x9b2J\u202ereversed\x1b[?2004l\x1b[21t\x1b[6n\x1bP+q\x1b\\\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream_type", [io.StringIO, _Terminal], ids=["pipe or file", "terminal"])
def test_control_characters_are_shown_not_sent_wherever_the_output_goes(monkeypatch, stream_type) -> None:
    out, err = stream_type(), stream_type()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    print_progress({"output": [{"stream": "stdout", "line": 1, "text": PRINTED + CLIPBOARD},
                               {"stream": "stderr", "line": 2, "text": "warn\x07\n"}]})
    shown, warned = out.getvalue(), err.getvalue()
    for control in ("\x1b]", "\x1b[?", "\x1b[21t", "\x1b[6n", "\x1bP", "\x07", "\x9b", "\x9c", "\x9d", "\u202e"):
        assert control not in shown + warned, repr(control)
    assert shown.startswith(PRINTED)  # colours, a progress line: as printed
    assert "^[]52;c;cHduZWQ=^G" in shown and "\\x9d52" in shown  # shown, in place
    assert "^[[?2004l^[[21t^[[6n^[P+q^[\\" in shown
    assert warned == "warn^G\n"  # each stream to its own
    assert "\t" in shown and "\r" in shown and shown.endswith("\n")


def test_the_real_cli_piped_shows_a_runs_escape_sequences(tmp_path) -> None:
    """End to end, the worker's real reply: ``export ... | tee log.txt`` gets no ESC or C1 byte."""
    from tests.test_cli import run_cli

    code = tmp_path / "lesson.py"
    code.write_text("import sys\nimport torch\n"
                    "print('\\x1b]52;c;cHduZWQ=\\x07 loss 0.5')\n"
                    "print('\\x9d0;title\\x9c', file=sys.stderr)\n"
                    "x = torch.ones(2, requires_grad=True)\ny = (x * 3).sum()\n", encoding="utf-8")
    done = run_cli("export", str(code), "-o", str(tmp_path / "g.json"))
    assert done.returncode == 0, done.stderr
    assert "^[]52;c;cHduZWQ=^G loss 0.5" in done.stdout
    assert "\\x9d0;title\\x9c" in done.stderr
    for control in ("\x1b", "\x07", "\x9c", "\x9d"):
        assert control not in done.stdout + done.stderr, repr(control)
