"""Hypothesis strategies for fuzzing the engine (issue 7): code, valid and broken.

Six families, each a strategy of source text:

- ``grammar_programs``: tensor programs built from a grammar of ops (elementwise,
  matmul, reductions, views, indexing, nn layers, in-place ops, backward calls);
  shapes are mostly compatible, sometimes not.
- ``token_soup``: Python tokens and torch names in random order.
- ``mutated_examples``: the gallery and the engine's test snippets with lines deleted,
  duplicated or swapped, operators flipped, numbers made huge/negative/nan, cut short.
- ``deep_nesting``: ((((x)))), -(-(-x)), x.abs().abs()..., long chains of statements.
- ``huge_literals``: 10**100, 1e308*10, 5,000-digit ints, long lists and strings.
- ``odd_text``: real code with NUL bytes, BOMs, tabs, CR/CRLF mixes, odd unicode.

Two switches shape every family. ``bounded=True`` keeps a case fit to run in the test
process, which has no time or memory limit: no ``while``, no ``**``/``<<`` towers, loops
of at most 50 steps, tensors of a few hundred elements. ``bounded=False`` lets in
runaway loops and memory bombs, for the worker (which enforces both limits).
``known_bugs=False`` stays clear of inputs that hit the engine bugs listed in
``KNOWN_BUGS`` (reported on issue 7, each with an xfail reproducer in test_fuzz.py);
the benchmark turns it on so a fix shows up as a falling count.
"""

from __future__ import annotations

import ast
import re

from hypothesis import strategies as st

from tests.viz.cases import CASES
from viz.teaching.examples import list_examples

# Engine bugs the fuzzer found; test_fuzz.py has a strict xfail reproducer for each.
KNOWN_BUGS = {
    "surrogates": "a lone surrogate (U+D800-DFFF) makes ast.parse raise UnicodeEncodeError",
    "deep_parse": "nesting ~400+ deep makes ast.parse / fix_missing_locations raise RecursionError "
                  "or MemoryError",
    "meta_device": "a tensor on the 'meta' device makes capture.to_numpy raise NotImplementedError",
    "default_device_leak": "torch.set_default_device() survives reset_state into the next run",
    "backward_hook_error": "an exception from user code run by the engine's own backward (hooks, "
                           "custom Function.backward, saved-tensor hooks) escapes as itself",
    "bad_str": "an exception whose __str__ fails escapes user_error as TypeError",
    "compile_syntax": "a SyntaxError that compile() raises after ast.parse accepted the code "
                      "('break' outside loop, 21 nested blocks) escapes as SyntaxError",
    "numpy_dims": "a tensor of more than 64 dimensions makes capture.to_numpy raise ValueError",
}
# Deeper than this, the parser's recursion (KNOWN_BUGS["deep_parse"]) is in reach.
SAFE_DEPTH = 150
KNOWN_BUG_DEPTH = 3000

PRELUDE = "x = torch.randn(3, requires_grad=True)\nw = torch.randn(3, 3, requires_grad=True)\n"

def compile_bug(code: str) -> bool:
    """Whether ``code`` hits KNOWN_BUGS["compile_syntax"]: it parses, yet compile() refuses it."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError):
        return False
    try:
        compile(tree, "<fuzz>", "exec")
    except SyntaxError:
        return True
    except (RecursionError, MemoryError, ValueError):
        return False
    return False


def clear_of_known_bugs(strategy: st.SearchStrategy[str], known_bugs: bool) -> st.SearchStrategy[str]:
    return strategy if known_bugs else strategy.filter(lambda code: not compile_bug(code))


# -- (a) a grammar of tensor programs -----------------------------------------------------
# ``{t}`` is the new variable; ``{a}``/``{b}`` existing ones; ``{n}``/``{m}`` small sizes;
# ``{d}`` a dimension (sometimes out of range); ``{k}`` a loop count (<= 50).
ELEMENTWISE = [
    "{t} = {a} + {b}", "{t} = {a} - {b}", "{t} = {a} * {b}", "{t} = {a} / ({b}.abs() + 1)",
    "{t} = {a} ** 2", "{t} = torch.exp({a}.clamp(max=5))", "{t} = torch.tanh({a})",
    "{t} = torch.sigmoid({a})", "{t} = torch.relu({a})", "{t} = torch.sin({a})", "{t} = {a}.abs()",
    "{t} = torch.log({a})", "{t} = torch.sqrt({a})", "{t} = -{a}", "{t} = F.softplus({a})",
    "{t} = torch.where({a} > 0, {a}, {b})", "{t} = torch.maximum({a}, {b})", "{t} = {a} * 0.5 + 1",
]
MATMUL = ["{t} = {a} @ {b}", "{t} = torch.matmul({a}, {b})", "{t} = torch.mm({a}, {b})",
          "{t} = {a} @ {b}.t()", "{t} = torch.einsum('ij,jk->ik', {a}, {b})"]
REDUCTIONS = [
    "{t} = {a}.sum()", "{t} = {a}.sum(dim={d})", "{t} = {a}.mean({d}, keepdim=True)",
    "{t} = {a}.max({d}).values", "{t} = {a}.norm()", "{t} = {a}.prod()", "{t} = {a}.logsumexp({d})",
    "{t} = {a}.amax()", "{t} = {a}.std()", "{t} = {a}.cumsum({d})", "{t} = {a}.min()",
]
VIEWS = [
    "{t} = {a}.t()", "{t} = {a}.reshape(-1)", "{t} = {a}.view({n}, -1)", "{t} = {a}.unsqueeze({d})",
    "{t} = {a}.transpose(0, -1)", "{t} = {a}.flatten()", "{t} = {a}.expand(2, *{a}.shape)",
    "{t} = {a}.squeeze()", "{t} = {a}.permute(*reversed(range({a}.dim())))", "{t} = {a}.chunk(2)[0]",
    "{t} = torch.cat([{a}, {b}])", "{t} = torch.stack([{a}, {b}])", "{t} = {a}.repeat(2, 1)",
]
INDEXING = ["{t} = {a}[0]", "{t} = {a}[..., :1]", "{t} = {a}[{a} > 0]", "{t} = {a}[[0, -1]]",
            "{t} = {a}[{d}]", "{t} = {a}[None]", "{t} = {a}[::2]", "{t} = {a}.gather(0, torch.zeros_like({a}).long())"]
LAYERS = [
    "{t} = nn.Linear({n}, {m})({a})", "{t} = nn.ReLU()({a})", "{t} = nn.LayerNorm({n})({a})",
    "{t} = F.softmax({a}, dim=-1)", "{t} = F.log_softmax({a}, dim=0)", "{t} = F.mse_loss({a}, {b})",
    "{t} = nn.Sequential(nn.Linear({n}, {m}), nn.Tanh(), nn.Linear({m}, 1))({a})",
    "{t} = F.dropout({a}, 0.5)", "{t} = nn.BatchNorm1d({n})({a})",
    "{t} = F.cross_entropy({a}, torch.zeros({a}.shape[0], dtype=torch.long))",
    "{t} = nn.Conv1d(1, 2, 1)({a}.reshape(1, 1, -1))", "{t} = nn.Embedding(5, {n})(torch.tensor([0, 1])) + {a}",
    "{t} = nn.GRUCell({n}, {m})({a})", "{t} = F.binary_cross_entropy(torch.sigmoid({a}), torch.ones_like({a}))",
]
IN_PLACE = [
    "{t} = {a} * 1\n{t}.add_(1)", "{t} = {a}.clone()\n{t}.mul_({b})", "{t} = {a} + 0\n{t}[0] = 0",
    "{a}.add_(1)\n{t} = {a}", "{t} = torch.sigmoid({a})\n{t}.mul_(2)", "{t} = {a}.relu_()",
    "{t} = {a} * 1\n{t}.clamp_(min=0)", "with torch.no_grad():\n    {a}.mul_(0.5)\n{t} = {a} * 2",
]
BACKWARD = [
    "{t} = {a}.sum()\n{t}.backward(retain_graph=True)", "{t} = {a}.sum()\n{t}.backward()",
    "{t} = torch.autograd.grad({a}.sum(), {b}, allow_unused=True, retain_graph=True)[0]",
    "{a}.backward(torch.ones_like({a}))\n{t} = {a}", "{t} = {a}.pow(2).sum()\n{t}.backward(create_graph=True)",
    "{t} = torch.autograd.grad({a}.sum(), {b}, create_graph=True)[0]", "{a}.sum().backward()\n{t} = {b}.grad",
]
OTHER = [
    "{t} = {a}.detach()", "with torch.no_grad():\n    {t} = {a} * 2", "{t} = {a}.double()",
    "{t} = {a}\nfor _ in range({k}):\n    {t} = torch.tanh({t} * 0.9 + {b})", "{t} = {a}.requires_grad_()",
    "{a}.register_hook(lambda g: g * 2)\n{t} = {a}", "{t} = {a}.to(torch.float16)", "{t} = {a}.item()",
    "{t} = {a}.numpy()", "{t} = [{a}, {b}]", "{t} = nn.Parameter({a}.detach())",
]
OP_FAMILIES = [ELEMENTWISE, MATMUL, REDUCTIONS, VIEWS, INDEXING, LAYERS, IN_PLACE, BACKWARD, OTHER]
ENDINGS = ["{last}", "{last}.sum()", "({last}, {first})", "{last}.sum().backward()", "loss = {last}.mean()",
           "[{last}]", "{last}.shape", "", "print({last})", "loss = ({last} ** 2).sum()"]
CONSTRUCTORS = ["torch.randn", "torch.rand", "torch.ones", "torch.zeros"]


@st.composite
def grammar_programs(draw: st.DrawFn, max_statements: int = 6) -> str:
    n = draw(st.integers(2, 4))
    shapes = [f"{n}, {n}"] * 3 + [f"{n}", f"1, {n}", f"{n}, 1", f"{n + 1}, {n}", f"2, {n}, {n}"]
    names, lines = [], []
    for i in range(draw(st.integers(1, 3))):
        ctor = draw(st.sampled_from(CONSTRUCTORS))
        grad = draw(st.sampled_from(["True", "True", "True", "False"]))
        lines.append(f"x{i} = {ctor}({draw(st.sampled_from(shapes))}, requires_grad={grad})")
        names.append(f"x{i}")
    for step in range(draw(st.integers(1, max_statements))):
        template = draw(st.sampled_from(draw(st.sampled_from(OP_FAMILIES))))
        target = f"v{step}"
        lines.append(template.format(
            t=target, a=draw(st.sampled_from(names)), b=draw(st.sampled_from(names)),
            n=draw(st.sampled_from([n, n, n, n + 1])), m=draw(st.integers(1, 4)),
            d=draw(st.integers(-2, 2)), k=draw(st.integers(1, 50)),
        ))
        names.append(target)
    ending = draw(st.sampled_from(ENDINGS)).format(last=names[-1], first=names[0])
    return "\n".join(lines + [ending]) + "\n"


# -- (b) token soup ------------------------------------------------------------------------
KEYWORDS = ["if", "else", "elif", "for", "in", "def", "return", "lambda", "not", "and", "or", "is",
            "None", "True", "False", "with", "as", "class", "pass", "try", "except", "finally",
            "import", "from", "yield", "del", "global", "assert", "raise", "break", "continue"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "@", "=", "==", "!=", "<", ">", "<=", ">=", "+=", "-=",
             "*=", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "->", "~", "&", "|", "^", ":="]
NAMES = ["x", "w", "y", "loss", "torch", "nn", "F", "np", "math", "optim", "requires_grad",
         "backward", "grad", "sum", "mean", "tensor", "randn", "ones", "zeros", "Linear", "relu",
         "tanh", "matmul", "view", "reshape", "t", "T", "detach", "no_grad", "item", "shape",
         "float32", "autograd", "SGD", "step", "zero_grad", "range", "len", "int", "float",
         "list", "__init__", "_private", "self", "super", "os", "open", "eval", "__class__",
         "Variable", "Function", "apply", "ctx", "data", "sigmoid", "set_grad_enabled"]
NUMBERS = ["0", "1", "2", "3", "0.5", "1e3", "10", "1e308", "0x1F", "1j", "1_000", "0.0"]
STRINGS = ["'a'", '"x"', "'''", "f'{x}'", "b'\\x00'", "r'\\n'", "'\\N{DASH}'"]
LAYOUT = ["\n", "\n    ", "\n        ", "\t", "\\\n", " "]
UNBOUNDED_TOKENS = ["while", "**", "<<", "9", "99"]


def token_soup(bounded: bool = True, known_bugs: bool = False) -> st.SearchStrategy[str]:
    return clear_of_known_bugs(_token_soup(bounded), known_bugs)


@st.composite
def _token_soup(draw: st.DrawFn, bounded: bool) -> str:
    pool = KEYWORDS + OPERATORS + NAMES + NUMBERS + STRINGS + LAYOUT
    if not bounded:
        pool = pool + UNBOUNDED_TOKENS
    tokens = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=40))
    glue = draw(st.sampled_from([" ", "", " ", "\n"]))
    prefix = draw(st.sampled_from(["", PRELUDE]))
    return prefix + glue.join(tokens) + "\n"


# -- (c) mutated real examples ----------------------------------------------------------------
def real_sources() -> list[str]:
    """Every gallery example and every engine test snippet, as the engine would see it."""
    return [e.code for e in list_examples()] + [code + out + "\n" for _, code, out in CASES]


SOURCES = real_sources()
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d*)?(?:e-?\d+)?")
FLIPS = {"+": "-", "-": "+", "*": "/", "/": "*", "@": "*", "<": ">", ">": "<", "(": "[", ")": "]",
         "[": "(", "]": ")", ".": ",", ",": ".", ":": ";", "=": "==", "_": ""}
# Big enough to overflow int64 or float32, or negative, or not a number at all; never
# "big but allocatable", which would make a bounded case slow or a memory hog.
NUMBER_MUTANTS = ["10**100", "2**63", "1e308*10", "-1e308*10", "-1", "-7", "0", "float('nan')",
                  "float('inf')", "-0.0", "1e-45", "3.5", "True", "None"]
LOOP_COUNT_MUTANTS = ["-1", "0", "1", "50"]
UNBOUNDED_NUMBER_MUTANTS = ["10**5", "10**9", "10**12", "2**62", "9**9**9", "10**100"]


def _inside_range(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    return re.search(r"range\([^)]*$", text[line_start:start]) is not None


def mutated_examples(bounded: bool = True, known_bugs: bool = False) -> st.SearchStrategy[str]:
    return clear_of_known_bugs(_mutated_examples(bounded), known_bugs)


@st.composite
def _mutated_examples(draw: st.DrawFn, bounded: bool) -> str:
    code = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 3))):
        code = _mutate(draw, code, bounded)
    return code


def _mutate(draw: st.DrawFn, code: str, bounded: bool) -> str:
    lines = code.splitlines(keepends=True) or ["\n"]
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "flip", "number", "number",
                                 "truncate", "insert"]))
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        return "".join(lines[:i] + lines[i + 1:])
    if kind == "duplicate":
        return "".join(lines[:i + 1] + lines[i:])
    if kind == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        return "".join(lines)
    if kind == "truncate":
        return code[:draw(st.integers(0, len(code)))]
    if kind == "insert":
        at = draw(st.integers(0, len(code)))
        token = draw(st.sampled_from(KEYWORDS + OPERATORS + NAMES + NUMBERS))
        return f"{code[:at]} {token} {code[at:]}"
    if kind == "flip":
        spots = [p for p, c in enumerate(code) if c in FLIPS]
        if not spots:
            return code
        p = draw(st.sampled_from(spots))
        return code[:p] + FLIPS[code[p]] + code[p + 1:]
    numbers = list(NUMBER.finditer(code))
    if bounded:  # mutating 10**100's "100" into 10**100 again makes a tower no process finishes
        numbers = [m for m in numbers if code[max(0, m.start() - 2):m.start()] != "**"
                   and code[m.end():m.end() + 2] != "**"]
    if not numbers:
        return code
    match = draw(st.sampled_from(numbers))
    if bounded and _inside_range(code, match.start()):
        choices = LOOP_COUNT_MUTANTS  # range(10**100) in the test process never ends
    else:
        choices = NUMBER_MUTANTS + ([] if bounded else UNBOUNDED_NUMBER_MUTANTS)
    return code[:match.start()] + draw(st.sampled_from(choices)) + code[match.end():]


# -- (d) deep nesting and long chains ---------------------------------------------------------
def _blocks(header: str, depth: int) -> str:
    """``depth`` nested blocks; the caller's text lands in the innermost one."""
    return "".join("    " * i + header + "\n" for i in range(depth)) + "    " * depth


NESTINGS = {
    "parens": lambda k: "(" * k + "x" + ")" * k + ".sum()",
    "lists": lambda k: "y = " + "[" * k + "x" + "]" * k + "\nx.sum()",
    "negation": lambda k: "-" * k + "x",
    "not": lambda k: "y = " + "not " * k + "True\nx.sum()",
    "method_chain": lambda k: "x" + ".abs()" * k + ".sum()",
    "sum_chain": lambda k: "x" + " + x" * k,
    "calls": lambda k: "torch.relu(" * k + "x" + ")" * k,
    "subscripts": lambda k: "x" + "[:]" * k,
    "lambdas": lambda k: "f = " + "lambda: " * k + "x\nx.sum()",
    "attribute_target": lambda k: "y" + ".a" * k + " = 1\nx.sum()",
    # Python allows 100 levels of indentation; 120 passes the limit without a huge text.
    "blocks": lambda k: _blocks("if True:", min(k, 120)) + "y = x * 2\ny",
    "statements": lambda k: "y = x\n" + "y = y * 1.01\n" * k + "y.sum()",
    "loops": lambda k: _blocks("for _ in range(1):", min(k, 120)) + "y = x + 1\ny",
}


def deep_nesting(known_bugs: bool = False) -> st.SearchStrategy[str]:
    return clear_of_known_bugs(_deep_nesting(known_bugs), known_bugs)


@st.composite
def _deep_nesting(draw: st.DrawFn, known_bugs: bool) -> str:
    form = draw(st.sampled_from(sorted(NESTINGS)))
    top = KNOWN_BUG_DEPTH if known_bugs else SAFE_DEPTH
    depth = draw(st.one_of(st.integers(1, 30), st.integers(1, top)))
    return PRELUDE + NESTINGS[form](depth) + "\n"


# -- (e) huge literals --------------------------------------------------------------------------
@st.composite
def huge_literals(draw: st.DrawFn, bounded: bool = True, known_bugs: bool = False) -> str:
    count = draw(st.integers(1, 300 if bounded else 200_000))
    dims = count if known_bugs else min(count, 64)  # a tuple of sizes: KNOWN_BUGS["numpy_dims"]
    digits = draw(st.integers(1, 6000))
    literal = draw(st.sampled_from([
        "10**100", "2**64", "-2**63", "1e308*10", "-1e308*10", "float('inf')", "float('nan')",
        "1" + "0" * digits, "0." + "9" * digits, "1e" + "9" * min(digits, 400), "0x" + "f" * digits,
        "[" + ", ".join(["1.0"] * count) + "]", "[1e308] * " + str(count), "'" + "a" * count + "'",
        "(" + "1, " * dims + ")", "10**-400", "1e-400", str(2**62),
    ]))
    template = draw(st.sampled_from([
        "x = torch.tensor({lit}, requires_grad=True)\n(x * 2).sum()",
        PRELUDE + "(x * {lit}).sum()", PRELUDE + "y = {lit}\n(x + y).sum()",
        "torch.ones({lit}, requires_grad=True).sum()", PRELUDE + "x.sum() * {lit}",
        PRELUDE + "x.expand({lit}, 3)", PRELUDE + "y = torch.full((3,), {lit})\n(x * y).sum()",
        PRELUDE + "x.clamp(max={lit}).sum()", PRELUDE + "(x @ w * {lit}).sum()",
    ]))
    return template.format(lit=literal) + "\n"


# -- (f) odd text -------------------------------------------------------------------------------
ODD_CHARS = ["\x00", "\t", "\r", "\r\n", "\x0b", "\x0c", "\ufeff", "\u2028", "\u00a0", "\u200b",
             "\u202e", "\uff58", "\u00e9", "e\u0301", "\U0001f600", "\U0010ffff", "\x85", "\\",
             "'", '"', "#", "\x1b[31m", "\x7f"]
SURROGATES = ["\udcff", "\ud800", "\udfff"]
LINE_ENDINGS = ["\n", "\r\n", "\r", "\x0c\n", "\n\x0b", "\n\n"]


def odd_text(known_bugs: bool = False) -> st.SearchStrategy[str]:
    return clear_of_known_bugs(_odd_text(known_bugs), known_bugs)


@st.composite
def _odd_text(draw: st.DrawFn, known_bugs: bool) -> str:
    code = draw(st.one_of(st.sampled_from(SOURCES), grammar_programs(max_statements=3)))
    kind = draw(st.sampled_from(["chars", "chars", "line_endings", "tabs", "bom", "unicode_blob"]))
    odd = ODD_CHARS + (SURROGATES if known_bugs else [])
    if kind == "chars":
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(code)))
            code = code[:at] + draw(st.sampled_from(odd)) + code[at:]
        return code
    if kind == "line_endings":
        parts = code.split("\n")
        return "".join(part + draw(st.sampled_from(LINE_ENDINGS)) for part in parts)
    if kind == "tabs":
        return code.replace("    ", draw(st.sampled_from(["\t", "  \t", "\t    ", " " * 3])))
    if kind == "bom":
        return "\ufeff" + code
    alphabet = st.characters(exclude_categories=[] if known_bugs else ["Cs"])
    blob = draw(st.text(alphabet=alphabet, max_size=60))
    where = draw(st.sampled_from(["{c}\n{b}", "{b}", "{c}# {b}\n", "s = '{b}'\n{c}", "{b} = 1\n{c}"]))
    return where.format(c=code, b=blob)


def any_case(bounded: bool = True, known_bugs: bool = False) -> st.SearchStrategy[str]:
    """A case from any family; grammar programs weigh most (they reach the graph code)."""
    return st.one_of(
        grammar_programs(), grammar_programs(), token_soup(bounded, known_bugs),
        mutated_examples(bounded, known_bugs),
        deep_nesting(known_bugs), huge_literals(bounded, known_bugs), odd_text(known_bugs),
    )
