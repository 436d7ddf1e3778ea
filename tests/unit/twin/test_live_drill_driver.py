"""The live-drill driver's refusals: clear errors before anything is started."""

from __future__ import annotations

import pytest

from devservers import free_port
from digital_twin import TwinError
from digital_twin.live_drill import LiveDrill, LiveDrillError, LiveDrillOptions


async def test_an_unreachable_broker_is_a_clear_error_and_no_drill_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("digital_twin.live_drill.SUBSCRIBE_TIMEOUT_S", 0.5)
    broker = f"mqtt://127.0.0.1:{free_port()}"
    drill = LiveDrill(LiveDrillOptions(base_url="http://127.0.0.1:1", broker=broker, ward="w1", token="t"))
    with pytest.raises(LiveDrillError, match=f"cannot connect to the broker at {broker} with MQTT v5: ") as info:
        await drill.run()
    assert isinstance(info.value, TwinError) and drill.drill == {}


async def test_credentials_are_required() -> None:
    drill = LiveDrill(LiveDrillOptions(base_url="http://127.0.0.1:1", broker="mqtt://127.0.0.1:1", ward="w1"))
    with pytest.raises(LiveDrillError, match="token or a username and password"):
        await drill.run()
