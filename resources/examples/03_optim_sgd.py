"""The same regression with optim.SGD

The tutorial's manual update w1.data -= learning_rate * w1.grad.data is exactly what optim.SGD does for you: optimizer.zero_grad() clears w1.grad, loss.backward() fills it, optimizer.step() moves w1 against it. The graph of one step is the same as in the hand-written version, because the optimizer works outside the graph (under no_grad). Compare the loss plot with the tutorial example: same learning rate, same curve.
"""
import torch
import torch.optim as optim

torch.manual_seed(0)
x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]])
y = 2.0 * x
w1 = torch.randn(1, 1, requires_grad=True)
optimizer = optim.SGD([w1], lr=0.01)

for t in range(20):
    optimizer.zero_grad()
    y_pred = torch.matmul(x.t(), w1)
    loss = (y - y_pred.t()).pow(2).sum()
    loss.backward()
    optimizer.step()
