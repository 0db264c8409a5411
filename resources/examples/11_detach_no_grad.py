"""Gotcha: detach() and torch.no_grad() cut the graph

a = 3·x is recorded as usual. a.detach() is the same number with its history cut off, so b = a.detach() · x depends on x only through its second factor. Inside torch.no_grad() nothing is recorded, so c is a plain constant. The graph shows it: neither the detached copy nor c has a node, and x's only arrows lead into the two Mul nodes, 3·x and b. Backward therefore gives dy/dx = 3 (through a) + 6 (the detached value of a, times 1) = 9, not the 3 + 2·3x + 10 = 25 that the formula y = 3x + 3x² + 10x would give.
"""
import torch

x = torch.tensor(2.0, requires_grad=True)
a = 3 * x
b = a.detach() * x        # a.detach() is treated as the constant 6
with torch.no_grad():
    c = 10 * x            # not recorded: c is the constant 20
y = a + b + c
