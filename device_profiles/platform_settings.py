"""The composition's settings every component reads, as a Protocol (``smartward.compose.PlatformConfig``
implements it). It lives in the contracts package so that ingest (``ingest.platform.PlatformServices``) and
alerting (``alerting.service.Host``) type what the composition hands them with one definition, neither
importing the other."""

from __future__ import annotations

from typing import Any, Protocol


class PlatformSettings(Protocol):
    """The composition's settings that components read (``smartward.compose.PlatformConfig``)."""

    @property
    def broker(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def data_dir(self) -> str: ...

    @property
    def topic_root(self) -> str: ...

    @property
    def client_prefix(self) -> str: ...

    @property
    def extra(self) -> dict[str, Any]: ...
