"""SmartWard: CLI entry point, settings and process composition."""

__version__ = "0.1.0"
__all__ = ["__version__"]
