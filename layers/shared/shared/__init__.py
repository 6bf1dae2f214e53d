"""Shared Lambda layer of the users-and-orders API.

Nothing here does I/O at import time: engines, clients and tables are created on first use and
cached for the life of the warm container.
"""
