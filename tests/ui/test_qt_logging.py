"""Qt's own warnings reach Python's logging (and so stderr, at WARNING, by default), their
control characters shown, not obeyed (a message may quote a sent file's name)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import qInstallMessageHandler, qWarning

from ui.app import route_qt_messages

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("message", "logged"), [
    ("the platform plugin is sulking", "the platform plugin is sulking"),
    # a message may quote a sent file's name: its escape sequences shown, not obeyed
    ("cannot open /tmp/x\x1b]52;c;cHduZWQ=\x07\x9b2J.png", "cannot open /tmp/x^[]52;c;cHduZWQ=^G\\x9b2J.png"),
], ids=["plain", "escape sequences"])
def test_a_qt_warning_becomes_a_log_record_of_the_qt_logger(caplog: pytest.LogCaptureFixture, message: str,
                                                            logged: str) -> None:
    previous = route_qt_messages()
    try:
        with caplog.at_level(logging.DEBUG, logger="qt"):
            qWarning(message)
    finally:
        qInstallMessageHandler(previous)
    (record,) = [r for r in caplog.records if r.name == "qt"]
    assert record.levelno == logging.WARNING and record.getMessage() == logged


def test_by_default_warnings_still_reach_stderr_and_debug_does_not() -> None:
    code = ("from PySide6.QtCore import qDebug, qWarning\n"
            "from ui.app import route_qt_messages\n"
            "route_qt_messages()\nqDebug('chatter')\nqWarning('careful')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == ["WARNING qt: careful"]
