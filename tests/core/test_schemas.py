"""Schema validation of built-in kinds: exact rule ids, lines and messages, with both engines."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.core.findings import ResourceRef, Severity, Source
from bot.core.resource import Resource
from bot.core.schemas import (
    DEFAULT_KUBERNETES_VERSION,
    SCHEMA_RULES,
    SchemaValidator,
    supported_kubernetes_versions,
)
from bot.core.schemas.builtin import builtin_validator
from bot.core.schemas.engine import ENGINES
from bot.core.yamlpos import DEFAULT_LIMITS, load_yaml
from bot.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "schemas"


def make_resources(text: str, file: str = "app.yaml", *, is_patch: bool = False) -> list[Resource]:
    """One Resource per YAML document, with positions from the real position-keeping loader
    (not `load_manifest`: these tests also feed objects it would reject, such as a missing kind)."""
    stream = load_yaml(text, DEFAULT_LIMITS)
    return [Resource(d.value, file, d.index, d.line, d.positions, is_patch=is_patch) for d in stream.documents]


def make_resource(text: str, file: str = "app.yaml", *, is_patch: bool = False) -> Resource:
    (resource,) = make_resources(text, file, is_patch=is_patch)
    return resource


def fixture_resources(relative: str) -> list[Resource]:
    return make_resources((FIXTURES / relative).read_text(encoding="utf-8"), file=relative)


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any socket opened while validating fails the test: schemas must never be fetched."""

    def refuse(*args: object, **kwargs: object) -> socket.socket:
        raise NetworkUsed("schema validation tried to open a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


pytestmark = pytest.mark.usefixtures("no_network")

BROKEN_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: three
  replica: 2
  strategy:
    type: Rollin
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - image: nginx
          imagePullPolicy: Allways
          ports:
            - containerPort: 99999999999
"""

VALID_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources: {limits: {cpu: 500m, memory: 1Gi}, requests: {cpu: 0.1}}
          ports:
            - containerPort: 8080
"""

E, W, N = "error", "warning", "notice"

# (id, yaml, strict, patch, [(rule, severity, line, path, message)])
CASES = [
    ("valid", VALID_DEPLOYMENT, True, False, []),
    (
        "type",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  selector: {}\n  template: {}\n"
        "  replicas: three\n",
        False,
        False,
        [
            (
                "schema/type",
                E,
                7,
                "spec.replicas",
                'spec.replicas: expected an integer, got the string "three"',
            )
        ],
    ),
    (
        "enum",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: Nodeport\n",
        False,
        False,
        [
            (
                "schema/enum",
                E,
                5,
                "spec.type",
                'spec.type: "Nodeport" is not one of "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
            )
        ],
    ),
    (
        "required",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - image: nginx\n",
        False,
        False,
        [
            (
                "schema/required",
                E,
                6,
                "spec.containers[0]",
                'spec.containers[0]: missing required field "name"',
            )
        ],
    ),
    (
        "every violation on its own line",
        BROKEN_DEPLOYMENT,
        False,
        False,
        [
            (
                "schema/type",
                E,
                6,
                "spec.replicas",
                'spec.replicas: expected an integer, got the string "three"',
            ),
            (
                "schema/enum",
                E,
                9,
                "spec.strategy.type",
                'spec.strategy.type: "Rollin" is not one of "Recreate", "RollingUpdate"',
            ),
            (
                "schema/required",
                E,
                17,
                "spec.template.spec.containers[0]",
                'spec.template.spec.containers[0]: missing required field "name"',
            ),
            (
                "schema/enum",
                E,
                18,
                "spec.template.spec.containers[0].imagePullPolicy",
                'spec.template.spec.containers[0].imagePullPolicy: "Allways" is not one of "Always", "IfNotPresent", "Never"',
            ),
            (
                "schema/range",
                E,
                20,
                "spec.template.spec.containers[0].ports[0].containerPort",
                "spec.template.spec.containers[0].ports[0].containerPort: 99999999999 is greater than the maximum 2147483647",
            ),
        ],
    ),
    (
        "unknown field strict",
        BROKEN_DEPLOYMENT,
        True,
        False,
        [
            (
                "schema/type",
                E,
                6,
                "spec.replicas",
                'spec.replicas: expected an integer, got the string "three"',
            ),
            (
                "schema/unknown-field",
                E,
                7,
                "spec.replica",
                'spec.replica: unknown field (did you mean "replicas"?)',
            ),
            (
                "schema/enum",
                E,
                9,
                "spec.strategy.type",
                'spec.strategy.type: "Rollin" is not one of "Recreate", "RollingUpdate"',
            ),
            (
                "schema/required",
                E,
                17,
                "spec.template.spec.containers[0]",
                'spec.template.spec.containers[0]: missing required field "name"',
            ),
            (
                "schema/enum",
                E,
                18,
                "spec.template.spec.containers[0].imagePullPolicy",
                'spec.template.spec.containers[0].imagePullPolicy: "Allways" is not one of "Always", "IfNotPresent", "Never"',
            ),
            (
                "schema/range",
                E,
                20,
                "spec.template.spec.containers[0].ports[0].containerPort",
                "spec.template.spec.containers[0].ports[0].containerPort: 99999999999 is greater than the maximum 2147483647",
            ),
        ],
    ),
    (
        "unknown field, no close match",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  colour: red\n",
        True,
        False,
        [("schema/unknown-field", E, 5, "metadata.colour", "metadata.colour: unknown field")],
    ),
    (
        "unknown field ignored when not strict",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  colour: red\n",
        False,
        False,
        [],
    ),
    (
        "patch: type only",
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  replicas: "two"\n',
        True,
        True,
        [("schema/type", E, 5, "spec.replicas", 'spec.replicas: expected an integer, got the string "two"')],
    ),
    (
        "patch: partial object is fine",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  replicas: 3\n",
        True,
        True,
        [],
    ),
    (
        "patch: directives and deletions",
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: w}
spec:
  template:
    spec:
      $setElementOrder/containers: [{name: web}]
      containers:
        - name: sidecar
          $patch: delete
        - name: web
          env: null
          image: nginx:2
""",
        True,
        True,
        [],
    ),
    (
        "patch: unknown field and enum still reported",
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: w}
spec:
  strategy:
    type: Rollin
  replica: 1
""",
        True,
        True,
        [
            (
                "schema/enum",
                E,
                6,
                "spec.strategy.type",
                'spec.strategy.type: "Rollin" is not one of "Recreate", "RollingUpdate"',
            ),
            (
                "schema/unknown-field",
                E,
                7,
                "spec.replica",
                'spec.replica: unknown field (did you mean "replicas"?)',
            ),
        ],
    ),
    (
        "removed apiVersion",
        "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\n",
        False,
        False,
        [
            (
                "schema/removed-api-version",
                E,
                1,
                "apiVersion",
                "extensions/v1beta1 Ingress was removed in Kubernetes 1.22; use networking.k8s.io/v1",
            )
        ],
    ),
    (
        "removed CronJob",
        "metadata: {name: c}\nkind: CronJob\napiVersion: batch/v1beta1\n",
        False,
        False,
        [
            (
                "schema/removed-api-version",
                E,
                3,
                "apiVersion",
                "batch/v1beta1 CronJob was removed in Kubernetes 1.25; use batch/v1",
            )
        ],
    ),
    (
        "unknown kind",
        "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\n",
        False,
        False,
        [
            (
                "schema/unknown-kind",
                N,
                2,
                "kind",
                "no schema for example.com/v1 Thing: it is not a built-in kind of Kubernetes 1.31 (kubernetes-validate "
                "schemas) and no CustomResourceDefinition for it was found; add its CustomResourceDefinition to the "
                "repository or list it under `crds:` in .gitops-bot.yaml",
            )
        ],
    ),
    (
        "built-in file name but another group",
        "apiVersion: apps.example.com/v1\nkind: Deployment\n",
        False,
        False,
        [
            (
                "schema/unknown-kind",
                N,
                2,
                "kind",
                "no schema for apps.example.com/v1 Deployment: it is not a built-in kind of Kubernetes 1.31 "
                "(kubernetes-validate schemas) and no CustomResourceDefinition for it was found; add its "
                "CustomResourceDefinition to the repository or list it under `crds:` in .gitops-bot.yaml",
            )
        ],
    ),
    (
        "kustomization files are not cluster objects",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n",
        False,
        False,
        [],
    ),
    (
        "kind with wrong case",
        "apiVersion: v1\nkind: configmap\nmetadata: {name: c}\n",
        False,
        False,
        [("schema/enum", E, 2, "kind", 'kind: "configmap" is not one of "ConfigMap"')],
    ),
    (
        "missing kind",
        "apiVersion: v1\nmetadata: {name: c}\n",
        False,
        False,
        [("schema/required", E, 1, "", 'missing required field "kind"')],
    ),
    (
        "apiVersion not a string",
        "apiVersion: 1\nkind: ConfigMap\n",
        False,
        False,
        [("schema/type", E, 1, "apiVersion", "apiVersion: expected a string, got an integer")],
    ),
    (
        "metadata not a mapping",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [a, b]\n",
        False,
        False,
        [("schema/type", E, 3, "metadata", "metadata: expected a mapping, got a list")],
    ),
    (
        "int-or-string and quantity",
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: w}
spec:
  selector: {}
  strategy: {rollingUpdate: {maxSurge: [1]}}
  template:
    spec:
      containers:
        - name: c
          resources: {limits: {cpu: {}}}
""",
        False,
        False,
        [
            (
                "schema/type",
                E,
                6,
                "spec.strategy.rollingUpdate.maxSurge",
                "spec.strategy.rollingUpdate.maxSurge: expected a string or an integer, got a list",
            ),
            (
                "schema/type",
                E,
                11,
                "spec.template.spec.containers[0].resources.limits.cpu",
                "spec.template.spec.containers[0].resources.limits.cpu: expected a string or a number, got a mapping",
            ),
        ],
    ),
    (
        "long values are cut",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: " + "x" * 80 + "\n",
        False,
        False,
        [
            (
                "schema/enum",
                E,
                5,
                "spec.type",
                'spec.type: "' + "x" * 59 + '…" is not one of "ClusterIP", "ExternalName", '
                '"LoadBalancer", "NodePort"',
            )
        ],
    ),
    (
        "timestamps and numeric keys are strings to the API server",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  when: 2024-01-01\n  80: http\n",
        True,
        False,
        [],
    ),
]


def _summary(findings):
    return [(f.rule, f.severity.label, f.line, f.path, f.message) for f in findings]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "text", "strict", "patch", "expected"), CASES, ids=[c[0] for c in CASES])
def test_findings(engine, name, text, strict, patch, expected):
    validator = SchemaValidator("1.31", strict=strict, engine=engine)
    findings = validator.validate(make_resource(text, is_patch=patch))
    assert _summary(findings) == expected


SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: creds}
data:
  password: hunter2!!
  token: 12345
stringData:
  api-key: [hunter3]
type: Opaque
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_secret_values_are_never_echoed(engine):
    findings = SchemaValidator(strict=True, engine=engine).validate(make_resource(SECRET))
    assert _summary(findings) == [
        ("schema/format", E, 5, "data.password", "data.password: the value is not valid base64"),
        ("schema/type", E, 6, "data.token", "data.token: expected a string, got the value (an integer)"),
        (
            "schema/type",
            E,
            8,
            "stringData.api-key",
            "stringData.api-key: expected a string, got the value (a list)",
        ),
    ]
    text = " ".join(f.message for f in findings)
    assert "hunter" not in text and "12345" not in text


def test_deprecated_api_version_warns_before_its_removal():
    text = (
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n"
        "  maxReplicas: x\n  scaleTargetRef: {kind: Deployment, name: w}\n"
    )
    findings = SchemaValidator("1.25").validate(make_resource(text))
    assert _summary(findings) == [
        (
            "schema/deprecated-api-version",
            W,
            1,
            "apiVersion",
            "autoscaling/v2beta2 HorizontalPodAutoscaler is deprecated since Kubernetes 1.23 and removed in 1.26 "
            "(target is 1.25); use autoscaling/v2",
        ),
        (
            "schema/type",
            E,
            5,
            "spec.maxReplicas",
            'spec.maxReplicas: expected an integer, got the string "x"',
        ),
    ]
    removed = SchemaValidator("1.26").validate(make_resource(text))
    assert _summary(removed) == [
        (
            "schema/removed-api-version",
            E,
            1,
            "apiVersion",
            "autoscaling/v2beta2 HorizontalPodAutoscaler was removed in Kubernetes 1.26; use autoscaling/v2",
        )
    ]


def test_unknown_kind_is_an_error_when_configured():
    resource = make_resource("apiVersion: example.com/v1\nkind: Thing\n")
    (finding,) = SchemaValidator(unknown_kinds="error").validate(resource)
    assert (finding.rule, finding.severity) == ("schema/unknown-kind", Severity.ERROR)
    assert "`crds:` in .gitops-bot.yaml" in finding.remediation


def test_bad_unknown_kinds_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown_kinds must be one of notice, error, not 'warn'"):
        SchemaValidator(unknown_kinds="warn")


@pytest.mark.parametrize("version", ["1.24", "2.0", "latest", "1.99"])
def test_unsupported_kubernetes_version_lists_the_supported_ones(version):
    with pytest.raises(ConfigError) as caught:
        SchemaValidator(version)
    supported = ", ".join(supported_kubernetes_versions())
    assert str(caught.value) == (
        f"Kubernetes version {version!r} is not supported for schema validation; "
        f"supported versions: {supported} (from the installed kubernetes-validate)"
    )


@pytest.mark.parametrize("spelling", ["1.31", "v1.31", "1.31.4", " v1.31.0 "])
def test_version_spellings(spelling):
    assert SchemaValidator(spelling).kubernetes_version == "1.31"


def test_supported_versions():
    versions = supported_kubernetes_versions()
    assert versions[0] == "1.25"
    assert DEFAULT_KUBERNETES_VERSION in versions
    assert versions == sorted(versions, key=lambda v: int(v.split(".")[1]))


def test_finding_fields():
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: prod\nspec:\n  type: Nodeport\n"
    (finding,) = SchemaValidator().validate(make_resource(text, file="apps/web/service.yaml"))
    assert finding.source == Source.SCHEMA
    assert finding.file == "apps/web/service.yaml"
    assert (finding.line, finding.column) == (7, 3)
    assert finding.resource == ResourceRef("v1", "Service", "prod", "s")
    assert finding.blocking


def test_documents_keep_their_own_lines():
    text = (
        VALID_DEPLOYMENT
        + "---\n"
        + "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: Nodeport\n"
    )
    findings = [f for r in make_resources(text) for f in SchemaValidator().validate(r)]
    assert _summary(findings) == [
        (
            "schema/enum",
            E,
            26,
            "spec.type",
            'spec.type: "Nodeport" is not one of "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
        )
    ]


def test_non_mapping_object_does_not_crash():
    (finding,) = SchemaValidator().validate(Resource(obj=["a"], file="x.yaml"))  # type: ignore[arg-type]
    assert (finding.rule, finding.line, finding.message) == (
        "schema/type",
        1,
        "expected a mapping, got a list",
    )


def test_compiled_schemas_are_cached_per_process():
    first = builtin_validator("1.31", False, False, "v1", "ConfigMap", "jsonschema-rs")
    again = builtin_validator("1.31", False, False, "v1", "ConfigMap", "jsonschema-rs")
    patch = builtin_validator("1.31", False, True, "v1", "ConfigMap", "jsonschema-rs")
    assert first is again
    assert patch is not first
    assert builtin_validator("1.31", False, False, "example.com/v1", "Thing", "jsonschema-rs") is None


def test_unknown_engine_is_a_config_error():
    with pytest.raises(
        ConfigError, match="unknown schema engine 'fastest': expected one of jsonschema-rs, jsonschema"
    ):
        SchemaValidator(engine="fastest")


def test_the_network_guard_works():
    with pytest.raises(NetworkUsed):
        socket.create_connection(("127.0.0.1", 9))


def test_removed_api_version_names_the_guide():
    text = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
    (finding,) = SchemaValidator().validate(make_resource(text))
    assert (
        finding.message == "policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25; use policy/v1"
    )
    assert finding.remediation == (
        "Move to the replacement API; fields that changed are listed in "
        "https://kubernetes.io/docs/reference/using-api/deprecation-guide/."
    )


def test_every_rule_id_is_listed():
    assert len(SCHEMA_RULES) == len(set(SCHEMA_RULES)) == 12
    assert all(rule.startswith("schema/") for rule in SCHEMA_RULES)
