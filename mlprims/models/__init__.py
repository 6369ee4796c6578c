"""Small models built from the primitives: parameters as a plain dict of arrays, one function.

=================  ========================================================================
``cnn``            init_cnn, cnn: the classic two-block CNN of the PyTorch MNIST example
``lm``             lm, lm_step_fn: a tiny Llama-style language model, and its decoding step
``lm_config``      LMConfig: its sizes, checked once
``lm_init``        init_lm, init_lm_cache: its parameters (GPT-2's init) and KV cache
``_lm_checks``     the checks of its tokens, cache and index (private)
``gpt2``           GPT2Config, gpt2, gpt2_step_fn, init_gpt2_cache: GPT-2 in Hugging Face's
                   layout
``bert``           BertConfig, bert: BERT's encoder and pooler
``resnet``         ResNetConfig, resnet: ResNet (basic and bottleneck layers) in Hugging Face's
                   layout
``pretrained``     from_pretrained, from_transformers, CausalLM, Encoder, ImageClassifier:
                   Hugging Face checkpoints
``_common``        the prompt padding of batched generation (private)
``_cache``         the KV cache of lm and gpt2 and their decoding step (private)
``_safetensors``   a checkpoint's tensors read as NumPy arrays (private)
``_convert``       a checkpoint's tensors to mlprims' parameters, per model_type (private)
=================  ========================================================================
"""

from .bert import BertConfig, bert
from .cnn import cnn, init_cnn
from .gpt2 import GPT2Config, gpt2, gpt2_step_fn, init_gpt2_cache
from .lm import lm, lm_step_fn
from .lm_config import LMConfig
from .lm_init import init_lm, init_lm_cache
from .pretrained import CausalLM, Encoder, ImageClassifier, from_pretrained, from_transformers
from .resnet import ResNetConfig, resnet

__all__: list[str] = [
    "BertConfig",
    "CausalLM",
    "Encoder",
    "GPT2Config",
    "ImageClassifier",
    "LMConfig",
    "ResNetConfig",
    "bert",
    "cnn",
    "from_pretrained",
    "from_transformers",
    "gpt2",
    "gpt2_step_fn",
    "init_cnn",
    "init_gpt2_cache",
    "init_lm",
    "init_lm_cache",
    "lm",
    "lm_step_fn",
    "resnet",
]
