"""The scale simulation: hundreds to a thousand Lambda containers, the real protection code, one local engine.

    python -m local.bench.scale [--containers 1000] [--rps 10000] [--seconds 20] [--flood-rps 0]
                                [--aws-partition-limits] [--json FILE]

Prints the engine's hot-key report (local.dynamodb.heat): the busiest partition key values and items, their peak
and mean capacity units per second against DynamoDB's per-partition ceilings, and whether AWS would throttle
them; then what the clients got (statuses, fail-opens) and whether /metrics counted every request.
"""
