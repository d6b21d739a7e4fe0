"""Start things: a new assessment repository (`gapctl init`) and a new round (`gapctl new round`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from importlib.resources import as_file
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from gapctl.data import shipped
from gapctl.data.writes import Write, WriteError, write_files
from gapctl.i18n import _
from gapctl.io.json_schema import render as render_schemas

OFFICE_README = """# {title}

本仓库用 gapctl 管理政务公开考核评估：指标体系（schemes/）、评估对象（units/）、
各轮评估的观测记录与佐证材料（rounds/）。每一次观测修改都通过拉取请求（pull request）提交，
CI 会检查格式、校验数据，并在拉取请求中给出分数变化。

常用命令：

    gapctl validate .                       # 校验全部数据
    gapctl new round 2025 --scheme {scheme} --units {units}   # 新建一轮评估
    gapctl score rounds/2025                # 计算得分、等次、排名
    gapctl explain rounds/2025 <单位>       # 某单位的得分说明与问题清单
    gapctl diff rounds/2025 --rev origin/main               # 本次修改引起的分数变化
    gapctl report rounds/2025 --out out/2025                # 生成可发布的报告

编辑器支持：每个数据文件第一行指向 schema/ 下的 JSON Schema，安装 YAML 插件即可获得提示与校验。
"""

UNITS_TEMPLATE = """# yaml-language-server: $schema=../schema/units.schema.json
# 评估对象名单：请替换为本次评估的真实单位（类型 type 须与指标体系的适用范围一致）。
id: units
name: 评估对象（示例，请替换）
units:
  - id: example-department
    name: 示例部门
    type: {unit_type}
"""

NAMED_UNITS_COMMENT = "  # 指标体系按 id 点名的单位（applies_to 的 units）：请保留这些 id，或同时修改指标体系。\n"

PRE_COMMIT = """# pre-commit (https://pre-commit.com): gapctl checks every commit of schemes, units and rounds.
# gapctl-validate validates the round (or the repository) each changed file belongs to, each once,
# in one process (require_serial): split over several, each would print the same round's problems.
# These hooks run the gapctl on PATH; to let pre-commit install the release CI uses instead:
#   - repo: https://github.com/gapctl/gapctl  # gapctl's repository (GAPCTL_REPO in the workflow)
#     rev: v0.2.0
#     hooks: [{id: gapctl-fmt}, {id: gapctl-validate}]
repos:
  - repo: local
    hooks:
      - id: gapctl-fmt
        name: gapctl fmt
        entry: gapctl fmt
        language: system
        files: ^(schemes|units|rounds)/.*\\.ya?ml$
      - id: gapctl-validate
        name: gapctl validate
        entry: gapctl validate
        language: system
        files: ^(schemes|units|rounds)/.*\\.(ya?ml|toml)$
        require_serial: true
"""


def _yaml_id(ident: str) -> str:
    """An id as fmt writes it: quoted only where YAML would read it as a number, boolean or date."""
    import re

    plain = re.fullmatch(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff]*", ident)
    if plain and ident.lower() not in ("yes", "no", "on", "off", "y", "n", "true", "false", "null"):
        return ident
    return f'"{ident}"'


class ScaffoldError(Exception):
    """The target exists and is not empty, or what was asked for does not exist."""


def shipped_schemes() -> dict[str, Traversable]:
    """The schemes gapctl carries (gapctl.data.shipped), by id."""
    return shipped.schemes()


def _read_scheme(entry: Traversable) -> Any:
    """The Scheme in a shipped file, or None if it does not load (a broken build, not user data)."""
    from gapctl.api import read_one

    with as_file(entry) as path:  # a real file even when gapctl runs from a zip
        kind, scheme, _ = read_one(path)
    return scheme if kind == "scheme" else None


def list_schemes() -> list[dict[str, Any]]:
    """One row per shipped scheme, sorted by id: what `gapctl init --list` shows. `indicators`
    counts the scored ones (the leaves, bonus and penalty items included); `units` names the
    unit sets the example rounds use it with (what `init --with-units` copies)."""
    pairs = shipped.example_unit_sets()
    rows = []
    for scheme_id, entry in shipped_schemes().items():
        scheme = _read_scheme(entry)
        rows.append({"id": scheme_id, "title": scheme.title if scheme else None,
                     "year": scheme.year if scheme else None,
                     "indicators": len(scheme.leaves()) if scheme else None,
                     "units": pairs.get(scheme_id, [])})
    return rows


def units_template(scheme: Any) -> str:
    """units/units.yaml for a new repository: one example unit to replace, of a type the scheme
    assesses, and every unit the scheme names by id (`applies_to: {units: [...]}`), copied (id,
    name, type) from the example unit set the shipped rounds use with it; without those, the
    first round's scheme would point at units that do not exist (E302)."""
    from gapctl.io.fmt import format_text
    from gapctl.scoring.validate import scheme_selectors

    selectors = scheme_selectors(scheme) if scheme else []
    named = list(dict.fromkeys(unit for selector in selectors for unit in selector.units))
    known = {unit.id: unit for unit_set in _example_unit_sets(scheme.id if scheme else "") for unit in unit_set.units}
    # the type the example rounds assess with this scheme, else one the scheme selects, else the example set's
    unit_types = (shipped.example_unit_types(scheme.id) if scheme else []) \
        or sorted({t for selector in selectors for t in selector.unit_types}) or [u.type for u in known.values()]
    default_type = unit_types[0] if unit_types else "市政府部门"
    text = UNITS_TEMPLATE.format(unit_type=default_type)
    if not named:
        return text
    text += NAMED_UNITS_COMMENT
    order = {unit_id: n for n, unit_id in enumerate(known)}  # as the example set lists them
    for unit_id in sorted(named, key=lambda u: (order.get(u, len(order)), u)):
        unit = known.get(unit_id)
        text += (f"  - id: {json.dumps(unit_id, ensure_ascii=False)}\n"
                 f"    name: {json.dumps(unit.name if unit else '（请填写）', ensure_ascii=False)}\n"
                 f"    type: {json.dumps(unit.type if unit else default_type, ensure_ascii=False)}\n")
    return format_text(text, "units")  # quotes only where YAML needs them, like `gapctl fmt`


def _example_unit_sets(scheme_id: str) -> list[Any]:
    from gapctl.api import read_one

    found = []
    entries = shipped.unit_sets()
    for units_id in shipped.example_unit_sets().get(scheme_id, []):
        if units_id in entries:
            with as_file(entries[units_id]) as path:
                kind, unit_set, _ = read_one(path)
            if kind == "units" and unit_set is not None:
                found.append(unit_set)
    return found


def _not_shipped(scheme_id: str, schemes: dict[str, Traversable]) -> ScaffoldError:
    if not schemes:
        return ScaffoldError(_("this gapctl carries no shipped schemes (nothing in {path}); reinstall it from a "
                               "wheel or a source checkout").format(path=shipped.origin()))
    return ScaffoldError(_("no shipped scheme '{scheme}'; choose one of: {schemes} (gapctl init --list)").format(
        scheme=scheme_id, schemes=", ".join(schemes)))


def _build(target: Path, files: dict[str, str], dirs: tuple[str, ...] = (), beside: Path | None = None) -> list[Path]:
    """Create the directory `target` holding `files`, whole or not at all: it is built in a hidden
    directory in `beside` (default: target's parent), every file fsynced, then renamed into place.
    A killed run leaves at most a `.<name>.<random>.new` directory there."""
    if os.path.islink(target):
        raise ScaffoldError(_("{path} is a symbolic link; gapctl does not write through links").format(path=target))
    parent = Path(os.path.abspath(beside or Path(os.path.abspath(target)).parent))
    staging: Path | None = None
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=parent))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(staging, 0o777 & ~mask)  # mkdtemp's 0o700 would become the new directory's mode
        for rel in dirs:
            (staging / rel).mkdir(parents=True, exist_ok=True)
        write_files([Write(staging / rel, text.encode("utf-8"), new=True) for rel, text in files.items()], staging)
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # an empty directory the user made for it
        os.rename(staging, target)
    except (OSError, WriteError) as err:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ScaffoldError(_("{path}: cannot create: {reason}; nothing was created").format(
            path=target, reason=reason)) from None
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / rel for rel in files]


def example_units(scheme_id: str) -> list[str]:
    """The shipped unit sets `init --with-units` copies for `scheme_id`; ScaffoldError if none."""
    wanted = shipped.example_unit_sets().get(scheme_id, [])
    unit_sets = shipped.unit_sets()
    if not wanted or any(units_id not in unit_sets for units_id in wanted):
        raise ScaffoldError(_("no shipped example round uses scheme '{scheme}', so there is no unit set to go "
                              "with it; leave out --with-units and fill in units/units.yaml").format(scheme=scheme_id))
    return wanted


def init(target: Path, scheme_id: str = "suizhou-2021", title: str | None = None,
         with_units: bool = False) -> list[Path]:
    """A new assessment repository at `target`, starting from a copy of a shipped scheme and a
    template unit set (or, `with_units`, the example unit sets the shipped rounds use with that
    scheme); it is created whole or not at all (see _build)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(_("{path} exists and is not empty").format(path=target))
    schemes = shipped_schemes()
    if scheme_id not in schemes:
        raise _not_shipped(scheme_id, schemes)
    units_ids = example_units(scheme_id) if with_units else []
    files = {f"schemes/{scheme_id}.yaml": schemes[scheme_id].read_text(encoding="utf-8")}
    wanted = [g.scheme for g in _read_scheme(schemes[scheme_id]).groups if g.scheme]
    while wanted:  # the schemes its groups score their members with, and theirs
        other = wanted.pop()
        if f"schemes/{other}.yaml" not in files and other in schemes:
            files[f"schemes/{other}.yaml"] = schemes[other].read_text(encoding="utf-8")
            wanted += [g.scheme for g in _read_scheme(schemes[other]).groups if g.scheme]
    if units_ids:
        unit_sets = shipped.unit_sets()
        files.update({f"units/{units_id}.yaml": unit_sets[units_id].read_text(encoding="utf-8")
                      for units_id in units_ids})
    else:
        files["units/units.yaml"] = units_template(_read_scheme(schemes[scheme_id]))
    files.update({f"schema/{name}": text for name, text in render_schemas().items()})
    # every shipped workflow is a template for an assessment repository (gapctl's own tests run from .ci/run)
    files.update({f".github/workflows/{name}": entry.read_text(encoding="utf-8")
                  for name, entry in shipped.workflows().items()})
    files[".pre-commit-config.yaml"] = PRE_COMMIT
    files[".gitignore"] = "out/\n.gapctl-cache/\n# temporary files of an interrupted write\n.*.tmp\n"
    files["README.md"] = OFFICE_README.format(title=title or "政务公开考核评估", scheme=scheme_id,
                                              units=units_ids[0] if units_ids else "units")
    return _build(target, files, ("rounds", "calendars"))


def new_round(repo: Path, round_id: str, scheme_id: str, units_id: str, title: str | None = None,
              year: int | None = None) -> list[Path]:
    """rounds/<id>/round.toml and one observation file per unit, every applicable indicator pending.

    The round is of `year` (its title and its period, 1 January to 31 December): the one given,
    else the scheme's `year:`, else this year; a 2024 scheme makes a 2024 round whenever it is run.
    """
    from gapctl.scoring.load import load_repository

    loaded = load_repository(repo)
    scheme = loaded.repository.schemes.get(scheme_id)
    unit_set = loaded.repository.unit_sets.get(units_id)
    if scheme is None:
        raise ScaffoldError(_("no scheme '{scheme}' in {path}").format(scheme=scheme_id, path=repo / "schemes"))
    if unit_set is None:
        raise ScaffoldError(_("no unit set '{units}' in {path}").format(units=units_id, path=repo / "units"))
    directory = repo / "rounds" / round_id
    if os.path.lexists(directory):
        raise ScaffoldError(_("{path} already exists").format(path=directory))
    if os.path.islink(repo / "rounds"):
        raise ScaffoldError(_("{path} is a symbolic link; gapctl does not write through links").format(
            path=repo / "rounds"))
    year = year or scheme.year or dt.date.today().year
    title_text = title or f"{year}年政务公开考核评估"
    files = {"round.toml": (f'#:schema ../../schema/round.schema.json\nid = "{round_id}"\n'
                            f'title = "{title_text}"\nunits = "{units_id}"\n'
                            f"period = {{ start = {year}-01-01, end = {year}-12-31 }}\n\n"
                            f'[[schemes]]\nscheme = "{scheme_id}"\n\n[stages]\n')}
    for unit in unit_set.units:
        lines = ["# yaml-language-server: $schema=../../../schema/observations.schema.json",
                 f"# {unit.name} 观测记录", f"unit: {unit.id}", "results:"]
        for ind in scheme.leaves():
            if ind.section == "main" and ind.applies(unit):
                lines += [f"  - indicator: {_yaml_id(ind.id)}", "    result: pending"]
        if lines[-1] == "results:":
            lines[-1] = "results: []"
        files[f"observations/{unit.id}.yaml"] = "\n".join(lines) + "\n"
    # built beside rounds/, not in it: a half-built round must never be loaded as one
    written = _build(directory, files, ("observations",), beside=repo)
    return [written[0], *sorted(written[1:])]
