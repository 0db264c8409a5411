"""A perceptron: one neuron deciding AND

A single neuron weighs its inputs, adds a bias and squashes the sum with a sigmoid: y_hat = σ(x·w + b). The graph shows that recipe for four examples at once: Mm for x·w, Add for the bias (broadcast to every row), Sigmoid, then the binary cross-entropy loss against the AND targets. Backward brings each leaf its share of the blame: w.grad says how each input weight should change, b.grad adds up the gradients of the four rows, (y_hat − target) / 4 each, so it is the mean error, 0.2988.
"""
import torch
import torch.nn.functional as F

x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
target = torch.tensor([[0.0], [0.0], [0.0], [1.0]])     # logical AND

w = torch.tensor([[0.5], [-0.3]], requires_grad=True)
b = torch.tensor([0.1], requires_grad=True)

z = x @ w + b                  # weighted sum of the inputs
y_hat = torch.sigmoid(z)       # squashed into (0, 1)
loss = F.binary_cross_entropy(y_hat, target)
