"""The process of ``autograd-studio run SCRIPT.py --trust``: the user's own script,
trusted, run with full Python as ``python SCRIPT.py`` runs it (its folder first on
``sys.path``, ``__name__ == "__main__"``), recorded; the trace of its last backward
call (or of the last top-level tensor that requires grad) goes to a trace file.

    python -m viz.engine.own_script SCRIPT.py OUT.agtrace

No sandbox here: the parent (``cli.run``) only limits time and memory.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import Any, Sequence

from viz.errors import StudioError


def run_script(script: str) -> Any:
    """The Trace of ``script``'s last backward, or of its last tensor needing grad."""
    from viz.engine.evaluate import user_error
    from viz.engine.own_code import OwnRecording, trace_first_call, trace_tensors
    from viz.engine.walk import NameIndex

    where = os.path.abspath(script)
    sys.path.insert(0, os.path.dirname(where))  # `from model import Net` finds the script's neighbours
    sys.argv = [script]
    recording = OwnRecording(where, last=True)
    namespace: dict[str, Any] = {}
    try:
        with recording:
            namespace = runpy.run_path(where, run_name="__main__")
    except SystemExit as end:
        if end.code not in (0, None):
            raise StudioError("runtime", f"the script exited with status {end.code}", script, 0, 0, "") from None
    except BaseException as err:  # noqa: BLE001 - the script's own failure, told in one line
        error = user_error(err, where)
        error.where = script
        raise error from None
    trace = trace_first_call(recording)
    if trace is not None:
        return trace
    last = _last_tensor(namespace, recording.recorder.values)
    if last is None:
        raise StudioError("no-output", "the script never called backward() and left no tensor that requires grad",
                          script, 0, 0, "call loss.backward(), or keep the tensor in a top-level variable")
    name, tensor = last
    return trace_tensors([tensor], NameIndex.from_scopes(namespace), recording, [name], where=where)


def _last_tensor(namespace: dict[str, Any], values: dict[Any, Any]) -> tuple[str, Any] | None:
    """The top-level tensor with a graph whose op was recorded last."""
    import torch

    order = {node: i for i, node in enumerate(values)}
    found = [(order.get(value.grad_fn, -1), name, value) for name, value in namespace.items()
             if isinstance(value, torch.Tensor) and value.grad_fn is not None and not name.startswith("__")]
    if not found:
        return None
    _, name, tensor = max(found, key=lambda item: item[0])
    return name, tensor


def main(argv: Sequence[str] | None = None) -> int:
    from viz.io.trace_file import write_trace_file

    script, out = list(sys.argv[1:] if argv is None else argv)
    try:
        trace = run_script(script)
    except StudioError as err:
        write_trace_file(out, error=err)
        return 2
    write_trace_file(out, trace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
