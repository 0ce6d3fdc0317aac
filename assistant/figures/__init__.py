"""Figures: read the question (parse), gather and describe candidate facts (features), rank them (rank),
decide between one number, candidates and "absent" (decide), and say it with citations (phrase).

The facts themselves are extracted at build time by the ingest/facts/ package (ingest.facts.extract_facts).
"""

from assistant.figures.engine import FigureEngine
from assistant.figures.phrase import faithful, numbers_in

__all__ = ["FigureEngine", "faithful", "numbers_in"]
