"""Debugging: double backward, the gradient of a gradient

torch.autograd.grad with create_graph=True records the backward pass itself as a new graph, so the derivative dy/dx = 3x² is a tensor with its own grad_fn. This example traces that derivative: its graph is made of the nodes that compute 3x², and backward through it gives the second derivative d²y/dx² = 6x = 12 at x = 2 in x.grad. This is how gradient penalties, Hessian-vector products and physics-informed losses are built.
"""
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
(dy_dx,) = torch.autograd.grad(y, x, create_graph=True)   # 3x² = 12, with a graph
dy_dx
