"""The `kt-ext` command line."""

from __future__ import annotations

import re

import pytest

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
    assert len(re.findall(r"^\s+trial\s+\d+", out, flags=re.MULTILINE)) == 2
    assert "Best hyperparameters:" in out
    assert re.search(r"Best val_accuracy: \d\.\d{4}", out)
    assert re.search(r"Test accuracy of the final model .*: \d\.\d{4}", out)
    assert "tuner/" not in out


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


def test_compare_names_a_missing_target_column(capsys, tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    code = main(["compare", "--csv", str(csv), "--target", "label"])
    assert code == 2
    err = capsys.readouterr().err
    assert "`--target`" in err and "'label'" in err and "['a', 'b']" in err


def test_unknown_tuner_is_a_clear_error(capsys):
    assert main(["search", "--tuner", "grid"]) == 2
    assert "unknown tuner 'grid'" in capsys.readouterr().err


def test_unwritable_output_folder_fails_before_training(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["compare", "--dataset", "iris", "--out", str(blocker / "out")])
    assert code == 2
    assert "kt-ext compare: error:" in capsys.readouterr().err
