# Source: shared/seeds/000_fb223006d084c194.txt (the seed tutorial's loop, written in the 2018 torch 0.4 style)
# torch.tensor with requires_grad, the update under torch.no_grad(), .item() for printing
import torch

x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]])
y = 2 * x
w1 = torch.randn(1, 1, requires_grad=True)
learning_rate = 0.01

for t in range(20):
    y_pred = torch.matmul(x.t(), w1)
    loss = (y - y_pred.t()).pow(2).sum()
    print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w1.grad.zero_()

print("w1 =", w1.item())
w1
