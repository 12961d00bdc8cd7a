"""What the dry step before a search's first trial costs (issue 19: <= ~0.3 s).

Each case runs in a fresh process, as a new search in a new Python session
would: one ``CoarseToFine`` search of one trial and one epoch, with the dry
step timed from inside ``search()`` (``first``; it includes TensorFlow's
one-time eager start-up, which the first trial pays when there is no dry
step), then the dry step repeated on the warm process (``warm``). The same
search with the dry step switched off (``off``) gives what it adds to a whole
search; the cases are interleaved and run twice. Cases: ``MLPHyperModel`` on
breast_cancer (455 x 30), ``CNNHyperModel`` on digits_images (8 x 8 x 1).

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


_base.dry_step = timed if {dry} else (lambda *args, **kwargs: None)
tuner = kt_ext.CoarseToFine(
    hypermodel, objective="val_accuracy", max_epochs=1, max_trials=1,
    directory=tempfile.mkdtemp(), seed=0)
start = time.perf_counter()
tuner.search(x, y, validation_data=data.validation, verbose=0)
search_s = time.perf_counter() - start
for _ in range(3):
    timed(tuner, (x, y), {{}})
first = f"{{seconds[0]:.3f}}" if {dry} else "-"
print(f"{{first}} {{min(seconds[-3:]):.3f}} {{search_s:.2f}}")
"""


def main() -> None:
    print("case                        dry step  first (s)  warm (s)  whole search (s)")
    cases = [
        (name, template, dry)
        for _ in range(2)
        for name, template in (
            ("breast_cancer", "MLPHyperModel"),
            ("digits_images", "CNNHyperModel"),
        )
        for dry in (True, False)
    ]
    for name, template, dry in cases:
        code = _CASE.format(name=name, template=template, dry=dry)
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        first, warm, search = out[-3:]
        label = "on" if dry else "off"
        print(f"{name + ' ' + template:<28}{label:>8}{first:>11}{warm:>10}{search:>18}")


if __name__ == "__main__":
    main()
