"""``hotline schema``: the JSON Schema of the scenario format, for editor completion (pure).

Generated from the pydantic models that load scenarios, so it cannot drift from what
``hotline validate`` accepts. Durations (``90s``, ``1h30m``, ``3d``) and inject times
(``+HH:MM``) are strings with a pattern; the cross-reference checks (ids that must exist,
links the agreement allows) are beyond JSON Schema and stay with ``hotline validate``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from sim.model.scenario import Scenario

SCHEMA_ID = "https://hotline.invalid/schema/scenario.json"
DURATION_PATTERN = r"^\s*(\d+d)?\s*(\d+h)?\s*(\d+m)?\s*(\d+s)?\s*$"
OFFSET_PATTERN = r"^\+(\d+:)?\d{1,3}:\d{2}(:\d{2})?$"


_UNION_HELP = {
    "Inject": "One inject: `at` and exactly one action — detect, link, message or policy.",
    "Expectation": "One check on the run: exactly one of max_level, final_level, obligations_met, "
    "obligation_count, messages, check_depth, notified, no_message_lost.",
}


class _ScenarioSchema(GenerateJsonSchema):
    def timedelta_schema(self, schema: core_schema.TimedeltaSchema) -> JsonSchemaValue:  # noqa: ARG002 - the override ignores the core schema
        return {"type": "string", "pattern": DURATION_PATTERN, "examples": ["90s", "45m", "1h30m", "3d"]}


def scenario_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True, mode="validation", schema_generator=_ScenarioSchema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Hotline scenario"
    schema["description"] = (
        "A Hotline exercise scenario (scenarios/*.yaml). Durations are written 90s, 45m, 1h30m, 3d; "
        "inject times +HH:MM after the start. Check cross-references with `hotline validate`."
    )
    defs = schema.get("$defs", {})
    if "CheckDepth" in defs:
        defs["CheckDepth"] = {
            "description": "How far a communication check got: RECEIVED (1), ACKNOWLEDGED (2), AUTHORITY (3).",
            "enum": ["RECEIVED", "ACKNOWLEDGED", "AUTHORITY", 1, 2, 3],
        }
    # Injects and expectations are unions (one member per action / kind of check): name them
    # once, so editors show "Inject" and "Expectation", and give every inject its +HH:MM time.
    for name, prop in (("Inject", "injects"), ("Expectation", "expect")):
        items = schema["properties"][prop]["items"]
        defs[name] = {"description": _UNION_HELP[name], "oneOf": items["oneOf"]}
        schema["properties"][prop]["items"] = {"$ref": f"#/$defs/{name}"}
    for option in defs["Inject"]["oneOf"]:
        member = defs[option["$ref"].rsplit("/", 1)[-1]]
        member["properties"]["at"] = {
            "type": "string",
            "pattern": OFFSET_PATTERN,
            "description": "Time after the scenario start: +HH:MM (or +D:HH:MM, +HH:MM:SS).",
            "examples": ["+01:30", "+48:00"],
        }
    return schema


def schema_json() -> str:
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"
