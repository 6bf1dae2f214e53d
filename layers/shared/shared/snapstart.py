"""Lambda SnapStart for Python (template parameter EnableSnapStart): what must not outlive a restore.

Lambda initialises a published version once, snapshots the memory, and restores that snapshot into
many execution environments. Whatever the snapshot holds is then shared by all of them, so, with the
runtime hooks of `snapshot_restore_py` (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html):
- before the snapshot, every connection and socket is closed (a pooled socket cannot be shared);
- after a restore, the per-container dependencies are forgotten (engines, DynamoDB clients and the
  credentials they read from the environment, which Lambda renews on restore; the limiter's and the
  breakers' clock-stamped caches; the JWT keys), verified tokens are forgotten, and Python's `random`
  is reseeded (every restored environment would otherwise draw the same numbers).
The hooks are registered once, by `create_handler`, during the init phase that is snapshotted.
"""

from __future__ import annotations

import random
from functools import cache

from shared.auth.tokens import forget_verified_tokens
from shared.dependencies import dependencies, reset

try:  # part of the Lambda Python runtime (3.12+); a pinned dev dependency for the tests
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # no runtime hooks here, so no snapshot either
    register_after_restore = register_before_snapshot = None


def before_snapshot() -> None:
    dependencies().close()


def after_restore() -> None:
    reset()
    forget_verified_tokens()
    random.seed()


@cache
def register_hooks() -> bool:
    """Register both hooks, once per process; False where the runtime has no hooks."""
    if register_before_snapshot is None or register_after_restore is None:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True
