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
