"""kt_ext's private helpers; nothing here is public API.

- ``seam_oracle`` and ``seam_training``: the only modules that reach into
  private Keras Tuner, Keras and TensorFlow code (``tests/test_seam.py``
  checks every such reach against the installed versions).
- ``checks``: the shared argument checks and their error messages.
- ``heap``: keeping garbage collection cheap while a search builds models.
- ``names``: names shared across kt_ext (bookkeeping entries, tasks, tuners,
  data sets); imports nothing heavy.
- ``quiet``: silencing known, harmless Keras and TensorFlow noise.
- ``scores``: which score is better, and the best score so far.
- ``tasks``: inferring the learning task from training targets.
"""
