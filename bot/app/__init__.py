"""The deployed GitHub App: web front, queue, workers, handlers and publishers around the core.

A ``pull_request`` delivery walks ``web`` (verify, enqueue) → ``queue`` → ``worker``/``service``
(one pull context per delivery) → ``handlers`` → ``pipeline`` (pull request → verdict, no writes)
→ ``publish`` (check run, sticky comment, review, plan comments). Nothing in ``bot.core`` imports it.
"""
