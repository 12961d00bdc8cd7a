"""What the dry step before a search's first trial costs (issue 19: <= ~0.3 s).

Each case runs in a fresh process, as a new search in a new Python session
would: one ``CoarseToFine`` search of one trial and one epoch, with the dry
step timed from inside ``search()``, then the dry step repeated on the warm
process. Cases: ``MLPHyperModel`` on breast_cancer (455 x 30),
``CNNHyperModel`` on digits_images (8 x 8 x 1).

Run: ``python benchmarks/dry_step_cost.py`` (prints one line per case).
"""

from __future__ import annotations

import subprocess
import sys

_CASE = """
import tempfile, time
import kt_ext
from kt_ext import datasets
from kt_ext.hypermodels import {template}
from kt_ext.tuners import _base, _dry_step

data = datasets.load({name!r}, seed=0)
x, y = data.train
hypermodel = {template}.for_data(x, y)
seconds = []


def timed(*args, **kwargs):
    start = time.perf_counter()
    _dry_step.dry_step(*args, **kwargs)
    seconds.append(time.perf_counter() - start)


_base.dry_step = timed
tuner = kt_ext.CoarseToFine(
    hypermodel, objective="val_accuracy", max_epochs=1, max_trials=1,
    directory=tempfile.mkdtemp(), seed=0)
start = time.perf_counter()
tuner.search(x, y, validation_data=data.validation, verbose=0)
search_s = time.perf_counter() - start
for _ in range(3):
    timed(tuner, (x, y), {{}})
print(f"{{seconds[0]:.3f}} {{min(seconds[1:]):.3f}} {{search_s:.2f}}")
"""


def main() -> None:
    print("case                        first (s)  warm (s)  whole search (s)")
    for name, template in (
        ("breast_cancer", "MLPHyperModel"),
        ("digits_images", "CNNHyperModel"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", _CASE.format(name=name, template=template)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        first, warm, search = out[-3:]
        print(f"{name + ' ' + template:<28}{first:>9}{warm:>10}{search:>18}")


if __name__ == "__main__":
    main()
