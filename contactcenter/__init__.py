"""Self-hostable real-time one-to-one contact center."""

__version__ = "0.1.0"
