"""Gotcha fixed: write the new value to a new tensor

Replacing y.mul_(2) by y2 = y * 2 leaves the output saved by sigmoid untouched, so backward can use it. The graph now has a Mul node after the Sigmoid node instead of an error. Following the gradient back: the Sum sends 1 to each element, Mul multiplies it by 2, and Sigmoid multiplies by y·(1 − y), so x.grad = 2·σ(x)·(1 − σ(x)).
"""
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = torch.sigmoid(x)      # saves y for its backward
y2 = y * 2                # a new tensor: the saved y is untouched
loss = y2.sum()
