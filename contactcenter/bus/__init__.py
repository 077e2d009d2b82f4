"""One Bus interface, two backends: in-process (memory) and Redis."""

from contactcenter.bus.base import Bus, BusMessage, Event, StreamEvent, Subscription, make_bus

__all__ = ["Bus", "BusMessage", "Event", "StreamEvent", "Subscription", "make_bus"]
