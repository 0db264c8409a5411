"""Debugging: a NaN from log(0)

x · log(x) is the building block of entropy. At x = 0 the forward pass already goes wrong: log(0) = −∞ and 0 · (−∞) = NaN, so the loss is NaN. Backward makes it worse: the Log node sends ∂L/∂y / x = 0 / 0 = NaN to x, and the Mul node adds log(0) = −∞. Step through backward and find the first node whose outgoing gradient is not finite: that is where the NaN is born. torch.xlogy(x, x), which defines 0 · log 0 = 0, is the fix.
"""
import torch

x = torch.tensor([0.5, 0.0, 2.0], requires_grad=True)
log_x = torch.log(x)             # log(0) = -inf
loss = (x * log_x).sum()         # 0 * -inf = nan
