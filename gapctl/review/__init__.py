"""Comparing scores: what changed between two rounds or two commits, and where numbers came from.

Owns: the comparison of two rounds or revisions (`diff`, `diff_units`), its printed views
(`diff_view`) and the provenance of a result (`provenance`: commit, time, dirty files).

May import: the base modules, `gapctl.data`, `gapctl.scheme`, `gapctl.scoring` (with
`gapctl.api`). Must not import `gapctl.io`, `gapctl.process`, `gapctl.report` or `gapctl.cli`.
Kept empty of code.
"""
