"""The CEP operators: defined in ingest/operators.py, the lowest layer that needs them."""

from ingest.operators import FACT_KINDS, Operator, OperatorFact, load_operators, locate_operator_sources

__all__ = ["FACT_KINDS", "Operator", "OperatorFact", "load_operators", "locate_operator_sources"]
