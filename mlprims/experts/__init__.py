"""Mixture of experts as functions: Mixtral's sparse MoE feed-forward layer and its loss.

A router picks, for each token, the top-k of E SwiGLU experts by softmax probability; their
probabilities, renormalised to sum to 1, weigh the experts' outputs (Jiang et al. 2024,
"Mixtral of Experts"; Hugging Face's ``MixtralSparseMoeBlock``). The parameters are a plain
dict returned by :func:`init_moe` or converted from transformers by :func:`from_mixtral`.

===========  ==================================================================
``layer``    init_moe, moe: the layer (sorted or dense dispatch, per backend)
``loss``     load_balancing_loss: Switch Transformer's auxiliary loss, as transformers
``convert``  from_mixtral: a Mixtral block's state dict in mlprims' layout
===========  ==================================================================
"""

from .convert import from_mixtral
from .layer import init_moe, moe
from .loss import load_balancing_loss

__all__: list[str] = ["from_mixtral", "init_moe", "load_balancing_loss", "moe"]
