"""knn_search (mlprims/retrieval/knn.py).

References: the brute-force float64 loop of mlprims.testing.oracles.retrieval (every distance
one database vector at a time, sorted by (distance, index)) and faiss' IndexFlatL2 /
IndexFlatIP for real. Small whole-number vectors make every L2 distance and inner product an
exact integer, so the many ties must come out lower index first on every backend; the options
(metric, k, chunk size) are combined on NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlprims import knn_search
from mlprims.testing import assert_close
from mlprims.testing.oracles.retrieval import knn_search_reference


def _whole(seed: int, shape: tuple[int, int]) -> np.ndarray:
    return np.random.default_rng(seed).integers(-2, 3, size=shape).astype(np.float64)


QUERIES, DATABASE = _whole(0, (4, 3)), _whole(1, (37, 3))
#: Eager JAX compiles each operation of the chunk loop anew (2 s a test); jax_jit runs the
#: same code, compiled once.
NOT_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


class TestKnnSearch:
    @NOT_EAGER_JAX
    def test_matches_the_brute_force_with_ties_in_index_order(self, xb) -> None:
        # k=2, chunk 32: the block prefilter (blocks of 4) on the first chunk, 5 rows after;
        # k=5, chunk 8: five chunks merged without it.
        q, x = xb.asarray(QUERIES), xb.asarray(DATABASE)
        for metric, k, chunk in (("l2", 2, 32), ("ip", 5, 8)):
            distances, indices = xb.to_numpy(knn_search(q, x, k, metric=metric, chunk_size=chunk))
            want_distances, want_indices = knn_search_reference(QUERIES, DATABASE, k, metric=metric)
            np.testing.assert_array_equal(indices, want_indices)
            np.testing.assert_array_equal(distances, want_distances)
            assert distances.dtype == np.float64 and np.issubdtype(indices.dtype, np.integer)

    @NOT_EAGER_JAX
    def test_equal_vectors_across_chunks_lower_index_first(self, xb) -> None:
        # One far vector, then ten copies of the query's nearest: chunks of 4 split the copies.
        database = np.array([[9.0, 9.0]] + [[1.0, 1.0]] * 10 + [[0.0, 3.0]])
        distances, indices = knn_search(
            xb.asarray(np.array([[1.0, 0.0]], dtype=np.float32)),
            xb.asarray(database.astype(np.float32)),
            7,
            chunk_size=4,
        )
        np.testing.assert_array_equal(xb.to_numpy(indices), [[1, 2, 3, 4, 5, 6, 7]])
        assert xb.to_numpy(distances).dtype == np.float32
        np.testing.assert_array_equal(xb.to_numpy(distances), np.ones((1, 7)))

    @given(data=st.data())
    def test_options_match_the_brute_force(self, data: Any) -> None:  # NumPy: the options
        n = data.draw(st.integers(1, 40))
        queries = data.draw(hnp.arrays(np.float64, (3, 2), elements=st.integers(-2, 2)))
        database = data.draw(hnp.arrays(np.float64, (n, 2), elements=st.integers(-2, 2)))
        k = data.draw(st.integers(1, n))
        chunk = data.draw(st.sampled_from([None, 1, 3, 8, 20]))
        metric = data.draw(st.sampled_from(["l2", "ip"]))
        distances, indices = knn_search(queries, database, k, metric=metric, chunk_size=chunk)
        want_distances, want_indices = knn_search_reference(queries, database, k, metric=metric)
        np.testing.assert_array_equal(indices, want_indices)
        np.testing.assert_array_equal(distances, want_distances)

    def test_cosine_normalises_and_leaves_zero_vectors_zero(self) -> None:
        database = np.array([[2.0, 0.0], [0.0, 0.0], [1.0, 1.0], [-3.0, 0.0]])
        distances, indices = knn_search(np.array([[5.0, 0.0]]), database, 4, metric="cosine")
        np.testing.assert_array_equal(indices, [[0, 2, 1, 3]])
        assert_close(distances, [[1.0, 0.5**0.5, 0.0, -1.0]])
        want = knn_search_reference(np.array([[5.0, 0.0]]), database, 4, metric="cosine")
        assert_close(distances, want[0])

    def test_l2_is_never_negative(self) -> None:
        # |q|^2 - 2 q.x + |x|^2 rounds below 0 for a vector far from the origin and itself.
        x = np.full((1, 64), 1000.1, dtype=np.float32)
        distances, _ = knn_search(x, np.concatenate([x, x + 1]), 2)
        assert distances[0, 0] == 0.0 and distances[0, 1] > 0


class TestFaiss:
    """faiss' flat indexes on Gaussian float32 vectors (no ties): the same neighbours."""

    @pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
    def test_matches_the_flat_index(self, metric: str) -> None:
        faiss = pytest.importorskip("faiss")
        rng = np.random.default_rng(2)
        queries = rng.normal(size=(20, 16)).astype(np.float32)
        database = rng.normal(size=(300, 16)).astype(np.float32)
        distances, indices = knn_search(queries, database, 10, metric=metric, chunk_size=64)
        if metric == "cosine":  # faiss normalises in place
            faiss.normalize_L2(queries)
            faiss.normalize_L2(database)
        index = (faiss.IndexFlatL2 if metric == "l2" else faiss.IndexFlatIP)(16)
        index.add(database)
        want_distances, want_indices = index.search(queries, 10)
        np.testing.assert_array_equal(indices, want_indices)
        assert_close(distances, want_distances, scale=4.0)

    def test_ties_as_index_flat_l2_not_index_flat_ip(self) -> None:
        # IndexFlatL2 keeps and lists equal distances lower index first, as we do; IndexFlatIP
        # breaks ties by its min-heap's history: of the scores [-1, -1, 0] it keeps 2 and 1.
        faiss = pytest.importorskip("faiss")
        database = np.array([[-1.0], [-1.0], [0.0]], dtype=np.float32)
        l2, ip = faiss.IndexFlatL2(1), faiss.IndexFlatIP(1)
        l2.add(database)
        ip.add(database)
        query = np.array([[0.5]], dtype=np.float32)  # squared distances 2.25, 2.25, 0.25
        np.testing.assert_array_equal(l2.search(query, 2)[1], [[2, 0]])
        np.testing.assert_array_equal(knn_search(query, database, 2)[1], [[2, 0]])
        np.testing.assert_array_equal(ip.search(query, 2)[1], [[2, 1]])
        np.testing.assert_array_equal(knn_search(query, database, 2, metric="ip")[1], [[2, 0]])


class TestBadInputs:
    def test_shapes_k_and_options(self, xb) -> None:
        q, x = xb.asarray(QUERIES), xb.asarray(DATABASE)
        with pytest.raises(ValueError, match=r"`database` is empty, shape \(0, 3\)"):
            knn_search(q, xb.asarray(np.zeros((0, 3))), 1)
        with pytest.raises(ValueError, match=r"`k` must be at most .* N = 37, got 38"):
            knn_search(q, x, 38)
        with pytest.raises(ValueError, match="`k` must be >= 1, got 0"):
            knn_search(q, x, 0)
        with pytest.raises(ValueError, match=r"same dimension D.*\(4, 3\).*\(37, 2\)"):
            knn_search(q, xb.asarray(DATABASE[:, :2]), 1)
        with pytest.raises(ValueError, match=r"`queries` must have shape \(Q, D\), got \(3\)"):
            knn_search(xb.asarray(QUERIES[0]), x, 1)
        with pytest.raises(ValueError, match="`metric` must be one of 'l2', 'ip', 'cosine'"):
            knn_search(q, x, 1, metric="L2")
        with pytest.raises(ValueError, match="`chunk_size` must be >= 1, got 0"):
            knn_search(q, x, 1, chunk_size=0)

    def test_types(self) -> None:
        with pytest.raises(TypeError, match="`database` must have a real floating dtype"):
            knn_search(QUERIES, DATABASE.astype(np.int64), 1)
        with pytest.raises(TypeError, match="`k` must be an int, got float"):
            knn_search(QUERIES, DATABASE, 2.0)
        with pytest.raises(TypeError, match="`queries` must be an array"):
            knn_search(QUERIES.tolist(), DATABASE, 1)
