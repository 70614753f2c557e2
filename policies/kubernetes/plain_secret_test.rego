package gitops.builtin.plain_secret

import rego.v1

secret(extra) := object.union({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "prod"}}, extra)

test_data_denied_without_values if {
	results := deny with input as secret({"data": {"password": "aHVudGVyMg==", "user": "YWRtaW4="}})
	results == {{
		"msg": `Secret "db" commits 2 value(s) in data; use a SealedSecret, ExternalSecret or SOPS instead and rotate the committed values`,
		"path": "data",
	}}
	every r in results {
		msg := r.msg
		not contains(msg, "aHVudGVyMg==")
		not contains(msg, "password")
	}
}

test_string_data_denied if {
	results := deny with input as secret({"stringData": {"token": "s3cr3t"}})
	count(results) == 1
	some r in results
	r.path == "stringData"
	msg := r.msg
	not contains(msg, "s3cr3t")
}

test_data_and_string_data_both_reported if {
	results := deny with input as secret({"data": {"a": "YQ=="}, "stringData": {"b": "b"}})
	{r.path | some r in results} == {"data", "stringData"}
}

test_empty_secret_passes if {
	count(deny) == 0 with input as secret({})
	count(deny) == 0 with input as secret({"data": {}})
}

test_service_account_token_without_data_passes if {
	count(deny) == 0 with input as secret({
		"type": "kubernetes.io/service-account-token",
		"metadata": {"name": "sa-token", "annotations": {"kubernetes.io/service-account.name": "app"}},
	})
}

test_service_account_token_with_data_denied if {
	count(deny) == 1 with input as secret({"type": "kubernetes.io/service-account-token", "data": {"token": "eA=="}})
}

test_custom_resource_named_secret_ignored if {
	count(deny) == 0 with input as {"apiVersion": "example.com/v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "b"}}
}

test_secret_without_api_version_denied if {
	count(deny) == 1 with input as {"kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "Yg=="}}
}

test_sops_encrypted_secret_passes if {
	count(deny) == 0 with input as secret({"data": {"password": "ENC[AES256_GCM,data:abc,type:str]"}, "sops": {"version": "3.8.1"}})
}

test_other_kinds_ignored if {
	count(deny) == 0 with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
	count(deny) == 0 with input as {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "s"}, "spec": {"encryptedData": {"a": "AgB..."}}}
}
