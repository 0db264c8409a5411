# Source: shared/seeds/000_fb223006d084c194.txt (the seed tutorial's loop, written in the 2017 Variable style)
# torch.Tensor([...]) data, one sample at a time, and "print(epoch, l.data[0])" (l has shape [1], so torch allows it)
import torch
from torch.autograd import Variable

x_data = [1.0, 2.0, 3.0, 4.0, 5.0]
y_data = [2.0, 4.0, 6.0, 8.0, 10.0]

w = Variable(torch.Tensor([1.0]), requires_grad=True)


def forward(x):
    return x * w


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) * (y_pred - y)


print("predict (before training)", 6, forward(6).data[0])

for epoch in range(10):
    for x_val, y_val in zip(x_data, y_data):
        l = loss(x_val, y_val)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    print(epoch, l.data[0])

print("predict (after training)", 6, forward(6).data[0])
