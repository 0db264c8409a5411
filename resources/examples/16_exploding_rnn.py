"""Debugging: exploding gradients in a recurrent network

A tiny RNN unrolled by hand over 20 time steps: h = relu(x_t · W_xh + h · W_hh). The same W_hh is used at every step, so the gradient flowing back in time is multiplied by W_hh once per step: nineteen times from the last step back to the first. W_hh is 1.5 times the identity, so the gradient grows 1.5-fold per step back in time: compare the gradient of x at the last step (norm 1.416, on the last Select node) with the one at the first step (norm 3140, over two thousand times larger: 1.5 to the power 19 ≈ 2217). Clipping with torch.nn.utils.clip_grad_norm_ or a smaller recurrent weight tames it.
"""
import torch

torch.manual_seed(0)
steps, hidden = 20, 3
x = torch.rand(steps, 1, 2, requires_grad=True)           # one input per time step
W_xh = torch.rand(2, hidden, requires_grad=True)
W_hh = (1.5 * torch.eye(hidden)).requires_grad_()          # grows anything by 1.5 per step

h = torch.zeros(1, hidden)
for t in range(steps):
    h = torch.relu(x[t] @ W_xh + h @ W_hh)
loss = h.sum()
