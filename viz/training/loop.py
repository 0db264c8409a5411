"""The training loop: a plain function ``train(config, state)``.

Following Orange3's concurrent pattern, the loop knows nothing about processes or
windows; it talks to a *state* object: "should I stop or pause?" (``poll``),
"is a snapshot due?" (``snapshot_due``), and partial results (``set_info``,
``set_partial_result``). The headless ``TrainState`` never pauses; the worker
process and the CLI subclass it.

The hot path is the tutorial's four steps and little else: the mini-batch loss is
summed on the device and read back only when a history row falls due, so a GPU run
does not sync every step; boundary grids and weight statistics are computed only
for a snapshot, gradient histograms (``viz.training.histograms``) only on the first
row of each heat map column, in a handful of fused ops for all layers at once.

Batch order (what a bare loop must do to reproduce a run): before the model is
built, ``torch.manual_seed(seed)``; every epoch, ``torch.randperm(n_train,
generator=g)`` with ``g = torch.Generator().manual_seed(seed)`` created once, split
into chunks of ``batch_size`` (the last may be shorter).
"""

from __future__ import annotations

import copy
import enum
import math
import time
from dataclasses import dataclass

import torch

from viz.training.config import TrainConfig, auto_device, resolve_device
from viz.training.histograms import BINS, COLUMNS, EDGES, NONFINITE, ZERO, HistogramGrid
from viz.training.models import build_model, linear_layers, task_loss
from viz.training.optimizers import make_optimizer
from viz.training.pictures import Pictures
from viz.training.snapshots import DIVERGED, DONE, PAUSED, RUNNING, STOPPED, HistoryRow, RunInfo, Snapshot

# Train loss and accuracy are measured on at most this many training points, so a
# large CSV does not turn each history row into a full pass.
EVAL_POINTS = 4096


class Command(enum.Enum):
    RUN = "run"
    PAUSE = "pause"
    STEP = "step"  # run one batch, then pause
    STOP = "stop"


class TrainState:
    """Headless state: never pauses, stops when asked, drops partial results.

    Snapshots come at most every ``snapshot_interval`` seconds; the pictures in them
    (boundary grid or fitted curve, weight summary) at most every
    ``picture_interval``, the others carry None there. ``wants_pictures`` False
    skips them altogether (the CLI prints numbers only).
    """

    wants_pictures = True

    def __init__(self, snapshot_interval: float = 1 / 30, picture_interval: float = 0.1) -> None:
        self.snapshot_interval = snapshot_interval
        self.picture_interval = picture_interval
        self._stop_requested = False
        self._next_snapshot = 0.0

    def request_stop(self) -> None:
        self._stop_requested = True

    def poll(self) -> Command:
        """Called before every step: keep it cheap."""
        return Command.STOP if self._stop_requested else Command.RUN

    def wait_resumed(self) -> Command:
        """Called after ``poll`` said PAUSE; blocks until RUN, STEP or STOP."""
        return Command.STOP if self._stop_requested else Command.RUN

    def snapshot_due(self) -> bool:
        now = time.perf_counter()
        if now < self._next_snapshot:
            return False
        self._next_snapshot = now + self.snapshot_interval
        return True

    def set_info(self, info: RunInfo) -> None:
        pass

    def set_partial_result(self, snapshot: Snapshot) -> None:
        pass


@dataclass(frozen=True)
class TrainResult:
    info: RunInfo
    history: tuple[HistoryRow, ...]
    status: str  # done | stopped | diverged
    message: str
    steps: int
    seconds: float
    steps_per_second: float

    @property
    def final(self) -> HistoryRow | None:
        return self.history[-1] if self.history else None

    def summary(self) -> str:
        """One line: how it ended, how fast, and the final loss and accuracies (the
        CLI's last line and the lab's status bar)."""
        final = self.final
        text = (f"{self.status}: {self.steps} steps in {self.seconds:.2f} s "
                f"({self.steps_per_second:.0f} steps/s) on {self.info.device}")
        if final is not None:
            text += f"; loss {final.train_loss:.4g} ({self.info.loss_name})"
            if final.train_accuracy is not None:
                text += f", train accuracy {final.train_accuracy:.3f}"
                if final.test_accuracy is not None and final.test_accuracy == final.test_accuracy:
                    text += f", test accuracy {final.test_accuracy:.3f}"
        return text


class _Batches:
    """Seeded reshuffle every epoch; the batches are slices of the shuffled data.

    The data is gathered in the epoch's order once, on the device, so a batch is a
    view: the same rows in the same order as indexing with each chunk of the
    permutation (what a bare loop does), without two gathers every step.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int) -> None:
        self.x, self.y, self.batch_size = x, y, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self._chunks: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._next = 0

    def save(self) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]], int]:
        return self.generator.get_state(), self._chunks, self._next  # chunks are never written

    def restore(self, saved: tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]], int]) -> None:
        state, self._chunks, self._next = saved
        self.generator.set_state(state)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._next == len(self._chunks):
            order = torch.randperm(len(self.x), generator=self.generator).to(self.x.device)
            self._chunks = list(zip(self.x[order].split(self.batch_size),
                                    self.y[order].split(self.batch_size)))
            self._next = 0
        chunk = self._chunks[self._next]
        self._next += 1
        return chunk


def train(config: TrainConfig, state: TrainState | None = None) -> TrainResult:
    """Run ``config`` to the end, a stop, or a divergence; bad settings raise StudioError."""
    state = state if state is not None else TrainState()
    config.validate()
    return _Run(config, state).run()


class _Run:
    """One run's tensors and bookkeeping; ``run`` is the loop."""

    def __init__(self, config: TrainConfig, state: TrainState) -> None:
        self.config, self.state = config, state
        device = self.device = resolve_device(auto_device(config)[0])
        data = config.load_dataset()
        self.loss = loss = task_loss(data.task, config.model, config.activation)
        torch.manual_seed(config.seed)
        self.model = build_model(config.model, data.input_dim, data.output_dim, config.hidden,
                                 config.activation).to(device)
        self.optimizer = make_optimizer(config.optimizer, self.model.parameters(), config.lr,
                                        config.weight_decay)
        self.params = list(self.model.parameters())
        layers = linear_layers(self.model)
        # Which entries of ``params`` make up each layer, for the per-layer grad norm.
        position = {id(p): i for i, p in enumerate(self.params)}
        self.layer_slots = [[position[id(p)] for p in layer.parameters()] for _, layer in layers]
        self.histograms = _Histograms(self.params, self.layer_slots, device)

        self.x_train = torch.from_numpy(data.x_train).to(device)
        self.y_train = loss.prepare_targets(torch.from_numpy(data.y_train)).to(device)
        self.x_test = torch.from_numpy(data.x_test).to(device)
        self.y_test = loss.prepare_targets(torch.from_numpy(data.y_test)).to(device)
        self.eval_x, self.eval_y = self.x_train[:EVAL_POINTS], self.y_train[:EVAL_POINTS]
        self.has_test = len(data.x_test) > 0
        # A history row scores the train and test points in one forward pass.
        self.eval_all = torch.cat([self.eval_x, self.x_test]) if self.has_test else self.eval_x
        self.classify = data.task != "regression"
        self.pictures = Pictures(self.model, data, loss, device, config.grid_size)
        self.batches = _Batches(self.x_train, self.y_train, config.batch_size, config.seed)
        self.every = config.resolved_eval_every()
        self.total = config.steps
        self.grid = HistogramGrid(self.total, self.every)
        self.next_histogram = 1  # the first step of the heat map column still without one
        self.info = RunInfo(data.task, data.classes, loss.name, str(device),
                            tuple(name for name, _ in layers),
                            sum(p.numel() for p in self.params), self.total, self.every,
                            self.pictures.extent, data.x_train, data.y_train, data.x_test,
                            data.y_test, str(self.model))
        self.history: list[HistoryRow] = []
        self.emitted = 0  # history rows already sent in a snapshot
        self.batch_losses: list[torch.Tensor] = []  # since the last row, still on the device
        self.last_batch_losses: list[torch.Tensor] = []
        self.paused_seconds = 0.0
        self.next_pictures = 0.0
        # Where the last good row left the run, to find the step a divergence began at
        # when a row covers several steps (see ``first_bad_step``).
        self.last_good: _Checkpoint | None = None
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started - self.paused_seconds

    def run(self) -> TrainResult:
        state, total = self.state, self.total
        state.set_info(self.info)
        self.history.append(self.measure(0, None))
        self.keep_checkpoint(0)
        self.emit(0, RUNNING)
        step = 0
        status, message = DONE, ""
        diverged_at: int | None = None
        force_pause = False
        paused_at_step = -1
        while step < total:
            command = Command.PAUSE if force_pause else state.poll()
            force_pause = False
            if command is Command.PAUSE:
                if paused_at_step != step:
                    self.emit(step, PAUSED)
                    paused_at_step = step
                pause_began = time.perf_counter()
                command = state.wait_resumed()
                self.paused_seconds += time.perf_counter() - pause_began
            if command is Command.STOP:
                status = STOPPED
                break
            single = command is Command.STEP
            step += 1
            record = single or step % self.every == 0 or step == total
            gradients = self.one_step(record, record and step >= self.next_histogram)
            if record:
                row = self.measure(step, gradients)
                if not (math.isfinite(row.batch_loss) and math.isfinite(row.train_loss)):
                    status = DIVERGED
                    diverged_at, message = self.divergence_message(step, row)
                    break
                if row.grad_histograms is not None:
                    self.next_histogram = self.grid.next_due(step)
                self.history.append(row)
                self.keep_checkpoint(step)
            if single:
                force_pause = True  # the pause emits this step's snapshot
            elif step < total and state.snapshot_due():
                self.emit(step, RUNNING)
        if status == STOPPED and self.history[-1].step != step:
            row = self.measure(step, None)
            if math.isfinite(row.train_loss):
                self.history.append(row)
        seconds = self.elapsed()
        self.emit(step, status, message, diverged_at)
        return TrainResult(self.info, tuple(self.history), status, message, step, seconds,
                           step / seconds if seconds > 0 else 0.0)

    def one_step(self, record: bool, histograms: bool = False) -> _Gradients | None:
        """The tutorial's four steps on the next batch; gradient norms when recording,
        and histograms when asked."""
        x, y = self.batches.next()
        self.optimizer.zero_grad()
        batch_loss = self.loss.fn(self.model(x), y)
        batch_loss.backward()
        gradients = None
        if record:  # before the update: the manual optimizer zeroes the gradients
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
            gradients = _Gradients(_norms(grads), self.histograms(grads) if histograms else None)
        self.optimizer.step()
        self.batch_losses.append(batch_loss.detach())
        return gradients

    @torch.no_grad()
    def measure(self, step: int, gradients: _Gradients | None) -> HistoryRow:
        """A history row; every number comes back from the device in one transfer (the
        histograms, integers, in a second, on the rows that have them)."""
        model, loss = self.model, self.loss
        values = [torch.stack(self.batch_losses).mean() if self.batch_losses
                  else torch.full((), math.nan, device=self.device)]
        every = model(self.eval_all)
        scores = every[: len(self.eval_x)]
        values.append(loss.fn(scores, self.eval_y))
        if self.classify:
            values.append((loss.predictions(scores) == self.eval_y.reshape(-1)).float().mean())
        if self.has_test:
            scores = every[len(self.eval_x):]
            values.append(loss.fn(scores, self.y_test))
            if self.classify:
                values.append((loss.predictions(scores) == self.y_test.reshape(-1)).float().mean())
        count = len(values)
        norms = gradients.norms if gradients is not None else []
        numbers = torch.stack([v.float() for v in values + norms]).tolist()
        self.last_batch_losses, self.batch_losses = self.batch_losses, []
        batch, train_loss = numbers[0], numbers[1]
        rest = numbers[3:count] if self.classify else numbers[2:count]
        train_acc = numbers[2] if self.classify else None
        test_loss = rest[0] if self.has_test else math.nan
        test_acc = (rest[1] if self.has_test else math.nan) if self.classify else None
        grad_norms: tuple[float, ...] = ()
        histograms = None
        if gradients is not None:
            per_param = numbers[count:]
            grad_norms = tuple(math.sqrt(sum(per_param[i] ** 2 for i in slots))
                               for slots in self.layer_slots)
            if gradients.histograms is not None:
                histograms = gradients.histograms.cpu().numpy()
        return HistoryRow(step, self.elapsed(), batch, train_loss, test_loss, train_acc,
                          test_acc, grad_norms, histograms)

    def keep_checkpoint(self, step: int) -> None:
        """Copy the weights, optimizer and batch order at a good row, where a row can
        cover more than one step (copies on the device: no sync)."""
        if self.every > 1:
            self.last_good = _Checkpoint.of(self, step)

    def divergence_message(self, step: int, row: HistoryRow) -> tuple[int, str]:
        """Name the first step at which a loss the lab measures was not finite (the loss
        its batch trained on, or the training loss after its update): the step a row
        after every step would name, whatever the evaluation interval."""
        first, bad = self.first_bad_step(step, row)
        return first, (f"training diverged at step {first}: the loss became {bad} "
                       f"(hint: lower the learning rate, now {self.config.lr:g})")

    def first_bad_step(self, step: int, row: HistoryRow) -> tuple[int, float]:
        """A row over one step names it; a row over several replays them one at a time
        from the last good row's checkpoint (deterministic: the same batches, the same
        updates), then puts the run back as it was at ``step``."""
        if len(self.last_batch_losses) <= 1 or self.last_good is None:
            return step, row.batch_loss if not math.isfinite(row.batch_loss) else row.train_loss
        now = _Checkpoint.of(self, step)
        self.last_good.restore(self)
        try:
            for k in range(self.last_good.step + 1, step + 1):
                self.one_step(False)
                batch = float(self.batch_losses.pop())
                if not math.isfinite(batch):
                    return k, batch
                with torch.no_grad():
                    train = float(self.loss.fn(self.model(self.eval_all)[: len(self.eval_x)], self.eval_y))
                if not math.isfinite(train):
                    return k, train
            return step, row.batch_loss if not math.isfinite(row.batch_loss) else row.train_loss
        finally:
            now.restore(self)

    def emit(self, step: int, status: str, message: str = "", diverged_at: int | None = None) -> None:
        seconds = self.elapsed()
        # Pictures cost about two training steps: at most ``picture_interval`` apart
        # while running; a pause or the end always shows the model as it is, except a
        # diverged one, whose NaN weights draw nothing: the last good pictures stay.
        now = time.perf_counter()
        due = (status != RUNNING or now >= self.next_pictures) and status != DIVERGED
        pictures = self.pictures if self.state.wants_pictures and due else None
        if pictures is not None:
            self.next_pictures = now + self.state.picture_interval
        snapshot = Snapshot(
            step, self.total, seconds, step / seconds if seconds > 0 else 0.0, status, message,
            tuple(self.history[self.emitted:]), self.history[-1] if self.history else None,
            pictures.boundary() if pictures else None, pictures.curve() if pictures else None,
            pictures.weights() if pictures else {}, diverged_at)
        self.emitted = len(self.history)
        self.state.set_partial_result(snapshot)


@dataclass(frozen=True)
class _Gradients:
    """A recorded step's gradients, still on the device: each parameter's norm, and
    the layers' histograms when the step has them."""

    norms: list[torch.Tensor]
    histograms: torch.Tensor | None


class _Histograms:
    """Every layer's gradient entries counted in ``viz.training.histograms``' columns,
    on the device: all the gradients in one vector, each entry's column offset by its
    layer's, one ``bincount`` for the lot (a dozen small ops, about 0.1 ms on a CPU)."""

    def __init__(self, params: list[torch.Tensor], layer_slots: list[list[int]],
                 device: torch.device) -> None:
        self.order = [i for slots in layer_slots for i in slots]
        sizes = torch.tensor([sum(params[i].numel() for i in slots) for slots in layer_slots])
        layer = torch.repeat_interleave(torch.arange(len(layer_slots)), sizes)
        self.offsets = (layer * COLUMNS).to(device)
        self.edges = torch.from_numpy(EDGES).to(device)
        self.low, self.high = float(EDGES[0]), float(EDGES[-1])
        self.length = len(layer_slots) * COLUMNS

    def __call__(self, grads: list[torch.Tensor]) -> torch.Tensor:
        magnitude = torch.cat([grads[i].detach().reshape(-1) for i in self.order]).abs()
        # right=True: bin k holds EDGES[k] <= |g| < EDGES[k + 1], as numpy's; the top
        # edge (where clamping puts larger values) belongs to the last bin, as numpy's.
        column = torch.bucketize(magnitude.clamp(self.low, self.high), self.edges, right=True)
        column = column.clamp_(1, BINS)
        column = torch.where(magnitude == 0, ZERO, column)
        column = torch.where(torch.isfinite(magnitude), column, NONFINITE)
        counts = torch.bincount(self.offsets + column, minlength=self.length)
        return counts.reshape(-1, COLUMNS)


def _norms(grads: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each tensor's 2-norm, left on the device (one fused call where torch has it)."""
    foreach_norm = getattr(torch, "_foreach_norm", None)
    if foreach_norm is not None:
        return list(foreach_norm(grads))
    return [torch.linalg.vector_norm(g) for g in grads]


@dataclass
class _Checkpoint:
    """A run's state after ``step``: weights, optimizer state and where the batches are."""

    step: int
    weights: list[torch.Tensor]
    optimizer: dict | None
    batches: tuple

    @classmethod
    def of(cls, run: _Run, step: int) -> _Checkpoint:
        optimizer = run.optimizer
        saved = copy.deepcopy(optimizer.state_dict()) if isinstance(optimizer, torch.optim.Optimizer) else None
        return cls(step, [p.detach().clone() for p in run.params], saved, run.batches.save())

    def restore(self, run: _Run) -> None:
        with torch.no_grad():
            for p, w in zip(run.params, self.weights):
                p.copy_(w)
        if self.optimizer is not None:
            run.optimizer.load_state_dict(copy.deepcopy(self.optimizer))
        run.batches.restore(self.batches)
