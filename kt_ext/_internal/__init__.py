"""kt_ext's private helpers; nothing here is public API.

- ``seam_oracle``, ``seam_training`` and ``seam_random``: the only modules
  that reach into private Keras Tuner, Keras and TensorFlow code (the oracle's
  side, the trial's side, and the global random state a trial is seeded in);
  ``tests/test_seam.py`` checks every such reach against the installed
  versions.
- ``checkpoints``: loading a parent trial's weights and optimizer state into a
  continued trial (public Keras API only).
- ``checks``: the shared argument checks and their error messages.
- ``heap``: keeping garbage collection cheap while a search builds models.
- ``names``: names shared across kt_ext (bookkeeping entries, tasks, tuners,
  data sets); imports nothing heavy.
- ``quiet``: silencing known, harmless Keras and TensorFlow noise.
- ``scores``: which score is better, and the best score so far.
- ``tasks``: inferring the learning task from training targets.
"""
