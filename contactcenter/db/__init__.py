"""Engine, session factory and the Mapped[] Base; models live with their capability."""

from contactcenter.db.base import Base, UTCDateTime, utcnow
from contactcenter.db.engine import Database, driver_fetch, driver_reads

__all__ = ["Base", "Database", "UTCDateTime", "driver_fetch", "driver_reads", "utcnow"]
