"""Losses as PyTorch, torchvision, Hugging Face and TRL compute them: classification, focal,
divergence, contrastive and preference losses, each stable for large logits.

==================  ===================================================================
``classification``  cross_entropy, binary_cross_entropy_with_logits (torch.nn.functional)
``divergence``      kl_div (F.kl_div: "mean", "batchmean", "sum", "none", log_target)
``focal``           sigmoid_focal_loss (torchvision.ops: RetinaNet's focal loss on logits)
``contrastive``     clip_loss (transformers' CLIP loss), info_nce_loss (one or both ways)
``preference``      dpo_loss: DPO, cDPO, IPO and hinge (TRL's DPOTrainer.dpo_loss)
==================  ===================================================================
"""

from .classification import binary_cross_entropy_with_logits, cross_entropy
from .contrastive import clip_loss, info_nce_loss
from .divergence import kl_div
from .focal import sigmoid_focal_loss
from .preference import dpo_loss

__all__: list[str] = [
    "binary_cross_entropy_with_logits",
    "clip_loss",
    "cross_entropy",
    "dpo_loss",
    "info_nce_loss",
    "kl_div",
    "sigmoid_focal_loss",
]
