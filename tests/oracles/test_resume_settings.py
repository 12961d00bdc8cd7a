"""A rerun with ``overwrite=False`` resumes only the search that was saved.

Settings that change what the saved search means are refused, before anything
is read into the oracle or written to disk; extending the search is allowed.
"""

from __future__ import annotations

import hashlib

import keras_tuner as kt
import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle, RoundOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle

OBJECTIVE = get_objective("lr_only", seed=0)


def saved_search(tmp_path, cls=CoarseToFineOracle, **kwargs):
    """Runs a whole search of ``cls`` into ``tmp_path``; returns its settings."""
    settings = {"max_epochs": 9, "epoch_budget": 30, "seed": 1, **kwargs}
    run_oracle(make_oracle(cls, OBJECTIVE, **settings), OBJECTIVE, directory=tmp_path)
    return settings


def rerun(tmp_path, cls=CoarseToFineOracle, objective=OBJECTIVE, **settings):
    """A fresh oracle on the saved project, reloaded as a rerun would."""
    oracle = make_oracle(cls, objective, **settings)
    oracle._set_project_dir(str(tmp_path), OBJECTIVE.name)
    oracle.reload()
    return oracle


def files_of(tmp_path) -> dict[str, str]:
    return {
        str(path.relative_to(tmp_path)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file()
    }


def test_the_reported_bug_changed_objective_and_max_epochs_are_refused(tmp_path):
    saved = saved_search(tmp_path)
    before = files_of(tmp_path)
    given = {**saved, "max_epochs": 27}
    given.pop("epoch_budget")  # the default budget follows max_epochs: 375
    oracle = CoarseToFineOracle(
        objective="val_loss", hyperparameters=OBJECTIVE.hyperparameters(), **given
    )
    oracle._set_project_dir(str(tmp_path), OBJECTIVE.name)
    with pytest.raises(ValueError) as raised:
        oracle.reload()
    message = str(raised.value)
    assert "`objective`: saved 'val_accuracy' (max), given 'val_loss' (min)" in message
    assert "`max_epochs`: saved 9, given 27" in message
    assert "overwrite=True" in message and "project_name" in message
    assert "epoch_budget" not in message  # a larger budget is allowed
    assert files_of(tmp_path) == before  # nothing saved is lost


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    [
        (CoarseToFineOracle, "min_epochs", 3),
        (CoarseToFineOracle, "factor", 2),
        (CoarseToFineOracle, "seed", 2),
        (CoarseToFineOracle, "initial_trials", 4),
        (CoarseToFineOracle, "final_trials", 5),
        (CoarseToFineOracle, "top_fraction", 0.5),
        (CoarseToFineOracle, "margin", 0.5),
        (CoarseToFineOracle, "min_width", 0.5),
        (RankPruningOracle, "prune_trials", False),
        (RankPruningOracle, "prune_quantile", 0.5),
        (RankPruningOracle, "rho_threshold", 0.5),
        (RankPruningOracle, "alpha", 0.1),
        (RankPruningOracle, "freeze_rho", 0.3),
        (RankPruningOracle, "freeze_p_value", 0.2),
        (RankPruningOracle, "freeze_rounds", 3),
        (RankPruningOracle, "min_trials", 5),
        (RankPruningOracle, "top_fraction", 0.5),
        (RankPruningOracle, "margin", 0.2),
        (RankPruningOracle, "min_peers", 2),
    ],
)
def test_each_setting_of_the_search_is_refused_with_both_values(
    tmp_path, cls, name, value
):
    saved = saved_search(tmp_path, cls)
    before = files_of(tmp_path)
    with pytest.raises(ValueError, match=rf"`{name}`: saved .*, given {value!r}"):
        rerun(tmp_path, cls, **{**saved, name: value})
    assert files_of(tmp_path) == before


def test_executions_per_trial_is_refused(tmp_path):
    saved = saved_search(tmp_path)
    oracle = make_oracle(CoarseToFineOracle, OBJECTIVE, **saved)
    oracle.executions_per_trial = 2  # as the tuner sets it, before reloading
    oracle._set_project_dir(str(tmp_path), OBJECTIVE.name)
    with pytest.raises(ValueError, match="`executions_per_trial`: saved 1, given 2"):
        oracle.reload()


def test_every_changed_setting_is_named_at_once(tmp_path):
    saved = saved_search(tmp_path)
    with pytest.raises(ValueError) as raised:
        rerun(tmp_path, **{**saved, "factor": 2, "margin": 0.5, "seed": 7})
    for name in ("factor", "margin", "seed"):
        assert f"`{name}`" in str(raised.value)


def test_the_same_settings_or_an_extended_search_resume(tmp_path):
    saved = saved_search(tmp_path, epoch_budget=20)
    oracle = rerun(tmp_path, **saved)
    spent = oracle.epochs_used
    assert spent and oracle.max_epochs == 9
    # A larger budget, a smaller one still above what was spent, no seed (a
    # seed only counts when given), a worker timeout: all allowed.
    rerun(tmp_path, **{**saved, "epoch_budget": 200})
    rerun(tmp_path, **{**saved, "epoch_budget": spent})
    rerun(tmp_path, **{**saved, "seed": None, "worker_timeout": 5.0})
    extended = rerun(tmp_path, **{**saved, "epoch_budget": 60})
    more = run_oracle(extended, OBJECTIVE)
    assert more.trials and spent < extended.epochs_used <= 60


def test_a_budget_or_trial_count_below_what_was_spent_is_refused(tmp_path):
    saved = saved_search(tmp_path, epoch_budget=20)
    spent = rerun(tmp_path, **saved).epochs_used
    pattern = rf"`epoch_budget`: saved 20, given 3 \(below the {spent} epochs"
    with pytest.raises(ValueError, match=pattern):
        rerun(tmp_path, **{**saved, "epoch_budget": 3})
    trials = len(rerun(tmp_path, **saved).trials)
    bounded = {**saved, "max_trials": trials - 1}
    with pytest.raises(ValueError, match=rf"`max_trials`.*given {trials - 1}"):
        rerun(tmp_path, **bounded)
    rerun(tmp_path, **{**saved, "max_trials": trials})  # nothing more to run


def test_a_changed_entry_of_the_declared_space_is_refused(tmp_path):
    saved = saved_search(tmp_path)
    hps = OBJECTIVE.hyperparameters()
    learning_rate = next(hp for hp in hps.space if hp.name == "learning_rate")
    changed = kt.HyperParameters()
    changed.Float("learning_rate", learning_rate.min_value, 0.5, sampling="log")
    oracle = CoarseToFineOracle(
        objective=OBJECTIVE.objective, hyperparameters=changed, **saved
    )
    oracle._set_project_dir(str(tmp_path), OBJECTIVE.name)
    with pytest.raises(ValueError, match=r"`learning_rate`: saved .*'max_value'.*0\.5"):
        oracle.reload()


def test_entries_created_mid_search_are_not_compared(tmp_path):
    oracle = make_oracle(RoundOracle, OBJECTIVE, max_epochs=1, max_trials=2, seed=1)
    oracle._set_project_dir(str(tmp_path), OBJECTIVE.name)
    trial = oracle.create_trial("t")
    late = trial.hyperparameters.copy()
    late.Int("late_entry", 1, 4)  # as a build() declares one in a trial
    oracle.update_space(late)
    oracle.save()
    again = make_oracle(RoundOracle, OBJECTIVE, max_epochs=1, max_trials=2, seed=1)
    again._set_project_dir(str(tmp_path), OBJECTIVE.name)
    again.reload()
    assert "late_entry" in [hp.name for hp in again.hyperparameters.space]
    # A declared entry the rerun no longer declares is refused.
    fewer = kt.HyperParameters()
    fewer.merge([hp for hp in OBJECTIVE.hyperparameters().space][:1])
    missing = OBJECTIVE.hyperparameters().space[1].name
    dropped = RoundOracle(
        objective=OBJECTIVE.objective, max_epochs=1, max_trials=2, seed=1
    )
    dropped._set_project_dir(str(tmp_path), OBJECTIVE.name)
    dropped.update_space(fewer)  # as a tuner declares its hypermodel's entries
    with pytest.raises(ValueError, match=rf"`{missing}`: saved .*, given absent"):
        dropped.reload()
