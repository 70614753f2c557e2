"""No import cycles between the packages of the App's edge (grimp, which import-linter ships)."""

from __future__ import annotations

import itertools

import grimp

# The layers a pull_request delivery passes through, plus what they stand on.
PACKAGES = ["bot.core", "bot.pull", "bot.github", "bot.app.pipeline", "bot.app.publish", "bot.reporters",
            "bot.commands", "bot.app.handlers", "bot.app.service", "bot.app.web", "bot.app.worker", "bot.app.queue"]


def test_no_two_edge_packages_import_each_other() -> None:
    graph = grimp.build_graph("bot")
    both_ways = [
        (a, b) for a, b in itertools.combinations(PACKAGES, 2)
        if graph.find_shortest_chain(importer=a, imported=b, as_packages=True)
        and graph.find_shortest_chain(importer=b, imported=a, as_packages=True)
    ]
    assert both_ways == []
