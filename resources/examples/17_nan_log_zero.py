"""Debugging: a NaN from log(0)

x · log(x) is the building block of entropy. At x = 0 the forward pass already goes wrong: log(0) = −∞ and 0 · (−∞) = NaN, so the loss is NaN. Backward makes it worse: the Log node sends ∂L/∂y / x = 0 / 0 = NaN to x, and the Mul node adds log(0) = −∞. Step through backward, or press the Debugger's First NaN/Inf: the first node to send a non-finite gradient is MulBackward0 (its −∞ to x), and the app traces it back to the Log node, whose log(0) = −∞ made the first non-finite value. torch.xlogy(x, x), which defines 0 · log 0 = 0, fixes the loss but not x.grad, still NaN at 0 (the derivative log x + 1 has no finite value there); x * torch.log(x.clamp(min=1e-12)) keeps both finite.
"""
import torch

x = torch.tensor([0.5, 0.0, 2.0], requires_grad=True)
log_x = torch.log(x)             # log(0) = -inf
loss = (x * log_x).sum()         # 0 * -inf = nan
