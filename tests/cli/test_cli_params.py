"""gapctl.cli.params converts command-line values exactly as typer's own (pydantic) coercion does.

Every parameter of every gapctl command is coerced both ways from valid and invalid spellings:
the values (and their types) must be equal, and a value typer refuses must be refused with the
same exception and message.
"""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import typer.main

from gapctl.cli import app
from gapctl.cli import params as cli_params
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not cli_params.install(), reason="this typer builds no runtime params")


def _parameters() -> list[tuple[str, Any, Any]]:
    """(command path and parameter name, the click command, the parameter) for every parameter."""
    out = []

    def walk(command: Any, path: str) -> None:
        for param in command.params:
            out.append((f"{path} {param.name}".strip(), command, param))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")
    walk(typer.main.get_command(app), "")
    return out


PARAMETERS = _parameters()


def _samples(annotation: Any) -> list[Any]:
    if get_origin(annotation) is list:
        return [[v] for v in _samples(get_args(annotation)[0])] + [[], ("rounds", "schemes"), "rounds"]
    if annotation is bool:
        return [True, False, "true", "no", "x"]
    if annotation is str:
        return ["x", "", "中文 名", " spaced ", b"bytes"]
    if annotation is int:
        return ["0", "3", "-2", "007", "+5", "1.0", "1_000", "x", " 4", "", "2000", "99999999999999999999"]
    if annotation is float:
        return ["0", "1.5", "-2", "2.", ".5", "1e3", "nan", "inf", "x", "1_0", " 1", ""]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        members = list(annotation)
        return [*(m.value for m in members), *(m.value.upper() for m in members), "bogus", "", members[0]]
    if isinstance(annotation, type) and issubclass(annotation, Path):
        return ["rounds/suizhou-2021", "rounds/suizhou-2021/round.toml", "no/such/path", "", "-", ".", "a\0b",
                Path("rounds")]
    raise AssertionError(f"no samples for {annotation!r}: add them")


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except Exception as err:  # noqa: BLE001 — compared, not swallowed
        return "raised", (type(err).__name__, str(err))
    return "value", (type(result).__name__, repr(result))  # repr: nan equals nan


@pytest.mark.parametrize(("where", "command", "param"), PARAMETERS, ids=[p[0] for p in PARAMETERS])
def test_every_parameter_is_coerced_as_typer_coerces_it(where: str, command: Any, param: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    descriptor = param.type_descriptor
    from typer._click import Context

    ctx = Context(command)
    light, original = cli_params.light_runtime_param(descriptor), cli_params.original_runtime_param(descriptor)
    for value in _samples(descriptor.annotation):
        assert _outcome(light, value, param, ctx) == _outcome(original, value, param, ctx), (where, value)


def test_the_light_coercion_is_what_typer_uses() -> None:
    descriptor = next(p for _w, _c, p in PARAMETERS if p.name == "path").type_descriptor
    assert type(cli_params.light_runtime_param(descriptor)).__name__ == "LightRuntimeParam"


def test_commands_do_not_import_pydantic() -> None:
    """A command line that coerces paths, choices and flags: no pydantic (typer would import it)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "gapctl", "validate", "rounds/yanjiang-2021",
                          "--no-cache", "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    modules = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "gapctl.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core")}
