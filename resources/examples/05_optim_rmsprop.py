"""The same regression with optim.RMSprop

RMSprop divides each gradient by a running root-mean-square of its recent values, so a parameter with large gradients takes smaller steps and one with tiny gradients larger ones. The graph of one step is the same as with SGD and Adam: optimizers only read w1.grad. Watch the loss plot and compare it with the SGD and Adam examples to see how the update rule, not the graph, shapes training.
"""
import torch
import torch.optim as optim

torch.manual_seed(0)
x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]])
y = 2.0 * x
w1 = torch.randn(1, 1, requires_grad=True)
optimizer = optim.RMSprop([w1], lr=0.02)

for t in range(20):
    optimizer.zero_grad()
    y_pred = torch.matmul(x.t(), w1)
    loss = (y - y_pred.t()).pow(2).sum()
    loss.backward()
    optimizer.step()
