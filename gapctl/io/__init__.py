"""Data in and out of a repository: spreadsheets and other formats, new repositories, the layout.

Owns: importing observations and schemes from workbooks (`importer`, `import_wide`,
`import_standard`, `import_scheme`, `import_check`, with `sheets`, `xlsx`, `cells`), exporting
scores (`export`, and Parquet with `columnar` and `shards` for `rank --from`), `init`'s scaffold
(`scaffold`), the JSON Schema of the data files (`json_schema`) and the canonical layout of data
files (`fmt`).

May import: the base modules, `gapctl.data`, `gapctl.scheme`, `gapctl.scoring` (with
`gapctl.api`). Must not import `gapctl.review`, `gapctl.process`, `gapctl.report` or
`gapctl.cli`. Kept empty of code: openpyxl, ruamel and pyarrow load only with the module that
needs them.
"""
