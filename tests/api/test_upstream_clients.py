"""Replays of what existing DisCal and PERSCOM clients send (tests/api/upstream/*.json, built from the upstream
servers' and clients' request shapes), each step asserting the status and the parts of the body the client
reads. A step's `save` keeps a value of its answer (`{"series": "id"}`, `{"raid": "data.id"}`); later steps
use it as `$series` in a string, or as `"#raid"` for the number itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import GUILD

FIXTURES = Path(__file__).parent / "upstream"
NAME = re.compile(r"\$([a-z_]+?)(?=_[0-9]|\b|$)")


def substitute(value: Any, saved: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("#") and value[1:] in saved:
        return int(saved[value[1:]])
    if isinstance(value, str):
        return NAME.sub(lambda match: saved[match[1]], value)
    if isinstance(value, list):
        return [substitute(item, saved) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, saved) for key, item in value.items()}
    return value


def mismatch(expected: Any, actual: Any, path: str = "body") -> str | None:
    """Where `actual` differs from `expected`: an object holds at least the keys expected, a list exactly
    the items expected (each matched the same way), anything else is equal."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {actual!r}"
        for key, item in expected.items():
            if key not in actual:
                return f"{path}.{key}: missing from {sorted(actual)}"
            if (found := mismatch(item, actual[key], f"{path}.{key}")) is not None:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{path}: expected {len(expected)} items, got {actual!r}"
        for index, (item, got) in enumerate(zip(expected, actual, strict=True)):
            if (found := mismatch(item, got, f"{path}.{index}")) is not None:
                return found
        return None
    return None if expected == actual else f"{path}: expected {expected!r}, got {actual!r}"


async def replay(caller, name: str, **saved: str) -> dict[str, str]:
    exchanges = json.loads((FIXTURES / f"{name}.json").read_text())["exchanges"]
    for step in exchanges:
        request = substitute(step["request"], saved)
        response = await caller.request(request["method"], request["path"], json=request.get("body"))
        body = await response.json()
        expected = step["response"]
        assert response.status == expected["status"], (step["name"], body)
        assert (found := mismatch(substitute(expected.get("body", {}), saved), body)) is None, (step["name"], found)
        for key, path in expected.get("save", {}).items():
            found = body
            for part in path.split("."):
                found = found[part]
            saved[key] = str(found)
    return saved


async def test_discal_dashboard_requests_work_as_upstream(writer, store):
    saved = await replay(writer, "discal_dashboard")
    assert await store.events.page(GUILD) == ([], 0)
    assert saved["series"].isdigit()


@pytest.mark.parametrize("prefix", ["/v1/events", "/api/v1/events"])
async def test_discal_errors_answer_message_in_both_spellings(writer, prefix):
    response = await writer.post(f"{prefix}/get", {"guild_id": GUILD, "id": "404"})
    assert response.status == 404
    assert await response.json() == {"Message": "No such event.", "message": "No such event."}
    response = await writer.get(f"{prefix}/get")
    assert response.status == 405 and (await response.json())["Message"]


async def test_perscom_sdk_requests_work_as_upstream(backend_writer):
    await replay(backend_writer, "perscom_sdk")
