"""The rate limiter's window arithmetic: sub-buckets that remember their latest admission.

A window of T seconds (limit N) is cut into B = 10 sub-buckets of w = T/B seconds. Bucket k
(admissions in [k·w, (k+1)·w)) holds its count and the epoch milliseconds of its latest
admission t<k>. At time `now`, in bucket `cur`, a bucket is *live* iff t<k> > now - T (its latest
admission is still inside the window; buckets older than cur-B never are), and a request is
admitted iff the live counts sum to less than N.

Bound: every admission inside (now - T, now] sits in a bucket whose latest admission is at least
as recent, so that bucket is live and counted whole: the live sum never under-counts, and no
window of T seconds holds more than N admissions (exact upper bound). The error is one-sided: a
bucket keeps its earlier admissions until its latest one leaves, so a request can be rejected
that an exact sliding log would admit, by at most w.

Headers never exceed T: a bucket leaves the window at exactly t<k> + T, and every recorded
t<k> ≤ now, so everything counted now has left by now + T. Retry-After is the first whole second
at which the live buckets that have left by then (in order of t<k> + T) bring the sum under N,
from the state the decision saw: a client that waits that long is admitted unless other
requests took the slot, and one that comes sooner is not (the window test is strict, so at
t<k> + T the bucket is out, and the wait is rounded up). Reset is when the newest live bucket
leaves. The only error is time itself: t<k> is the admitting container's clock, read just
before its write, so skew between containers, and two writers of one bucket landing in the
opposite order of their clock reads (t<k> set back by that gap, milliseconds), can shift when a
bucket leaves by that much. The headers are capped at T all the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.settings import RateRule

BUCKETS = 10


@dataclass(frozen=True)
class Bucket:
    """One sub-bucket: how many it admitted, and when it admitted the latest."""

    count: int
    latest_ms: int  # epoch milliseconds


Buckets = dict[int, Bucket]


def epoch_ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until every request counted now has left the window
    retry_after: int = 0  # on rejection: seconds until a request can be admitted again
    failed_open: bool = False

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_after),
        }


@dataclass(frozen=True)
class Window:
    """Bucket arithmetic of one rule, in integer epoch milliseconds."""

    rule: RateRule
    buckets: int = BUCKETS

    @property
    def span_ms(self) -> int:
        return self.rule.window_seconds * 1000

    @property
    def width_ms(self) -> int:
        # Rounded up, so B buckets always cover the window (exact for B = 10: T is whole seconds).
        return -(-self.span_ms // self.buckets)

    def bucket(self, now_ms: int) -> int:
        return now_ms // self.width_ms

    def live(self, state: Buckets, current: int, now_ms: int) -> Buckets:
        """The buckets whose latest admission is still inside the window (now - T, now]."""
        oldest, cutoff = current - self.buckets, now_ms - self.span_ms
        return {k: bucket for k, bucket in state.items() if k >= oldest and bucket.latest_ms > cutoff}

    def used(self, state: Buckets, current: int, now_ms: int) -> int:
        return sum(bucket.count for bucket in self.live(state, current, now_ms).values())

    def decide(self, state: Buckets, current: int, now_ms: int, *, allowed: bool) -> Decision:
        live = sorted(self.live(state, current, now_ms).values(), key=lambda bucket: bucket.latest_ms)
        limit = self.rule.limit
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=max(0, limit - sum(bucket.count for bucket in live)),
            reset_after=self._seconds(live[-1].latest_ms + self.span_ms - now_ms) if live else 0,
            retry_after=0 if allowed else max(1, self._seconds(self._release_ms(live, now_ms) - now_ms)),
        )

    def _release_ms(self, live: list[Bucket], now_ms: int) -> int:
        """When enough of `live` (oldest first) has left the window for the sum to drop under the limit."""
        counted, release_ms = sum(bucket.count for bucket in live), now_ms
        for bucket in live:
            if counted < self.rule.limit:
                break
            counted -= bucket.count
            release_ms = bucket.latest_ms + self.span_ms  # out at exactly this instant: the test is strict
        return release_ms

    def _seconds(self, milliseconds: int) -> int:
        # Whole seconds rounded up, so the client comes back at or after the instant; beyond T only by skew.
        return min(self.rule.window_seconds, max(0, math.ceil(milliseconds / 1000)))
