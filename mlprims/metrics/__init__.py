"""Ranking metrics as sorts: ROC AUC, group AUC, NDCG@k and recall@k, under ``jax.jit`` too.

Each metric sorts its scores once and counts with cumulative sums; ties are handled as the
library it matches does (scikit-learn's ``roc_auc_score`` and ``ndcg_score``: a tied pair counts
1/2, tied gains are averaged). Every shape is static; checks of values (one class only, NaN
scores) raise on eager arrays and give NaN under ``jax.jit``.

===========  ==================================================================
``auc``      roc_auc (sklearn's roc_auc_score, weights), group_auc (GAUC)
``ranking``  ndcg_at_k (sklearn's ndcg_score), recall_at_k
===========  ==================================================================
"""

from .auc import group_auc, roc_auc
from .ranking import ndcg_at_k, recall_at_k

__all__: list[str] = ["group_auc", "ndcg_at_k", "recall_at_k", "roc_auc"]
