# Source: shared/seeds/000_fb223006d084c194.txt ("Deep Learning with pytorch": linear regression through the origin)
# The tutorial's steps in its order, with the names it leaves undefined filled in (data, sizes, dtype, rate).
# changed: the tutorial's "import torch.autograd import Variable" is a syntax error; written as "from torch.autograd import Variable"
import numpy as np
import torch
from torch.autograd import Variable

dtype = torch.FloatTensor
D_in, D_out = 1, 1
learning_rate = 0.01
numpy_x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
numpy_y = np.array([[2.0, 4.0, 6.0, 8.0, 10.0]])

x = Variable(torch.from_numpy(numpy_x).type(dtype),requires_grad=False)
y = Variable(torch.from_numpy(numpy_y).type(dtype),requires_grad=False)

w1 = Variable(torch.randn(D_in,D_out).type(dtype),requires_grad=True)

for t in range(50):
    y_pred = torch.matmul(x.t(),w1)

    loss = (y - y_pred.t()).pow(2).sum()

    loss.backward()

    w1.data -= learning_rate * w1.grad.data

    w1.grad.data.zero_()
