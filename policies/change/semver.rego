# Image references and semver-ish tags (v1.2.3, 1.2, 1.2.3-alpine) for the change rules.
# Tags that are not semver-ish (latest, stable, a git sha) have no version and are
# never compared.
package gitops.lib.semver

import rego.v1

_version_re := `^v?[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z.-]+)?$`

# {"repository", "tag"} of an image reference with a tag; a digest suffix is ignored.
# A registry port (registry:5000/app) is not a tag.
image_parts(image) := {"repository": m[1], "tag": m[2]} if {
	is_string(image)
	without_digest := split(image, "@")[0]
	m := regex.find_all_string_submatch_n(`^(.*):([^:/]+)$`, without_digest, 1)[0]
}

# The numeric parts of a semver-ish tag: "v1.2.3" -> [1, 2, 3], "1.2" -> [1, 2];
# undefined for other tags.
version(tag) := [to_number(p) | some p in split(core, ".")] if {
	is_string(tag)
	regex.match(_version_re, tag)
	core := trim_prefix(split(tag, "-")[0], "v")
}

# True when version a is lower than version b on the parts both give, so a
# floating "1.2" is never older than "1.2.5".
older(a, b) if {
	n := min({count(a), count(b)})
	some i in numbers.range(0, n - 1)
	a[i] < b[i]
	array.slice(a, 0, i) == array.slice(b, 0, i)
}
