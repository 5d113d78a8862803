"""Property-based: whatever schemathesis derives from the OpenAPI schema (valid or
not), the collector answers with success or a client error, never a server error."""

from __future__ import annotations

import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from demoforge.collect.app import create_app


def test_no_input_makes_the_collector_fail(store):
    token = store.add_device(store.create_contributor())
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(store))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {"/v1/events", "/v1/sessions", "/v1/sessions/{session_id}/events"}
    for operation in operations:
        cases = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE
        )

        @given(case=cases)
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def never_a_server_error(case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])

        never_a_server_error()
