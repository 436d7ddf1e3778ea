"""ingest package."""

__all__: list[str] = []
