"""The scheme language: what a scheme may say and what it means, one construct at a time.

Owns: the formula language (`formula`, a lark grammar), the rule kinds (`rules/`, one module per
kind: its parameter shape, its checks and its points) and the scoring constructs (`constructs/`:
bounds, formulas, gates, groups, panels, redistribution, vetoes).

May import: the base modules and `gapctl.data` (the model and the shape language). Must not
import `gapctl.scoring` or anything above it: loading, validating and scoring build on these
definitions, never the other way round. Kept empty of code.
"""
