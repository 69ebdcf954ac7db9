"""Tests of course_lib.fusion.checks, the exercise checks of chapter 07, through the facade."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import nnls

from course_lib import checks


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
