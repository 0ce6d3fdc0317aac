"""The assistant's knowledge as data: built-in documents, operators, rules, lexicons, training banks, fitted models."""
