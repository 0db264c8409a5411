"""Reading a Trace as a debugger does: the timeline of steps, the gradient check, replays, the first NaN, why a gradient is None, what-if edits, diffs of two traces and gradient health."""
