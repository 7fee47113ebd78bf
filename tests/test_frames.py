"""narrative.frames.isin gives pandas' answer, whatever the two sides hold."""

import numpy as np
import pandas as pd
import pytest

from narrative.frames import isin

TEXTS = pd.Series(["a", "b", None, "c", "a", "ü", ""], dtype="str")


@pytest.mark.parametrize("allowed", [
    ["a", "c"],
    {"b", "ü", ""},
    pd.Series(["c", None], dtype="str"),
    pd.Index(["a", "zz"]),
    pd.Series(["a", "b"], dtype="object"),
    [],
    ["nope"],
    [1, 2],
    ["a", 1],
])
def test_same_answer_as_pandas(allowed):
    got = isin(TEXTS, allowed)
    assert got.dtype == bool and got.shape == (len(TEXTS),)
    np.testing.assert_array_equal(got, TEXTS.isin(allowed).to_numpy())


def test_numbers_and_objects_go_to_pandas():
    numbers = pd.Series([1, 2, 3, np.nan])
    np.testing.assert_array_equal(isin(numbers, [2, np.nan]), [False, True, False, True])
    objects = pd.Series(["a", 1, None], dtype="object")
    np.testing.assert_array_equal(isin(objects, ["a"]), [True, False, False])


def test_large_id_sets_agree():
    rng = np.random.default_rng(0)
    ids = pd.Series([f"{v:016x}" for v in rng.integers(0, 2**60, 5000)], dtype="str")
    allowed = ids.sample(2500, random_state=1).tolist() + ["absent"]
    got = isin(ids, allowed)
    assert got.sum() == len(set(allowed) & set(ids))
    np.testing.assert_array_equal(got, ids.isin(allowed).to_numpy())
