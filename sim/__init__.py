"""Agent-based model of cross-sector interaction in the Russian social sphere."""

__version__ = "0.1.0"
