"""A tiny convolutional network

One 3×3 convolution with two filters, a ReLU, a 2×2 max-pool, then a Linear layer on the flattened result. Convolution appears as one Convolution node fed by two leaves, conv.weight (the filters) and conv.bias; the image needs no gradient, so it has no node; its backward sends each filter the sum of the image patches it saw, weighted by the incoming gradient. MaxPool sends the gradient only to the pixel that won each window; ReLU blocks it where the input was negative. View (the flatten) only reshapes, in both directions.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
image = torch.randn(1, 1, 6, 6)           # one 6×6 grey image
target = torch.tensor([1])

conv = nn.Conv2d(1, 2, kernel_size=3)     # 6×6 -> 2 maps of 4×4
fc = nn.Linear(2 * 2 * 2, 3)              # 3 classes

h = F.max_pool2d(F.relu(conv(image)), 2)  # 2 maps of 2×2
logits = fc(h.flatten(1))
loss = F.cross_entropy(logits, target)
