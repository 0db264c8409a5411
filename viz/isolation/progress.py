"""A run's progress as the parent takes it: only what a run process sends
(``viz.engine.output.progress``), within the run's caps."""

from __future__ import annotations

import time
from typing import Any

from viz.engine.output import MAX_LOSSES, PROGRESS_INTERVAL_S
from viz.isolation.replies import check_chunks

PROGRESS_KEYS = frozenset({"status", "output", "losses"})  # viz.engine.output.progress's news
# A run sends news at most every PROGRESS_INTERVAL_S, and as its output ends: frames more
# often than twice that pace (past a first few), a character each, within every cap (1.15 M
# of them, 57 us of the parent's each), kept a core of the window busy all run (red team 78).
FRAMES_PER_S = 2 / PROGRESS_INTERVAL_S
FRAMES_AHEAD = 50


def streaming() -> dict[str, float]:
    """What a run has streamed so far (``within_caps`` counts), from now."""
    return {"chars": 0, "chunks": 0, "losses": 0, "frames": 0, "since": time.monotonic()}


def progress_news(reply: dict[str, Any]) -> dict[str, Any]:
    """A progress message's news, checked: output chunks and loss values."""
    from viz import wire

    # Only what a run process sends: a flood of frames of other keys (each parsed in full)
    # ends the run at the first (red team 67: 12 frames of 24 MB, 8.6 s of 10 frozen).
    if not set(reply) <= PROGRESS_KEYS:
        raise wire.MalformedMessage("progress: fields a run does not send")
    chunks = check_chunks(wire.build(reply.get("output", []), list[dict[str, str | int | None]], "progress.output"))
    losses = wire.build(reply.get("losses", []), list[float], "progress.losses")
    if len(losses) > MAX_LOSSES:
        raise wire.MalformedMessage("progress: more losses than a run keeps")
    # A run sends progress only with news, each piece of text at least a character: frames
    # of none passed every check, parsed in full for as long as the run went (red team 76).
    if not (chunks or losses) or not all(chunk["text"] for chunk in chunks):
        raise wire.MalformedMessage("progress without news")
    return {"output": chunks, "losses": losses}


def within_caps(news: dict[str, Any], streamed: dict[str, int]) -> dict[str, Any]:
    """A progress message's news cut to what the run may still stream: output up to
    ``MAX_OUTPUT_CHARS`` (past ``MAX_OUTPUT_CHUNKS`` pieces, a message's pieces join
    into one) and losses up to ``MAX_LOSSES`` in all (``streamed``, from ``streaming()``,
    counts), at the pace a run sends them."""
    from viz.engine.output import MAX_OUTPUT_CHARS, MAX_OUTPUT_CHUNKS
    from viz.wire import MalformedMessage

    streamed["frames"] += 1
    if streamed["frames"] > FRAMES_AHEAD + FRAMES_PER_S * (time.monotonic() - streamed["since"]):
        raise MalformedMessage("progress more often than a run sends it")
    # A run sends nothing past its caps (viz.engine.output, the recorder): frames of more,
    # each decoded in full, froze the window 0.5-1 s apiece for the whole run (red team 74).
    if ((streamed["chars"] >= MAX_OUTPUT_CHARS and any(chunk["text"] for chunk in news["output"]))
            or (streamed["losses"] >= MAX_LOSSES and news["losses"])):
        raise MalformedMessage("progress past what a run streams")
    chunks: list[dict[str, Any]] = []
    for chunk in news["output"]:
        room = MAX_OUTPUT_CHARS - streamed["chars"]
        if room <= 0:
            break
        piece = {**chunk, "text": chunk["text"][:room]}
        if chunks and streamed["chunks"] >= MAX_OUTPUT_CHUNKS:  # past the pieces a run keeps apart
            chunks[-1]["text"] += piece["text"]
        else:
            chunks.append(piece)
            streamed["chunks"] += 1
        streamed["chars"] += len(piece["text"])
    losses = news["losses"][: max(0, MAX_LOSSES - streamed["losses"])]
    streamed["losses"] += len(losses)
    return {"output": chunks, "losses": losses}
