"""The assessment's process around the scores: status, evidence, appeals, agreement, follow-up.

Owns: where a round stands against its calendar (`status`), evidence files and their hashes
(`evidence`), the self-assessment comparison (`selfcheck`), agreement between assessors
(`agreement`), the follow-up of rectifications (`followup`) and checking published figures
against gapctl's own (`verify`).

May import: the base modules, `gapctl.data`, `gapctl.scheme`, `gapctl.scoring` (with
`gapctl.api`), `gapctl.io` and `gapctl.review`. Must not import `gapctl.report` or `gapctl.cli`.
Kept empty of code.
"""
