"""What the user's code prints reaches a command's stdout and stderr as ``python FILE``
would write it: into a pipe or a file byte for byte (a ``\\r`` progress line, colour
codes); only a terminal sees the escape and bell characters shown, not obeyed."""

from __future__ import annotations

import io

from cli.common import print_progress

PRINTED = "epoch 1\r\x1b[32mloss 0.5\x1b[0m\tdone\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_printed_text_goes_into_a_pipe_unchanged(monkeypatch) -> None:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    print_progress({"output": [{"stream": "stdout", "line": 1, "text": PRINTED},
                               {"stream": "stderr", "line": 2, "text": "warn\x07\n"}]})
    assert out.getvalue() == PRINTED
    assert err.getvalue() == "warn\x07\n"


def test_a_terminal_is_shown_the_control_characters_not_sent_them(monkeypatch) -> None:
    out = _Terminal()
    monkeypatch.setattr("sys.stdout", out)
    print_progress({"output": [{"stream": "stdout", "line": 1, "text": PRINTED + "bell\x07\n"}]})
    shown = out.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown
    for word in ("epoch 1", "loss 0.5", "done"):
        assert word in shown
    assert "\t" in shown and shown.endswith("\n")  # tabs and line breaks are kept
