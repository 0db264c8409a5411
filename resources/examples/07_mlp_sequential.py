"""A small MLP with nn.Sequential

nn.Sequential stacks layers: Linear, Tanh, Linear. Each Linear layer owns a weight and a bias, which appear as leaves named after their place in the model (model.0.weight, model.2.bias). In the graph a Linear layer is an Addmm node (bias + input · weightᵀ) fed by a transpose of the weight. Backward runs the chain rule through both layers: the gradient of the first layer's weight passes through the second layer's weight and the Tanh derivative 1 − tanh² on the way.
"""
import torch
import torch.nn as nn

torch.manual_seed(0)
x = torch.randn(8, 2)
y = (x[:, :1] * x[:, 1:] > 0).float()     # XOR-like labels: same sign or not

model = nn.Sequential(
    nn.Linear(2, 4),
    nn.Tanh(),
    nn.Linear(4, 1),
)
loss_fn = nn.MSELoss()
loss = loss_fn(model(x), y)
