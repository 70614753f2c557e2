"""The App's GitHub edge: installation auth, retried REST calls through PyGithub, diffs."""
