"""A cap on the sockets one client address holds open in this process (CC_MAX_SOCKETS_PER_ADDRESS)."""

from __future__ import annotations

from collections import Counter


class SocketCap:
    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self.open: Counter[str] = Counter()

    def acquire(self, address: str) -> bool:
        """Take a place for a new socket from `address`; False when it holds the cap already."""
        if self.open[address] >= self.per_address:
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]
