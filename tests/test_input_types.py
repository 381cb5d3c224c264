"""Every field of every JSON body, query argument and path parameter in the OpenAPI document,
given a value of the wrong kind: never a server error, and a 422 for a value that breaks the
field's own schema names that field.

Deterministic, beside the schemathesis run: one plausible body per operation (built from its
schema), then each field in turn replaced by an object, a list, ``[null]``, a huge or an
infinite-looking number, a NUL or another control character; each query argument by text,
control characters and numbers beyond any column; each id by numbers beyond its column.
"""
from __future__ import annotations

import math

from tests.test_api_fuzz import KNOWN, seed_world

BAD_VALUES = [{}, [], [None], None, True, 10**30, -(10**30), 1e300, "", "a\u0000b", "\u000b", "x" * 5000,
              "1" * 40, {"a": [{}]}]
BAD_ARGS = ["\u000b", "%00", "abc", "-1", "1e400", str(10**21), "9" * 30, "0", "x" * 3000]


def plausible(schema: dict, components: dict):
    """A value that an operation would accept, from its JSON Schema (enums, codes, bounds)."""
    if "$ref" in schema:
        return plausible(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: plausible(sub, components) for name, sub in schema.get("properties", {}).items()
                if name in schema.get("required", [])}
    if kind == "array":
        return [plausible(schema["items"], components)] if "items" in schema else []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return "2025-07-10"
    if schema.get("format") == "date-time":
        return "2025-07-10T08:00:00+08:00"
    if "pattern" in schema and "\\d{6}" in schema["pattern"]:
        return "140105"
    return "x"


def clearly_bad(schema: dict, value) -> bool:
    """Whether ``value`` breaks the field's own schema (type, bounds, length, control
    characters), so that a 422 must name that field."""
    kind = schema.get("type")
    if value is None:
        return False
    if isinstance(value, str) and ("\u0000" in value or "\u000b" in value):
        return True
    if kind == "string":
        return not isinstance(value, str) or len(value) > schema.get("maxLength", 10**9)
    if kind in ("integer", "number"):
        return (isinstance(value, bool) or not isinstance(value, (int, float))
                or not schema.get("minimum", -math.inf) <= value <= schema.get("maximum", math.inf))
    if kind == "boolean":
        return not isinstance(value, bool)
    if kind == "array":
        return not isinstance(value, list) or None in value
    if kind == "object":
        return not isinstance(value, dict)
    return False


def url_of(path: str, values: dict) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return "/api/v1" + path


def path_values(path: str, parameters: list[dict]) -> dict:
    values = {}
    for parameter in parameters:
        if parameter["in"] != "path":
            continue
        name = parameter["name"]
        if name == "code":
            values[name] = "140105" if path.startswith("/regions/") else "XD-140105"
        else:
            values[name] = KNOWN.get(name, 1)
    return values


def test_every_field_refuses_values_of_the_wrong_kind(app, client, auth, capsys):
    headers = seed_world(app, client, auth)
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    server_errors: list[str] = []
    unnamed: list[str] = []
    sent = 0

    def send(method: str, url: str, **kwargs):
        nonlocal sent
        sent += 1
        try:
            response = client.open(url, method=method.upper(), headers=headers, **kwargs)
        except Exception as exc:  # TESTING propagates the server error
            server_errors.append(f"{method.upper()} {url} {kwargs.get('query_string') or ''} "
                                 f"{kwargs.get('json')!r:.300}: {exc!r}")
            return None
        if response.status_code >= 500:
            server_errors.append(f"{method.upper()} {url} {kwargs.get('query_string') or ''} "
                                 f"{kwargs.get('json')!r:.300}: {response.status_code}")
        return response

    for path, operations in sorted(document["paths"].items()):
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            values = path_values(path, parameters)
            url = url_of(path, values)
            body_schema = (operation.get("requestBody", {}).get("content", {})
                           .get("application/json", {}).get("schema"))
            if body_schema is not None:
                base = plausible(body_schema, components)
                for name, field_schema in body_schema.get("properties", {}).items():
                    for bad in BAD_VALUES:
                        response = send(method, url, json={**base, name: bad})
                        if response is not None and response.status_code == 422 and clearly_bad(field_schema, bad):
                            fields = {e.get("field", "") for e in response.get_json()["errors"]}
                            if not any(f == name or f.startswith((name + ".", name + "[")) for f in fields):
                                unnamed.append(f"{method.upper()} {path} {name}={bad!r:.40}: {sorted(fields)}")
                for bad in ([], "text", 7, [None], {"a": "\u0000"}):
                    send(method, url, json=bad)
            for parameter in parameters:
                if parameter["in"] == "query":
                    for bad in BAD_ARGS:
                        send(method, url, query_string={parameter["name"]: bad},
                             json=plausible(body_schema, components) if body_schema else None)
                elif parameter["schema"].get("type") == "integer":
                    for bad in (0, 2**31, 10**21, "9" * 40):
                        send(method, url_of(path, {**values, parameter["name"]: bad}))
                else:
                    for bad in ("%00", "%0B", "x" * 300, "%F0%9F%98%80"):
                        send(method, url_of(path, {**values, parameter["name"]: bad}))
    with capsys.disabled():
        print(f"\nwrong kinds: {sent} requests, {len(server_errors)} server errors")
    assert not server_errors, "\n".join(server_errors[:40])
    assert not unnamed, "422 without the bad field named:\n" + "\n".join(unnamed[:40])
    assert sent > 3000
