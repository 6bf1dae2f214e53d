"""Monitoring function: GET /health and GET /metrics."""
