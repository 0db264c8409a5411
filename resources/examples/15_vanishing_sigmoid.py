"""Debugging: vanishing gradients in a deep sigmoid stack

Ten Linear + Sigmoid layers in a row. The sigmoid's derivative σ·(1 − σ) is at most 1/4, and the chain rule multiplies one such factor per layer, so the gradient shrinks roughly fourfold at each step back towards the input. Compare the gradient norms of the last layer's weight (net.18.weight) with the first (net.0.weight): several orders of magnitude apart. The first layers barely learn. Swap nn.Sigmoid for nn.ReLU and watch the first layers' gradients come back.
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
