from bot.core.changes import CREATE, DELETE, UPDATE, pair_objects
from bot.core.resource import Resource


def res(kind: str, name: str, file: str = "a.yaml", **spec) -> Resource:
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "ns"}, "spec": spec}
    return Resource(obj=obj, file=file)


def test_pairs_by_identity_not_file():
    before = [res("ConfigMap", "kept", x=1), res("ConfigMap", "moved", "old.yaml"), res("Secret", "gone")]
    after = [res("ConfigMap", "kept", x=2), res("ConfigMap", "moved", "new.yaml"), res("Service", "new")]
    changes = [(c.operation, c.key[1], c.key[3]) for c in pair_objects(before, after)]
    assert changes == [
        (UPDATE, "ConfigMap", "kept"),
        (DELETE, "Secret", "gone"),
        (CREATE, "Service", "new"),
    ]


def test_patches_are_not_objects():
    patch = res("Deployment", "web")
    patch.is_patch = True
    assert pair_objects([], [patch]) == []
