"""Every example runs, offline, at a tiny budget, so that none can rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TINY = {
    "quickstart_tabular.py": ["--max-epochs", "2"],
    "images_cnn.py": ["--max-epochs", "1", "--max-trials", "1"],
    "lr_schedules.py": ["--max-epochs", "2", "--max-trials", "1"],
    "churn_model_builder.py": ["--max-epochs", "1"],
}


def test_every_example_has_a_tiny_budget():
    scripts = {path.name for path in EXAMPLES.glob("*.py")} - {"_budget.py"}
    assert scripts == set(TINY)


@pytest.mark.parametrize("script", sorted(TINY))
def test_example_runs(script, tmp_path):
    result = subprocess.run(
        [sys.executable, script, *TINY[script], "--directory", str(tmp_path)],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test accuracy" in result.stdout or "best schedule" in result.stdout
