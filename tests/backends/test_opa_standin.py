"""The OPA stand-in answers the REST calls of opa-python-client as an OPA server does."""

from __future__ import annotations

import pytest
from opa_client import OpaClient
from opa_client.errors import DeletePolicyError, RegoParseError

from tests.support.opa_standin import OpaStandin

POLICY = 'package app\n\nallowed := input.user == data.owner\n\ngreeting := sprintf("hi %s", [input.user])\n'


@pytest.fixture
def client():
    with OpaStandin() as server:
        opa = OpaClient(host="127.0.0.1", port=int(server.url.rsplit(":", 1)[1]), retries=0)
        yield opa
        opa.close_connection()


def test_policies_data_and_queries_round_trip(client):
    assert client.check_health()
    assert client.update_policy_from_string(POLICY, "app/policy.rego", rego_compat=False)
    assert client.get_policies_list() == ["app/policy.rego"]
    assert client.update_or_create_data({"owner": "ana"}, "")
    assert client.query_rule({"user": "ana"}, "app", "allowed") == {"result": True}
    assert client.patch_data("", [{"op": "replace", "path": "/owner", "value": "bo"}])
    assert client.get_data("owner") == {"result": "bo"}
    assert client.query_rule({"user": "ana"}, "app") == {"result": {"allowed": False, "greeting": "hi ana"}}
    assert client.query_rule({}, "app", "missing") == {}  # undefined: 200 without "result"
    assert client.delete_policy("app/policy.rego")
    with pytest.raises(DeletePolicyError):
        client.delete_policy("app/policy.rego")


def test_a_module_that_does_not_parse_is_rejected_with_opas_error_shape(client):
    with pytest.raises(RegoParseError) as caught:
        client.update_policy_from_string(
            "package app\n\nallow {\n  true\n}\n", "app/v0.rego", rego_compat=False
        )
    assert caught.value.expression == "invalid_parameter"
    assert "`if` keyword is required" in caught.value.errors[0]["message"]
    assert client.get_policies_list() == []
