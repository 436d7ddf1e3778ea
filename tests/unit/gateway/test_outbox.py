"""The durable outbox: order, per-device seq across restarts, capacity policies, process kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from gateway_agent import Message, Outbox, OutboxFull, OutboxLocked, resolve_path


def msg(device: str, t: int, kind: str = "obs") -> Message:
    return Message(device, kind, f"r/devices/{device}/{kind}",
                   {"v": 1, "device": device, "samples": [{"t": t, "heart_rate": 70}]})


def test_seq_per_device_in_order_and_survives_restart(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob") as ob:
        assert ob.append([msg("a", 1), msg("b", 1), msg("a", 2)]) == [0, 0, 1]
        entries = ob.peek()
        assert [(e.device, e.seq) for e in entries] == [("a", 0), ("b", 0), ("a", 1)]
        assert orjson.loads(entries[2].payload)["seq"] == 1
        ob.ack([e.id for e in entries])
        assert ob.pending() == 0
    with Outbox(tmp_path / "ob") as ob:  # every entry delivered and removed: seq still continues
        assert ob.append([msg("a", 3)]) == [2]
        assert ob.next_seq("b") == 1 and ob.next_seq("new") == 0


def test_peek_filters_devices_and_ack_is_idempotent(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as ob:
        ob.append([msg(d, t) for t in range(3) for d in ("a", "b")])
        a = ob.peek(devices=["a"])
        assert [e.seq for e in a] == [0, 1, 2] and {e.device for e in a} == {"a"}
        ob.ack([a[0].id, a[0].id])
        ob.ack([a[0].id])
        assert ob.pending() == 5 and ob.pending("a") == 2
        assert ob.stats().acked == 1
        assert [e.seq for e in ob.peek(2, after_id=a[1].id)] == [1, 2]  # b1 (id after a1), a2


def test_put_stores_encoded_messages_as_is(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob") as ob:
        ob.put("r/devices/mon-7/alarm", b'{"x": 1}')
        (e,) = ob.peek()
        assert (e.device, e.kind, e.payload, e.seq) == ("mon-7", "raw", b'{"x": 1}', None)


def test_reject_policy_refuses_whole_batch_and_counts(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob", max_entries=3) as ob:
        ob.append([msg("a", 1), msg("a", 2)])
        with pytest.raises(OutboxFull, match="2 new messages refused"):
            ob.append([msg("a", 3), msg("a", 4)])
        st = ob.stats()
        assert (st.pending, st.refused, st.dropped) == (2, 2, 0)
        assert st.fill == pytest.approx(2 / 3)
        assert ob.append([msg("a", 3)]) == [2]  # refused messages did not consume seqs
        assert ob.stats().fill == 1.0


def test_drop_oldest_policy_keeps_newest(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob", max_entries=3, on_full="drop-oldest") as ob:
        ob.append([msg("a", t) for t in range(3)])
        ob.append([msg("a", 3), msg("a", 4)])
        assert [e.seq for e in ob.peek()] == [2, 3, 4]
        assert ob.stats().dropped == 2 and ob.stats().pending == 3


def test_byte_capacity(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob", max_bytes=200) as ob:
        ob.append([msg("a", 1)])
        with pytest.raises(OutboxFull):
            ob.append([msg("a", t) for t in range(5)])


def test_one_process_owns_an_outbox(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob"), pytest.raises(OutboxLocked):
        Outbox(tmp_path / "ob")
    Outbox(tmp_path / "ob").close()  # released


def test_resolve_path(tmp_path: Path) -> None:
    assert resolve_path(tmp_path) == tmp_path / "outbox.sqlite3"
    assert resolve_path(tmp_path / "x") == tmp_path / "x" / "outbox.sqlite3"
    assert resolve_path(tmp_path / "x.db") == tmp_path / "x.db"


CHILD = r"""
import sys, orjson
from gateway_agent import Message, Outbox
ob = Outbox(sys.argv[1])
if sys.argv[2] == "append":
    n = 0
    while True:  # report each committed append; the parent kills us at some point
        ob.append([Message(d, "obs", f"r/devices/{d}/obs", {"v": 1, "device": d, "samples": [{"t": n, "spo2": 97}]})
                   for d in ("a", "b")])
        n += 1
        print(n, flush=True)
else:  # "publish": take entries as a publisher would, then die before the ack
    print(len(ob.peek(1000)), flush=True)
    sys.stdin.read()
"""


def child(tmp_path: Path, mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "ob"), mode], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])})


def test_sigkill_during_appends_loses_nothing_committed(tmp_path: Path) -> None:
    p = child(tmp_path, "append")
    assert p.stdout is not None
    committed = 0
    for line in p.stdout:
        committed = int(line)
        if committed >= 200:
            break
    p.send_signal(signal.SIGKILL)
    p.wait()
    with Outbox(tmp_path / "ob") as ob:
        entries = ob.peek(100_000)
        for dev in ("a", "b"):
            seqs = [e.seq for e in entries if e.device == dev]
            assert seqs == list(range(len(seqs)))  # in order, no gaps
            assert len(seqs) >= committed  # everything reported as appended is there
        assert ob.append([msg("a", 0)]) == [sum(e.device == "a" for e in entries)]


def test_sigkill_between_publish_and_ack_keeps_entries(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob") as ob:
        ob.append([msg("a", t) for t in range(10)])
    p = child(tmp_path, "publish")
    assert p.stdout is not None
    assert int(p.stdout.readline()) == 10
    p.send_signal(signal.SIGKILL)
    p.wait()
    with Outbox(tmp_path / "ob") as ob:
        assert [e.seq for e in ob.peek()] == list(range(10))
