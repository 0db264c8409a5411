"""``--memory-limit`` holds in the worker started before the command parsed its options
(cli.early): code that asks for more memory is refused with the limit the user gave,
for each command that traces code. The oracle is the option's own value, in the
refusal's words; torch.empty(10**11) asks for 400 GB and gets none of it."""

from __future__ import annotations

from pathlib import Path

import pytest

import main as cli

GREEDY = "w = torch.ones(2, requires_grad=True)\nbig = torch.empty(10**11)\n(w * w).sum()\n"


@pytest.mark.parametrize("command", ["export", "health"])
@pytest.mark.parametrize("limit", [300, 700])
def test_the_limit_given_is_the_one_that_refuses(command: str, limit: int, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command, "--expr", GREEDY, "--memory-limit", str(limit)]
    if command == "export":
        argv += ["-o", str(tmp_path / "o.json")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert f"limit of {limit:,} MB" in err, err
    assert not (tmp_path / "o.json").exists()
