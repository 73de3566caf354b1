"""``hotline schema``: the JSON Schema describes every shipped scenario and catches typos.

No JSON Schema library is a dependency, so a small walker checks what editors use: known
properties (``additionalProperties: false``), required fields, enums and string patterns."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from sim.scenario.load import shipped_scenarios
from sim.scenario.schema import scenario_schema, schema_json

SCHEMA = scenario_schema()


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].split("/")[-1]]
    return node


def _alternatives(value: Any, node: dict[str, Any], path: str) -> list[str] | None:
    """anyOf: one option must fit; oneOf: exactly one. None when the node has neither."""
    if "anyOf" in node:
        options = [problems(value, option, path) for option in node["anyOf"]]
        return [] if any(not o for o in options) else min(options, key=len)
    if "oneOf" in node:
        options = [problems(value, option, path) for option in node["oneOf"]]
        fits = sum(1 for o in options if not o)
        if fits > 1:
            return [f"{path}: fits {fits} of the oneOf options"]
        return [] if fits == 1 else min(options, key=len)
    return None


def problems(value: Any, node: dict[str, Any], path: str = "") -> list[str]:
    node = _resolve(node)
    alternatives = _alternatives(value, node, path)
    if alternatives is not None:
        return alternatives
    out: list[str] = []
    if "enum" in node and value not in node["enum"]:
        return [f"{path}: {value!r} not in {node['enum']}"]
    kind = node.get("type")
    if kind == "object" and isinstance(value, dict):
        props = node.get("properties", {})
        out += [f"{path}.{key}: required" for key in node.get("required", []) if key not in value]
        for key, item in value.items():
            if key in props:
                out += problems(item, props[key], f"{path}.{key}")
            elif node.get("additionalProperties") is False:
                out.append(f"{path}.{key}: unknown property")
            elif isinstance(node.get("additionalProperties"), dict):
                out += problems(item, node["additionalProperties"], f"{path}.{key}")
    elif kind == "array" and isinstance(value, list):
        prefix = node.get("prefixItems")
        for i, item in enumerate(value):
            sub = prefix[i] if prefix and i < len(prefix) else node.get("items", {})
            out += problems(item, sub, f"{path}[{i}]")
    elif kind == "string":
        if not isinstance(value, str):
            out.append(f"{path}: not a string")
        elif "pattern" in node and not re.search(node["pattern"], value):
            out.append(f"{path}: {value!r} does not match {node['pattern']}")
    elif kind == "object" and not isinstance(value, dict):
        out.append(f"{path}: not an object")
    return out


def _load(text: str) -> Any:
    # JSON semantics for the schema check: YAML timestamps as strings
    data = yaml.safe_load(text)
    return json.loads(json.dumps(data, default=str))


def test_schema_is_json_schema_with_the_top_level_fields() -> None:
    parsed = json.loads(schema_json())
    assert parsed["$schema"].startswith("https://json-schema.org/")
    assert {"id", "title", "protocol", "start", "duration", "states", "agencies"} <= set(parsed["required"])
    assert parsed["additionalProperties"] is False
    assert "Inject" in parsed["$defs"]
    assert "Expectation" in parsed["$defs"]


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_every_shipped_scenario_fits_the_schema(path: Any) -> None:
    assert problems(_load(path.read_text()), SCHEMA) == []


def test_a_typo_a_bad_duration_and_a_bad_time_are_caught() -> None:
    data = _load((shipped_scenarios()[0]).read_text())
    data["injects"][0]["severty"] = 2
    data["duration"] = "72 hours"
    data["injects"][1]["at"] = "90"
    found = problems(data, SCHEMA)
    assert any(".injects[0].severty: unknown property" in p for p in found)
    assert any(p.startswith(".duration:") for p in found)
    assert any(".injects[1].at:" in p for p in found)


def test_check_depth_may_be_written_by_name() -> None:
    depth = SCHEMA["$defs"]["CheckDepth"]
    assert "AUTHORITY" in depth["enum"]
    assert 3 in depth["enum"]
