"""course_lib.spark.checks: the exercise checks of chapter 02b reject plausible wrong answers."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course_lib import checks
from course_lib import spark as S


def test_the_facade_and_the_package_give_the_same_checks():
    assert checks.check_spark_reg_param is S.check_spark_reg_param
    assert checks.check_plays_to_rows is S.check_plays_to_rows


def test_check_spark_reg_param(capsys):
    def right(lam, plays):
        plays = sp.csr_matrix(plays)
        plays.eliminate_zeros()
        users = np.count_nonzero(np.diff(plays.indptr))
        items = np.count_nonzero(np.diff(plays.tocsc().indptr))
        return lam * (users + items) / (2 * plays.nnz)

    def counts_every_row(lam, plays):  # uses the shape, not the active rows
        return lam * sum(plays.shape) / (2 * plays.nnz)

    def inverted(lam, plays):
        return right(1.0, plays) / lam

    def stub(lam, plays):
        raise NotImplementedError

    assert checks.check_spark_reg_param(right).passed
    assert checks.check_spark_reg_param(counts_every_row).status == "wrong"
    assert checks.check_spark_reg_param(inverted).status == "wrong"
    assert checks.check_spark_reg_param(stub).status == "not implemented"
    assert "Not implemented yet" in capsys.readouterr().out


def test_check_plays_to_rows():
    def right(plays):
        coo = sp.coo_matrix(plays)
        keep = coo.data != 0
        return coo.row[keep], coo.col[keep], coo.data[keep]

    def keeps_zeros(plays):
        coo = sp.coo_matrix(plays)
        return coo.row, coo.col, coo.data

    def swapped(plays):
        user, item, values = right(plays)
        return item, user, values

    def stub(plays):
        raise NotImplementedError

    assert checks.check_plays_to_rows(right).passed
    assert checks.check_plays_to_rows(keeps_zeros).status == "wrong"
    assert checks.check_plays_to_rows(swapped).status == "wrong"
    assert checks.check_plays_to_rows(stub).status == "not implemented"
