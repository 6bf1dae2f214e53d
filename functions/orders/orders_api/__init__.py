"""Orders function: orders, the status machine, filters, stats and idempotent creation."""
