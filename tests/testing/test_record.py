"""first_difference: decisions exactly, floats to a tolerance, a readable path."""

from kt_ext.testing import first_difference


def test_floats_agree_to_a_tolerance_and_decisions_exactly():
    recorded = {"trials": [{"trial_id": "0003", "values": {"units": 32}}]}
    changed = {"trials": [{"trial_id": "0003", "values": {"units": 33}}]}
    assert first_difference(recorded, changed) == (
        ".trials[0] (trial 0003).values.units: recorded 32, now 33"
    )
    assert first_difference({"p": 0.1234567}, {"p": 0.1234567 * (1 + 1e-9)}) is None
    assert first_difference({"p": 0.5}, {"p": 0.5001}) is not None
    assert first_difference({"epochs": 3}, {"epochs": 3.0}) is not None
    assert first_difference([1, 2], [1, 2, 3]) == ": recorded 2 items, now 3"
