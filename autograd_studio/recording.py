"""``record()`` and the caller-facing half of tracing the user's own code: their frame
gives the names, ``viz.engine.own_code`` does the recording and builds the Trace."""

from __future__ import annotations

import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from viz.engine.trace import Trace


class Recording:
    """What ``record()`` returns: a context manager that records the torch ops run
    inside it, in this process. After the block, ``.trace`` is the graph of the first
    ``backward()`` called inside (None if none was); ``.trace_of(tensor)`` gives the
    graph of any tensor computed inside, with a backward of its own.

    >>> with autograd_studio.record() as rec:
    ...     loss = ((w * x).sum() - 1) ** 2
    ...     loss.backward()
    >>> rec.trace.node(rec.trace.leaf_named("w"))["grad"]   # w.grad, as numpy
    """

    def __init__(self, *, direction: str = "TB", where: str | None = None, frame: FrameType | None = None) -> None:
        self.direction = direction
        self.trace: Trace | None = None
        self._where = where
        self._frame = frame
        self._own: Any = None  # viz.engine.own_code.OwnRecording

    def __enter__(self) -> Recording:
        from viz.engine.own_code import OwnRecording

        global _last
        if self._frame is None:
            self._frame = sys._getframe(1)
        self._own = OwnRecording(self._where or self._frame.f_code.co_filename)
        _active.append(self)
        _last = self
        self._own.__enter__()
        return self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        from viz.engine.own_code import trace_first_call

        self._own.__exit__(kind, error, tb)
        _active.remove(self)
        if kind is None:
            self.trace = trace_first_call(self._own, direction=self.direction)

    def holds(self, tensor: torch.Tensor) -> bool:
        """Whether ``tensor`` was computed inside this recording."""
        return self._own is not None and self._own.holds(tensor)

    def trace_of(self, tensor: torch.Tensor, names: dict[str, Any] | None = None) -> Trace:
        """The graph of ``tensor`` (computed inside the block), with the values recorded
        and a backward of its own that leaves every ``.grad`` as it was.

        >>> with autograd_studio.record() as rec:
        ...     y = torch.tanh(w * x)
        >>> rec.trace_of(y).outputs
        ['n3']
        """
        if self.trace is not None and self._own.backward_of(tensor):
            return self.trace
        return trace_tensor(tensor, self._frame, names, self)


_active: list[Recording] = []
_last: Recording | None = None  # the latest record(): export(loss) after its block finds its values


def recording_of(tensor: torch.Tensor) -> Recording | None:
    """The open (or else the latest) recording that computed ``tensor``."""
    for recording in reversed([*_active, *([_last] if _last is not None else [])]):
        if recording.holds(tensor):
            return recording
    return None


def trace_tensor(tensor: torch.Tensor, frame: FrameType | None, names: dict[str, Any] | None = None,
                 recording: Recording | None = None, direction: str = "TB") -> Trace:
    """The graph of ``tensor`` named from ``frame``'s variables (``names`` first)."""
    import torch

    from viz.engine.own_code import trace_tensors

    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, a Trace or a Recording, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise ValueError("this tensor does not require grad, so autograd recorded no graph for it; "
                         "make an input with requires_grad=True or use a model's parameters")
    index = name_index(frame, names)
    where = recording._own.where if recording is not None else (frame.f_code.co_filename if frame else "<own code>")
    own = recording._own if recording is not None else None
    return trace_tensors([tensor], index, own, [index.tensor_name(tensor)], where=where, direction=direction)


def name_index(frame: FrameType | None, names: dict[str, Any] | None = None) -> Any:
    """The caller's names, as the editor finds them: variables, then ``named_parameters``
    of the modules among them, then items of lists; ``names`` wins over both."""
    from viz.engine.walk import NameIndex

    scopes = [dict(names or {})]
    if frame is not None:
        scopes += [frame.f_locals, frame.f_globals]
    return NameIndex.from_scopes(*scopes)


def as_trace(value: Any, frame: FrameType | None, names: dict[str, Any] | None = None,
             direction: str | None = None) -> Trace:
    """A Trace from a Trace, a Recording or a tensor (recorded, or traced now)."""
    from viz.engine.trace import Trace

    if isinstance(value, Trace):
        if direction is not None:
            from viz.layout import layout_graph

            layout_graph(value.graph, direction)
        return value
    if isinstance(value, Recording):
        if value.trace is None:
            raise ValueError("no backward() ran inside this record() block; pass the tensor instead, "
                             "or use rec.trace_of(tensor)")
        return as_trace(value.trace, frame, names, direction)
    recording = recording_of(value) if hasattr(value, "grad_fn") else None
    if recording is not None and recording.trace is not None and recording._own.backward_of(value):
        return as_trace(recording.trace, frame, names, direction)
    return trace_tensor(value, frame, names, recording, direction or "TB")
