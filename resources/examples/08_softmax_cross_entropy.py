"""Softmax and cross-entropy

A classifier gives one score (logit) per class; softmax turns the scores into probabilities and cross-entropy takes −log of the probability of the right class. F.cross_entropy does both in one call, and the graph shows how: a LogSoftmax node then an NllLoss node. Look at the gradient arriving at the logits (the Add node): it is (softmax − one-hot target) / batch size, so the right class is pushed up and every other class down, each in proportion to the probability it wrongly received.
"""
import torch
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.randn(3, 4)                       # 3 examples, 4 features
target = torch.tensor([0, 2, 1])            # the right class of each example

W = torch.randn(4, 3, requires_grad=True)   # 3 classes
b = torch.zeros(3, requires_grad=True)

logits = x @ W + b
probs = F.softmax(logits, dim=1)            # for reading only: the loss does not use it
loss = F.cross_entropy(logits, target)
