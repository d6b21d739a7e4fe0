"""Command-line values without pydantic: start-up that does not pay for a validation library.

typer (0.29 and later) turns every command-line value into its declared type through a pydantic
`TypeAdapter`: importing pydantic and building an adapter per parameter took about as long as
the rest of a warm `gapctl score` of 3,000 units. Who calls this module: `gapctl.cli.help`,
once, when the CLI is imported (`install()`); nothing else.

Contract. `install()` replaces the function typer.core calls to build a parameter's coercion
(`build_runtime_param`, looked up when a parameter is first coerced) with one that converts the
values gapctl's commands declare — text, booleans, integers and floats written plainly, paths,
choices (enums) and lists of them — itself, exactly as typer's adapters convert them: the same
functions of typer's for paths and choices, `int()`/`float()` only for spellings both read
alike. Anything else — a value it is not sure of, a value typer would refuse, a parameter with
its own parser or a file type — goes to typer's own coercion, built when first needed, so
errors, messages and unusual values are typer's. Where typer is older or newer and has no such
function, `install()` does nothing. tests/cli/test_cli_params.py compares both on every parameter of
every command with valid and invalid values.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")  # decimal integers as int() and pydantic both read them
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")
_UNSURE = object()  # "let typer coerce this value"
_INSTALLED: dict[str, Any] = {}


def install() -> bool:
    """Put the light coercion in typer's place (once); whether it is in place."""
    if "original" in _INSTALLED:
        return True
    try:
        import typer.core as core
        from typer._coercion import RuntimeParam, TypeDescriptor
    except ImportError:  # a typer without runtime params: it does not use pydantic either
        return False
    original = getattr(core, "build_runtime_param", None)
    if original is None or not callable(original):
        return False
    light = _light_class(RuntimeParam)

    def build(descriptor: TypeDescriptor) -> Any:
        convert = _converter(descriptor)
        if convert is None:
            return original(descriptor)
        return light(annotation=descriptor.annotation, parameter_info=descriptor.parameter_info,
                     descriptor=descriptor, convert=convert, fallback=[])

    _INSTALLED["original"] = original
    core.build_runtime_param = build
    return True


def original_runtime_param(descriptor: Any) -> Any:
    """typer's own coercion of a parameter (for the tests that compare both)."""
    return _INSTALLED["original"](descriptor)


def light_runtime_param(descriptor: Any) -> Any:
    """gapctl's coercion of a parameter, as `install()` puts it in typer's place."""
    import typer.core as core

    return core.build_runtime_param(descriptor)


def _light_class(base: type) -> type:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class LightRuntimeParam(base):  # type: ignore[valid-type, misc]
        descriptor: Any
        convert: Any
        fallback: list[Any]  # typer's own runtime param, once built

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                converted = self.convert(value, self.parameter_info, param, ctx)
            except Exception:  # refused: typer says why, in its words
                converted = _UNSURE
            if converted is not _UNSURE:
                return converted
            if not self.fallback:
                self.fallback.append(_INSTALLED["original"](self.descriptor))
            return self.fallback[0]._coerce_value(value, param=param, ctx=ctx)
    return LightRuntimeParam


def _converter(descriptor: Any) -> Any:
    """How to convert a value of this parameter, or None to leave the parameter to typer."""
    from typing import get_args, get_origin

    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return None
    annotation = descriptor.annotation
    if get_origin(annotation) is list:
        args = get_args(annotation)
        item = _leaf(args[0], info) if len(args) == 1 else None
        if item is None:
            return None

        def each(value: Any, info: Any, param: Any, ctx: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                return _UNSURE
            items = [item(v, info, param, ctx) for v in value]
            return _UNSURE if any(v is _UNSURE for v in items) else items
        return each
    return _leaf(annotation, info)


def _leaf(annotation: Any, info: Any) -> Any:
    if not isinstance(annotation, type):
        return None
    if annotation is bool:
        return lambda value, *_: value if value.__class__ is bool else _UNSURE
    if annotation is str:
        return lambda value, *_: value if value.__class__ is str else _UNSURE
    if annotation is int or annotation is float:
        if info.clamp:
            return None
        pattern = _INT if annotation is int else _FLOAT

        def number(value: Any, *_: Any) -> Any:
            if value.__class__ is not str or not pattern.match(value):
                return _UNSURE
            result = annotation(value)
            if (info.min is not None and result < info.min) or (info.max is not None and result > info.max):
                return _UNSURE
            return result
        return number
    if issubclass(annotation, Enum):
        from typer._param_types import coerce_cli_choice

        choices = list(annotation)
        return lambda value, info, param, ctx: coerce_cli_choice(
            value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx)
    if issubclass(annotation, Path) and info.path_type is None:
        from typer._param_types import coerce_cli_path

        def path(value: Any, info: Any, param: Any, ctx: Any) -> Any:
            if value.__class__ is not str or not value:
                return _UNSURE
            return coerce_cli_path(annotation(value), info, path_type=annotation, param=param, ctx=ctx)
        return path
    return None
