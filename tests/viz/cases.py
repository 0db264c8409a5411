"""PyTorch snippets the engine must trace exactly as torch computes them.

Each case is (id, code, output): ``output`` is an expression over the code's names;
the engine sees ``code + output`` (the output as the last statement).
"""

CASES: list[tuple[str, str, str]] = [
    ("elementwise", """
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
z = x * y + x / y - x ** 2
loss = z.sum()
""", "loss"),
    ("broadcasting", """
a = torch.randn(3, 1, requires_grad=True)
b = torch.randn(1, 4, requires_grad=True)
c = a + b
d = (c * a).mean()
""", "d"),
    ("unary_maths", """
x = torch.rand(5, requires_grad=True) + 0.5
y = torch.exp(x) + torch.log(x) + torch.sin(x) * torch.cos(x) + torch.sqrt(x) + torch.abs(x - 1)
s = y.sum()
""", "s"),
    ("activations", """
x = torch.randn(6, requires_grad=True)
h = torch.tanh(x) + torch.sigmoid(x) + torch.relu(x) + F.gelu(x) + F.leaky_relu(x, 0.1) + F.softplus(x)
out = h.sum()
""", "out"),
    ("matmul", """
w = torch.randn(4, 3, requires_grad=True)
x = torch.randn(2, 4)
y = x @ w
loss = y.pow(2).sum()
""", "loss"),
    ("addmm_bmm", """
b = torch.randn(3, requires_grad=True)
x = torch.randn(2, 4, requires_grad=True)
w = torch.randn(4, 3, requires_grad=True)
h = torch.addmm(b, x, w)
m = torch.randn(5, 2, 3, requires_grad=True)
n = torch.randn(5, 3, 2, requires_grad=True)
p = torch.bmm(m, n)
loss = h.sum() + p.mean()
""", "loss"),
    ("views", """
x = torch.randn(2, 3, 4, requires_grad=True)
v = x.view(6, 4).t().reshape(4, 3, 2).permute(2, 0, 1).unsqueeze(0).squeeze(0).flatten()
loss = (v * torch.arange(24.0)).sum()
""", "loss"),
    ("indexing", """
x = torch.randn(4, 5, requires_grad=True)
a = x[0]
b = x[:, 1:3]
c = x[[0, 2]]
d = x[x > 0]
loss = a.sum() + b.pow(2).sum() + c.mean() + d.sum()
""", "loss"),
    ("inplace", """
x = torch.randn(3, requires_grad=True)
y = x * 2
y.add_(1)
y.mul_(x)
loss = y.sum()
""", "loss"),
    ("setitem_copyslices", """
x = torch.randn(4, requires_grad=True)
y = x * 3
y[0] = 0.0
y[1:3] *= x[1:3]
loss = y.pow(2).sum()
""", "loss"),
    ("max_min_with_indices", """
x = torch.randn(3, 4, requires_grad=True)
values, indices = torch.max(x, dim=1)
low, _ = x.min(dim=0)
top, _ = torch.topk(x.flatten(), 3)
srt, _ = torch.sort(x[0])
loss = values.sum() + low.sum() + top.sum() + (srt * torch.arange(4.0)).sum()
""", "loss"),
    ("split_unbind_cat", """
x = torch.randn(6, requires_grad=True)
p, q, r = x.split(2)
rows = torch.randn(3, 2, requires_grad=True).unbind(0)
y = torch.cat([r, p * 2, q]) + torch.stack(rows).flatten()
loss = (y * torch.arange(6.0)).sum()
""", "loss"),
    ("softmax_cross_entropy", """
logits = torch.randn(4, 3, requires_grad=True)
target = torch.tensor([0, 2, 1, 2])
probs = F.softmax(logits, dim=1)
loss = F.cross_entropy(logits, target) + probs[:, 0].sum() + F.log_softmax(logits, 1).mean()
""", "loss"),
    ("nll_mse_bce", """
pred = torch.randn(5, requires_grad=True)
target = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
l1 = F.mse_loss(pred, target)
l2 = F.binary_cross_entropy_with_logits(pred, target)
l3 = F.binary_cross_entropy(torch.sigmoid(pred), target)
loss = l1 + l2 + l3
""", "loss"),
    ("sequential", """
model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
x = torch.randn(16, 2)
y = torch.randn(16, 1)
loss = F.mse_loss(model(x), y)
""", "loss"),
    ("user_module", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.fc2 = nn.Linear(5, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))

net = Net()
out = net(torch.randn(4, 3)).sum()
""", "out"),
    ("custom_function", """
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad

x = torch.randn(4, requires_grad=True)
loss = Square.apply(x).sum()
""", "loss"),
    ("rnn_shared_weights", """
W = torch.randn(4, 4, requires_grad=True)
U = torch.randn(3, 4, requires_grad=True)
xs = torch.randn(6, 1, 3)
h = torch.zeros(1, 4)
for t in range(6):
    h = torch.tanh(xs[t] @ U + h @ W)
loss = h.sum()
""", "loss"),
    ("detach", """
x = torch.randn(3, requires_grad=True)
y = x.detach() * x
loss = (y + x.detach().exp()).sum()
""", "loss"),
    ("no_grad", """
x = torch.randn(3, requires_grad=True)
with torch.no_grad():
    c = x * 2
loss = (c * x).sum()
""", "loss"),
    ("double_backward", """
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 3).sum()
(g,) = torch.autograd.grad(y, x, create_graph=True)
z = (g * x).sum()
""", "z"),
    ("non_scalar_output", """
x = torch.randn(3, requires_grad=True)
y = x * 2 + 1
""", "y"),
    ("tuple_outputs", """
x = torch.randn(3, requires_grad=True)
a = x.sum()
b = (x * x).mean()
""", "(a, b)"),
    ("same_leaf_twice", """
x = torch.tensor([1.0, -2.0], requires_grad=True)
loss = (x * x).sum()
""", "loss"),
    ("leaf_output", """
x = torch.randn(3, requires_grad=True)
""", "x"),
    ("where_clamp", """
x = torch.randn(6, requires_grad=True)
y = torch.where(x > 0, x * 2, x.clamp(-0.5, 0.5))
loss = y.sum()
""", "loss"),
    ("norms_statistics", """
x = torch.randn(4, 5, requires_grad=True)
loss = x.norm() + x.var() + x.std(dim=1).sum() + x.prod(dim=0).sum() + x.cumsum(1).mean()
""", "loss"),
    ("conv_pool", """
conv = nn.Conv2d(1, 2, kernel_size=3, padding=1)
img = torch.randn(1, 1, 6, 6)
feat = F.max_pool2d(torch.relu(conv(img)), 2)
loss = F.avg_pool2d(feat, 3).sum()
""", "loss"),
    ("normalisation", """
ln = nn.LayerNorm(4)
bn = nn.BatchNorm1d(4)
x = torch.randn(5, 4, requires_grad=True)
loss = (ln(x) * bn(x)).sum()
""", "loss"),
    ("embedding_gather", """
emb = nn.Embedding(10, 3)
ids = torch.tensor([1, 4, 4, 9])
e = emb(ids)
g = e.gather(1, torch.tensor([[0], [2], [1], [0]]))
loss = g.sum() + e.mean()
""", "loss"),
    ("expand_repeat_einsum", """
a = torch.randn(3, requires_grad=True)
b = torch.randn(3, 2, requires_grad=True)
e = a.unsqueeze(1).expand(3, 2) * b
r = a.repeat(2)
loss = torch.einsum("ij,ij->", e, b) + r.sum()
""", "loss"),
    ("dropout_seeded", """
x = torch.randn(20, requires_grad=True)
y = F.dropout(x, p=0.5, training=True)
loss = (y * y).sum()
""", "loss"),
    ("variable_tutorial_style", """
import torch
from torch.autograd import Variable
dtype = torch.FloatTensor
x = Variable(torch.randn(3, 5).type(dtype), requires_grad=False)
y = Variable(torch.randn(1, 5).type(dtype), requires_grad=False)
w1 = Variable(torch.randn(3, 1).type(dtype), requires_grad=True)
y_pred = torch.matmul(x.t(), w1)
loss = (y - y_pred.t()).pow(2).sum()
""", "loss"),
    ("gru_module", """
gru = nn.GRU(input_size=3, hidden_size=4, batch_first=True)
seq = torch.randn(2, 5, 3)
out, h = gru(seq)
loss = out.mean() + h.sum()
""", "loss"),
    ("tensordot_inner_permutes", """
a = torch.randn(3, 4, requires_grad=True)
b = torch.randn(4, 3, requires_grad=True)
c = torch.tensordot(a, b, dims=([0], [1]))
loss = (c * torch.arange(16.0).reshape(4, 4)).sum()
""", "loss"),
    ("cosine_similarity_expands", """
a = torch.randn(3, 4, requires_grad=True)
b = torch.randn(1, 4, requires_grad=True)
loss = (F.cosine_similarity(a, b) * torch.tensor([1.0, 2.0, 3.0])).sum()
""", "loss"),
    ("type_conversion", """
x = torch.randn(3, requires_grad=True)
y = x.double() * 2
loss = y.float().sum()
""", "loss"),
]

# Intermediate values written out in plain torch, by the grad_fn of the node that
# shows them: for cases whose dispatch-mode rerun builds another graph, and as a
# check that owes nothing to any recording.
INTERMEDIATES: dict[str, dict[str, str]] = {
    "views": {
        "ViewBackward0": "x.view(6, 4)",
        "TBackward0": "x.view(6, 4).t()",
        "ReshapeAliasBackward0": "x.view(6, 4).t().reshape(4, 3, 2)",
        "PermuteBackward0": "x.view(6, 4).t().reshape(4, 3, 2).permute(2, 0, 1)",
        "UnsqueezeBackward0": "x.view(6, 4).t().reshape(4, 3, 2).permute(2, 0, 1).unsqueeze(0)",
        "SqueezeBackward1": "x.view(6, 4).t().reshape(4, 3, 2).permute(2, 0, 1).unsqueeze(0).squeeze(0)",
        "CloneBackward0": "x.view(6, 4).t().reshape(4, 3, 2).permute(2, 0, 1).unsqueeze(0).squeeze(0).clone()",
        "UnsafeViewBackward0": "v",
        "MulBackward0": "v * torch.arange(24.0)",
        "SumBackward0": "loss",
    },
}

# Ops the oracle has no independent value for, per case: grad_fn -> why. The oracle
# fails on a gap not listed here, and on a listed one that is no longer a gap.
GAPS: dict[str, dict[str, str]] = {}
