"""Start things: a new assessment repository (`gapctl init`) and a new round (`gapctl new round`)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from gapctl.json_schema import render as render_schemas

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


def init(target: Path, scheme_id: str = "suizhou-2021", title: str | None = None) -> list[Path]:
    """A new assessment repository at `target`, starting from a copy of a shipped scheme."""
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty")
    schemes = shipped_schemes()
    if scheme_id not in schemes:
        raise ScaffoldError(f"no shipped scheme '{scheme_id}'; choose one of: {', '.join(schemes)}")
    from gapctl.api import read_one

    _, scheme, _ = read_one(schemes[scheme_id])
    unit_types = sorted({t for ind in scheme.all_indicators() if ind.applies_to
                         for t in ind.applies_to.unit_types}) if scheme else []
    written: list[Path] = []

    def put(rel: str, text: str) -> None:
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    put(f"schemes/{scheme_id}.yaml", schemes[scheme_id].read_text(encoding="utf-8"))
    put("units/units.yaml", UNITS_TEMPLATE.format(unit_type=unit_types[0] if unit_types else "市政府部门"))
    (target / "rounds").mkdir(parents=True, exist_ok=True)
    (target / "calendars").mkdir(parents=True, exist_ok=True)
    for name, text in render_schemas().items():
        put(f"schema/{name}", text)
    workflow = ROOT / ".github" / "workflows" / "gapctl.yml"
    if workflow.is_file():
        put(".github/workflows/gapctl.yml", workflow.read_text(encoding="utf-8"))
    put(".pre-commit-config.yaml", PRE_COMMIT)
    put(".gitignore", "out/\n.gapctl-cache/\n")
    put("README.md", OFFICE_README.format(title=title or "政务公开考核评估", scheme=scheme_id))
    return written


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
    if directory.exists():
        raise ScaffoldError(f"{directory} already exists")
    year = year or dt.date.today().year
    written: list[Path] = []
    staging = repo / "rounds" / f".{round_id}.new"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "observations").mkdir(parents=True)
    title_text = title or f"{year}年政务公开考核评估"
    round_toml = (f'#:schema ../../schema/round.schema.json\nid = "{round_id}"\n'
                  f'title = "{title_text}"\nunits = "{units_id}"\n'
                  f"period = {{ start = {year}-01-01, end = {year}-12-31 }}\n\n"
                  f'[[schemes]]\nscheme = "{scheme_id}"\n\n[stages]\n')
    (staging / "round.toml").write_text(round_toml, encoding="utf-8")
    for unit in unit_set.units:
        lines = ["# yaml-language-server: $schema=../../../schema/observations.schema.json",
                 f"# {unit.name} 观测记录", f"unit: {unit.id}", "results:"]
        for ind in scheme.leaves():
            if ind.section == "main" and ind.applies(unit):
                lines += [f'  - indicator: "{ind.id}"', "    result: pending"]
        if lines[-1] == "results:":
            lines[-1] = "results: []"
        (staging / "observations" / f"{unit.id}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    staging.rename(directory)
    written.append(directory / "round.toml")
    written += sorted((directory / "observations").glob("*.yaml"))
    return written
