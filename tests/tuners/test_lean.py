"""Lean trials: the fixed-cost savings change no result."""

from __future__ import annotations

import h5py
import keras
import keras_tuner as kt
import numpy as np
import pytest

import kt_ext
from kt_ext._internal.seam_training import BestEpochWeights, SaveBestEpoch
from kt_ext.tuners._lean import (
    TracedModels,
    build_training_state,
    graph_signature,
    is_small,
)

pytestmark = pytest.mark.floors


def _tiny_model(
    *, units: int = 4, dropout: float = 0.2, learning_rate: float = 1e-3, **dense
) -> keras.Model:
    """A fresh model, named as the tuners name theirs (after `clear_session`)."""
    keras.backend.clear_session(free_memory=False)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(units, activation="relu", **dense),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(learning_rate),
        "binary_crossentropy",
        metrics=["accuracy"],
    )
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
    # Continued trials trained the models of their first rounds again.
    assert lean._lean.models.adopted > 0
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
    stock = SaveBestEpoch(objective, str(tmp_path / "a.weights.h5"))
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


def _data(rows: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("float32")


def test_graph_signature_ignores_values_that_are_variables_only():
    same = graph_signature(_tiny_model())
    assert same is not None
    assert graph_signature(_tiny_model(learning_rate=0.5)) == same
    assert graph_signature(_tiny_model(kernel_initializer="zeros")) != same
    assert graph_signature(_tiny_model(units=5)) != same
    assert graph_signature(_tiny_model(dropout=0.3)) != same  # a constant in the graph


def test_graph_signature_refuses_what_configuration_cannot_tell():
    def own_activation(x):
        return x * 2.0

    class OwnModel(keras.Model):
        def call(self, x):
            return x

    assert graph_signature(_tiny_model(activity_regularizer=own_activation)) is None
    lambda_model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Lambda(lambda x: x * 3.0)]
    )
    lambda_model.compile("adam", "mse")
    assert graph_signature(lambda_model) is None
    own = OwnModel()
    own.compile("adam", "mse")
    own.build((None, 4))
    assert graph_signature(own) is None
    uncompiled = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    assert graph_signature(uncompiled) is None

    weight = {"w": 1.0}  # read by the loss when it runs, not in its code
    lambda_loss = _tiny_model()
    lambda_loss.compile("adam", lambda t, p: keras.losses.mse(t, p) * weight["w"])
    assert graph_signature(lambda_loss) is None

    normalization = keras.layers.Normalization()
    normalization.adapt(np.ones((4, 4), "float32"))  # state in neither place
    adapted = keras.Sequential(
        [keras.Input((4,)), normalization, keras.layers.Dense(1)]
    )
    adapted.compile("adam", "mse")
    assert graph_signature(adapted) is None

    excluding = _tiny_model()
    optimizer = keras.optimizers.AdamW(weight_decay=0.1)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    excluding.compile(optimizer, "binary_crossentropy")
    assert graph_signature(excluding) is None


class Unfreeze(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        self.model.layers[0].trainable = True


def test_a_model_that_training_changed_is_not_kept():
    x, y = _data()
    models = TracedModels()
    model = _tiny_model()
    model.layers[0].trainable = False
    signature = graph_signature(model)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[Unfreeze()])
    models.keep(model, signature)  # its steps were traced with a frozen layer
    fresh = _tiny_model()
    assert models.adopt(fresh, graph_signature(fresh)) is fresh


def test_frozen_parameters_count_toward_the_size():
    model = keras.Sequential(
        [keras.Input((1_000,)), keras.layers.Dense(1_001), keras.layers.Dense(1)]
    )
    assert not is_small(model)
    model.layers[0].trainable = False  # no longer counted by Keras Tuner's size
    assert not is_small(model)
    assert is_small(_tiny_model())


def test_adopted_model_trains_exactly_as_the_new_model_would():
    x, y = _data()
    models = TracedModels()
    keras.utils.set_random_seed(1)
    first = _tiny_model(learning_rate=0.1)
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    models.keep(first, graph_signature(first))
    traced = first.train_function

    histories, weights = [], []
    for reuse in (False, True):
        keras.utils.set_random_seed(2)  # the same initial weights and seeds
        model = _tiny_model(learning_rate=0.01)
        if reuse:
            model = models.adopt(model, graph_signature(model))
            assert model is first and model.train_function is traced
            assert models.adopted == 1
        history = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history
        histories.append(history)
        weights.append(model.get_weights())
    assert histories[0] == histories[1]
    for fresh, adopted in zip(*weights, strict=True):
        np.testing.assert_array_equal(fresh, adopted)
    assert first.optimizer.learning_rate.numpy() == pytest.approx(0.01)


def test_traced_models_keep_only_what_they_can_vouch_for_and_forget_oldest():
    x, y = _data()
    models = TracedModels(capacity=1)

    def adopt(units):
        model = _tiny_model(units=units)
        return models.adopt(model, graph_signature(model))

    small, large = _tiny_model(units=2), _tiny_model(units=3)
    for model in (small, large):
        model.fit(x, y, epochs=1, verbose=0)
        models.keep(model, graph_signature(model))
    assert adopt(2) is not small  # forgotten
    assert adopt(3) is large
    assert adopt(3) is not large  # taken out
    models.keep(large, graph_signature(large))
    models.clear()
    assert adopt(3) is not large
