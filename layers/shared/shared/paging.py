"""A page of results, as use cases return it: the items, and where they sit in the whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    number: int  # 1-based
    limit: int
