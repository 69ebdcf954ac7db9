"""Seeded cases of the exercise checks of chapters 07 and 07b (:mod:`course_lib.fusion.checks`).

Private to the checks: each function builds the small inputs of one exercise, chosen so that each
plausible wrong answer gives a different result from the right one; the ``*_slips``
functions compute those wrong answers, the ones the checks name; ``same_direction`` and
``same_shares`` are comparisons that two checks' properties use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.checking import Case, compare_values
from course_lib.fusion.blending import blend, fit_blend_weights
from course_lib.fusion.ensembles import standardize_scores
from course_lib.vectors import unit_rows


def blend_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    y = rng.normal(size=(60, 6))
    good = y + 0.4 * rng.normal(size=y.shape)
    other = y + 0.7 * rng.normal(size=y.shape)
    # A model that repeats the first model's mistakes: unconstrained least squares gives it a
    # negative weight (it "subtracts" the error), which non-negative blending must not do; and
    # clipping that weight to zero afterwards leaves the other two weights unrefitted.
    echo = (good - y) + 0.3 * rng.normal(size=y.shape)
    # A model whose outputs are 100 times larger: only row directions count.
    loud = 100.0 * (y + 0.8 * rng.normal(size=y.shape))
    mixed = [y + 0.6 * rng.normal(size=y.shape) for _ in range(3)]
    targets_scaled = y * rng.uniform(0.2, 5.0, size=(60, 1))  # targets of unequal length
    return [
        Case(
            ([good, other, echo], y),
            label="two good models and one that repeats the first's errors",
        ),
        Case(([good, loud], y), label="a model with 100 times larger outputs"),
        Case((mixed, targets_scaled), label="three noisy models, targets of unequal length"),
    ]


def untagged_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    counts = rng.poisson(rng.uniform(0.0, 3.0, size=(12, 1)), size=(12, 5)).astype(np.float32)
    counts[[1, 7, 10]] = 0.0
    labels = np.array(["head"] * 3 + ["torso"] * 4 + ["tail"] * 5)
    # The same counts as a sparse matrix that stores explicit zeros (a tag that was removed
    # again): counting stored entries (getnnz) would call those tracks tagged.
    dense = counts.copy()
    dense[[4, 9, 11]] = 0.0
    coo = sp.coo_matrix(dense)
    rows = np.r_[coo.row, [4, 9, 11]]
    cols = np.r_[coo.col, [0, 2, 1]]
    data = np.r_[coo.data, [0.0, 0.0, 0.0]].astype(np.float32)
    stored_zeros = sp.csr_matrix((data, (rows, cols)), shape=dense.shape)
    shuffled = rng.permutation(12)
    return [
        Case((counts, labels), label="dense counts"),
        Case((stored_zeros, labels), label="sparse counts with stored zeros"),
        Case((counts[shuffled], labels[shuffled]), label="tracks in no particular order"),
    ]


def paired_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    shared = rng.uniform(0.2, 0.9, size=40)  # per-track difficulty that both models share
    a, b = shared + 0.02 * rng.normal(size=40), shared + 0.05 + 0.02 * rng.normal(size=40)
    few = rng.uniform(0.0, 1.0, size=(2, 6))  # six tracks: n - 1 and n differ by a sixth
    return [
        Case((a, b), label="two models that find the same tracks hard"),
        Case((few[0], few[1]), label="six tracks"),
        Case((b, a), label="the same models in the other order"),
    ]


def standardize_cases() -> list[Case]:
    rng = np.random.default_rng(5)
    scores = rng.normal(3.0, 2.0, size=(5, 7)) * rng.uniform(0.5, 4.0, size=(5, 1))
    with_constant = scores.copy()
    with_constant[2] = 4.0  # a user for whom the recommender scores every item alike
    return [
        Case((scores,), label="five users, seven items"),
        Case((with_constant,), label="a user whose scores are all equal"),
        Case((scores[:, :2],), label="two items"),
    ]


def ensemble_cases() -> list[Case]:
    rng = np.random.default_rng(9)
    a = rng.normal(size=(4, 6))
    b = 100.0 * rng.random(size=(4, 6))  # counts: a much larger scale than a dot product
    c = rng.normal(size=(4, 6))
    return [
        Case(
            ({"ALS": a, "popularity": b}, {"ALS": 0.7, "popularity": 0.3}),
            label="two recommenders on different scales",
        ),
        Case(
            ({"ALS": a, "tags": c, "popularity": b}, {"ALS": 0.5, "tags": 0.5}),
            label="a recommender without a weight",
        ),
    ]


def group_blend_cases() -> list[Case]:
    """Exercise 7.4: two models, tracks with and without tags, fitting rows among them."""
    rng = np.random.default_rng(13)
    n, f = 80, 5
    y = rng.normal(size=(n, f))
    has_tags = rng.random(n) < 0.6
    audio = y + 0.6 * rng.normal(size=y.shape)
    # Tags: good where a track has them, one constant vector where it has none.
    tags = np.where(has_tags[:, None], y + 0.3 * rng.normal(size=y.shape), 0.2)
    loud = 50.0 * audio  # the same audio model with outputs 50 times larger
    fit_rows = np.sort(rng.choice(n, size=50, replace=False))
    return [
        Case(([audio, tags], y, has_tags, fit_rows), label="audio and tags"),
        Case(([loud, tags], y, has_tags, fit_rows), label="audio with 50 times larger outputs"),
        Case(([tags, audio], y, has_tags, fit_rows[::2]), label="the models in the other order"),
    ]


def bootstrap_cases() -> list[Case]:
    """Exercise 7.5: paired distances that share each track's difficulty."""
    rng = np.random.default_rng(17)
    hard = rng.uniform(0.2, 0.9, size=120)  # both models find the same tracks hard
    a = hard + 0.03 * rng.normal(size=120)
    b = hard + 0.02 + 0.03 * rng.normal(size=120)
    spread = 3.0 * hard[:90]  # a wider spread of difficulty, shared again
    skewed = spread + rng.exponential(0.04, size=90)  # skewed per-track differences
    return [
        Case((a, b, 0.95), label="two models that find the same tracks hard"),
        Case((a, b, 0.8), label="the same models, an 80 % interval"),
        Case((skewed, spread + 0.01 * rng.normal(size=90), 0.9), label="skewed differences"),
    ]


def nnls_weights(columns: list[np.ndarray], target: np.ndarray) -> np.ndarray:
    from scipy.optimize import nnls

    return nnls(np.stack([c.ravel() for c in columns], axis=1), target.ravel())[0]


def blend_slips(predictions: Sequence[np.ndarray], targets: np.ndarray) -> dict[str, Any]:
    units = [unit_rows(p, dtype=np.float64) for p in predictions]
    y_unit = unit_rows(targets, dtype=np.float64)
    a = np.stack([u.ravel() for u in units], axis=1)
    least_squares = np.linalg.lstsq(a, y_unit.ravel(), rcond=None)[0]
    return {
        "these are least-squares weights with the negative ones set to zero afterwards; "
        "the others were fitted while the negative weight helped, so the fit has to know "
        "the constraint from the start": np.clip(least_squares, 0.0, None),
        "the rows were not scaled to unit length, so a model with larger outputs gets a "
        "smaller weight, and long target rows count more": nnls_weights(
            [np.asarray(p, dtype=np.float64) for p in predictions],
            np.asarray(targets, dtype=np.float64),
        ),
        "only the predictions were scaled to unit length; the targets' rows need it too, "
        "since the cosine distance ignores their length as well": nnls_weights(
            units, np.asarray(targets, dtype=np.float64)
        ),
        "these are equal weights: the blend has to be fitted to the targets": np.ones(
            len(predictions)
        ),
    }


def untagged_slips(tags: Any, buckets: np.ndarray) -> dict[str, dict[str, float]]:
    stored = sp.csr_matrix(tags)
    totals = np.asarray(stored.sum(axis=1)).ravel()
    entries = stored.getnnz(axis=1)
    dense = stored.toarray()
    names = sorted(set(buckets.tolist()))
    untagged = totals <= 0
    return {
        "a track that stores entries is not necessarily tagged: a stored zero is no tag, so "
        "look at the counts, not at what is stored": {
            b: float(np.mean(entries[buckets == b] == 0)) for b in names
        },
        "this is the share of empty (track, tag) cells; the exercise asks for the share of "
        "tracks without any tag": {b: float(np.mean(dense[buckets == b] == 0)) for b in names},
        "this is the share of *tagged* tracks; the exercise asks for the untagged ones": {
            b: float(np.mean(~untagged[buckets == b])) for b in names
        },
        "this is how the untagged tracks are spread over the buckets; the exercise asks, "
        "within each bucket, which share of its tracks is untagged": {
            b: float(np.sum(untagged[buckets == b]) / max(untagged.sum(), 1)) for b in names
        },
        "these are counts of untagged tracks; divide by the tracks in each bucket": {
            b: float(np.sum(untagged[buckets == b])) for b in names
        },
    }


def paired_slips(a: np.ndarray, b: np.ndarray) -> dict[str, tuple[float, float]]:
    d, n = a - b, a.size
    return {
        "the sign: the difference is a minus b, track by track": (
            -d.mean(),
            d.std(ddof=1) / n**0.5,
        ),
        "the standard deviation of a sample of differences divides by n - 1, not n": (
            d.mean(),
            d.std() / n**0.5,
        ),
        "the standard error divides the standard deviation by the square root of n, not by n": (
            d.mean(),
            d.std(ddof=1) / n,
        ),
        "this is the standard error of two independent samples; the tracks are the same, so "
        "take the differences track by track first": (
            d.mean(),
            float(np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)),
        ),
    }


def standardize_slips(scores: np.ndarray) -> dict[str, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    return {
        "each user's scores (a row) are standardised, not each item's (a column)": (
            standardize_scores(s.T).T
        ),
        "the scores are only centred; divide by each row's standard deviation too": (
            s - s.mean(axis=1, keepdims=True)
        ),
    }


def group_blends(predictions, targets, has_tags, fit_rows) -> dict[str, np.ndarray]:
    """The right blend (key ``""``) and one blend per slip, for one case."""
    flags, rows = np.asarray(has_tags, dtype=bool), np.asarray(fit_rows)

    def weights(on):
        return fit_blend_weights([p[on] for p in predictions], targets[on])

    w = {flag: weights(rows[flags[rows] == flag]) for flag in (True, False)}
    w_all = {flag: weights(np.flatnonzero(flags == flag)) for flag in (True, False)}

    def by_group(ws, raw=False):
        def one(v):
            return sum(x * p for x, p in zip(v, predictions)) if raw else blend(predictions, v)

        return np.where(flags[:, None], one(ws[True]), one(ws[False]))

    return {
        "": by_group(w),
        "this is one set of weights for all tracks; fit one set on the tagged fitting "
        "tracks and one on the untagged ones": blend(predictions, weights(rows)),
        "the two sets are swapped: each track should get the weights of its own group": (
            by_group({True: w[False], False: w[True]})
        ),
        "the weights were fitted on every track, not only on the fitting rows": by_group(w_all),
        "the weights multiply the raw predictions; the blend adds unit-length rows, as "
        "the weights were fitted on them": by_group(w, raw=True),
    }


def bucket_cases() -> list[Case]:
    """Exercise 7b.5: distinct listener counts, whose order differs from the plays' totals."""
    rng = np.random.default_rng(19)
    made = []
    for n_items, head, tail in ((20, 0.2, 0.5), (30, 0.1, 0.3), (25, 0.2, 0.4)):
        plays = np.zeros((40, n_items), dtype=np.float32)
        for item, n_listeners in enumerate(rng.permutation(np.arange(1, n_items + 1))):
            users = rng.choice(40, size=min(n_listeners, 40), replace=False)
            plays[users, item] = rng.integers(1, 12, size=users.size)
        made.append(
            Case(
                (sp.csr_matrix(plays), head, tail),
                label=f"{n_items} items, head {head:.0%}, tail {tail:.0%}",
            )
        )
    return made


def bucket_slips(plays: Any, head: float, tail: float) -> dict[str, np.ndarray]:
    csc = sp.csc_matrix(plays)

    def label(popularity, reverse=False):
        order = np.argsort(popularity if reverse else -popularity, kind="stable")
        n = popularity.size
        out = np.full(n, "torso", dtype=object)
        out[order[: int(round(head * n))]] = "head"
        out[order[n - int(round(tail * n)) :]] = "tail"
        return out.astype(str)

    listeners = np.diff(csc.indptr)
    return {
        "the items were ranked by their number of plays; popularity here is the number of "
        "listeners, users who played the item": label(np.asarray(csc.sum(axis=0)).ravel()),
        "head and tail are swapped: the head is the most listened share": label(
            listeners, reverse=True
        ),
    }


def tfidf_cases() -> list[Case]:
    """Exercise 7b.6: tag counts with untagged rows and tags given many times."""
    rng = np.random.default_rng(23)
    counts = rng.poisson(rng.uniform(0.0, 2.5, size=(14, 1)), size=(14, 6)).astype(float)
    counts[[2, 9]] = 0.0  # untagged items keep a row of zeros
    counts[:, 4] *= 7  # a tag given many times by few items
    fit_rows = np.arange(0, 14, 2)
    rare = counts.copy()
    rare[fit_rows, 5] = 0.0  # a tag that no fitting row carries
    return [
        Case((counts, fit_rows), label="dense counts, every other item fits the idf"),
        Case((sp.csr_matrix(counts), np.arange(10)), label="sparse counts"),
        Case((rare, fit_rows), label="a tag that no fitting item carries"),
    ]


def tfidf_slips(tags: Any, fit_rows: Any) -> dict[str, np.ndarray]:
    counts = sp.csr_matrix(tags).toarray().astype(np.float64)
    rows = np.asarray(fit_rows)

    def features(tf, df, n, smooth=True):
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0 if smooth else np.log(n / df)
        return tf * idf[None, :]

    log_tf, df = np.log1p(counts), (counts[rows] > 0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):  # the plain idf of df = 0
        return {
            "the idf was computed on every item; compute it on fit_rows only, or the other "
            "items' tags leak into it": unit_rows(
                features(log_tf, (counts > 0).sum(0), len(counts))
            ),
            "the document frequency counts the items that carry a tag, not how often it was "
            "given": unit_rows(features(log_tf, counts[rows].sum(axis=0), rows.size)),
            "the counts enter as log(1 + count), not as they are": unit_rows(
                features(counts, df, rows.size)
            ),
            "each row is scaled to unit length at the end": features(log_tf, df, rows.size),
            "this is the plain idf, log(n / df); use the smoothed one of the exercise": unit_rows(
                features(log_tf, df, rows.size, smooth=False)
            ),
        }


def same_direction(expected: Any, got: Any) -> str | None:
    """Weights match up to a positive factor (the cosine distance ignores the blend's scale)."""
    exp = np.asarray(expected, dtype=np.float64)
    try:
        arr = np.asarray(got, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return f"expected an array of {exp.size} weights, got a {type(got).__name__}"
    if arr.shape != exp.shape:
        return f"expected {exp.size} weights (one per model), got {arr.size}"
    if np.any(arr < -1e-9):
        return (
            f"weight {int(np.argmin(arr))} is negative ({arr.min():.3g}); blending weights "
            "must be >= 0"
        )
    if arr.sum() <= 0:
        return "all weights are zero"
    return compare_values(exp / exp.sum(), arr / arr.sum(), rtol=1e-3, atol=1e-4)


def same_shares(expected: Mapping[str, float], got: Any) -> str | None:
    if not isinstance(got, Mapping):
        return f"expected a dict bucket -> share, got a {type(got).__name__}"
    missing = [b for b in expected if b not in got]
    if missing:
        return f"no share for bucket(s) {missing}"
    for b, v in expected.items():
        try:
            g = float(got[b])
        except (TypeError, ValueError):
            return f"the share for {b!r} is not a number ({got[b]!r})"
        if not np.isclose(g, v, atol=1e-9):
            return f"the share of untagged tracks in the {b!r} bucket is {v:.3f}, you give {g:.3f}"
    return None
