"""Local development tooling (not deployed)."""
