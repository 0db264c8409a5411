"""Broadcasting: a small tensor used many times

Adding a (3, 1) column to a (4,) row gives a (3, 4) table: each input is silently repeated to fill it. Autograd undoes the repetition on the way back: the gradient flowing into the Add node has shape (3, 4), and each input receives it summed over the dimensions it was stretched along. So col.grad sums each row (4 copies, times the weights) and row.grad sums each column. Check the shapes of the gradients on the leaves: they always match their tensors.
"""
import torch

col = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)   # shape (3, 1)
row = torch.tensor([10.0, 20.0, 30.0, 40.0], requires_grad=True) # shape (4,)

table = col + row                 # broadcast to shape (3, 4)
weights = torch.arange(12.0).reshape(3, 4)
loss = (table * weights).sum()
