"""alerting package."""

__all__: list[str] = []
