"""digital_twin package."""

__all__: list[str] = []
