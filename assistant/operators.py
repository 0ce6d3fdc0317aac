"""The CEP operators: defined in ingest/operators.py, the lowest layer that needs them."""

from ingest.operators import FACT_KINDS, Operator, OperatorFact, check_operator_sources, load_operators

__all__ = ["FACT_KINDS", "Operator", "OperatorFact", "check_operator_sources", "load_operators"]
