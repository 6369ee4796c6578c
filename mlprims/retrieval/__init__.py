"""Retrieval: exact k-nearest-neighbour search, as faiss' flat indexes (``IndexFlatL2``,
``IndexFlatIP``, cosine on normalised vectors), ties lower index first.

=======  ===========================================================================
``knn``  knn_search: the database in chunks, each a matmul and a top-k merged into the
         running top k (memory O(Q chunk + Q k); compiles under jax.jit)
=======  ===========================================================================
"""

from .knn import knn_search

__all__: list[str] = ["knn_search"]
