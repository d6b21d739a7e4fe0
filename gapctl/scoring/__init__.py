"""From a round's files to its scores: load, validate, score, and the views of one score.

Owns: loading a round into the model with the rule kinds' shapes (`load`), the checks across files
(`validate`, `check_constructs`, `check_rollups`), the arithmetic (`score`, `unit_env`), the
file-by-file outcomes with their cache and workers (`outcomes`, `pipeline`, `executors`), the
score table and its figures (`scoreboard`), one unit's derivation (`explain`, `details`),
robustness to the scheme's choices (`robustness`) and the readable view of a scheme (`show`).
`gapctl/api.py` is this stage's public face and counts as part of it.

May import: the base modules, `gapctl.data` and `gapctl.scheme`. Must not import `gapctl.io`,
`gapctl.review`, `gapctl.process`, `gapctl.report` or `gapctl.cli`. Kept empty of code (a warm
`score` imports only what it needs, tests/test_startup.py).
"""
