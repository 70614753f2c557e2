# METADATA
# title: Image tags should not move to an older version
# description: >-
#   A container image whose semver-ish tag (v1.2.3, 1.2) goes down is a
#   rollback. That is sometimes the point, but it is also what a stale branch
#   or a bad merge looks like, and data migrations rarely roll back with it.
#   Tags that are not versions (latest, a git sha) are not compared.
# custom:
#   id: change-image-downgrade
#   severity: warning
#   pss: none
#   remediation: Make sure the rollback is intended (and the data it uses is compatible), or restore the newer tag.
package gitops.change.builtin.image_downgrade

import rego.v1

import data.gitops.lib.change as lib
import data.gitops.lib.semver

warn contains result if {
	some pair in lib.container_pairs
	before := semver.image_parts(pair.before.image)
	after := semver.image_parts(pair.after.image)
	before.repository == after.repository
	semver.older(semver.version(after.tag), semver.version(before.tag))
	result := {
		"msg": sprintf("%s: %s image %s moves from %s back to older %s; make sure the rollback is intended", [
			lib.object_label, pair.label, after.repository, before.tag, after.tag,
		]),
		"path": sprintf("%s.image", [pair.path]),
	}
}
