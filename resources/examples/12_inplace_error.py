"""Gotcha: an in-place op that breaks backward

sigmoid saves its output y because its derivative is y·(1 − y). The in-place y.mul_(2) then overwrites that saved output, and autograd notices: every tensor carries a version counter, and backward refuses to use a saved tensor whose version changed since it was saved. This example fails on purpose with torch's "modified by an inplace operation" RuntimeError; the app shows the message and marks the line where backward raised it, loss.backward(). The next example is the fix.
"""
# expects-error: backward raises torch's in-place RuntimeError
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = torch.sigmoid(x)      # saves y for its backward
y.mul_(2)                 # in-place: overwrites the saved y
loss = y.sum()
loss.backward()           # RuntimeError: ... modified by an inplace operation
