"""Drills as text: readable times, how a drill ended, commands to copy with the user's --url/--username."""

from __future__ import annotations

from typing import Any

from digital_twin.drill_text import drill_command, how_it_ended, list_table, status_lines

T0 = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC


def _drill(**kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"id": "drill-1a2b", "ward": "w1", "beds": [{"bed": "DRILL-01", "device": "drill-1a2b-01",
                                                                      "scenario": "bradycardia"}],
                         "speed": 1.0, "seed": 0, "started": T0, "ends": T0 + 20_000, "stopped": None, "active": True,
                         "started_by": "facility", "stopped_by": "", "rate": 1.0, "samples": None}
    return d | kw


def test_commands_to_copy_carry_url_and_username_never_a_password() -> None:
    assert drill_command("stop", "drill-1a2b", url="http://127.0.0.1:8000", username="facility") == \
        "smartward drill stop drill-1a2b --url http://127.0.0.1:8000 --username facility"
    cmd = drill_command("report", "drill-1a2b", "--out", "DIR", url="http://fm:s3cret@host:8000/", username=None)
    assert cmd == "smartward drill report drill-1a2b --out DIR --url http://host:8000" and "s3cret" not in cmd
    assert drill_command("stop", "d 1", url=None, username="o'brien") == "smartward drill stop 'd 1' --username 'o'\"'\"'brien'"


def test_a_drill_its_driver_stopped_at_the_end_time_ended_at_its_end_time() -> None:
    by_driver = _drill(stopped=T0 + 21_500, stopped_by="facility", active=False, samples=20)
    assert how_it_ended(by_driver) == "ended at its end time (2026-11-18 11:07:00 UTC)"
    assert how_it_ended(_drill(stopped=T0 + 20_000, stopped_by="system", active=False)).startswith("ended at its end")
    early = _drill(stopped=T0 + 5_000, stopped_by="cn", active=False)
    assert how_it_ended(early) == "stopped by cn at 2026-11-18 11:06:45 UTC"
    assert how_it_ended(_drill()) == "running (ends 2026-11-18 11:07:00 UTC)"


def test_status_is_a_readable_summary_without_epoch_milliseconds() -> None:
    lines = status_lines(_drill(), url="http://127.0.0.1:8000", username="facility")
    text = "\n".join(lines)
    assert lines[0] == "drill drill-1a2b in ward w1: running (ends 2026-11-18 11:07:00 UTC)"
    assert "started   2026-11-18 11:06:40 UTC by facility" in text and str(T0) not in text
    assert "stop it:  smartward drill stop drill-1a2b --url http://127.0.0.1:8000 --username facility" in text
    assert "smartward drill report drill-1a2b --out DIR --url http://127.0.0.1:8000 --username facility" in text
    ended = "\n".join(status_lines(_drill(stopped=T0 + 21_000, stopped_by="facility", active=False, samples=20),
                                   url=None, username=None))
    assert "stop it" not in ended and "ended at its end time" in ended and "reached the broker: 20" in ended


def test_list_is_a_table() -> None:
    rows = list_table([_drill(), _drill(id="drill-old", started=T0 - 3_600_000, ends=T0 - 3_000_000,
                                        stopped=T0 - 3_300_000, stopped_by="cn", active=False, samples=1200)])
    assert rows[0].split() == ["DRILL", "WARD", "STARTED", "BY", "BEDS", "SAMPLES", "STATE"]
    assert rows[1].startswith("drill-1a2b ") and "2026-11-18 11:06:40 UTC" in rows[1] and "running" in rows[1]
    assert "1,200" in rows[2] and "stopped by cn at 2026-11-18 10:11:40 UTC" in rows[2]
    assert rows[1].index("w1") == rows[0].index("WARD") == rows[2].index("w1")
    assert list_table([]) == ["no drills on the platform"]
