"""The same regression with optim.Adam

Adam keeps a running average of each gradient (momentum) and of its square, and divides one by the square root of the other, so a parameter moves by roughly the learning rate per step whatever the size of its gradient. The graph is unchanged: the optimizer is not part of it. The loss plot is where the difference shows: w1 first moves by about 0.1 per step, then its momentum carries it past the target slope 2 and the loss swings back up before coming down again, where SGD shrank the error by a steady factor.
"""
import torch
import torch.optim as optim

torch.manual_seed(0)
x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]])
y = 2.0 * x
w1 = torch.randn(1, 1, requires_grad=True)
optimizer = optim.Adam([w1], lr=0.1)

for t in range(20):
    optimizer.zero_grad()
    y_pred = torch.matmul(x.t(), w1)
    loss = (y - y_pred.t()).pow(2).sum()
    loss.backward()
    optimizer.step()
