"""`trials_dataframe` from live oracles, tuner directories and a real tuner."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from keras_tuner.engine.trial import TrialStatus
from keras_tuner.oracles import RandomSearchOracle

from kt_ext.analysis import WALL_TIME_METRIC, trials_dataframe
from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle, RoundOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle

BASE_COLUMNS = [
    "trial_id",
    "status",
    "score",
    "epochs",
    "epochs_total",
    "epochs_reached",
    "stopped_early",
    "wall_time",
]


def assert_same_search(live: pd.DataFrame, disk: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(live, disk)
    assert {k: v for k, v in live.attrs.items() if k != "source"} == {
        k: v for k, v in disk.attrs.items() if k != "source"
    }


@pytest.mark.parametrize("search", ["lr_random", "mlp_hyperband", "with_history"])
def test_live_oracle_and_directory_agree(search, request):
    oracle, directory = request.getfixturevalue(search)
    live = trials_dataframe(oracle)
    disk = trials_dataframe(directory)
    assert_same_search(live, disk)
    assert live.attrs["source"] == type(oracle).__name__
    assert disk.attrs["source"] == str(directory)
    assert len(disk) == len(oracle.trials)


def test_columns_attrs_and_order(lr_random):
    df = trials_dataframe(lr_random.directory)
    assert list(df.columns) == [
        *BASE_COLUMNS,
        "hp_learning_rate",
        "hp_units",
        "hp_dropout",
        "hp_activation",
        "metric_val_accuracy",
    ]
    assert df.attrs["objective"] == "val_accuracy"
    assert df.attrs["direction"] == "max"
    assert df.attrs["sampling"] == {
        "learning_rate": "log",
        "units": "linear",
        "dropout": "linear",
        "activation": "choice",
    }
    assert df.attrs["narrowing_history"] == []
    assert df.attrs["pruning_log"] == []
    assert df["trial_id"].tolist() == sorted(lr_random.oracle.trials)
    assert (df["status"] == TrialStatus.COMPLETED).all()
    # Every epoch is reported: the objective's 3 steps are the epochs trained.
    assert (df["epochs"] == 3).all()
    assert df["wall_time"].isna().all()
    # The best value in the metric's direction is KT's score.
    np.testing.assert_array_equal(df["metric_val_accuracy"], df["score"])
    best = lr_random.oracle.get_best_trials(1)[0]
    row = df.set_index("trial_id").loc[best.trial_id]
    assert row["score"] == best.score
    assert row["hp_learning_rate"] == best.hyperparameters["learning_rate"]


def test_hyperband_epochs_bookkeeping_and_inactive_entries(mlp_hyperband):
    df = trials_dataframe(mlp_hyperband.directory)
    assert not any(column.startswith("hp_tuner/") for column in df.columns)
    assert "tuner/epochs" not in df.attrs["sampling"]
    for trial_id, epochs in zip(df["trial_id"], df["epochs"], strict=True):
        values = mlp_hyperband.oracle.trials[trial_id].hyperparameters.values
        assert epochs == values["tuner/epochs"] - values["tuner/initial_epoch"]
    assert df["epochs"].sum() > len(df)
    assert df.attrs["direction"] == "min"
    assert df.attrs["sampling"]["units"] == "log"
    assert df.attrs["sampling"]["reg_strength"] == "log"
    # reg_strength is active only with a regularizer.
    no_regularizer = df["hp_regularizer"] == "none"
    assert no_regularizer.any() and (~no_regularizer).any()
    assert df.loc[no_regularizer, "hp_reg_strength"].isna().all()
    assert df.loc[~no_regularizer, "hp_reg_strength"].notna().all()


def test_interrupted_search_has_a_running_trial(interrupted):
    df = trials_dataframe(interrupted.directory)
    assert len(df) == 5
    running = df.iloc[-1]
    assert running["status"] == TrialStatus.RUNNING
    assert math.isnan(running["score"])
    # A running trial counts the epochs it reported, not those scheduled.
    assert running["epochs"] == 1
    assert (df["status"].iloc[:-1] == TrialStatus.COMPLETED).all()
    assert df.attrs["objective"] == "val_accuracy"


def test_wall_time_metric_and_metrics_without_direction(tmp_path):
    objective = get_objective("lr_only")
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
    oracle._set_project_dir(str(tmp_path), "timed")
    for seconds in (2.0, 3.5):
        trial = oracle.create_trial("tuner0")
        for step in range(2):
            oracle.update_trial(
                trial.trial_id,
                {
                    "val_accuracy": 0.5 + step * 0.1,
                    WALL_TIME_METRIC: seconds * (step + 1) / 2,
                    "epoch_time": 10.0 - step,
                },
                step=step,
            )
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
    df = trials_dataframe(tmp_path / "timed")
    assert df["wall_time"].tolist() == [2.0, 3.5]
    assert f"metric_{WALL_TIME_METRIC}" not in df.columns
    # No direction is known for epoch_time: its last value is reported.
    assert df["metric_epoch_time"].tolist() == [9.0, 9.0]
    assert df["metric_val_accuracy"].tolist() == [0.6, 0.6]
    assert df["epochs"].tolist() == [2, 2]
    assert_same_search(trials_dataframe(oracle), df)


def test_a_declared_objective_in_oracle_json_wins(lr_random, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    state = json.loads((lr_random.directory / "oracle.json").read_text())
    state["objective"] = {"name": "val_accuracy", "direction": "max"}
    (project / "oracle.json").write_text(json.dumps(state))
    df = trials_dataframe(project)
    assert df.empty
    assert (df.attrs["objective"], df.attrs["direction"]) == ("val_accuracy", "max")
    assert list(df.columns[: len(BASE_COLUMNS)]) == BASE_COLUMNS


def test_missing_directory_is_named(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        trials_dataframe(missing)


def test_a_folder_without_oracle_json_points_to_its_projects(lr_random):
    parent = lr_random.directory.parent
    with pytest.raises(FileNotFoundError, match=r"no oracle\.json") as error:
        trials_dataframe(parent)
    assert str(lr_random.directory) in str(error.value)


def test_invalid_oracle_json(tmp_path):
    (tmp_path / "oracle.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"oracle\.json"):
        trials_dataframe(tmp_path)
    (tmp_path / "oracle.json").write_text("[]")
    with pytest.raises(ValueError, match="hyperparameters"):
        trials_dataframe(tmp_path)


def test_a_source_of_another_type_is_a_type_error():
    with pytest.raises(TypeError, match="`source` must be"):
        trials_dataframe(42)


def test_a_real_keras_tuner_directory(tmp_path):
    import keras
    import keras_tuner as kt

    def build(hp):
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8))]
        )
        model.add(keras.layers.Dense(1))
        model.compile(
            keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
            loss="mse",
        )
        return model

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)), rng.normal(size=(40, 1))
    tuner = kt.RandomSearch(
        build,
        objective="val_loss",
        max_trials=1,
        directory=tmp_path,
        project_name="real",
        seed=1,
    )
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    disk = trials_dataframe(tmp_path / "real")
    assert_same_search(trials_dataframe(tuner), disk)
    assert disk.attrs["objective"] == "val_loss"
    assert disk.attrs["direction"] == "min"
    assert disk.attrs["sampling"] == {"units": "linear", "lr": "log"}
    assert disk["status"].tolist() == [TrialStatus.COMPLETED]
    assert disk["epochs"].tolist() == [1]
    assert {"metric_loss", "metric_val_loss"} <= set(disk.columns)
    assert disk["score"].iloc[0] == disk["metric_val_loss"].iloc[0]


def test_epochs_come_from_a_kt_ext_oracle_when_it_knows_them(tmp_path):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=3, max_trials=4, seed=0)
    run_oracle(oracle, objective, directory=tmp_path)
    first = sorted(oracle.trials)[0]
    oracle.charge_epochs(first, 0)  # as if pruning had stopped it at once
    oracle.save()
    for source in (oracle, tmp_path / objective.name):
        df = trials_dataframe(source)
        assert df.loc[df.trial_id == first, "epochs"].item() == 0
        assert df.epochs.sum() == oracle.epochs_used


@pytest.mark.parametrize("cls", [CoarseToFineOracle, RankPruningOracle])
def test_a_kt_ext_directory_is_read_with_its_journal(tmp_path, cls):
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(cls, objective, max_epochs=9, seed=1)
    run_oracle(oracle, objective, directory=tmp_path)
    project = tmp_path / objective.name
    # Most of the search is in the journal, not in the first snapshot.
    snapshot = json.loads((project / "oracle.json").read_text())
    assert len(snapshot["end_order"]) < len(oracle.end_order)
    live, disk = trials_dataframe(oracle), trials_dataframe(project)
    assert_same_search(live, disk)
    for key in ("narrowing_history", "pruning_log"):
        assert disk.attrs[key] == live.attrs[key]
    assert disk.attrs[
        "narrowing_history" if cls is CoarseToFineOracle else "pruning_log"
    ]


# -- epochs_total on real searches ---------------------------------------------


def _counting_search(tuner_name, tmp_path):
    """A tiny kt_ext search whose models count the epochs they were trained.

    Each model holds a non-trainable counter that a callback raises after
    every epoch, before the tuner keeps the best epoch's weights: a trial's
    checkpoint (its scored model) then holds the epochs it was trained in
    all, inherited ones included.
    """
    import keras

    import kt_ext

    class Counter(keras.layers.Layer):
        def build(self, input_shape):
            self.count = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="count"
            )

        def call(self, inputs):
            return inputs

    class CountEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            counter = self.model.get_layer("counter")
            counter.count.assign(counter.count + 1.0)

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((4,)),
                Counter(name="counter"),
                keras.layers.Dense(hp.Int("units", 2, 6), activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(
            keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
            "binary_crossentropy",
        )
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    tuner = getattr(kt_ext, tuner_name)(
        build,
        objective="val_loss",
        max_epochs=3,
        factor=3,
        epoch_budget=10,
        seed=1,
        directory=tmp_path,
        project_name=tuner_name,
    )
    tuner.search(
        x[:30],
        y[:30],
        validation_data=(x[30:], y[30:]),
        callbacks=[CountEpochs()],
        verbose=0,
    )
    return tuner


@pytest.mark.parametrize("tuner_name", ["CoarseToFine", "RankPruning"])
def test_epochs_total_is_what_the_scored_model_was_trained(tuner_name, tmp_path):
    # CoarseToFine reports once per trial (Keras Tuner's best_step counts from
    # 0), RankPruning every epoch (best_step counts on from initial_epoch).
    tuner = _counting_search(tuner_name, tmp_path)
    df = trials_dataframe(tmp_path / tuner_name).set_index("trial_id")
    assert (df["status"] == TrialStatus.COMPLETED).all()
    continued = [
        trial
        for trial in tuner.oracle.trials.values()
        if "tuner/trial_id" in trial.hyperparameters.values
    ]
    assert continued, "the search must continue a trial for this test"
    for trial in tuner.oracle.trials.values():
        model = tuner.load_model(trial)
        trained = float(model.get_layer("counter").count.numpy())
        assert df.loc[trial.trial_id, "epochs_total"] == trained, trial.trial_id
    for trial in continued:
        row = df.loc[trial.trial_id]
        values = trial.hyperparameters.values
        assert row["epochs"] == values["tuner/epochs"] - values["tuner/initial_epoch"]
        assert row["epochs_reached"] == values["tuner/epochs"]


# -- trials stopped early ----------------------------------------------------


def test_stopped_early_from_the_rank_pruning_state_of_older_searches(tmp_path):
    # The driver stops trials as RankPruning's tuner does, without a message,
    # as searches saved before the message existed.
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(
        RankPruningOracle,
        objective,
        max_epochs=9,
        seed=1,
        prune_quantile=0.5,
        min_peers=2,
    )
    result = run_oracle(oracle, objective, directory=tmp_path)
    stopped = {record.trial_id for record in result.trials if record.stopped_early}
    assert stopped, "the search must stop a trial early for this test"
    for source in (oracle, tmp_path / objective.name):
        df = trials_dataframe(source)
        assert df["stopped_early"].dtype == bool
        assert set(df.loc[df["stopped_early"], "trial_id"]) == stopped
        assert (df.loc[df["stopped_early"], "status"] == TrialStatus.COMPLETED).all()
        for trial_id in stopped:
            row = df.set_index("trial_id").loc[trial_id]
            assert row["epochs_reached"] == oracle.stopped_trials[trial_id] + 1


def test_stopped_early_from_the_trial_message(tmp_path):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
    run_oracle(oracle, objective, epochs=2, directory=tmp_path)
    trial = oracle.trials[sorted(oracle.trials)[1]]
    trial.message = "stopped early at epoch 1"
    oracle._save_trial(trial)
    for source in (oracle, tmp_path / objective.name):
        assert trials_dataframe(source)["stopped_early"].tolist() == [
            False,
            True,
            False,
        ]


# -- searches without a completed trial ---------------------------------------


@pytest.mark.parametrize("what", ["no trial", "running", "failed"])
def test_a_search_without_a_completed_trial_is_a_typed_frame(what, no_completed_trial):
    from kt_ext.analysis import best_so_far, rank_correlations
    from kt_ext.analysis._dataframe import best_trials

    oracle, directory = no_completed_trial(what)
    for source in (oracle, directory):
        df = trials_dataframe(source)
        assert list(df.columns[: len(BASE_COLUMNS)]) == BASE_COLUMNS
        assert len(df) == len(oracle.trials)
        assert df["score"].dtype == float and df["epochs_total"].isna().all()
        assert best_trials(df).empty
        assert np.isnan(best_so_far(df).best).all()
        assert rank_correlations(df)["rho"].isna().all()


def test_fold_columns_of_a_cross_validated_search_are_read_at_the_best_epoch(
    tmp_path,
):
    objective = get_objective("lr_only")
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=1, seed=1)
    oracle._set_project_dir(str(tmp_path), "cv")
    trial = oracle.create_trial("tuner0")
    # The mean val_accuracy is best at step 1; the folds' spread is then 0.1.
    for step, folds in enumerate([(0.5, 0.5), (0.6, 0.8), (0.7, 0.5)]):
        logs = {"val_accuracy": float(np.mean(folds))}
        logs["val_accuracy_std"] = float(np.std(folds))
        for index, value in enumerate(folds):
            logs[f"val_accuracy_fold{index}"] = value
        oracle.update_trial(trial.trial_id, logs, step=step)
    trial.status = TrialStatus.COMPLETED
    oracle.end_trial(trial)
    for source in (oracle, tmp_path / "cv"):
        row = trials_dataframe(source).iloc[0]
        assert row["metric_val_accuracy"] == pytest.approx(0.7)
        assert row["metric_val_accuracy_std"] == pytest.approx(0.1)
        assert row["metric_val_accuracy_fold0"] == pytest.approx(0.6)
        assert row["metric_val_accuracy_fold1"] == pytest.approx(0.8)
