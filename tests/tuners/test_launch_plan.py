"""``search(workers=N)``'s checks and decisions, before any process starts."""

from __future__ import annotations

import os
import types

import numpy as np
import pytest
import tensorflow as tf

from kt_ext.oracles import CoarseToFineOracle
from kt_ext.testing import SyntheticTuner, get_objective, make_oracle
from kt_ext.tuners._launch_plan import (
    check_workers,
    refuse_streams,
    visible_gpus,
    worker_devices,
)
from kt_ext.tuners._payload import Payload, read_payload, write_payload


@pytest.mark.parametrize(
    ("workers", "error"),
    [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError),
     ("2", TypeError), (None, TypeError)],
)  # fmt: skip
def test_bad_workers_are_refused_naming_the_argument(workers, error):
    with pytest.raises(error, match=rf"`workers`.*{workers!r}"):
        check_workers(workers)
    with pytest.raises(error, match=rf"`n_jobs`.*{workers!r}"):
        check_workers(workers, name="n_jobs")


def test_minus_one_is_what_is_available():
    assert check_workers(-1, available=3) == 3
    assert check_workers(-1) >= 1
    assert check_workers(5) == 5


def test_each_worker_gets_one_gpu():
    assert worker_devices(3, ["0", "2", "5", "7"], 64) == [
        {"CUDA_VISIBLE_DEVICES": "0"},
        {"CUDA_VISIBLE_DEVICES": "2"},
        {"CUDA_VISIBLE_DEVICES": "5"},
    ]


def test_more_workers_than_gpus_is_refused_naming_both():
    with pytest.raises(ValueError, match=r"`workers` is 3 but only 2 GPUs"):
        worker_devices(3, ["0", "1"], 64)


def test_without_gpus_workers_share_the_cpu_threads():
    devices = worker_devices(3, [], 16)
    assert len(devices) == 3
    for device in devices:
        assert device["CUDA_VISIBLE_DEVICES"] == "-1"
        assert device["TF_NUM_INTRAOP_THREADS"] == "5"
        assert device["OMP_NUM_THREADS"] == "5"
        assert device["TF_NUM_INTEROP_THREADS"] == "1"
    assert worker_devices(4, [], 2)[0]["TF_NUM_INTRAOP_THREADS"] == "1"


@pytest.mark.parametrize(
    ("value", "gpus"),
    [("0,1", ["0", "1"]), ("", []), ("-1", []), (" 3 , 4 ", ["3", "4"])],
)
def test_visible_gpus_follow_cuda_visible_devices(value, gpus):
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": value}) == gpus


def test_visible_gpus_count_gpus_not_their_mig_devices(tmp_path, monkeypatch):
    smi = tmp_path / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n"
        "echo 'GPU 0: NVIDIA H100 (UUID: GPU-a)'\n"
        "echo '  MIG 3g.40gb     Device  0: (UUID: MIG-b)'\n"
        "echo 'GPU 1: NVIDIA H100 (UUID: GPU-c)'\n"
    )
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert visible_gpus({}) == ["0", "1"]


def _rows():
    yield np.zeros((2, 3)), np.zeros(2)


@pytest.mark.parametrize(
    "stream",
    [
        _rows(),
        iter([np.zeros(3)]),
        tf.data.Dataset.from_tensor_slices(np.zeros((4, 3))).batch(2),
    ],
    ids=["generator", "iterator", "tf.data"],
)
def test_streams_are_refused_saying_what_to_pass(stream):
    with pytest.raises(TypeError, match=r"`x` must be arrays.*Pass NumPy arrays"):
        refuse_streams((stream,), {})
    with pytest.raises(TypeError, match=r"`validation_data` must be arrays"):
        refuse_streams((np.zeros(3),), {"validation_data": (stream, np.zeros(3))})


def test_arrays_and_lists_pass():
    refuse_streams(
        (np.zeros((3, 2)), [0, 1, 1]), {"validation_data": (np.zeros((1, 2)), [0])}
    )


@pytest.fixture
def tuner(tmp_path):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=3, seed=1)
    return SyntheticTuner(oracle, objective, directory=tmp_path, project_name="p")


@pytest.mark.parametrize("workers", [0, -3, 1.5, False])
def test_search_refuses_bad_workers_before_anything_starts(tuner, workers):
    with pytest.raises((ValueError, TypeError), match=r"`workers`"):
        tuner.search(workers=workers)
    assert not tuner.oracle.trials
    assert not os.path.exists(os.path.join(tuner.project_dir, "workers"))


def test_search_refuses_a_dataset_before_any_worker_starts(tuner):
    data = tf.data.Dataset.from_tensor_slices((np.zeros((4, 3)), np.zeros(4)))
    with pytest.raises(TypeError, match=r"`x` must be arrays.*tf.data"):
        tuner.search(data, workers=2)
    assert not os.path.exists(os.path.join(tuner.project_dir, "workers"))


def test_search_refuses_workers_inside_keras_tuners_distribution(tuner, monkeypatch):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    with pytest.raises(ValueError, match=r"already part of Keras Tuner's"):
        tuner.search(workers=2)


def test_the_payload_maps_large_arrays_and_sends_main_functions_by_value(tmp_path):
    namespace = {"__name__": "__main__"}
    exec("def scale(v):\n    return 2 * v\n", namespace)  # as in a script
    large, small = np.arange(50_000, dtype="float32"), np.arange(3)
    payload = Payload(
        SyntheticTuner,
        (namespace["scale"],),
        {"overwrite": False},
        (large, small),
        {"validation_data": (large, small)},
        3,
    )
    read = read_payload(write_payload(payload, tmp_path))
    assert read.args[0](4) == 8
    x, y = read.fit_args
    assert isinstance(x, np.memmap) and not x.flags.writeable
    np.testing.assert_array_equal(x, large)
    assert not isinstance(y, np.memmap)
    assert isinstance(read.fit_kwargs["validation_data"][0], np.memmap)
    # The array passed twice is one file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["array0.npy", "payload.pkl"]


def test_an_unpicklable_payload_is_a_type_error(tmp_path):
    payload = Payload(
        SyntheticTuner, (types.SimpleNamespace(lock=_lock()),), {}, (), {}, None
    )
    with pytest.raises(TypeError, match=r"positional argument 0 must be picklable"):
        write_payload(payload, tmp_path)


def test_an_unpicklable_search_argument_is_named_and_leaves_no_file(tmp_path):
    large = np.zeros(10**5)  # would be written as a mapped .npy file
    payload = Payload(SyntheticTuner, (), {}, (large,), {"callbacks": [_lock()]}, None)
    folder = tmp_path / "workers"
    with pytest.raises(TypeError, match=r"`callbacks` must be picklable"):
        write_payload(payload, folder)
    assert not folder.exists()


def _lock():
    import threading

    return threading.Lock()
