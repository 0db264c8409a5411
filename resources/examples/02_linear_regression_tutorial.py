"""Linear regression through the origin, tutorial style

The classic PyTorch introduction, step by step: wrap the data in Variables (x and y need no gradient), declare the weight w1 with requires_grad=True, predict with torch.matmul(x.t(), w1), measure the squared error, call loss.backward(), then update w1.data by hand and zero w1.grad before the next step. The graph is the first training step: follow the gradient from loss back through Sum, Pow, Sub, the transpose (T) and the matmul (Mm) to w1, where it lands in w1.grad. The loss plot shows the twenty steps pulling w1 towards the true slope 2.
"""
import numpy as np
import torch
from torch.autograd import Variable

torch.manual_seed(0)
dtype = torch.FloatTensor
D_in, D_out = 1, 1
learning_rate = 0.01

numpy_x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])          # shape (D_in, N)
numpy_y = 2.0 * numpy_x                                 # true slope: 2
x = Variable(torch.from_numpy(numpy_x).type(dtype), requires_grad=False)
y = Variable(torch.from_numpy(numpy_y).type(dtype), requires_grad=False)
w1 = Variable(torch.randn(D_in, D_out).type(dtype), requires_grad=True)

for t in range(20):
    y_pred = torch.matmul(x.t(), w1)
    loss = (y - y_pred.t()).pow(2).sum()
    loss.backward()
    w1.data -= learning_rate * w1.grad.data
    w1.grad.data.zero_()
