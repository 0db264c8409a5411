# Source: shared/seeds/000_fb223006d084c194.txt (the seed tutorial's loop, 2017 blog style: numpy data, a
# torch.FloatTensor weight wrapped in a Variable, loss printed through numpy, output written with sys.stdout.write)
import sys
import numpy as np
import torch
from torch.autograd import Variable

np.random.seed(1)
numpy_x = np.random.rand(1, 10)
numpy_y = 3.0 * numpy_x + 0.1 * np.random.randn(1, 10)

x = Variable(torch.from_numpy(numpy_x).float())
y = Variable(torch.from_numpy(numpy_y).float())
w1 = Variable(torch.FloatTensor([[0.5]]), requires_grad=True)

learning_rate = 0.05
losses = []
for epoch in range(30):
    y_pred = torch.matmul(x.t(), w1)
    loss = (y - y_pred.t()).pow(2).sum()
    losses.append(loss.data.numpy())
    sys.stdout.write("epoch %d: loss %s\n" % (epoch, loss.data.numpy()))
    loss.backward()
    w1.data -= learning_rate * w1.grad.data
    w1.grad.data.zero_()

print("first/last loss:", losses[0], losses[-1], file=sys.stdout)
print("w1:", w1.data)
