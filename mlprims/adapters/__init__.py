"""Parameter-efficient adapters as functions: LoRA (low-rank adaptation) of a linear layer.

A frozen linear layer ``y = x @ w + b`` (``w`` of shape (D_in, D_out)) learns a low-rank
update ``A @ B`` (A (D_in, r), B (r, D_out), r << D_in, D_out) scaled by ``alpha / r``, as
peft's ``LoraLayer`` does (Hu et al. 2021; rsLoRA's ``alpha / sqrt(r)``, Kalajdzievski 2023).
The adapter is a plain dict ``{"A": ..., "B": ...}``, returned by :func:`init_lora` and never
stored or mutated; merging it into the weight and taking it out again are functions too.

===========  ==================================================================
``lora``     init_lora, lora_linear, merge_lora, unmerge_lora
``convert``  from_peft: the adapters of a peft state dict in mlprims' layout
===========  ==================================================================
"""

from .convert import from_peft
from .lora import init_lora, lora_linear, merge_lora, unmerge_lora

__all__: list[str] = ["from_peft", "init_lora", "lora_linear", "merge_lora", "unmerge_lora"]
