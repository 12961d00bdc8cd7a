"""The help texts of the ``kt-ext`` command line (``kt-ext --help``)."""

DESCRIPTION = """\
Tune Keras models with kt_ext's hypermodel templates and tuners, compare
tuners against Keras Tuner's Hyperband, and report on a search.

TensorFlow's information and warning lines are hidden unless --verbose; its
error lines always show."""

EXAMPLES = """\
examples:
  kt-ext search --dataset breast_cancer --tuner hyperband --max-epochs 9
  kt-ext search --csv churn.csv --target Churn --drop customerID
  kt-ext search --dataset telco_churn --tuner coarse_to_fine --workers 2
  kt-ext compare --dataset wine --cv 3 --seeds 3
  kt-ext report kt_ext_search/breast_cancer_hyperband"""
