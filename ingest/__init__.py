"""Ingest: read documents, recover their structure, cut them into located chunks, extract figures."""
