"""Tooling outside the runtime path: the training bank, fitting helpers, evaluation of held-out splits."""
