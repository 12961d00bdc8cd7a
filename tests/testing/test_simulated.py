"""Tests of the simulated-clock driver: its accounting and how it honours oracles."""

from __future__ import annotations

import itertools
import math

import pytest
from keras_tuner.engine.trial import TrialStatus
from keras_tuner.oracles import HyperbandOracle, RandomSearchOracle

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle, simulate_workers


def by_units(values, epoch):
    """Bigger configurations train slower; every epoch a little different."""
    return values.get("units", 64) / 64 + 0.01 * epoch


class AlwaysIdleOracle(RandomSearchOracle):
    def populate_space(self, trial_id):
        return {"status": TrialStatus.IDLE}


def test_one_worker_trains_all_the_time_and_decides_as_run_oracle():
    objective = get_objective("mlp", seed=0)
    simulated = simulate_workers(
        make_oracle(HyperbandOracle, objective, max_epochs=9, seed=3),
        objective,
        by_units,
        workers=1,
    )
    plain = run_oracle(
        make_oracle(HyperbandOracle, objective, max_epochs=9, seed=3), objective
    )
    assert simulated.trials == plain.trials
    assert simulated.idle == 0 and simulated.done == 0
    assert math.isclose(simulated.utilization, 1.0)
    durations = [
        by_units(span.record.values, epoch)
        for span in simulated.timeline
        for epoch in range(
            span.record.initial_epoch + 1,
            span.record.initial_epoch + span.record.epochs_trained + 1,
        )
    ]
    assert math.isclose(simulated.makespan, sum(durations))
    # One worker: each trial starts when the one before it ended.
    ends = [0.0] + [span.end for span in simulated.timeline[:-1]]
    starts = [span.start for span in simulated.timeline]
    assert starts == pytest.approx(ends)


@pytest.mark.parametrize("promotion", ["sync", "async"])
@pytest.mark.parametrize("oracle_cls", [CoarseToFineOracle, RankPruningOracle])
def test_workers_share_the_budget_and_every_second_is_accounted(oracle_cls, promotion):
    objective = get_objective("mlp", seed=1)
    oracle = make_oracle(
        oracle_cls,
        objective,
        max_epochs=9,
        epoch_budget=200,
        seed=2,
        promotion=promotion,
    )
    result = simulate_workers(oracle, objective, by_units, workers=4)
    assert result.total_epochs <= 200 and oracle.epochs_used <= 200
    assert result.oracle_stopped and not oracle.ongoing_trials
    assert {span.worker for span in result.timeline} == {0, 1, 2, 3}
    if promotion == "sync":
        # Rounds wait for their last trial: a worker waited on an IDLE answer.
        assert result.idle > 0
    total = result.busy + result.idle + result.done
    assert total <= 4 * result.makespan + 1e-9
    assert 0 < result.utilization < 1
    # No worker ran two trials at once.
    for worker in range(4):
        spans = sorted(
            (span.start, span.end) for span in result.timeline if span.worker == worker
        )
        assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))


def test_a_pruned_trial_stops_where_the_oracle_said():
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(
        RankPruningOracle, objective, max_epochs=27, epoch_budget=600, seed=0
    )
    result = simulate_workers(oracle, objective, by_units, workers=3)
    pruned = [record for record in result.trials if record.stopped_early]
    assert pruned, "RankPruning stopped no trial early"
    assert all(record.status == TrialStatus.COMPLETED for record in pruned)


def test_idle_with_nothing_running_is_an_error():
    objective = get_objective("lr_only")
    oracle = make_oracle(AlwaysIdleOracle, objective, max_trials=3)
    with pytest.raises(RuntimeError, match="wait forever"):
        simulate_workers(oracle, objective, by_units, workers=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"workers": 0}, ValueError, "workers"),
        ({"workers": 1.5}, TypeError, "workers"),
        ({"workers": 1, "epochs": 0}, ValueError, "epochs"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    objective = get_objective("lr_only")
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=2)
    with pytest.raises(error, match=match):
        simulate_workers(oracle, objective, by_units, **kwargs)


def test_a_duration_that_is_not_positive_is_refused():
    objective = get_objective("lr_only")
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=2)
    with pytest.raises(ValueError, match="epoch_seconds"):
        simulate_workers(oracle, objective, lambda values, epoch: 0.0, workers=1)
