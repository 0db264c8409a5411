# Source: shared/seeds/000_fb223006d084c194.txt (the seed tutorial's loop as a 2016-2017 script: a main() behind
# if __name__ == "__main__", a CUDA-or-CPU dtype, "input" as a variable name, printing with % formatting)
from __future__ import print_function
import sys

import numpy as np
import torch
from torch.autograd import Variable

dtype = torch.cuda.FloatTensor if torch.cuda.is_available() else torch.FloatTensor


def main():
    N, D_in, D_out = 8, 3, 1
    learning_rate = 1e-2
    input = np.random.randn(D_in, N)
    true_w = np.array([[1.0], [-2.0], [0.5]])
    target = true_w.T.dot(input)

    x = Variable(torch.from_numpy(input).type(dtype), requires_grad=False)
    y = Variable(torch.from_numpy(target).type(dtype), requires_grad=False)
    w1 = Variable(torch.randn(D_in, D_out).type(dtype), requires_grad=True)

    for t in range(100):
        y_pred = torch.matmul(x.t(), w1)
        loss = (y - y_pred.t()).pow(2).sum()
        if t % 10 == 0:
            print("step %d loss %.6f" % (t, loss.data.cpu().numpy()))
            sys.stdout.flush()
        loss.backward()
        w1.data -= learning_rate * w1.grad.data
        w1.grad.data.zero_()
    print("learned w1:", w1.data.view(-1).tolist())


if __name__ == "__main__":
    main()
