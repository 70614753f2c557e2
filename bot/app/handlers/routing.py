"""A tiny router in the manner of gidgethub's: (event, action) -> handler, plus a reason to skip."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.app.evaluation_service import EvaluationService
from bot.app.settings import AppSettings

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class HandlerContext:
    """What a handler may use: the settings, the evaluation service, a delivery-tagged logger."""

    settings: AppSettings
    service: EvaluationService  # bot.app.service.GitHubService, or a test fake
    log: logging.LoggerAdapter[logging.Logger]
    delivery_id: str = ""


Handler = Callable[[Payload, HandlerContext], None]
Screen = Callable[[Payload, AppSettings], str | None]  # returns why to ignore a routed delivery, or None


@dataclass(frozen=True)
class Route:
    handler: Handler
    screen: Screen | None = None


class Router:
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str | None], Route] = {}

    def register(
        self, event: str, *actions: str, screen: Screen | None = None
    ) -> Callable[[Handler], Handler]:
        """Decorator: route ``event`` (for the given actions, or any action when none are given)."""

        def add(handler: Handler) -> Handler:
            for action in actions or (None,):
                self._routes[(event, action)] = Route(handler, screen)
            return handler

        return add

    def route(self, event: str, action: str | None) -> Route | None:
        return self._routes.get((event, action)) or self._routes.get((event, None))


router = Router()
