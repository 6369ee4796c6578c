"""Float64 NumPy references, one module per family of :mod:`mlprims`.

Each is written independently of the primitive it checks (a formula, a loop, a different
algorithm), imports NumPy and the standard library only (so ``mlprims check`` runs without the
frameworks), and is shared by ``tests/`` and ``mlprims check``. Each is named after the primitive
it matches, ``<primitive>_reference``, takes the primitive's options by the same names, and
returns float64 (integers and booleans where the primitive returns them).

================= ===============================================================================
``activations``   formulas (sigmoid through tanh, GELU through math.erf), softmax in long double
``adapters``      LoRA as the frozen layer on the merged weight, A @ B as r rank-1 outer products
``attention``     full score matrices, a masked softmax row by row; Shaw et al. as a loop
``clustering``    scikit-learn's Lloyd step and empty-cluster relocation, point by point
``convolution``   loops over output positions and kernel taps, explicit zero padding
``decoding``      Hugging Face's logits warpers; greedy and exhaustive search on a bigram table
``detection``     IoU one pair of boxes at a time; NMS as the textbook greedy loop; RoIAlign as
                  torchvision's CPU kernel, sample by sample
``experts``       Mixtral token by token, only the chosen experts run; the loss by counting
``image``         torch's resize weights tap by tap; grid_sample point by point; 2-D filters on
                  NumPy's "reflect" padding; OpenCV's equalizeHist loop in float32
``losses``        torch's cross-entropy one element of the batch at a time; BCE by logaddexp;
                  KL term by term; CLIP/InfoNCE row by row; TRL's DPO formulas; torchvision's
                  focal loss line by line
``metrics``       AUC over every (positive, negative) pair; NDCG averaged over every order of ties
``normalization`` NumPy's mean and variance over the normalised axes, torch's conventions
``positional``    sinusoids and RoPE pair by pair (and as complex products), T5 buckets, ALiBi
``pruning``       entries or slices sorted by (magnitude or norm, index), the first k pruned
``quantization``  torch.ao's qparams channel by channel, Python's round element by element; NF4 by
                  the nearest level's distance
``random``        Threefry-2x32 on NumPy words from the Random123 specification, JAX's layout
``recommendation`` FM as the sum over pairs of fields; embedding bags one bag at a time
``recurrent``     each gate from its own columns; layers, directions and time steps as loops
``retrieval``     every distance one database vector at a time, sorted by (distance, index)
``special``       math.erf element by element
``transformer``   torch's encoder and decoder layers line by line; the tiny LM head by head
================= ===============================================================================
"""

__all__: list[str] = []
