"""Files ↔ plain data ↔ the model: everything that knows bytes, formats and positions, nothing
that knows what a scheme means.

Owns: reading files safely (`reads`, `sources` with `fast_yaml`, `yaml_depth`, `value_count`),
positions of keys for problems, git trees (`tree`), the model's dataclasses (`model`), the shape
language that checks a file's keys and types (`schema`), assumptions and work calendars
(`assumptions`, `workdays`), atomic writes and their journal (`writes`, `journal`), the
byte-preserving YAML edit machinery (`yaml_edit`), the on-disk cache (`cache`) and the data files
shipped with gapctl (`shipped`).

May import: the base modules at the top of `gapctl` (i18n, figures, escape, textwidth, names,
labels, problems, problem_formats, codec) and nothing else of gapctl. Kept empty of code so
that importing one module here imports only that module.
"""
