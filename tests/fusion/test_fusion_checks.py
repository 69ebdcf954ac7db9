"""Tests of course_lib.fusion.checks, the exercise checks of chapter 07, through the facade."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import nnls

from course_lib import checks, evaluation


def _stub(*args):
    raise NotImplementedError("your code here")


def test_check_blend_weights_accepts_nnls_and_rejects_plausible_mistakes(capsys, unit):
    def nnls_blend(preds, y):
        return nnls(np.stack([unit(p).ravel() for p in preds], axis=1), unit(y).ravel())[0]

    def lstsq_blend(preds, y):
        a = np.stack([unit(p).ravel() for p in preds], axis=1)
        return np.linalg.lstsq(a, unit(y).ravel(), rcond=None)[0]

    assert checks.check_blend_weights(nnls_blend).passed
    assert checks.check_blend_weights(lambda p, y: 3 * nnls_blend(p, y)).passed  # scale is free
    wrong = {
        "unconstrained least squares": lstsq_blend,
        "clipped least squares": lambda p, y: np.clip(lstsq_blend(p, y), 0, None),
        "rows not normalised": lambda p, y: nnls(np.stack([q.ravel() for q in p], 1), y.ravel())[0],
        "equal weights": lambda p, y: np.ones(len(p)),
    }
    for name, fn in wrong.items():
        assert checks.check_blend_weights(fn).status == "wrong", name
    assert checks.check_blend_weights(_stub).status == "not implemented"
    assert "Not implemented yet" in capsys.readouterr().out


def test_check_untagged_share_rejects_counting_stored_entries():
    def right(tags, buckets):
        s = np.asarray(sp.csr_matrix(tags).sum(axis=1)).ravel()
        return {b: float(np.mean(s[buckets == b] == 0)) for b in set(buckets)}

    def stored(tags, buckets):
        s = sp.csr_matrix(tags).getnnz(axis=1)
        return {b: float(np.mean(s[buckets == b] == 0)) for b in set(buckets)}

    def cells(tags, buckets):
        d = sp.csr_matrix(tags).toarray()
        return {b: float(np.mean(d[buckets == b] == 0)) for b in set(buckets)}

    assert checks.check_untagged_share(right).passed
    assert checks.check_untagged_share(stored).status == "wrong"
    assert checks.check_untagged_share(cells).status == "wrong"
    assert checks.check_untagged_share(_stub).status == "not implemented"


def test_check_tail_tags_answer():
    assert checks.check_tail_tags_answer(lambda: "B").passed
    assert checks.check_tail_tags_answer(lambda: " b) because ...").passed
    for letter in ("A", "C", "D", "E", ""):
        assert checks.check_tail_tags_answer(lambda letter=letter: letter).status == "wrong"
    assert checks.check_tail_tags_answer(_stub).status == "not implemented"


# --- issue 15: hints guide without the code, wrong letters cannot be eliminated ------------------


def test_tail_tags_choices_do_not_reveal_the_answer():
    assert sorted(checks.TAIL_TAGS_CHOICES) == ["A", "B", "C", "D"]
    assert all(isinstance(text, str) for text in checks.TAIL_TAGS_CHOICES.values())


def test_a_wrong_letter_gets_the_same_feedback_whatever_the_letter(capsys):
    feedback, printed = {}, set()
    for letter in "ACD":
        result = checks.check_tail_tags_answer(lambda letter=letter: letter)
        assert result.problems == [f'case 1 ("the question"): {letter} is not this one']
        feedback[letter] = result.hint
        printed.add(capsys.readouterr().out.replace(f"{letter} is not", "? is not"))
    assert len(set(feedback.values())) == 1, "the nudge must not depend on the wrong letter"
    assert len(printed) == 1, "the verdict must read the same for every wrong letter"
    hint = feedback["A"].lower()
    for word in ("vocabulary", "tf-idf", "idf", "noisier", "all-zero", "same prediction"):
        assert word not in hint, f"the nudge gives away {word!r}"


def test_hints_guide_without_giving_the_code():
    blend = checks.check_blend_weights(lambda p, y: np.ones(len(p)))
    share = checks.check_untagged_share(lambda tags, buckets: {})
    for result in (blend, share):
        assert result.status == "wrong" and result.hint
        for code in ("nnls", "scipy", "np.", ".sum(", "getnnz", "ravel", "lstsq", "average"):
            assert code not in result.hint, f"the hint of {result.name} spells out {code!r}"


# --- issue 23: the course's functions are not answers; each slip is named ----------------------

USES_COURSE = "uses the course's implementation"


def test_the_checks_refuse_the_course_functions():
    from course_lib import fusion

    assert checks.check_blend_weights(fusion.fit_blend_weights).status == USES_COURSE
    assert checks.check_untagged_share(fusion.untagged_share).status == USES_COURSE


def test_check_blend_weights_names_the_slip(capsys, unit):
    def lstsq(preds, y, scale_targets=True):
        a = np.stack([unit(p).ravel() for p in preds], axis=1)
        return np.linalg.lstsq(a, (unit(y) if scale_targets else y).ravel(), rcond=None)[0]

    cases = {
        "negative": lstsq,
        "set to zero afterwards": lambda p, y: np.clip(lstsq(p, y), 0, None),
        "not scaled to unit length": lambda p, y: nnls(
            np.stack([q.ravel() for q in p], 1), y.ravel()
        )[0],
        "only the predictions": lambda p, y: nnls(
            np.stack([unit(q).ravel() for q in p], 1), y.ravel()
        )[0],
        "equal weights": lambda p, y: np.ones(len(p)),
    }
    for words, fn in cases.items():
        assert checks.check_blend_weights(fn).status == "wrong", words
        assert words in " ".join(capsys.readouterr().out.split()), words


def _untagged(tags, buckets):
    s = np.asarray(sp.csr_matrix(tags).sum(axis=1)).ravel() == 0
    return s, {b: s[buckets == b] for b in set(buckets)}


def test_check_untagged_share_names_the_slip(capsys):
    cases = {
        "stored zero is no tag": lambda t, b: {
            k: float(np.mean(sp.csr_matrix(t).getnnz(axis=1)[b == k] == 0)) for k in set(b)
        },
        "empty (track, tag) cells": lambda t, b: {
            k: float(np.mean(sp.csr_matrix(t).toarray()[b == k] == 0)) for k in set(b)
        },
        "*tagged* tracks": lambda t, b: {
            k: float(1 - v.mean()) for k, v in _untagged(t, b)[1].items()
        },
        "spread over the buckets": lambda t, b: {
            k: float(v.sum() / _untagged(t, b)[0].sum()) for k, v in _untagged(t, b)[1].items()
        },
        "counts of untagged": lambda t, b: {
            k: float(v.sum()) for k, v in _untagged(t, b)[1].items()
        },
    }
    for words, fn in cases.items():
        assert checks.check_untagged_share(fn).status == "wrong", words
        assert words in " ".join(capsys.readouterr().out.split()), words


def test_check_paired_se_accepts_the_formula_and_names_the_slips(capsys):
    from course_lib import fusion

    def right(a, b):
        d = np.asarray(a) - np.asarray(b)
        return d.mean(), d.std(ddof=1) / np.sqrt(d.size)

    assert checks.check_paired_se(right).passed
    wrong = {
        "sign": lambda a, b: right(b, a),
        "ddof 0": lambda a, b: ((a - b).mean(), (a - b).std() / np.sqrt(a.size)),
        "over n": lambda a, b: ((a - b).mean(), (a - b).std(ddof=1) / a.size),
        "unpaired": lambda a, b: (
            (a - b).mean(),
            np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size),
        ),
    }
    for name, fn in wrong.items():
        assert checks.check_paired_se(fn).status == "wrong", name
    assert "independent samples" in capsys.readouterr().out

    def handed_in(a, b):
        r = fusion.paired_difference(a, b)
        return r["mean"], r["se"]

    assert checks.check_paired_se(handed_in).status == "uses the course's implementation"

    def chapter_01s(a, b):  # the comparison chapter 01 teaches, which paired_difference uses
        r = evaluation.paired_comparison(a, b)
        return r.difference, r.standard_error

    assert checks.check_paired_se(chapter_01s).status == "uses the course's implementation"
    assert checks.check_paired_se(_stub).status == "not implemented"


def test_check_standardize_scores_wants_rows_and_zeros_for_constant_rows():
    from course_lib import fusion

    def right(s):
        s = np.asarray(s, dtype=float)
        sd = s.std(axis=1, keepdims=True)
        return np.where(sd > 0, (s - s.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1), 0)

    assert checks.check_standardize_scores(right).passed
    wrong = {
        "columns": lambda s: right(np.asarray(s).T).T,
        "centred only": lambda s: s - s.mean(axis=1, keepdims=True),
        "NaN rows": lambda s: (s - s.mean(axis=1, keepdims=True)) / s.std(axis=1, keepdims=True),
    }
    for name, fn in wrong.items():
        assert checks.check_standardize_scores(fn).status == "wrong", name
    handed_in = checks.check_standardize_scores(fusion.standardize_scores)
    assert handed_in.status == "uses the course's implementation"


def test_check_ensemble_scores_wants_standardised_sources():
    from course_lib import fusion

    def right(sources, weights):
        return sum(w * fusion.standardize_scores(sources[n]) for n, w in weights.items())

    assert checks.check_ensemble_scores(right).passed  # the helper is allowed
    raw = checks.check_ensemble_scores(
        lambda src, w: sum(v * np.asarray(src[n]) for n, v in w.items())
    )
    assert raw.status == "wrong" and "standardise" in " ".join(raw.problems)
    every = checks.check_ensemble_scores(
        lambda src, w: sum(w.get(n, 1.0) * fusion.standardize_scores(s) for n, s in src.items())
    )
    assert every.status == "wrong", "a source without a weight counts 0"
    handed_in = checks.check_ensemble_scores(fusion.ensemble_scores)
    assert handed_in.status == "uses the course's implementation"


def _nnls_weights(parts, targets, unit):
    return nnls(np.stack([unit(p).ravel() for p in parts], 1), unit(targets).ravel())[0]


def test_check_group_blend_names_each_slip(capsys, unit):
    from course_lib import fusion

    def group_blend(preds, y, has_tags, fit_rows, *, raw=False, swap=False):
        out = np.zeros(y.shape)
        for flag in (True, False):
            rows = fit_rows[has_tags[fit_rows] == (flag != swap)]
            w = _nnls_weights([p[rows] for p in preds], y[rows], unit)
            mixed = sum(x * (p if raw else unit(p)) for x, p in zip(w, preds))
            out[has_tags == flag] = mixed[has_tags == flag]
        return out

    def one_set(preds, y, has_tags, fit_rows):
        w = _nnls_weights([p[fit_rows] for p in preds], y[fit_rows], unit)
        return sum(x * unit(p) for x, p in zip(w, preds))

    def with_course(preds, y, has_tags, fit_rows):  # a wrapper around the course's blend
        out = np.zeros(y.shape)
        for flag in (True, False):
            rows = fit_rows[has_tags[fit_rows] == flag]
            w = fusion.fit_blend_weights([p[rows] for p in preds], y[rows])
            out[has_tags == flag] = fusion.blend(preds, w)[has_tags == flag]
        return out

    assert checks.check_group_blend(group_blend).passed
    assert checks.check_group_blend(lambda *a: 4 * group_blend(*a)).passed  # scale is free
    slips = {
        "one set of weights for all tracks": one_set,
        "the two sets are swapped": lambda *a: group_blend(*a, swap=True),
        "fitted on every track": lambda p, y, h, r: group_blend(p, y, h, np.arange(len(y))),
        "multiply the raw predictions": lambda *a: group_blend(*a, raw=True),
    }
    for words, fn in slips.items():
        result = checks.check_group_blend(fn)
        assert result.status == "wrong" and words in " ".join(result.problems), words
    assert checks.check_group_blend(with_course).status == USES_COURSE
    assert checks.check_group_blend(_stub).status == "not implemented"
    assert "Not implemented yet" in capsys.readouterr().out


def test_check_bootstrap_interval_names_each_slip():
    from scipy import stats

    from course_lib import fusion

    def boot(a, b, level, n_boot=2000, seed=0):
        d = np.asarray(a) - np.asarray(b)
        rng = np.random.default_rng(seed)
        means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
        return tuple(np.quantile(means, [(1 - level) / 2, (1 + level) / 2]))

    def unpaired(a, b, level):
        rng, n = np.random.default_rng(0), a.size
        means = a[rng.integers(0, n, (2000, n))].mean(1) - b[rng.integers(0, n, (2000, n))].mean(1)
        return tuple(np.quantile(means, [(1 - level) / 2, (1 + level) / 2]))

    def normal(a, b, level):
        d = a - b
        half = stats.norm.ppf(0.5 + level / 2) * d.std(ddof=1) / np.sqrt(d.size)
        return d.mean() - half, d.mean() + half

    for seed in range(5):  # any seed and a range of resample counts pass
        assert checks.check_bootstrap_interval(lambda a, b, q, s=seed: boot(a, b, q, seed=s)).passed
    assert checks.check_bootstrap_interval(lambda a, b, q: boot(a, b, q, n_boot=1000)).passed
    slips = {
        "resampled independently": unpaired,
        "the normal interval": normal,
        "percentiles of the per-track differences": lambda a, b, q: tuple(
            np.quantile(a - b, [(1 - q) / 2, (1 + q) / 2])
        ),
        "the sign": lambda a, b, q: boot(b, a, q),
        "the level asked for": lambda a, b, q: boot(a, b, 0.95),
    }
    for words, fn in slips.items():
        result = checks.check_bootstrap_interval(fn)
        assert result.status == "wrong" and words in " ".join(result.problems), words
    course = checks.check_bootstrap_interval(
        lambda a, b, q: [fusion.paired_difference(a, b, level=q)[k] for k in ("low", "high")]
    )
    assert course.status == USES_COURSE
    chapter_01s = checks.check_bootstrap_interval(
        lambda a, b, q: (lambda r: (r.low, r.high))(evaluation.paired_comparison(a, b, level=q))
    )
    assert chapter_01s.status == USES_COURSE
    assert checks.check_bootstrap_interval(_stub).status == "not implemented"


def test_check_popularity_buckets_names_each_slip(capsys):
    from course_lib import fusion

    def buckets(plays, head, tail, *, by_plays=False, reverse=False):
        csc = sp.csc_matrix(plays)
        popular = np.asarray(csc.sum(axis=0)).ravel() if by_plays else np.diff(csc.indptr)
        order = np.argsort(popular if reverse else -popular, kind="stable")
        n = popular.size
        labels = np.full(n, "torso", dtype=object)
        labels[order[: round(head * n)]] = "head"
        labels[order[n - round(tail * n) :]] = "tail"
        return labels

    assert checks.check_popularity_buckets(buckets).passed
    assert checks.check_popularity_buckets(lambda *a: list(buckets(*a))).passed  # a list
    slips = {
        "number of plays": lambda *a: buckets(*a, by_plays=True),
        "head and tail are swapped": lambda *a: buckets(*a, reverse=True),
    }
    for words, fn in slips.items():
        result = checks.check_popularity_buckets(fn)
        assert result.status == "wrong" and words in " ".join(result.problems), words
    assert checks.check_popularity_buckets(fusion.popularity_buckets).status == USES_COURSE
    wrapper = checks.check_popularity_buckets(lambda *a: fusion.popularity_buckets(*a))
    assert wrapper.status == USES_COURSE
    assert checks.check_popularity_buckets(_stub).status == "not implemented"
    assert "Not implemented yet" in capsys.readouterr().out


def test_check_tfidf_names_each_slip(unit):
    from course_lib import fusion

    def tfidf(tags, fit_rows, *, all_rows=False, df_counts=False, raw=False, scaled=True):
        counts = sp.csr_matrix(tags).toarray().astype(float)
        rows = np.arange(len(counts)) if all_rows else np.asarray(fit_rows)
        df = counts[rows].sum(0) if df_counts else (counts[rows] > 0).sum(0)
        idf = np.log((1 + rows.size) / (1 + df)) + 1
        x = (counts if raw else np.log1p(counts)) * idf
        return unit(x) if scaled else x

    assert checks.check_tfidf(tfidf).passed
    slips = {
        "computed on every item": lambda t, r: tfidf(t, r, all_rows=True),
        "not how often it was given": lambda t, r: tfidf(t, r, df_counts=True),
        "log(1 + count)": lambda t, r: tfidf(t, r, raw=True),
        "unit length": lambda t, r: tfidf(t, r, scaled=False),
    }
    for words, fn in slips.items():
        result = checks.check_tfidf(fn)
        assert result.status == "wrong" and words in " ".join(result.problems), words

    def plain_idf(tags, fit_rows):
        counts = sp.csr_matrix(tags).toarray().astype(float)
        with np.errstate(divide="ignore"):
            idf = np.log(len(fit_rows) / (counts[fit_rows] > 0).sum(0))
        return unit(np.log1p(counts) * idf)

    plain = checks.check_tfidf(plain_idf)
    assert plain.status == "wrong" and "plain idf" in " ".join(plain.problems)
    course = checks.check_tfidf(lambda t, r: fusion.tag_features(t, "tfidf", fit_rows=r))
    assert course.status == USES_COURSE
    assert checks.check_tfidf(_stub).status == "not implemented"
