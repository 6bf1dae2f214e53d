"""Protection shared by every function: DynamoDB rate limits, circuit breakers, request metrics.

State lives in DynamoDB so every Lambda container sees the same limits, breakers and counters;
in-process state is only ever a cache or a fallback.
"""
