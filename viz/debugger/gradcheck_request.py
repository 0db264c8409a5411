"""A gradient check's request: sent by the window (or the command line) without torch,
executed in the worker, where it imports the checker (``viz.debugger.gradcheck``)."""

from __future__ import annotations

from dataclasses import dataclass

from viz.debugger.gradcheck_report import DEFAULT_BUDGET_S, GradcheckReport


@dataclass
class GradcheckRequest:
    """Runs ``gradcheck_code`` in the worker (see ``viz.isolation.worker.TraceRequest``)."""

    code: str
    where: str = "<expr>"
    device: str = "cpu"
    time_limit_s: float = 30.0
    memory_limit_mb: int | None = None  # whatever the worker has
    reply_type = GradcheckReport
    budget_s: float = DEFAULT_BUDGET_S

    def execute(self) -> GradcheckReport:
        from viz.debugger.gradcheck import gradcheck_code  # torch: in the worker, never in the window

        return gradcheck_code(self.code, self.where, self.device, budget_s=self.budget_s)
