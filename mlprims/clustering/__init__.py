"""Clustering: Lloyd's k-means with scikit-learn's semantics, on every backend and on Dask.

===============  ===========================================================================
``kmeans``       kmeans, kmeans_step, kmeans_predict, KMeansResult (``KMeans(algorithm="lloyd")``)
``_lloyd``       one fit's passes: assign, Lloyd step, relocation, the stopping loop
``plusplus``     kmeans_plusplus (scikit-learn's greedy k-means++ seeding)
``_distances``   the matmul form of squared distances, in row chunks of bounded memory
``_checks``      argument checks shared by the above
===============  ===========================================================================
"""

from .kmeans import KMeansResult, kmeans, kmeans_predict, kmeans_step
from .plusplus import kmeans_plusplus

__all__: list[str] = [
    "KMeansResult",
    "kmeans",
    "kmeans_plusplus",
    "kmeans_predict",
    "kmeans_step",
]
