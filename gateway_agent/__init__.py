"""gateway_agent package."""

__all__: list[str] = []
