"""Debugging: a custom autograd.Function with a wrong backward

MySquare computes x² but its hand-written backward returns grad · x instead of grad · 2x. PyTorch cannot know: it calls your backward and trusts the result, so x.grad comes out half the right size and nothing warns you. The MySquare node in the graph (MySquareBackward) is your code. Run the gradient check: it compares every node's gradient with finite differences and flags MySquareBackward. Change the return line to 2 * x * grad_output and the check passes.
"""
import torch


class MySquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return x * grad_output          # bug: the derivative of x² is 2x


x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
y = MySquare.apply(x)
loss = y.sum()
