"""Tests of course_lib.fusion.mlp (chapter 07, sections 4 and 7): late and early fusion."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import fusion as fu


def test_build_factor_mlp_layers_and_errors():
    m = fu.build_factor_mlp({"audio": 8, "tags": 5}, 4, hidden_units=(16,))
    names = [layer.name for layer in m.layers]
    expected = {"audio", "tags", "audio_dense", "tags_dense", "fusion", "hidden1", "factors"}
    assert expected <= set(names)
    assert m.output_shape == (None, 4)
    single = fu.build_factor_mlp(3, 2, hidden_units=())
    assert "fusion" not in [layer.name for layer in single.layers]
    with pytest.raises(ValueError, match=r"input_dims\['a'\] must be an integer >= 1"):
        fu.build_factor_mlp({"a": 0}, 2)
    with pytest.raises(ValueError, match="dropout"):
        fu.build_factor_mlp(3, 2, dropout=1.0)


def test_late_fusion_has_a_branch_per_source_and_the_counted_parameters():
    dims, n_factors = {"audio": 8, "tags": 5}, 4
    late = fu.build_factor_mlp(dims, n_factors, branch_units=6, hidden_units=(7,))
    types = {layer.name: type(layer).__name__ for layer in late.layers}
    assert types["audio_dense"] == types["tags_dense"] == "Dense"
    assert types["fusion"] == "Concatenate" and late.get_layer("fusion").output.shape[1] == 12
    # (n_in + 1) * n_out per dense layer: two branches, the shared hidden layer, the output
    assert late.count_params() == 9 * 6 + 6 * 6 + 13 * 7 + 8 * 4
    early = fu.build_factor_mlp({"audio_tags": 13}, n_factors, branch_units=6, hidden_units=(7,))
    assert early.count_params() == 14 * 6 + 7 * 7 + 8 * 4
    assert "fusion" not in [layer.name for layer in early.layers]


def _linear_problem(seed=0, n=300):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=(n, 6)).astype(np.float32)
    x2 = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x1 @ rng.normal(size=(6, 5)) + x2 @ rng.normal(size=(3, 5))).astype(np.float32)
    split = {"train": np.arange(0, 200), "val": np.arange(200, 250), "test": np.arange(250, n)}
    return {"a": x1, "b": x2}, y, split


def test_fit_factor_mlp_learns_and_fusion_helps(unit):
    feats, y, split = _linear_problem()
    kw = {"epochs": 30, "patience": 5, "dropout": 0.1, "batch_size": 32, "seed": 0}
    only_a = fu.fit_factor_mlp(feats, y, split, sources=["a"], **kw)
    both = fu.fit_factor_mlp(feats, y, split, **kw)
    test = split["test"]
    mean = np.repeat(unit(y[split["train"]]).mean(axis=0, keepdims=True), len(test), axis=0)
    d_mean = fu.cosine_distances(mean, y[test]).mean()
    d_a = fu.cosine_distances(only_a.predict(feats, test), y[test]).mean()
    d_both = fu.cosine_distances(both.predict(feats, test), y[test]).mean()
    assert d_a < d_mean and d_both < d_a
    assert both.sources == ("a", "b") and 1 <= both.best_epoch <= both.epochs <= 30
    assert both.seconds_per_epoch > 0
    again = fu.fit_factor_mlp(feats, y, split, **kw)
    np.testing.assert_allclose(again.predict(feats, test), both.predict(feats, test), atol=1e-5)


def test_early_fusion_concatenates_the_sources_into_one_input():
    feats, y, split = _linear_problem()
    kw = {"epochs": 30, "patience": 5, "dropout": 0.1, "batch_size": 32, "seed": 0}
    early = fu.fit_factor_mlp(feats, y, split, fusion="early", **kw)
    late = fu.fit_factor_mlp(feats, y, split, **kw)
    assert early.fusion == "early" and late.fusion == "late"
    assert len(early.model.inputs) == 1 and early.model.input_shape == (None, 9)
    assert len(late.model.inputs) == 2
    assert "fusion" not in [layer.name for layer in early.model.layers]
    test = split["test"]
    d_early = fu.cosine_distances(early.predict(feats, test), y[test]).mean()
    assert d_early < 0.5, "early fusion should learn the linear map too"
    assert early.model.count_params() != late.model.count_params()
    with pytest.raises(ValueError, match="fusion"):
        fu.fit_factor_mlp(feats, y, split, fusion="middle", **kw)


def test_default_batch_size_is_the_talks_256_for_the_attribute_model():
    import inspect

    assert inspect.signature(fu.fit_factor_mlp).parameters["batch_size"].default == 256


def test_fit_factor_mlp_rejects_misaligned_inputs():
    feats, y, split = _linear_problem(n=260)
    with pytest.raises(ValueError, match="targets has"):
        fu.fit_factor_mlp(feats, y[:-1], split)
    with pytest.raises(ValueError, match="different numbers of rows"):
        fu.fit_factor_mlp({"a": feats["a"], "b": feats["b"][:-1]}, y, split)
    with pytest.raises(ValueError, match="only 260 rows"):
        fu.fit_factor_mlp(feats, y, {"train": np.arange(10), "val": np.array([300])})
    with pytest.raises(ValueError, match="overlap"):
        fu.fit_factor_mlp(feats, y, {"train": np.arange(10), "val": np.arange(5, 15)})
    with pytest.raises(ValueError, match="features has no"):
        fu.fit_factor_mlp(feats, y, split, sources=["c"])


# --- issue 17: every check below fires before any training ------------------------------------


def test_nan_features_and_targets_are_refused():
    feats, y, split = _linear_problem(n=260)
    bad = feats["b"].copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"features\['b'\] contains NaN.*rows \[7\]"):
        fu.fit_factor_mlp({"a": feats["a"], "b": bad}, y, split)
    bad_y = y.copy()
    bad_y[3] = np.inf
    with pytest.raises(ValueError, match=r"targets contains NaN or infinite.*rows \[3\]"):
        fu.fit_factor_mlp(feats, bad_y, split)


def test_mismatched_and_empty_sources_are_refused():
    feats, y, split = _linear_problem(n=260)
    with pytest.raises(ValueError, match=r"different numbers of rows \{'a': 260, 'b': 259\}"):
        fu.fit_factor_mlp({"a": feats["a"], "b": feats["b"][:-1]}, y, split)
    with pytest.raises(ValueError, match=r"features\['b'\] is empty"):
        fu.fit_factor_mlp({"a": feats["a"], "b": np.zeros((260, 0))}, y, split)
    with pytest.raises(ValueError, match="features is empty"):
        fu.fit_factor_mlp({}, y, split)
    with pytest.raises(ValueError, match=r"sources is empty.*sources=\['tags'\]"):
        fu.fit_factor_mlp(feats, y, split, sources=[])
    with pytest.raises(ValueError, match="must be non-empty"):
        fu.fit_factor_mlp(feats, y, {"train": np.arange(10), "val": np.array([], dtype=int)})
    with pytest.raises(ValueError, match=r"split needs a 'val' array"):
        fu.fit_factor_mlp(feats, y, {"train": np.arange(10)})


def test_bool_and_string_arguments_are_refused():
    feats, y, split = _linear_problem(n=260)
    with pytest.raises(TypeError, match=r"string 'a'; pass sources=\['a'\]"):
        fu.fit_factor_mlp(feats, y, split, sources="a")
    with pytest.raises(TypeError, match=r"epochs must be an integer.*epochs=1"):
        fu.fit_factor_mlp(feats, y, split, epochs=True)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        fu.fit_factor_mlp(feats, y, split, batch_size="64")
    with pytest.raises(TypeError, match="features must be a dict"):
        fu.fit_factor_mlp([feats["a"]], y, split, sources=["a"])
    with pytest.raises(TypeError, match="split must be a dict"):
        fu.fit_factor_mlp(feats, y, [np.arange(10), np.arange(10, 20)])
    with pytest.raises(TypeError, match=r"input_dims must be an integer"):
        fu.build_factor_mlp(True, 2)  # was a network with a one-dimensional input
    with pytest.raises(TypeError, match=r"input_dims\['a'\] must be an integer"):
        fu.build_factor_mlp({"a": "8"}, 2)
    with pytest.raises(TypeError, match="n_factors must be an integer"):
        fu.build_factor_mlp(3, 2.0)
    with pytest.raises(TypeError, match=r"dropout must be a number.*float\('0.5'\)"):
        fu.build_factor_mlp(3, 2, dropout="0.5")
    with pytest.raises(TypeError, match=r"hidden_units must be a sequence.*\(128,\)"):
        fu.build_factor_mlp(3, 2, hidden_units=128)
