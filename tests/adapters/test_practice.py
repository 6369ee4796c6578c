"""``mlprims grade --primitive lora_linear`` and ``init_lora``: correct learner files in NumPy and
torch and peft's own LoraLayer pass every property; the classic mistakes fail the property that
names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY = """\
import math

import numpy as np

import mlprims


def lora_linear(x, weight, bias, lora, /, *, alpha, dropout_p=0.0, key=None, use_rslora=False):
    r = lora["A"].shape[1]
    s = alpha / math.sqrt(r) if use_rslora else alpha / r
    h = x
    if dropout_p > 0:
        keep = mlprims.random.bernoulli(key, 1 - dropout_p, x.shape)
        h = np.where(keep, x / (1 - dropout_p), 0)
    y = x @ weight
    if bias is not None:
        y = y + bias
    return y + (h @ lora["A"]) @ lora["B"] * s
"""

TORCH = """\
import math

import torch

import mlprims


def lora_linear(x, weight, bias, lora, /, *, alpha, dropout_p=0.0, key=None, use_rslora=False):
    r = lora["A"].shape[1]
    s = alpha / math.sqrt(r) if use_rslora else alpha / r
    h = x
    if dropout_p > 0:
        keep = mlprims.random.bernoulli(key, 1 - dropout_p, tuple(x.shape))
        h = torch.where(keep, x / (1 - dropout_p), torch.zeros_like(x))
    y = x @ weight
    if bias is not None:
        y = y + bias
    return y + (h @ lora["A"]) @ lora["B"] * s
"""

#: peft's own LoraLayer around a torch nn.Linear; its nn.Dropout (torch's generator) replaced by
#: the mask the spec draws, so that the dropout property compares the same mask.
PEFT = """\
import peft
import torch

import mlprims


class _Mask(torch.nn.Module):
    def __init__(self, p, key):
        super().__init__()
        self.p, self.key = p, key

    def forward(self, x):
        keep = mlprims.random.bernoulli(self.key, 1 - self.p, tuple(x.shape))
        return torch.where(keep, x / (1 - self.p), torch.zeros_like(x))


class _Model(torch.nn.Module):
    def __init__(self, linear):
        super().__init__()
        self.proj = linear

    def forward(self, x):
        return self.proj(x)


def lora_linear(x, weight, bias, lora, /, *, alpha, dropout_p=0.0, key=None, use_rslora=False):
    d_in, d_out = weight.shape
    linear = torch.nn.Linear(d_in, d_out, bias=bias is not None, dtype=x.dtype)
    config = peft.LoraConfig(r=lora["A"].shape[1], lora_alpha=alpha, target_modules=["proj"],
                             lora_dropout=dropout_p, use_rslora=use_rslora)
    model = peft.get_peft_model(_Model(linear), config)
    layer = model.base_model.model.proj
    with torch.no_grad():
        layer.base_layer.weight.copy_(weight.T)
        if bias is not None:
            layer.base_layer.bias.copy_(bias)
        layer.lora_A["default"].weight.copy_(lora["A"].T)
        layer.lora_B["default"].weight.copy_(lora["B"].T)
        if dropout_p > 0:
            layer.lora_dropout["default"] = _Mask(dropout_p, key)
        return model(x)
"""

SCALED = "(N, D_in) input, r 2 to 4"
RSLORA = "rsLoRA (use_rslora=True)"
DROPOUT = "dropout on the LoRA input"

#: The classic dropout mistake: the layer's output dropped, not the LoRA branch's input.
DROPPED_OUTPUT = """\
    out = y + (x @ lora["A"]) @ lora["B"] * s
    if dropout_p > 0:
        keep = mlprims.random.bernoulli(key, 1 - dropout_p, out.shape)
        out = np.where(keep, out / (1 - dropout_p), 0)
    return out
"""

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "numpy-alpha-not-over-r": (NUMPY, "else alpha / r", "else alpha", SCALED, "not by alpha"),
    "numpy-no-scaling": (NUMPY, " * s\n", "\n", SCALED, "never left unscaled"),
    "numpy-rslora-ignored": (NUMPY, "if use_rslora else", "if False else", RSLORA, "sqrt(r)"),
    "numpy-dropout-on-the-output": (
        NUMPY,
        '    return y + (h @ lora["A"]) @ lora["B"] * s\n',
        DROPPED_OUTPUT,
        DROPOUT,
        "the output is never dropped",
    ),
    "torch-alpha-not-over-r": (TORCH, "else alpha / r", "else alpha", SCALED, "not by alpha"),
    "torch-dropout-without-rescaling": (
        TORCH,
        "x / (1 - dropout_p)",
        "x",
        DROPOUT,
        "x / (1 - dropout_p)",
    ),
}


@pytest.mark.parametrize("source", [NUMPY, TORCH, PEFT], ids=["numpy", "torch", "peft"])
def test_a_correct_file_passes_every_property(grader, source: str) -> None:
    pytest.importorskip("torch")
    if source is PEFT:
        pytest.importorskip("peft")
    grader.passes_every_property(source, "lora_linear")


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    source, old, new, caught_by, hint = WRONG[wrong]
    if source is TORCH:
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), "lora_linear", caught_by, hint)


def test_the_mistakes_fail_nothing_else(grader) -> None:
    """Scaling by alpha is wrong everywhere but dropout's own mistakes are wrong only there."""
    source, old, new, _, _ = WRONG["numpy-dropout-on-the-output"]
    _, out = grader.run(source.replace(old, new, 1), "lora_linear", "--no-shrink")
    assert [p for p, v in grader.verdicts(out).items() if v == "FAILED"] == [DROPOUT]


INIT_NUMPY = """\
import math

import numpy as np

import mlprims


def init_lora(key, in_features, out_features, r, *, dtype="float32"):
    bound = 1 / math.sqrt(in_features)
    a = mlprims.random.uniform(key, (in_features, r), dtype=dtype, minval=-bound, maxval=bound)
    return {"A": a, "B": np.zeros((r, out_features), dtype=dtype)}
"""

INIT_TORCH = """\
import math

import torch

import mlprims


def init_lora(key, in_features, out_features, r, *, dtype="float32"):
    bound = 1 / math.sqrt(in_features)
    a = mlprims.random.uniform(key, (in_features, r), dtype=dtype, minval=-bound, maxval=bound)
    return {"A": a, "B": torch.zeros((r, out_features), dtype=a.dtype)}
"""

B_ZERO = "B is zero"
A_UNIFORM = "A is uniform in +-1/sqrt(D_in)"

INIT_WRONG = {
    "numpy-b-random": (
        INIT_NUMPY,
        "np.zeros((r, out_features), dtype=dtype)",
        "mlprims.random.normal(key, (r, out_features), dtype=dtype)",
        B_ZERO,
        "a random B adds noise",
    ),
    "numpy-bound-over-d-out": (
        INIT_NUMPY,
        "math.sqrt(in_features)",
        "math.sqrt(out_features)",
        A_UNIFORM,
        "fan_in = D_in",
    ),
    "torch-b-random": (
        INIT_TORCH,
        "torch.zeros((r, out_features), dtype=a.dtype)",
        "torch.randn((r, out_features), dtype=a.dtype)",
        B_ZERO,
        "a random B adds noise",
    ),
}


@pytest.mark.parametrize("source", [INIT_NUMPY, INIT_TORCH], ids=["numpy", "torch"])
def test_a_correct_init_passes_every_property(grader, source: str) -> None:
    if source is INIT_TORCH:
        pytest.importorskip("torch")
    grader.passes_every_property(source, "init_lora")


@pytest.mark.parametrize("wrong", list(INIT_WRONG))
def test_a_classic_init_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    source, old, new, caught_by, hint = INIT_WRONG[wrong]
    if source is INIT_TORCH:
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), "init_lora", caught_by, hint)
