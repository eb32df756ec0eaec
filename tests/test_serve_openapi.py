"""The OpenAPI document tells the truth: schemathesis fuzzes every operation of a real server
(plumbing backend, API keys on) with every check it has, on a fixed seed and a bounded number
of examples, and finds no server error and no response the document does not declare."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests.serve_fixtures import start_server  # noqa: E402

KEY = "fuzz-key"
EXAMPLES = 30
# Every check but one: a request valid by the JSON Schema may still be refused for what no
# schema can say (source equal to target, a language code that is well-formed but unknown, a
# text of spaces) -- with a documented 400, which the other checks verify.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def server():
    srv = start_server(environ={"RTT_API_KEYS": KEY})
    yield srv
    srv.stop()


def test_every_operation_answers_as_documented(server):
    # The Python API rather than schemathesis' pytest plugin: one test, every operation, and a
    # list of what failed (the plugin does not run under this pytest version).
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def check(case: object) -> None:
            case.call_and_validate(base_url=server.base_url,  # type: ignore[attr-defined]
                                   headers={"Authorization": f"Bearer {KEY}"}, timeout=10,
                                   excluded_checks=EXCLUDED)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is collected
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)


def test_the_document_declares_errors_bodies_and_security(server):
    import httpx

    doc = httpx.get(f"{server.base_url}/openapi.json").json()
    assert "bearer" in doc["components"]["securitySchemes"]
    ops = {(p, m): op for p, item in doc["paths"].items() for m, op in item.items()}
    for (path, method), op in ops.items():
        assert "422" not in op["responses"], (path, method)
        assert {"400", "401", "429", "503"} <= set(op["responses"]), (path, method)
    for key in (("/translate", "post"), ("/v1/sessions", "post"), ("/v1/sessions/{session_id}/input", "post")):
        assert "requestBody" in ops[key], key
    assert "text/plain" in ops[("/metrics", "get")]["responses"]["200"]["content"]
