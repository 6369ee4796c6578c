"""Recommendation layers as functions: the factorization machine's interactions, embedding bags.

A recommender embeds each sparse feature (a user, an item, a category) as a row of a table and
combines the rows: an embedding bag pools the rows of a multi-valued feature (the items a user
clicked), a factorization machine sums the inner products of every pair of fields.

===============  ==============================================================
``interaction``  fm_interaction: Rendle's O(F K) pairwise term
``bags``         embedding_bag: torch's F.embedding_bag (sum, mean, max, offsets)
===============  ==============================================================
"""

from .bags import embedding_bag
from .interaction import fm_interaction

__all__: list[str] = ["embedding_bag", "fm_interaction"]
