"""Properties of lora_linear (the scaling alpha / r or / sqrt(r), dropout on the LoRA input) and
of init_lora (A uniform in +-1/sqrt(D_in) from the key, B zeros)."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]

ALPHAS = (1.0, 8.0, 16.0, 32.0)  # never equal to r in 2 .. 4: alpha / r is never 1
SCALING = (
    "y = x @ weight + bias + (x @ A) @ B * alpha / r: the LoRA branch is scaled by alpha / r "
    "(r = A.shape[1]), not by alpha, and never left unscaled"
)
DROPOUT = (
    "dropout applies to the input of the LoRA branch only: keep = mlprims.random.bernoulli(key, "
    "1 - dropout_p, x.shape), then (where(keep, x / (1 - dropout_p), 0) @ A) @ B * s; the "
    "frozen x @ weight + bias sees x itself, and the output is never dropped"
)


def _fixed(*, dropout: bool = False, rslora: bool = False) -> Call:
    """A case that catches the classic mistakes for sure: r = 2, alpha = 16, B not zero."""
    x = np.array([[1.0, -2.0, 0.5], [0.25, 1.5, -1.0]])
    weight = np.array([[0.5, -1.0], [1.0, 0.25], [-0.5, 2.0]])
    lora = {"A": np.array([[1.0, 0.5], [-0.5, 1.0], [0.25, -1.0]]),
            "B": np.array([[0.5, -1.0], [1.0, 0.75]])}  # fmt: skip
    kwargs: dict[str, Any] = {"alpha": 16.0}
    if rslora:
        kwargs["use_rslora"] = True
    if dropout:
        kwargs.update(dropout_p=0.5, key=np.array([0, 7], dtype=np.uint32))
    return Call((x, weight, np.array([0.5, -0.25]), lora), kwargs, "float64")


@composite
def _lora(draw: Any, *, batch: bool = False, rslora: bool = False, dropout: bool = False) -> Call:
    dtype = draw(dtypes())
    d_in, d_out, r = draw(st.integers(2, 5)), draw(st.integers(1, 5)), draw(st.integers(2, 4))
    if batch:
        lead: tuple[int, ...] = (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
    elif dropout:
        # Four mask shapes only: eager JAX compiles the Threefry draw anew for each shape (0.5 s)
        lead, d_in = (draw(st.sampled_from([2, 3])),), draw(st.sampled_from([3, 4]))
    else:
        lead = (draw(st.integers(1, 4)),)
    x = draw(floats((*lead, d_in), dtype))
    weight = draw(floats((d_in, d_out), dtype, bound=1.0))
    bias = None if batch else draw(floats((d_out,), dtype, bound=1.0))
    lora = {"A": draw(floats((d_in, r), dtype, bound=1.0)),
            "B": draw(floats((r, d_out), dtype, bound=1.0))}  # fmt: skip
    kwargs: dict[str, Any] = {"alpha": draw(st.sampled_from(ALPHAS))}
    if rslora:
        kwargs["use_rslora"] = True
    if dropout:
        words = draw(st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=2))
        kwargs.update(dropout_p=draw(st.sampled_from([0.1, 0.5])), key=np.array(words, np.uint32))
    return Call((x, weight, bias, lora), kwargs, dtype)


LORA_LINEAR = Spec(
    name="lora_linear",
    function=mlprims.lora_linear,
    parameters=("x", "weight", "bias", "lora", "alpha", "dropout_p", "key", "use_rslora"),
    returns="array, shape (..., D_out), in the dtype of `x`",
    parameter_docs={
        "lora": "lora : dict\n    ``{'A': (D_in, r), 'B': (r, D_out)}`` of one dtype.",
        "alpha": "alpha : float\n"
        "    peft's ``lora_alpha``: the update is scaled by ``s = alpha / r``.",
        "key": "key : mlprims.random key, optional\n"
        "    Draws the dropout mask: keep = mlprims.random.bernoulli(key, 1 - dropout_p, x.shape)\n"
        "    (True = keep; the same mask in NumPy, torch and JAX). Required when dropout_p > 0.",
    },
    notes="``y = x @ weight + bias + (drop(x) @ A) @ B * s`` with A = lora['A'] (D_in, r),\n"
    "B = lora['B'] (r, D_out), ``s = alpha / r``, or ``alpha / sqrt(r)`` with `use_rslora`\n"
    "(Hu et al. 2021; Kalajdzievski 2023; peft's LoraLayer). ``drop`` is inverted dropout of\n"
    "the LoRA branch's input: ``where(keep, x / (1 - dropout_p), 0)`` with\n"
    "``keep = mlprims.random.bernoulli(key, 1 - dropout_p, x.shape)``; `x` itself when\n"
    "``dropout_p == 0``. Weights are (D_in, D_out), ``x @ weight``: torch's nn.Linear.weight.T.",
    properties=(
        Property("(N, D_in) input, r 2 to 4", _lora(), SCALING, examples=(_fixed(),)),
        Property(
            "leading axes (B, T, D_in), no bias",
            _lora(batch=True),
            "x @ weight works on any leading axes; bias None adds nothing",
        ),
        Property(
            "rsLoRA (use_rslora=True)",
            _lora(rslora=True),
            "rank-stabilised LoRA scales by alpha / sqrt(r) instead of alpha / r",
            examples=(_fixed(rslora=True),),
        ),
        Property(
            "dropout on the LoRA input",
            _lora(dropout=True),
            DROPOUT,
            examples=(_fixed(dropout=True),),
        ),
    ),
)

B_ZEROS = (
    "B starts as zeros (r, D_out), so that the adapted layer starts as the frozen one: a random "
    "B adds noise to every output from the first step"
)
A_UNIFORM = (
    "A = mlprims.random.uniform(key, (D_in, r), dtype=dtype, minval=-1/sqrt(D_in), "
    "maxval=1/sqrt(D_in)): peft's kaiming_uniform_(a=sqrt(5)), whose bound is 1/sqrt(fan_in) "
    "with fan_in = D_in (in_features), not D_out or r"
)


def _init_outputs(result: Any) -> dict[str, Any]:
    return {"A": result["A"], "B": result["B"]}


@composite
def _init(draw: Any) -> Call:
    words = draw(st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=2))
    d_in, d_out, r = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 4))
    dtype = draw(dtypes())
    return Call((np.array(words, np.uint32), d_in, d_out, r), {"dtype": dtype}, dtype)


#: D_in = 16 against D_out = 4 and r = 2: a bound over the wrong fan is a quarter or a half off.
_INIT_FIXED = Call((np.array([3, 1], np.uint32), 16, 4, 2), {"dtype": "float64"}, "float64")

INIT_LORA = Spec(
    name="init_lora",
    function=mlprims.init_lora,
    parameters=("key", "in_features", "out_features", "r", "dtype"),
    outputs=_init_outputs,
    parameter_docs={
        "key": "key : mlprims.random key\n"
        "    Draws A with mlprims.random.uniform (the same A in NumPy, torch and JAX).",
        "dtype": "dtype : str\n    'float32' or 'float64', the dtype of A and B.",
    },
    returns="dict ``{'A': (D_in, r), 'B': (r, D_out)}`` of `dtype`, in the framework of `key`",
    notes="``A = mlprims.random.uniform(key, (D_in, r), dtype=dtype, minval=-1/sqrt(D_in),\n"
    "maxval=1/sqrt(D_in))`` (peft's kaiming_uniform_(a=sqrt(5)) on lora_A.weight, whose bound\n"
    "is 1/sqrt(in_features)) and ``B = zeros((r, D_out))``, so that ``x @ A @ B = 0`` and the\n"
    "adapted layer starts as the frozen one (Hu et al. 2021). Create B with the namespace of\n"
    "A (``array_api_compat.array_namespace(A).zeros``, or your framework's zeros).",
    properties=(
        Property("B is zero", _init(), B_ZEROS, compare=("B",), examples=(_INIT_FIXED,)),
        Property(
            "A is uniform in +-1/sqrt(D_in)",
            _init(),
            A_UNIFORM,
            compare=("A",),
            examples=(_INIT_FIXED,),
        ),
    ),
)

SPECS = [LORA_LINEAR, INIT_LORA]
