"""What search() checks and warns about before any training (issue 19, item 2)."""

from __future__ import annotations

import random

import keras
import keras_tuner as kt
import numpy as np
import pytest

import kt_ext
from kt_ext.hypermodels import CNNHyperModel, MLPHyperModel
from kt_ext.tuners import FidelityTuner
from kt_ext.tuners._dry_step import dry_step

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4)).astype("float32")
Y = (X[:, 0] > 0).astype("int64")


def _tuner(hypermodel, tmp_path, **kwargs):
    kwargs.setdefault("objective", "val_accuracy")
    kwargs.setdefault("max_trials", 1)
    return kt_ext.CoarseToFine(
        hypermodel,
        max_epochs=1,
        directory=tmp_path,
        project_name="p",
        **kwargs,
    )


def _build(input_size: int = 4):
    def build(hp: kt.HyperParameters) -> keras.Model:
        model = keras.Sequential(
            [
                keras.Input((input_size,)),
                keras.layers.Dense(hp.Int("units", 2, 8)),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    return build


# -- labels against the template's output --------------------------------------


@pytest.mark.parametrize(
    ("hypermodel", "y", "match"),
    [
        # Labels 1/2 trained silently to val_accuracy 0.377 before.
        (MLPHyperModel((4,), "binary"), Y + 1, r"labels 0 and 1 .* labels \[1, 2\]"),
        (
            MLPHyperModel((4,), "multiclass", num_classes=2),
            np.arange(40) % 3,
            r"in \[0, 2\) .* got labels \[0, 1, 2\]",
        ),
        (
            MLPHyperModel((4,), "binary"),
            np.where(Y, "yes", "no"),
            r"got str\d+ values such as '\w+'.*sklearn\.preprocessing\.LabelEncoder",
        ),
        (MLPHyperModel((4,), "binary"), np.eye(2)[Y], r"one-hot rows .*argmax"),
        (
            MLPHyperModel((4,), "multiclass", num_classes=2),
            np.eye(2)[Y],
            r"sparse categorical cross-entropy.*one-hot rows",
        ),
    ],
    ids=["binary-1-2", "out-of-range", "strings", "one-hot-1-unit", "sparse"],
)
def test_labels_that_do_not_fit_the_template_fail_before_any_trial(
    tmp_path, hypermodel, y, match
):
    tuner = _tuner(hypermodel, tmp_path)
    with pytest.raises(ValueError, match=match):
        tuner.search(X, y, validation_data=(X, Y), verbose=0)
    assert not tuner.oracle.trials
    assert not list(tmp_path.glob("p/trial_*"))
    with pytest.raises(ValueError, match=r"`validation_data\[1\]` must hold labels"):
        _tuner(MLPHyperModel((4,), "binary"), tmp_path, overwrite=True).search(
            X, Y, validation_data=(X, Y + 1), verbose=0
        )


def test_the_cnn_template_checks_its_labels_too(tmp_path):
    images = RNG.normal(size=(12, 8, 8, 1)).astype("float32")
    tuner = _tuner(CNNHyperModel((8, 8, 1), num_classes=3), tmp_path)
    with pytest.raises(ValueError, match=r"in \[0, 3\) .* got labels \[1, 2, 3\]"):
        tuner.search(images, np.arange(12) % 3 + 1, validation_split=0.25)
    assert not tuner.oracle.trials


def test_labels_that_fit_pass_the_checks():
    MLPHyperModel((4,), "binary").check_targets(np.array([0.0, 0.3, 1.0]))
    MLPHyperModel((4,), "multiclass", num_classes=3).check_targets(
        np.array([[0], [2], [1]])
    )
    MLPHyperModel((4,), "regression").check_targets(np.array([-3.5, 1e6]))
    with pytest.raises(ValueError, match="must hold numbers"):
        MLPHyperModel((4,), "regression").check_targets(np.array(["a", "b"]))


# -- the dry step -------------------------------------------------------------


def test_a_model_that_does_not_fit_the_data_fails_once_before_the_search(tmp_path):
    tuner = _tuner(_build(input_size=3), tmp_path)
    with pytest.raises(ValueError) as caught:
        tuner.search(X, Y, validation_data=(X, Y), verbose=0)
    message = str(caught.value)
    assert "before the search started" in message
    # The underlying error's type and message.
    assert "with ValueError: " in message and "expected axis -1" in message
    assert not tuner.oracle.trials


def test_string_labels_for_any_model_fail_in_the_dry_step(tmp_path):
    tuner = _tuner(_build(), tmp_path)
    with pytest.raises(ValueError, match=r"with ValueError: could not convert string"):
        tuner.search(X, np.where(Y, "yes", "no"), validation_data=(X, Y), verbose=0)
    assert not tuner.oracle.trials


class NamesEveryBuild:
    """A builder that declares a new entry each time it builds."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, hp: kt.HyperParameters) -> keras.Model:
        self.builds += 1
        hp.Int(f"extra_{self.builds}", 1, 3)
        return _build()(hp)


def test_the_dry_step_declares_nothing_and_draws_nothing(tmp_path):
    builder = NamesEveryBuild()
    tuner = _tuner(builder, tmp_path)
    space = [entry.name for entry in tuner.oracle.get_space().space]
    rng_state = tuner.oracle._rng.bit_generator.state
    python_state, numpy_state = random.getstate(), np.random.get_state()[1].copy()
    builds = builder.builds
    dry_step(tuner, (X, Y), {"sample_weight": np.ones(40)})
    assert builder.builds == builds + 1
    assert [entry.name for entry in tuner.oracle.get_space().space] == space
    assert tuner.oracle._rng.bit_generator.state == rng_state
    assert random.getstate() == python_state
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert not tuner.oracle.trials


class OwnFit(kt.HyperModel):
    """A hypermodel whose fit() reshapes the data: no dry step for it."""

    def build(self, hp):
        return _build(input_size=2)(hp)

    def fit(self, hp, model, x, y, validation_data, **kwargs):
        x_val, y_val = validation_data
        return model.fit(x[:, :2], y, validation_data=(x_val[:, :2], y_val), **kwargs)


def test_no_dry_step_when_the_hypermodel_fits_itself(tmp_path):
    tuner = _tuner(OwnFit(), tmp_path)
    tuner.search(X, Y, validation_data=(X, Y), verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]


def test_the_dry_step_reads_dicts_and_frames_and_skips_datasets(tmp_path):
    pd = pytest.importorskip("pandas")
    tuner = _tuner(_build(input_size=3), tmp_path)
    frame = pd.DataFrame(X, columns=list("abcd"))
    with pytest.raises(ValueError, match="expected axis -1"):
        dry_step(tuner, (frame, pd.Series(Y)), {})
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).batch(8)
    dry_step(tuner, (dataset,), {})  # left to the first trial


# -- failures -----------------------------------------------------------------


class FailsInFit(kt.HyperModel):
    """Every fit raises, naming how many fits came before it."""

    def __init__(self) -> None:
        super().__init__()
        self.fits = 0

    def build(self, hp):
        return _build()(hp)

    def fit(self, hp, model, *args, **kwargs):
        self.fits += 1
        raise TypeError(f"Invalid dtype: str96 (fit {self.fits})")


@pytest.mark.parametrize("stock_oracle", [False, True])
def test_consecutive_failures_name_the_first_failure(tmp_path, stock_oracle, capsys):
    if stock_oracle:
        oracle = kt.oracles.RandomSearchOracle(
            objective="val_accuracy", max_trials=5, seed=0
        )
        tuner = FidelityTuner(oracle, FailsInFit(), directory=tmp_path)
    else:
        tuner = _tuner(FailsInFit(), tmp_path, max_trials=5)
        tuner.oracle.max_retries_per_trial = 0
    with pytest.raises(RuntimeError) as caught:
        tuner.search(X, Y, validation_data=(X, Y), verbose=0)
    first_line = str(caught.value).splitlines()[0]
    assert first_line.startswith("Number of consecutive failures exceeded the limit")
    assert "failed with TypeError: Invalid dtype: str96 (fit 1)" in first_line


def test_a_search_whose_every_trial_failed_does_not_return_silently(tmp_path):
    # Fewer trials than max_consecutive_failed_trials (3): Keras Tuner's own
    # check never fires, and search() returned as if it had found something.
    oracle = kt.oracles.RandomSearchOracle(
        objective="val_accuracy", max_trials=2, seed=0
    )
    tuner = FidelityTuner(oracle, FailsInFit(), directory=tmp_path)
    with pytest.raises(RuntimeError, match=r"Every trial of the search failed \(2 "):
        tuner.search(X, Y, validation_data=(X, Y), verbose=0)
    with pytest.raises(RuntimeError, match=r"fit 1\)"):
        tuner.search(X, Y, validation_data=(X, Y), verbose=0)


# -- warnings -----------------------------------------------------------------


def test_a_training_metric_objective_with_validation_data_warns(tmp_path):
    tuner = _tuner(_build(input_size=3), tmp_path, objective="accuracy")
    # The dry step (input size 3) stops each search before any training.
    warns = pytest.warns(UserWarning, match=r"objective='val_accuracy'")
    with warns, pytest.raises(ValueError, match="before the search started"):
        tuner.search(X, Y, validation_data=(X, Y), verbose=0)
    warns = pytest.warns(UserWarning, match=r"objective='val_accuracy'")
    with warns, pytest.raises(ValueError, match="before the search started"):
        tuner.search(X, Y, cv=2, verbose=0)


def test_epochs_that_the_oracle_overrides_warn_naming_max_epochs(tmp_path):
    tuner = _tuner(_build(input_size=3), tmp_path)
    warns = pytest.warns(UserWarning, match=r"`epochs=50`.*`max_epochs=1`")
    with warns, pytest.raises(ValueError, match="before the search started"):
        tuner.search(X, Y, validation_data=(X, Y), epochs=50, verbose=0)


# -- inputs -------------------------------------------------------------------


def test_a_python_list_x_is_converted_or_rejected(tmp_path):
    tuner = _tuner(_build(), tmp_path)
    with pytest.raises(ValueError, match=r"`x` must be an array.*rows of different"):
        tuner.search([[0.0, 1.0, 2.0, 3.0], [1.0]], [0, 1], verbose=0)
    with pytest.raises(ValueError, match=r"`x` must be an array.*dtype <U"):
        tuner.search([["a", "b", "c", "d"]] * 2, [0, 1], verbose=0)
    assert not tuner.oracle.trials
    tuner.search(X.tolist(), Y.tolist(), validation_data=(X, Y), verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]


def test_nan_in_sample_weight_fails_before_any_trial(tmp_path):
    tuner = _tuner(_build(), tmp_path)
    weights = np.ones(40)
    weights[7] = np.nan
    with pytest.raises(ValueError, match=r"`sample_weight` must not contain NaN.*7"):
        tuner.search(X, Y, validation_data=(X, Y), sample_weight=weights)
    assert not tuner.oracle.trials
