"""YAML in, pydantic model out, with every error located at ``file:line:column`` and a field path.

The loader is deliberately stricter than PyYAML's default (YAML 1.1) resolver:
``+26:30`` stays a string instead of becoming the sexagesimal integer 1590, ``no`` stays
the string "no" (the Norway problem), and timestamps stay strings for pydantic to parse.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.model.refs import Loc
from sim.scenario.errors import InputFileError, SourceError

M = TypeVar("M", bound=BaseModel)


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-like scalars: only true/false are booleans, no sexagesimals."""


StrictLoader.yaml_implicit_resolvers = {}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


class SourceMap:
    """Where each value (and each mapping key) of a YAML document stands in the file."""

    def __init__(self) -> None:
        self.values: dict[Loc, Mark] = {}
        self.keys: dict[Loc, Mark] = {}

    def nearest(self, loc: Loc) -> tuple[Mark | None, Loc]:
        """The mark of the deepest existing prefix of ``loc``, and that prefix."""
        for cut in range(len(loc), -1, -1):
            prefix = loc[:cut]
            if prefix in self.values:
                return self.values[prefix], prefix
        return None, ()


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(node: yaml.Node, loader: StrictLoader, loc: Loc, smap: SourceMap, file: Path) -> Any:
    if len(loc) > MAX_NESTING:
        raise InputFileError([_source_error(file, _mark(node), loc, f"nested deeper than {MAX_NESTING} levels")])
    if len(smap.values) >= MAX_VALUES:
        message = f"more than {MAX_VALUES} values (anchors and aliases expanding?)"
        raise InputFileError([_source_error(file, _mark(node), loc, message)])
    smap.values[loc] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                raise InputFileError([_source_error(file, _mark(key_node), loc, "mapping keys must be text")])
            if key in out:
                raise InputFileError([_source_error(file, _mark(key_node), (*loc, key), "duplicate key")])
            smap.keys[(*loc, key)] = _mark(key_node)
            out[key] = _construct(value_node, loader, (*loc, key), smap, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, loader, (*loc, i), smap, file) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


#: The largest scenario, protocol or inject file read (the shipped ones are a few kB).
MAX_FILE_BYTES = 1024 * 1024
#: How deep a file's values may nest, and how many there may be (aliases expand: a "billion
#: laughs" file is a few lines long).
MAX_NESTING, MAX_VALUES = 48, 50_000
#: C0 control characters other than tab, newline and carriage return (YAML does not allow them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def read_source(path: Path) -> str:
    """A scenario, protocol or inject file as text — or one located error: not readable, too
    large, not UTF-8, or holding control characters (a binary file)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputFileError([SourceError(path, None, None, "", exc.strerror or str(exc))]) from exc
    if len(data) > MAX_FILE_BYTES:
        message = f"larger than {MAX_FILE_BYTES // 1024} kB: not a scenario, protocol or inject file"
        raise InputFileError([SourceError(path, None, None, "", message)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_column(data, exc.start)
        message = f"not UTF-8 text (byte 0x{data[exc.start]:02x}): is this a binary file?"
        raise InputFileError([SourceError(path, line, column, "", message)]) from exc
    bad = _CONTROL.search(text)
    if bad is not None:
        line, column = _line_column(text[: bad.start()].encode(), bad.start())
        message = f"control character U+{ord(bad.group()):04X} (a binary file, or a NUL byte?)"
        raise InputFileError([SourceError(path, line, column, "", message)])
    return text


#: Quoted strings and comments: brackets inside them do not nest.
_NOT_NESTING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\n]|\'\')*\'|#[^\n]*')


def _flow_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest, outside quotes and comments (checked before the parser,
    which takes seconds to fail on tens of thousands of levels)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return 0
    depth = deepest = 0
    for char in _NOT_NESTING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def load_yaml(path: Path, text: str | None = None) -> tuple[Any, SourceMap]:
    """Parse ``path`` into plain Python data plus its source map."""
    if text is None:
        text = read_source(path)
    if _flow_depth(text) > MAX_NESTING:
        raise InputFileError([SourceError(path, None, None, "", f"nested deeper than {MAX_NESTING} levels")])
    smap = SourceMap()
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputFileError([SourceError(path, 1, 1, "", "the file is empty")])
        data = _construct(node, loader, (), smap, path)
    except RecursionError as exc:
        raise InputFileError([SourceError(path, None, None, "", f"nested deeper than {MAX_NESTING} levels")]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or str(exc)
        if "\\t" in problem or "\t" in problem:
            problem += " (indent with spaces: YAML does not allow tabs)"
        elif "mapping values are not allowed" in problem or "expected <block end>" in problem:
            problem += " (check the indentation of this line and the one above)"
        raise InputFileError([SourceError(path, line, col, "", f"YAML syntax: {problem}")]) from exc
    finally:
        loader.dispose()
    return data, smap


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _source_error(file: Path, mark: Mark | None, loc: Loc, message: str) -> SourceError:
    return SourceError(
        file=file,
        line=mark.line if mark else None,
        column=mark.column if mark else None,
        field=format_loc(loc),
        message=message,
    )


def _yaml_path(raw: Loc, data: Any) -> Loc:
    """Map a pydantic error location onto the YAML document, dropping union tags."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(raw):
        if isinstance(node, dict) and part in node:  # noqa: SIM114 - two branches let mypy narrow the index
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif i == len(raw) - 1 and not str(part).startswith(("function-", "union[")):
            path.append(part)  # a missing field: keep its name, point at the parent
    return tuple(path)


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names the model accepts at ``loc`` (for did-you-mean hints)."""
    candidates: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for tp in candidates:
            nxt.extend(_step(tp, part))
        candidates = nxt
    names: list[str] = []
    for tp in candidates:
        for inner in _unwrap(tp):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                names.extend(f.alias or name for name, f in inner.model_fields.items())
    return sorted(set(names))


def _unwrap(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_unwrap(arg))
        return out
    return [tp]


def _step(tp: Any, part: str | int) -> list[Any]:
    out: list[Any] = []
    for inner in _unwrap(tp):
        origin = typing.get_origin(inner)
        args = typing.get_args(inner)
        if isinstance(inner, type) and issubclass(inner, BaseModel) and isinstance(part, str):
            for name, field in inner.model_fields.items():
                if part in (name, field.alias):
                    out.append(field.annotation)
        elif origin in (list, tuple) and isinstance(part, int) and args:
            out.append(args[0])
        elif origin is dict and args:
            out.append(args[1])
    return out


def validation_errors(
    exc: ValidationError, model: type[BaseModel], data: Any, smap: SourceMap, file: Path
) -> list[SourceError]:
    errors: list[SourceError] = []
    seen: set[tuple[Loc, str]] = set()
    explained: set[Loc] = set()  # missing fields a did-you-mean already accounts for
    raw = exc.errors()
    for err in raw:
        if err["type"] == "extra_forbidden":
            path = _yaml_path(tuple(err["loc"]), data)
            close = difflib.get_close_matches(str(path[-1]), _fields_at(model, path[:-1]), n=1)
            if close:
                explained.add((*path[:-1], close[0]))
    for err in raw:
        path = _yaml_path(tuple(err["loc"]), data)
        message = err["msg"]
        if err["type"] == "missing" and path in explained:
            continue  # "severty: unknown field (did you mean 'severity'?)" says it already
        if err["type"] == "extra_forbidden":
            known = _fields_at(model, path[:-1])
            close = difflib.get_close_matches(str(path[-1]), known, n=1)
            message = f"unknown field {path[-1]!r}"
            message += f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(known)})"
            mark = smap.keys.get(path) or smap.nearest(path)[0]
        else:
            message = message.removeprefix("Value error, ")
            mark = smap.values.get(path) or smap.nearest(path)[0]
        if (path, message) in seen:
            continue
        seen.add((path, message))
        errors.append(_source_error(file, mark, path, message))
    return errors


def load_model(model: type[M], path: Path, text: str | None = None) -> tuple[M, SourceMap]:
    """Load ``path`` as ``model``; raise :class:`InputFileError` naming file:line:col and field."""
    data, smap = load_yaml(path, text)
    if not isinstance(data, dict):
        raise InputFileError([SourceError(path, 1, 1, "", "the top level must be a mapping")])
    try:
        return model.model_validate(data), smap
    except ValidationError as exc:
        raise InputFileError(validation_errors(exc, model, data, smap, path)) from exc
