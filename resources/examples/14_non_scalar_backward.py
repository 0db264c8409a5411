"""Gotcha: backward from a tensor that is not a scalar

y = x² has three elements, so y.backward() alone fails with "grad can be implicitly created only for scalar outputs": autograd computes vector-Jacobian products and needs to know which combination of the outputs you mean. Passing gradient=torch.ones_like(y) means "the sum of the outputs", giving x.grad = 2x. A different vector, like [1, 0, 0], would give the gradient of y₁ alone. In the graph the gradient entering the Pow node is the vector you passed.
"""
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x ** 2                                 # a vector, not a scalar
# y.backward() would raise: grad can be implicitly created only for scalar outputs
y.backward(gradient=torch.ones_like(y))   # the same as y.sum().backward()
x.grad
