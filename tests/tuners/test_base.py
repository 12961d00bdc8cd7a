"""The fidelity-aware tuner base: epochs per trial, continuing from weights."""

from __future__ import annotations

import keras
import keras_tuner as kt
import numpy as np
import pytest

from kt_ext._internal.seam_training import custom_gradient_names
from kt_ext.oracles import RoundOracle
from kt_ext.tuners import FidelityTuner
from kt_ext.tuners._base import reject_hyperband_only

recorded_fits: list[tuple[int, int]] = []


class RecordFit(keras.callbacks.Callback):
    """Records each fit's (initial epoch, epochs) in `recorded_fits`."""

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self, "first"):
            self.first = epoch
            recorded_fits.append((epoch, self.params["epochs"]))


def build(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 2, 8)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def test_trials_train_their_epochs_and_continue_from_their_parent(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    oracle = RoundOracle(
        objective="val_accuracy", max_epochs=3, factor=3, epoch_budget=12, seed=0
    )
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    recorded_fits.clear()
    tuner.search(x, y, validation_data=(x, y), callbacks=[RecordFit()], verbose=0)

    trials = list(oracle.trials.values())
    expected = [
        (
            t.hyperparameters.values["tuner/initial_epoch"],
            t.hyperparameters.values["tuner/epochs"],
        )
        for t in trials
    ]
    assert recorded_fits == expected
    assert oracle.epochs_used <= 12
    # Every trial's wall-clock seconds are in its metrics, for the analysis.
    assert all(t.metrics.get_last_value("kt_ext/wall_time") > 0 for t in trials)
    child = next(t for t in trials if "tuner/trial_id" in t.hyperparameters.values)
    parent = oracle.trials[child.hyperparameters.values["tuner/trial_id"]]
    assert (
        child.hyperparameters.values["tuner/initial_epoch"]
        == (parent.hyperparameters.values["tuner/epochs"])
    )
    # A continued trial's model starts from the parent's best weights.
    rebuilt = tuner._build_hypermodel(child.hyperparameters)
    for got, want in zip(
        rebuilt.get_weights(), tuner.load_model(parent).get_weights(), strict=True
    ):
        np.testing.assert_array_equal(got, want)


def test_trained_graphs_do_not_pile_up_between_trials(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    before = custom_gradient_names()
    registered: list[int] = []

    class CountGradients(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            registered.append(len(custom_gradient_names() - before))

    oracle = RoundOracle(objective="val_accuracy", max_epochs=1, max_trials=4, seed=0)
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    tuner.search(x, y, validation_data=(x, y), callbacks=[CountGradients()], verbose=0)
    # TensorFlow registers a gradient per traced train function (which keeps
    # its graph alive); only the current trial's stay registered.
    assert len(registered) == 4
    assert registered[0] > 0
    assert registered == [registered[0]] * 4
    assert custom_gradient_names() == before


def test_idle_answers_back_off(monkeypatch, tmp_path):
    oracle = RoundOracle(objective="val_accuracy", max_epochs=1, seed=0)
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    waits: list[float] = []
    monkeypatch.setattr("kt_ext.tuners._base.time.sleep", waits.append)
    for _ in range(4):
        tuner.pre_create_trial()
    assert waits == sorted(waits) and len(waits) == 3 and waits[0] > 0
    tuner.on_trial_begin(oracle.create_trial(tuner.tuner_id))
    tuner.pre_create_trial()
    assert len(waits) == 3  # a trial began: no wait before the next request


def test_hyperband_only_arguments_point_to_the_epoch_budget():
    with pytest.raises(TypeError, match=r"hyperband_iterations.*epoch_budget"):
        reject_hyperband_only("CoarseToFine", {"hyperband_iterations": 2})


def test_bad_data_fails_before_any_trial(tmp_path):
    oracle = RoundOracle(objective="val_accuracy", max_epochs=1, seed=0)
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    x = np.zeros((10, 4), dtype="float32")
    with pytest.raises(ValueError, match=r"`x` and `y` must have the same length"):
        tuner.search(x, np.zeros(9), validation_data=(x, np.zeros(10)))
    with pytest.raises(ValueError, match=r"`x` must not be empty, got shape \(0, 4\)"):
        tuner.search(x[:0], np.zeros(0))
    with pytest.raises(ValueError, match=r"`validation_data\[0\]` and"):
        tuner.search(x, np.zeros(10), validation_data=(x, np.zeros(3)))
    assert not oracle.trials


def test_missing_objective_stops_the_search_naming_the_metrics(tmp_path):
    oracle = RoundOracle(objective="val_auc", max_epochs=1, seed=0)
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    x = np.zeros((10, 4), dtype="float32")
    y = np.zeros(10, dtype="float32")
    with pytest.raises(ValueError, match=r"'val_auc'.*'val_accuracy'"):
        tuner.search(x, y, validation_data=(x, y), verbose=0)
    assert len(oracle.trials) == 1


def test_uncompiled_models_are_rejected(tmp_path):
    def uncompiled(hp):
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])

    oracle = RoundOracle(objective="val_accuracy", max_epochs=1, seed=0)
    tuner = FidelityTuner(oracle, uncompiled, directory=tmp_path, project_name="p")
    x = np.zeros((10, 4), dtype="float32")
    with pytest.raises(TypeError, match=r"compiled keras\.Model"):
        tuner.search(x, np.zeros(10), validation_data=(x, np.zeros(10)), verbose=0)


class ReturnsItsOwnScore(kt.HyperModel):
    """A hypermodel whose fit() returns the objective, as KT allows."""

    def build(self, hp):
        return build(hp)

    def fit(self, hp, model, x, y, **kwargs):
        model.fit(x, y, **kwargs)
        return {"score": float(hp.get("units"))}


def test_an_objective_returned_by_fit_is_not_required_in_the_logs(tmp_path):
    oracle = RoundOracle(
        objective=kt.Objective("score", "min"), max_epochs=1, max_trials=2, seed=0
    )
    tuner = FidelityTuner(
        oracle, ReturnsItsOwnScore(), directory=tmp_path, project_name="p"
    )
    x = np.zeros((10, 4), dtype="float32")
    tuner.search(x, np.zeros(10), verbose=0)
    assert [t.status for t in oracle.trials.values()] == ["COMPLETED"] * 2


def test_lists_of_inputs_are_not_mistaken_for_rows():
    from kt_ext.tuners._base import check_fit_data

    x = np.zeros((10, 4))
    check_fit_data([x, x], np.zeros(10), "x", "y")  # two inputs of 10 rows
    with pytest.raises(ValueError, match="same length"):
        check_fit_data(x, np.zeros(9), "x", "y")


class CompilesInFit(kt.HyperModel):
    """A hypermodel whose own fit() compiles the model, as Keras Tuner allows."""

    def build(self, hp):
        units = hp.Int("units", 2, 8)
        return keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(units),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )

    def fit(self, hp, model, x, y, **kwargs):
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model.fit(x, y, **kwargs)


def test_a_model_compiled_in_the_hypermodels_own_fit_is_accepted(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    oracle = RoundOracle(objective="val_accuracy", max_epochs=1, max_trials=2, seed=0)
    tuner = FidelityTuner(oracle, CompilesInFit(), directory=tmp_path, project_name="p")
    tuner.search(x, y, validation_data=(x, y), verbose=0)
    assert [t.status for t in oracle.trials.values()] == ["COMPLETED"] * 2
    best = tuner.get_best_models(1)[0]
    assert best.count_params() > 0


def test_a_failing_search_leaves_no_process_wide_state_behind(tmp_path):
    import gc

    def broken(hp):
        if "tuner/epochs" in hp.values:  # in a trial, not when the tuner is made
            raise kt.errors.FatalError("broken on purpose")
        return build(hp)

    gradients = custom_gradient_names()
    oracle = RoundOracle(objective="val_accuracy", max_epochs=1, seed=0)
    tuner = FidelityTuner(oracle, broken, directory=tmp_path, project_name="p")
    x = np.zeros((10, 4), dtype="float32")
    assert gc.get_freeze_count() == 0
    with pytest.raises(kt.errors.FatalError):
        tuner.search(x, np.zeros(10), validation_data=(x, np.zeros(10)), verbose=0)
    assert gc.get_freeze_count() == 0
    assert custom_gradient_names() == gradients
    # A process that froze objects of its own keeps them frozen.
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with pytest.raises(kt.errors.FatalError):
            tuner.search(x, np.zeros(10), validation_data=(x, np.zeros(10)), verbose=0)
        # Not thawed (objects that died since have left the frozen set).
        assert gc.get_freeze_count() > 0.9 * frozen
    finally:
        gc.unfreeze()


def _rows(count: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(count, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("float32")


def test_nan_or_inf_in_the_data_fails_before_any_trial(tmp_path):
    oracle = RoundOracle(objective="val_accuracy", max_epochs=1, seed=0)
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    x, y = _rows()
    holed = x.copy()
    holed[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"`x` must not contain NaN or infinity"):
        tuner.search(holed, y, validation_data=(x, y))
    infinite = y.copy()
    infinite[5] = np.inf
    with pytest.raises(ValueError, match=r"`y` must not contain NaN"):
        tuner.search(x, infinite, validation_data=(x, y))
    with pytest.raises(ValueError, match=r"`validation_data\[1\]` must not contain"):
        tuner.search(x, y, validation_data=(x, infinite))
    assert not oracle.trials


#: Epochs (0-based) that trials began, across the deep copies of callbacks.
epochs_begun: list[int] = []


class DivergeAt(keras.callbacks.Callback):
    """Makes one epoch's ``key`` NaN in the logs, as a diverging model's are."""

    def __init__(self, epoch: int, key: str) -> None:
        super().__init__()
        self.epoch, self.key = epoch, key

    def on_epoch_begin(self, epoch, logs=None):
        epochs_begun.append(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            logs[self.key] = float("nan")


@pytest.mark.parametrize("key", ["loss", "val_accuracy"])
def test_a_diverged_trial_stops_fails_and_is_never_best(tmp_path, key, capfd):
    oracle = RoundOracle(
        objective="val_accuracy",
        min_epochs=3,
        max_epochs=3,
        max_trials=2,
        max_consecutive_failed_trials=1,  # diverged trials do not count
        seed=0,
    )
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    x, y = _rows()
    epochs_begun.clear()
    tuner.search(x, y, validation_data=(x, y), callbacks=[DivergeAt(1, key)], verbose=0)
    trials = list(oracle.trials.values())
    assert [(t.status, t.message) for t in trials] == [
        ("FAILED", "diverged at epoch 2")
    ] * 2
    assert epochs_begun == [0, 1] * 2  # no epoch after the one that diverged
    # An expected end, not printed as a traceback (Keras Tuner prints one).
    assert "Traceback" not in capfd.readouterr().err
    assert all(t.metrics.exists("kt_ext/wall_time") for t in trials)
    with pytest.raises(RuntimeError, match=r"no best one: of 2 trials, 2 diverged"):
        tuner.get_best_hyperparameters()
    with pytest.raises(RuntimeError, match="No trial has completed"):
        tuner.get_best_models()


def test_best_of_a_search_that_has_not_run_is_a_clear_error(tmp_path):
    oracle = RoundOracle(objective="val_accuracy", max_epochs=1, seed=0)
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    with pytest.raises(RuntimeError, match=r"no trial has run yet.*search\(\)"):
        tuner.get_best_hyperparameters(num_trials=1)[0]


def test_a_budget_that_cannot_pay_for_one_trial_is_refused_early(tmp_path):
    import kt_ext

    # Before: nothing ran, silently.
    with pytest.raises(ValueError, match=r"`epoch_budget` must be at least 3.*got 1"):
        kt_ext.CoarseToFine(
            build,
            objective="val_accuracy",
            min_epochs=3,
            max_epochs=9,
            epoch_budget=1,
            directory=tmp_path,
        )
    # Each trial trains a model per execution: known when the tuner is made.
    pattern = r"at least 6 .*executions_per_trial=2\), got 5"
    with pytest.raises(ValueError, match=pattern):
        kt_ext.RankPruning(
            build,
            objective="val_accuracy",
            min_epochs=3,
            max_epochs=9,
            epoch_budget=5,
            executions_per_trial=2,
            directory=tmp_path,
        )
    assert not (tmp_path / "untitled_project").exists()
    # What changes the cost later is checked when search() starts.
    oracle = RoundOracle(objective="val_accuracy", min_epochs=3, epoch_budget=6)
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="p")
    oracle.epoch_budget = 2
    x, y = _rows()
    with pytest.raises(ValueError, match=r"`epoch_budget` must be at least 3"):
        tuner.search(x, y, validation_data=(x, y))
    assert not oracle.trials


def test_a_corrupt_tuner_file_is_named_and_nothing_is_deleted(tmp_path):
    def make():
        oracle = RoundOracle(objective="val_accuracy", max_epochs=1, seed=0)
        return FidelityTuner(oracle, build, directory=tmp_path, project_name="p")

    make().save()
    (tmp_path / "p" / "tuner0.json").write_text('{"cut')
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match=r"tuner0\.json.*corrupt.*nothing was deleted"):
        make()
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
