"""Routing: from a caller's situation to the right CEP operator, with the reason and the passage."""

from assistant.routing.engine import Router
from assistant.routing.rules import Decision
from assistant.routing.situation import Situation

__all__ = ["Decision", "Router", "Situation"]
