"""Reports a government office can publish: Markdown, rendered to self-contained HTML, PDF and Word.

Owns: the report's document model and its builders (`build`, `document`, `markdown`, `method`,
`robustness`), its renderers (`html`, `svg`, `pdf`, `word`) and the scores over several rounds
(`trend`, shown in reports and by `gapctl trend`).

May import: the base modules, `gapctl.data`, `gapctl.scheme`, `gapctl.scoring` (with
`gapctl.api`) and `gapctl.review`. Must not import `gapctl.io`, `gapctl.process` or `gapctl.cli`.
Kept empty of code.
"""
