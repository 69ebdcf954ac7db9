"""Tests of course_lib.convnet.data and .pipeline: splits, crops, the PyDataset (chapter 04)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from course_lib import convnet as C


def test_split_by_artist_keeps_artists_on_one_side(tracks) -> None:
    for by in ("track", "artist"):
        split = C.split_tracks(tracks, by=by, seed=3)
        union = np.concatenate(list(split.values()))
        assert np.array_equal(np.sort(union), np.arange(180))  # all warm tracks, once
        artists = {k: set(tracks.artist_id[v]) for k, v in split.items()}
        shared = artists["train"] & (artists["val"] | artists["test"])
        assert (len(shared) == 0) == (by == "artist")
        assert abs(len(split["train"]) - 144) <= 8
    assert np.array_equal(
        C.split_tracks(tracks, seed=3)["val"], C.split_tracks(tracks, seed=3)["val"]
    )
    with pytest.raises(ValueError, match="fractions"):
        C.split_tracks(tracks, fractions=(0.5, 0.5, 0.5))


def test_split_refuses_bad_fractions_and_candidates(tracks) -> None:
    for fractions, error, words in [
        (("0.8", "0.1", "0.1"), TypeError, r"fractions\[0\] must be a number.*float"),
        ((0.8, 0.2), ValueError, "three numbers .* got 2"),
        ((1.2, -0.1, -0.1), ValueError, r"fractions\[0\] must be a number <= 1"),
        ((0.8, float("nan"), 0.1), ValueError, r"fractions\[1\] must be a finite number"),
        ((0.7, 0.1, 0.1), ValueError, r"summing to 1.*sum 0\.9.*fractions=\(0\.8, 0\.1, 0\.1\)"),
        (0.8, TypeError, "three numbers"),
    ]:
        with pytest.raises(error, match=words):
            C.split_tracks(tracks, fractions=fractions)
    with pytest.raises(ValueError, match="candidates must be a 1-D array of integer"):
        C.split_tracks(tracks, candidates=~tracks["is_new"].to_numpy())  # a mask, not indices
    with pytest.raises(ValueError, match="candidates indexes rows"):
        C.split_tracks(tracks, candidates=np.array([0, 500]))
    with pytest.raises(ValueError, match="no track to split"):
        C.split_tracks(tracks, candidates=np.array([], dtype=int))
    with pytest.raises(ValueError, match="no artist_id column"):
        C.split_tracks(tracks.drop(columns="artist_id"))
    with pytest.raises(ValueError, match="by must be one of"):
        C.split_tracks(tracks, by="genre")
    # zero shares are allowed (chapter 07 splits new tracks into two halves only)
    assert len(C.split_tracks(tracks, by="track", fractions=(0.0, 0.5, 0.5))["train"]) == 0


def test_center_crop_keeps_the_layout_and_refuses_bad_input() -> None:
    x = np.arange(2 * 10 * 3, dtype=np.float32).reshape(2, 10, 3)
    np.testing.assert_array_equal(C.center_crop(x, 4), x[:, 3:7])
    np.testing.assert_array_equal(C.center_crop(x[0], 4), x[0, 3:7])
    with pytest.raises(ValueError, match="cannot crop 11 frames .* 10 frames"):
        C.center_crop(x, 11)
    bad = x.copy()
    bad[1, 3, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite values \(spectrograms \[1\]\)"):
        C.center_crop(bad, 4)
    np.testing.assert_array_equal(C.center_crop(bad, 2)[0], x[0, 4:6])  # NaN outside the crop
    with pytest.raises(ValueError, match="must have shape"):
        C.center_crop(x[None], 4)


def test_pipeline_crops_windows_shuffles_with_a_seed_and_centres_validation() -> None:
    rng = np.random.default_rng(4)
    mels = rng.normal(size=(10, 30, 3)).astype("float32")
    targets = rng.normal(size=(10, 2)).astype("float32")
    idx = np.arange(2, 10)

    def epoch(ds) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for x, y in ds:  # one epoch, as model.fit reads it; then the next epoch's crops
            out += list(zip(ops.convert_to_numpy(x), ops.convert_to_numpy(y)))
        ds.on_epoch_end()
        return out

    ds = C.make_factor_dataset(mels, targets, idx, 12, batch_size=3, training=True, seed=7)
    assert isinstance(ds, keras.utils.PyDataset) and len(ds) == 3  # 8 tracks: 3 + 3 + 2
    first, second = epoch(ds), epoch(ds)
    again = epoch(
        C.make_factor_dataset(mels, targets, idx, 12, batch_size=3, training=True, seed=7)
    )
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, again))  # seeded
    unit = C.normalize_factors(targets)
    offsets = []
    for x, y in first + second:
        row = int(np.argmin(np.abs(unit - y).sum(1)))
        assert row in idx
        starts = [s for s in range(19) if np.array_equal(mels[row, s : s + 12], x)]
        assert len(starts) == 1  # every example is a window of its own track
        offsets.append(starts[0])
    assert len(set(offsets)) > 3  # random offsets
    order1 = [int(np.argmin(np.abs(unit - y).sum(1))) for _, y in first]
    order2 = [int(np.argmin(np.abs(unit - y).sum(1))) for _, y in second]
    assert sorted(order1) == sorted(idx.tolist()) and order1 != order2  # reshuffled each epoch
    val = epoch(C.make_factor_dataset(mels, targets, idx, 12))
    assert all(np.array_equal(x, mels[i, 9:21]) for (x, _), i in zip(val, idx))
    with pytest.raises(ValueError, match="longer"):
        C.make_factor_dataset(mels, targets, idx, 31)


def test_pipeline_refuses_bad_spectrograms_targets_and_indices() -> None:
    rng = np.random.default_rng(4)
    mels = rng.normal(size=(10, 30, 3)).astype("float32")
    targets = rng.normal(size=(10, 2)).astype("float32")
    idx = np.arange(2, 10)
    nan_mels = mels.copy()
    nan_mels[4, 0, 0] = np.nan
    with pytest.raises(ValueError, match="log_mels contains NaN"):
        C.make_factor_dataset(nan_mels, targets, idx, 12, training=True)
    # a damaged row that is not served does not matter
    assert C.make_factor_dataset(nan_mels, targets, np.array([0, 1]), 12) is not None
    nan_targets = targets.copy()
    nan_targets[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"targets contains NaN or infinite values \(rows \[3\]"):
        C.make_factor_dataset(mels, nan_targets, idx, 12)
    with pytest.raises(ValueError, match="targets has 9 rows.*one target row per spectrogram"):
        C.make_factor_dataset(mels, targets[:9], idx, 12)
    with pytest.raises(ValueError, match="indices indexes rows 2..10 but there are only 10"):
        C.make_factor_dataset(mels, targets, np.arange(2, 11), 12)
    with pytest.raises(ValueError, match="indices is empty"):
        C.make_factor_dataset(mels, targets, np.array([], dtype=int), 12)
    with pytest.raises(ValueError, match=r"\(n_tracks, n_frames, n_mels\)"):
        C.make_factor_dataset(mels[0], targets, idx, 12)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        C.make_factor_dataset(mels, targets, idx, 12, batch_size=3.0)


class ChapterCrops:
    """Chapter 04's ``RandomCrops`` (section 3), as the students write it, without Keras."""

    def __init__(self, log_mels, targets, rows, n_frames, batch_size, seed):
        self.log_mels, self.targets, self.rows = log_mels, targets, np.asarray(rows)
        self.n_frames, self.batch_size = n_frames, batch_size
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def on_epoch_end(self):
        self.order = self.rng.permutation(self.rows)
        last_start = self.log_mels.shape[1] - self.n_frames
        self.starts = self.rng.integers(0, last_start + 1, size=len(self.rows))

    def __getitem__(self, i):
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        rows, starts = self.order[part], self.starts[part]
        x = np.stack([self.log_mels[r, s : s + self.n_frames] for r, s in zip(rows, starts)])
        return x, self.targets[rows]


@pytest.mark.parametrize("on_device", [False, True])
def test_pipeline_gives_the_chapters_crops_for_the_same_seed(on_device: bool) -> None:
    """Offsets and order come from numpy: the same crops as the chapter's, on every backend."""
    rng = np.random.default_rng(5)
    mels = rng.normal(size=(12, 40, 3)).astype("float32")
    targets = rng.normal(size=(12, 2)).astype("float32")
    idx = np.array([1, 2, 4, 5, 7, 8, 10, 11])
    ours = C.make_factor_dataset(
        mels, targets, idx, 9, batch_size=3, training=True, seed=11, on_device=on_device
    )
    theirs = ChapterCrops(mels, C.normalize_factors(targets), idx, 9, 3, seed=11)
    for _ in range(2):  # two epochs
        for i in range(len(ours)):
            x, y = (ops.convert_to_numpy(a) for a in ours[i])
            np.testing.assert_array_equal(x, theirs[i][0])
            np.testing.assert_allclose(y, theirs[i][1], rtol=1e-6)
        ours.on_epoch_end()
        theirs.on_epoch_end()
    val = C.make_factor_dataset(mels, targets, idx, 9, batch_size=5, on_device=on_device)
    x = np.concatenate([ops.convert_to_numpy(val[i][0]) for i in range(len(val))])
    np.testing.assert_array_equal(x, C.center_crop(mels[idx], 9))
    with pytest.raises(IndexError):
        val[len(val)]
