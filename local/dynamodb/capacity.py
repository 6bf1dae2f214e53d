"""What one request costs in DynamoDB capacity units, the per-partition ceilings, and the throttling answer.

Sources (AWS, read 2026-11):
- Units: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
  A read of up to 4 KB is 1 read unit strongly consistent, 1/2 eventually consistent (the default); sizes round
  up to 4 KB; a read of a missing item still consumes. A Query consumes the size of everything it read, as one
  sum rounded up to 4 KB. A write consumes 1 unit per 1 KB of the larger of the item before and after it (a
  delete: the deleted item), at least 1; a conditional write whose condition fails still consumes (the
  existing item's size; the new image is never built here, so a failed update is metered on the old item).
- Ceilings: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
  "every partition ... 3,000 read units per second and 1,000 write units per second" (on-demand and provisioned
  alike), and a partition serves "3,000 read units or 1,000 write units, or a linear combination" (the on-demand
  throttling troubleshooting page), so load = reads/3,000 + writes/1,000 per second.
- The answer: botocore's dynamodb service-2.json lists ProvisionedThroughputExceededException (member
  `ThrottlingReasons`) and ThrottlingException (member `throttlingReasons`) among every data-plane operation's
  errors; https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ThrottlingReason.html gives the
  reasons, `<Table|Index><Read|Write><LimitType>`, with KeyRangeThroughputExceeded meaning "the request rate
  directed at a specific partition key value has exceeded the internal partition-level throughput limits".
  On-demand tables answer ThrottlingException with the message recorded in praetorian-inc/chariot-ui#684
  (2024-09-06); provisioned tables ProvisionedThroughputExceededException with botocore's documented text.
"""

from __future__ import annotations

import math

from local.dynamodb.limits import measure
from local.dynamodb.values import DynamoError, Item

READ_UNITS_PER_PARTITION = 3000.0
WRITE_UNITS_PER_PARTITION = 1000.0
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024

ON_DEMAND_MESSAGE = ("Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
                     "scaling your table or index so please try again shortly. If exceptions persist, check if you "
                     "have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                     "bp-partition-key-design.html")
PROVISIONED_MESSAGE = ("The level of configured provisioned throughput for the table was exceeded. Consider "
                       "increasing your provisioning level with the UpdateTable API.")


def item_bytes(item: Item | None) -> int:
    return measure(item)[0] if item else 0


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(*items: Item | None) -> float:
    return float(max(1, math.ceil(max(item_bytes(item) for item in items) / WRITE_UNIT_BYTES)))


def load(reads: float, writes: float) -> float:
    """A partition's share of its ceiling in one second (1.0 = full)."""
    return reads / READ_UNITS_PER_PARTITION + writes / WRITE_UNITS_PER_PARTITION


def throttled(table_name: str, on_demand: bool, *, write: bool, scope: str) -> DynamoError:
    """DynamoDB's answer to a request over a limit: `scope` is "partition" (a hot key) or "table"."""
    operation = "Write" if write else "Read"
    if scope == "partition":
        limit = "KeyRangeThroughputExceeded"
    else:
        limit = "MaxOnDemandThroughputExceeded" if on_demand else "ProvisionedThroughputExceeded"
    reasons = [{"reason": f"Table{operation}{limit}",
                "resource": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table_name}"}]
    if on_demand:
        return DynamoError("ThrottlingException", ON_DEMAND_MESSAGE, extra={"throttlingReasons": reasons})
    return DynamoError("ProvisionedThroughputExceededException", PROVISIONED_MESSAGE,
                       extra={"ThrottlingReasons": reasons})
