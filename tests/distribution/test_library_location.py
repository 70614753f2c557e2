"""Where the built-in library is found: never skipped because of where it is installed."""

from pathlib import Path

from bot.core.rego.sources import builtin_policy_dir, builtin_sources, directory_sources


def test_policies_under_a_dot_venv_are_read(tmp_path: Path):
    library = tmp_path / ".venv" / "lib" / "site-packages" / "bot" / "builtin_policies"
    (library / "kubernetes").mkdir(parents=True)
    (library / "kubernetes" / "rule.rego").write_text("package x\n")
    (library / ".venv").mkdir()
    (library / ".venv" / "litter.rego").write_text("package litter\n")  # below the root: still skipped
    assert [name for name, _ in directory_sources([library], label_root="policies")] == ["policies/kubernetes/rule.rego"]


def test_the_checkout_library_is_labelled_like_the_repository():
    names = [name for name, _ in builtin_sources()]
    assert "policies/lib/kubernetes.rego" in names and "policies/kubernetes/image_tag.rego" in names
    assert (builtin_policy_dir() / "kubernetes" / "image_tag.rego").is_file()
