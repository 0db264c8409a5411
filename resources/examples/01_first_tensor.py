"""A first tensor: requires_grad, grad_fn and .grad adding up

Setting requires_grad=True on x asks autograd to record every operation that uses it. The graph shows that record: x is a leaf (a tensor you made), the Mul and Sum nodes are the grad_fn of the results, and backward walks the arrows in reverse to fill x.grad with 2·x = [2, 4, 6]. The second backward call does not replace x.grad, it ADDS to it, so after it x.grad is [4, 8, 12]: this is why training loops zero the gradients before every step. Click x: the Inspector shows the first call's gradient, and its "x.grad at the end" tab the [4, 8, 12] the code ends with.
"""
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x * x).sum()        # y = x₁² + x₂² + x₃², and y.grad_fn is a SumBackward node
y.backward()             # dy/dx = 2x, stored in x.grad: [2, 4, 6]

y = (x * x).sum()        # a new graph for the same leaf
y.backward()             # gradients accumulate: x.grad is now [4, 8, 12]
x.grad
