"""Lean trials: the fixed-cost savings change no result."""

from __future__ import annotations

import h5py
import keras
import keras_tuner as kt
import numpy as np
import pytest
from keras_tuner.src.engine import tuner_utils

import kt_ext
from kt_ext.tuners._lean import BestEpochWeights, build_training_state


def _tiny_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def _h5_arrays(path) -> dict[str, np.ndarray]:
    arrays = {}
    with h5py.File(path) as handle:
        handle.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays


def _search(lean: bool, make, data) -> kt_ext.CoarseToFine:
    (x, y), (x_val, y_val) = data
    keras.utils.set_random_seed(0)
    tuner = make(f"lean_{lean}")
    tuner._lean_trials = lean
    tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)
    return tuner


def test_same_seed_same_configurations_and_scores_with_and_without_savings(
    binary_data, small_coarse_to_fine
):
    lean = _search(True, small_coarse_to_fine, binary_data)
    stock = _search(False, small_coarse_to_fine, binary_data)
    lean_trials = list(lean.oracle.trials.values())
    stock_trials = list(stock.oracle.trials.values())
    assert any("tuner/trial_id" in t.hyperparameters.values for t in lean_trials)
    assert [t.hyperparameters.values for t in lean_trials] == [
        t.hyperparameters.values for t in stock_trials
    ]
    assert [t.score for t in lean_trials] == pytest.approx(
        [t.score for t in stock_trials], rel=1e-6
    )
    # Every completed trial has its checkpoint, so the best model loads.
    (_, _), (x_val, y_val) = binary_data
    best = lean.oracle.get_best_trials(1)[0]
    loss = lean.get_best_models(1)[0].evaluate(x_val, y_val, verbose=0)[0]
    assert loss == pytest.approx(best.score, rel=1e-5)


def test_checkpoint_written_once_is_the_file_keras_tuner_writes(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    # The first epoch has the highest loss, so the best epoch is not the last.
    objective = kt.Objective("loss", "max")
    stock = tuner_utils.SaveBestEpoch(objective, str(tmp_path / "a.weights.h5"))
    lean = BestEpochWeights(objective, str(tmp_path / "b.weights.h5"))
    model = _tiny_model()
    model.fit(x, y, epochs=3, batch_size=8, callbacks=[stock, lean], verbose=0)
    last = [w.copy() for w in model.get_weights()]
    assert not (tmp_path / "b.weights.h5").exists()
    lean.write()
    written, wanted = _h5_arrays(lean.filepath), _h5_arrays(stock.filepath)
    assert written.keys() == wanted.keys()
    for name in wanted:
        np.testing.assert_array_equal(written[name], wanted[name], err_msg=name)
    assert any(
        not np.array_equal(w, v) for w, v in zip(last, model.get_weights(), strict=True)
    )


def test_training_state_built_early_trains_the_same():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    histories, weights = [], []
    for early in (False, True):
        keras.utils.set_random_seed(0)
        model = _tiny_model()
        if early:
            assert build_training_state(model, x, y)
            assert model.optimizer.built
            assert model._compile_metrics.built
        histories.append(model.fit(x, y, epochs=2, batch_size=8, verbose=0).history)
        weights.append(model.get_weights())
    assert histories[0] == histories[1]
    for early, late in zip(*weights, strict=True):
        np.testing.assert_array_equal(early, late)


def test_training_state_is_left_to_keras_when_it_cannot_be_built_early():
    model = _tiny_model()
    build_training_state(model, x=[[1.0]], y=None)  # no shapes: optimizer only
    assert model.optimizer.built
    assert not model._compile_metrics.built
    assert not build_training_state(model)  # already built
    uncompiled = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert not build_training_state(uncompiled, np.zeros((2, 2)), np.zeros(2))


class InterruptAtFit(keras.callbacks.Callback):
    """Raises KeyboardInterrupt when the n-th fit of the process begins."""

    fits = 0

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def __deepcopy__(self, memo: dict) -> InterruptAtFit:
        return self  # one count for every trial

    def on_train_begin(self, logs=None) -> None:
        InterruptAtFit.fits += 1
        if InterruptAtFit.fits == self.at:
            raise KeyboardInterrupt


def test_interrupted_search_resumes_from_checkpoints_written_once(
    binary_data, small_coarse_to_fine, tmp_path
):
    (x, y), (x_val, y_val) = binary_data

    def search(callbacks, overwrite):
        tuner = small_coarse_to_fine("resumed", overwrite=overwrite)
        tuner.search(
            x, y, validation_data=(x_val, y_val), callbacks=callbacks, verbose=0
        )
        return tuner

    InterruptAtFit.fits = 0
    with pytest.raises(KeyboardInterrupt):
        search([InterruptAtFit(at=4)], overwrite=True)  # the first continued trial
    checkpoints = sorted(p.parent.name for p in tmp_path.rglob("*.weights.h5"))
    assert checkpoints == ["trial_0000", "trial_0001", "trial_0002"]  # completed
    tuner = search([], overwrite=False)
    trials = list(tuner.oracle.trials.values())
    continued = [t for t in trials if "tuner/trial_id" in t.hyperparameters.values]
    assert continued and all(t.status == "COMPLETED" for t in trials)
    assert len(tuner.get_best_models(2)) == 2
