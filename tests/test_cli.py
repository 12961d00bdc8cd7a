"""The `kt-ext` command line."""

from __future__ import annotations

import csv
import gzip
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from kt_ext._internal.quiet import is_native_log_line
from kt_ext.cli import main


def test_search_prints_progress_best_values_and_test_score(capsys, tmp_path):
    code = main(
        [
            "search",
            "--dataset",
            "iris",
            "--tuner",
            "random",
            "--max-trials",
            "2",
            "--max-epochs",
            "2",
            "--directory",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    # Trials are named by their id, here as everywhere.
    assert re.findall(r"^  trial (\d+)  ", out, flags=re.MULTILINE) == ["0", "1"]
    assert "Best hyperparameters:" in out
    assert re.search(r"Best val_accuracy: \d\.\d{4} \(trial [01]\)", out)
    assert re.search(r"Test accuracy of the final model .*: \d\.\d{4}", out)
    assert "tuner/" not in out


def test_search_on_a_csv_file_with_string_labels_encodes_them(capsys, tmp_path):
    # tuner.search refuses string labels; the CLI owns the split, so it encodes.
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.iloc[:90, [0, 1, 2, -1]]
    frame["diagnosis"] = frame.pop("target").map({0: "malignant", 1: "benign"})
    csv = tmp_path / "cells.csv"
    frame.to_csv(csv, index=False)
    code = main(
        [
            "search",
            "--csv",
            str(csv),
            "--target",
            "diagnosis",
            "--tuner",
            "random",
            "--max-trials",
            "1",
            "--max-epochs",
            "1",
            "--directory",
            str(tmp_path / "runs"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"Best val_accuracy: \d\.\d{4} \(trial 0\)", out)


def test_search_rejects_a_bad_budget(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--max-epochs", "0"])
    assert "--max-epochs" in capsys.readouterr().err


def test_compare_on_a_csv_file(capsys, tmp_path):
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame["species"] = frame.pop("target").map({0: "setosa", 1: "versicolor", 2: "x"})
    csv = tmp_path / "flowers.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "out"
    code = main(
        [
            "compare",
            "--csv",
            str(csv),
            "--target",
            "species",
            "--tuners",
            "random",
            "--seeds",
            "1",
            "--max-epochs",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "# Comparison on flowers" in printed
    assert (out / "results.csv").read_text().count("flowers") == 2
    # Each tuner's best hyperparameters, by trial id.
    best = printed.split("## Best hyperparameters")[1]
    assert "hyperband s1" in best and "random s1" in best
    assert re.search(r"^\| trial +\| \d{4} +\| \d+ ", best, flags=re.M)
    assert re.search(r"^\| learning_rate +\| \d", best, flags=re.M)
    assert "tuner/" not in best


def test_compare_names_a_missing_target_column(capsys, tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    code = main(["compare", "--csv", str(csv), "--target", "label"])
    assert code == 2
    err = capsys.readouterr().err
    assert "`--target`" in err and "'label'" in err and "['a', 'b']" in err


@pytest.mark.parametrize("workers", ["0", "-2", "two"])
def test_search_rejects_bad_workers(capsys, workers):
    with pytest.raises(SystemExit):
        main(["search", "--workers", workers])
    assert "--workers" in capsys.readouterr().err


@pytest.mark.slow
def test_search_with_workers_trains_in_workers_and_reports(capsys, tmp_path):
    argv = ["search", "--dataset", "iris", "--tuner", "coarse_to_fine"]
    argv += ["--max-epochs", "2", "--workers", "2", "--directory", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    # The chief's one progress display, a line per trial.
    assert re.search(r"^CoarseToFine \| trial \d+ ", out, flags=re.MULTILINE)
    assert re.search(r"Best val_accuracy: \d\.\d{4} \(trial \d+\)", out)
    assert re.search(r"Test accuracy of the final model .*: \d\.\d{4}", out)
    logs = list((tmp_path / "iris_coarse_to_fine" / "workers").glob("worker*.log"))
    assert len(logs) == 2


def test_unknown_tuner_is_a_clear_error(capsys):
    assert main(["search", "--tuner", "grid"]) == 2
    assert "unknown tuner 'grid'" in capsys.readouterr().err


def test_unwritable_output_folder_fails_before_training(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["compare", "--dataset", "iris", "--out", str(blocker / "out")])
    assert code == 2
    assert "kt-ext compare: error: `--out` must be inside" in capsys.readouterr().err


# -- checks before heavy imports, quiet terminal, search --csv and resume -----

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "keras_tuner", "sklearn")


def keras_backend():
    """The backend Keras runs on here, which each child is given."""
    import keras

    return keras.backend.backend()


def run_python(code_or_args, tmp_path, *, timeout=600):
    """Runs this checkout's Python in ``tmp_path``, this kt_ext first on the path."""
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    env["KERAS_BACKEND"] = keras_backend()
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    result = subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    # Decoded by hand: text mode would turn a progress bar's "\r" into "\n".
    result.stdout, result.stderr = result.stdout.decode(), result.stderr.decode()
    return result


def test_mistakes_fail_before_tensorflow_keras_tuner_or_sklearn_load(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "oracle.json").write_text("{}")
    rejected = [
        (["compare", "--csv", "missing.csv", "--target", "label"], "`--csv`"),
        (["search", "--csv", "t.csv"], "`--target`"),
        (["search", "--csv", "t.csv", "--target", "label"], "'label'"),
        (["search", "--csv", "t.csv", "--target", "b", "--drop", "z"], "`--drop`"),
        (["search", "--target", "b"], "`--target` needs `--csv`"),
        (["search", "--tuner", "foo"], "unknown tuner 'foo'"),
        (["search", "--workers", "2"], "`--workers 2` needs --tuner coarse_to_fine"),
        (["compare", "--tuners", "random,foo"], "unknown tuner 'foo'"),
        (["compare", "--tuners", "random,random"], "`--tuners`"),
        (["compare", "--cv", "1"], "`--cv` must be an int >= 2"),
        (["compare", "--out", "nowhere/out"], "`--out`"),
        (["compare", "--out", "t.csv"], "`--out`"),
        (["search", "--directory", "nowhere/runs"], "`--directory`"),
        (["report", "project", "--out", "nowhere/r.html"], "`--out`"),
        (["report", "missing", "--out", "r.html"], "oracle.json"),
    ]
    code = (
        "import sys\n"
        "from kt_ext.cli import main\n"
        f"for argv in {[argv for argv, _ in rejected]!r}:\n"
        "    assert main(argv) == 2, argv\n"
        f"    print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]"] * len(rejected)
    errors = result.stderr.splitlines()
    assert len(errors) == len(rejected)
    for (argv, expected), error in zip(rejected, errors, strict=True):
        assert error.startswith(f"kt-ext {argv[0]}: error: ") and expected in error
    assert not (tmp_path / "nowhere").exists()


NOISE = (
    b"WARNING: All log messages before absl::InitializeLog() is called are "
    b"written to STDERR\n"
    b"I0000 00:00:1796105053.227191    2002 cudart_stub.cc:31] Could not find "
    b"cuda drivers on your machine, GPU will not be used.\n"
)


def test_native_information_is_dropped_and_everything_else_kept(tmp_path):
    code = f"""
import os, sys, time
from kt_ext._internal.quiet import quiet_terminal
with quiet_terminal():
    os.write(2, {NOISE!r})
    print("progress 1/2", end="\\r", file=sys.stderr, flush=True)
    os.write(2, b"I0000 00:00:17961")  # a native line in two writes
    time.sleep(0.2)
    os.write(2, b"05.2   2223 cpu_feature_guard.cc:227] This TensorFlow\\n")
    os.write(2, b"E0000 00:00:1796105.2   2223 cuda_platform.cc:52] failed\\n")
    print("I think the data is fine", file=sys.stderr)
    raise RuntimeError("the user's own error")
"""
    result = run_python(code, tmp_path)
    assert result.returncode == 1
    assert "cudart" not in result.stderr and "absl" not in result.stderr
    assert "cpu_feature_guard" not in result.stderr
    # TensorFlow's error lines always get through.
    assert "progress 1/2\rE0000 00:00:1796105.2   2223 cuda_platform.cc:52] " in (
        result.stderr
    )
    assert "] failed\nI think the data is fine\n" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith("RuntimeError: the user's own error")


def test_a_crash_loses_nothing_written_before_it(tmp_path):
    code = f"""
import os
from kt_ext._internal.quiet import quiet_terminal
with quiet_terminal():
    os.write(2, {NOISE!r})
    os.write(2, b"F0000 00:00:1796105.2   2223 graph.cc:12] Check failed: x\\n")
    os.write(2, b"the last words, without a newline")
    os.abort()  # as TensorFlow's fatal errors end the process
"""
    result = run_python(code, tmp_path)
    assert result.returncode != 0
    assert result.stderr == (
        "F0000 00:00:1796105.2   2223 graph.cc:12] Check failed: x\n"
        "the last words, without a newline"
    )


def test_help_reads_as_plain_text(tmp_path):
    for command in ([], ["search"], ["compare"], ["report"]):
        result = run_python(["-m", "kt_ext.cli", *command, "--help"], tmp_path)
        assert result.returncode == 0, result.stderr
        text = result.stdout
        assert "`" not in text and ":class:" not in text and ":func:" not in text
        assert text.startswith("usage: kt-ext")
        # A sentence that says what the command does, then its options.
        description = text.split("\n\n")[1]
        assert description[0].isupper() and description.rstrip().endswith(".")
        # Every option says what it does.
        assert not re.findall(r"^  (--[\w-]+)( [A-Z.]+)?$", text, flags=re.M)


# A TensorFlow error line: absl's format ("E0000 00:00:...") or, before
# TensorFlow 2.18 (the floor is 2.16), a timestamp first ("2026-... : E ...").
TF_ERROR_LINE = re.compile(r"^(E\d{4} |\d{4}-\d\d-\d\d [\d:.]+: E )")


def test_tensorflow_lines_show_only_with_verbose(tmp_path):
    argv = ["-m", "kt_ext.cli", "compare", "--dataset", "iris"]
    argv += ["--objective", "val_mystery", "--out", "out", "--no-progress"]
    quiet = run_python(argv, tmp_path)
    verbose = run_python([*argv, "--verbose"], tmp_path)
    assert quiet.returncode == verbose.returncode == 2
    error = "kt-ext compare: error: `objective` must be a metric"
    # TensorFlow is loaded by then; the user's error still gets through, and
    # of TensorFlow's lines only its errors (on CPU: no CUDA device).
    assert error in quiet.stderr
    assert all(
        line.startswith(error) or TF_ERROR_LINE.match(line)
        for line in quiet.stderr.splitlines()
    ), quiet.stderr
    assert error in verbose.stderr
    if not Path("/dev/nvidiactl").exists():  # CPU only: TensorFlow says so
        assert "cuda" in verbose.stderr.lower()
        assert any(
            is_native_log_line(line.encode()) for line in verbose.stderr.splitlines()
        )


def telco_sample(path):
    """Telco churn's 11 rows with a blank TotalCharges, and 289 others."""
    source = resources.files("kt_ext.datasets") / "_data" / "telco_churn.csv.gz"
    with source.open("rb") as raw, gzip.open(raw, "rt", newline="") as text:
        header, *rows = list(csv.reader(text))
    blank = [row for row in rows if row[header.index("TotalCharges")] == " "]
    assert len(blank) == 11
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *blank, *rows[:289]])


# The CLI, then the backend it ran on: Keras is imported only after `main`,
# as by the `kt-ext` command, so that the CLI quiets TensorFlow's start-up.
CLI_ON_ITS_BACKEND = (
    "import sys; from kt_ext.cli import main; code = main(sys.argv[1:]); "
    "import keras; print('keras backend:', keras.backend.backend(), flush=True); "
    "sys.exit(code)"
)


@pytest.mark.backends
def test_search_on_a_csv_file_is_quiet_keeps_its_trials_and_resumes(
    tmp_path, capsys, monkeypatch
):
    telco_sample(tmp_path / "churn.csv")
    argv = ["search", "--csv", "churn.csv", "--target", "Churn", "--drop"]
    argv += ["customerID", "--tuner", "random", "--max-trials", "1"]
    argv += ["--max-epochs", "1"]
    first = run_python(["-c", CLI_ON_ITS_BACKEND, *argv], tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.endswith(f"keras backend: {keras_backend()}\n")
    # No TensorFlow information or warning, from the import to the last fit:
    # its error lines only (a CPU-only machine's "failed call to cuInit").
    assert all(
        TF_ERROR_LINE.match(line) and "cuda" in line
        for line in first.stderr.splitlines()
    ), first.stderr
    project = tmp_path.resolve() / "kt_ext_search" / "churn_random"
    assert f"Trials are kept in {project}; " in first.stdout
    assert re.search(r"^  trial 0  0\.\d{4}  best", first.stdout, flags=re.M)
    assert "Best val_accuracy" in first.stdout and "(trial 0)" in first.stdout
    assert (project / "oracle.json").is_file()

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "(resuming them; --overwrite starts over)" in again
    assert not re.search(r"^  trial ", again, flags=re.M)  # nothing left to run
    assert "(trial 0)" in again
    assert main([*argv, "--overwrite"]) == 0
    fresh = capsys.readouterr().out
    assert "the same command run again resumes them" in fresh
    assert re.search(r"^  trial 0  ", fresh, flags=re.M)


@pytest.mark.parametrize(
    ("tuner", "changed"),
    [("hyperband", "`max_epochs`: saved 2, given 3"), ("random", "`epochs`: saved 2")],
)
def test_a_rerun_with_other_settings_is_refused_before_training(
    tuner, changed, tmp_path, capsys
):
    argv = ["search", "--dataset", "iris", "--tuner", tuner, "--max-trials", "1"]
    argv += ["--directory", str(tmp_path), "--max-epochs"]
    assert main([*argv, "2"]) == 0
    project = tmp_path / f"iris_{tuner}"
    trials = sorted(project.glob("trial_*"))
    capsys.readouterr()
    for rerun, change in [(["3"], changed), (["2", "--seed", "2"], "`seed`: saved 1")]:
        assert main([*argv, *rerun]) == 2
        captured = capsys.readouterr()
        assert change in captured.err
        assert "--overwrite" in captured.err and "--directory" in captured.err
        assert "overwrite=True" not in captured.err
        assert not re.search(r"^  trial ", captured.out, flags=re.M)
        assert sorted(project.glob("trial_*")) == trials
    # `kt-ext report DIR` writes DIR/report.html.
    assert main(["report", str(project)]) == 0
    assert (project / "report.html").is_file()
    assert f"Report written to {project / 'report.html'}" in capsys.readouterr().out
