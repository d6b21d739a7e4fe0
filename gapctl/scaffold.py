"""Start things: a new assessment repository (`gapctl init`) and a new round (`gapctl new round`)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from gapctl.json_schema import render as render_schemas
from gapctl.writes import Write, WriteError, write_files

ROOT = Path(__file__).resolve().parent.parent  # the source checkout the shipped schemes come from

OFFICE_README = """# {title}

本仓库用 gapctl 管理政务公开考核评估：指标体系（schemes/）、评估对象（units/）、
各轮评估的观测记录与佐证材料（rounds/）。每一次观测修改都通过拉取请求（pull request）提交，
CI 会检查格式、校验数据，并在拉取请求中给出分数变化。

常用命令：

    gapctl validate .                       # 校验全部数据
    gapctl new round 2025 --scheme {scheme} --units units   # 新建一轮评估
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

PRE_COMMIT = """# pre-commit (https://pre-commit.com): gapctl checks every commit of schemes, units and rounds.
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
"""


class ScaffoldError(Exception):
    """The target exists and is not empty, or what was asked for does not exist."""


def shipped_schemes() -> dict[str, Path]:
    return {p.stem: p for p in sorted((ROOT / "schemes").glob("*.yaml"))}


def _build(target: Path, files: dict[str, str], dirs: tuple[str, ...] = (), beside: Path | None = None) -> list[Path]:
    """Create the directory `target` holding `files`, whole or not at all: it is built in a hidden
    directory in `beside` (default: target's parent), every file fsynced, then renamed into place.
    A killed run leaves at most a `.<name>.<random>.new` directory there."""
    if os.path.islink(target):
        raise ScaffoldError(f"{target} is a symbolic link; gapctl does not write through links")
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
        raise ScaffoldError(f"{target}: cannot create: {reason}; nothing was created") from None
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / rel for rel in files]


def init(target: Path, scheme_id: str = "suizhou-2021", title: str | None = None) -> list[Path]:
    """A new assessment repository at `target`, starting from a copy of a shipped scheme; it is
    created whole or not at all (see _build)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} exists and is not empty")
    schemes = shipped_schemes()
    if scheme_id not in schemes:
        raise ScaffoldError(f"no shipped scheme '{scheme_id}'; choose one of: {', '.join(schemes)}")
    from gapctl.api import read_one

    _, scheme, _ = read_one(schemes[scheme_id])
    unit_types = sorted({t for ind in scheme.all_indicators() if ind.applies_to
                         for t in ind.applies_to.unit_types}) if scheme else []
    files = {
        f"schemes/{scheme_id}.yaml": schemes[scheme_id].read_text(encoding="utf-8"),
        "units/units.yaml": UNITS_TEMPLATE.format(unit_type=unit_types[0] if unit_types else "市政府部门"),
        **{f"schema/{name}": text for name, text in render_schemas().items()},
    }
    workflow = ROOT / ".github" / "workflows" / "gapctl.yml"
    if workflow.is_file():
        files[".github/workflows/gapctl.yml"] = workflow.read_text(encoding="utf-8")
    files[".pre-commit-config.yaml"] = PRE_COMMIT
    files[".gitignore"] = "out/\n.gapctl-cache/\n# temporary files of an interrupted write\n.*.tmp\n"
    files["README.md"] = OFFICE_README.format(title=title or "政务公开考核评估", scheme=scheme_id)
    return _build(target, files, ("rounds", "calendars"))


def new_round(repo: Path, round_id: str, scheme_id: str, units_id: str, title: str | None = None,
              year: int | None = None) -> list[Path]:
    """rounds/<id>/round.toml and one observation file per unit, every applicable indicator pending."""
    from gapctl.load import load_repository

    loaded = load_repository(repo)
    scheme = loaded.repository.schemes.get(scheme_id)
    unit_set = loaded.repository.unit_sets.get(units_id)
    if scheme is None:
        raise ScaffoldError(f"no scheme '{scheme_id}' in {repo / 'schemes'}")
    if unit_set is None:
        raise ScaffoldError(f"no unit set '{units_id}' in {repo / 'units'}")
    directory = repo / "rounds" / round_id
    if os.path.lexists(directory):
        raise ScaffoldError(f"{directory} already exists")
    if os.path.islink(repo / "rounds"):
        raise ScaffoldError(f"{repo / 'rounds'} is a symbolic link; gapctl does not write through links")
    year = year or dt.date.today().year
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
                lines += [f'  - indicator: "{ind.id}"', "    result: pending"]
        if lines[-1] == "results:":
            lines[-1] = "results: []"
        files[f"observations/{unit.id}.yaml"] = "\n".join(lines) + "\n"
    # built beside rounds/, not in it: a half-built round must never be loaded as one
    written = _build(directory, files, ("observations",), beside=repo)
    return [written[0], *sorted(written[1:])]
