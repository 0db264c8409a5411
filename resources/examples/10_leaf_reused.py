"""Gotcha: a leaf used several times gets the sum of its gradients

Here x feeds three places: twice into x * x and once into 3 * x. In the graph, x's leaf has one arrow into each of the two Mul nodes that use it, and during backward a gradient comes back for every use: two along the arrow into x * x, one along the arrow into 3 * x. Autograd adds them up: x.grad = x + x + 3 = 2x + 3 = 7 at x = 2. This is the multivariable chain rule, and it is also why a weight shared between layers or time steps (an RNN) collects the gradient of every use.
"""
import torch

x = torch.tensor(2.0, requires_grad=True)
square = x * x          # x used twice: each use sends back ∂L/∂z · x
linear = 3 * x          # a third use sends back 3
y = square + linear     # dy/dx = 2x + 3 = 7
