"""The ward file: the shipped example is valid and realistic; every error names the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from digital_twin import WardError, WardModel, load_ward, parse_ward


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_example_ward_is_a_full_30_bed_ward_with_day_and_night_rosters(example_ward: WardModel) -> None:
    w = example_ward
    assert len(w.beds) == 30 and len(w.occupied_beds()) == 30
    assert 13 <= len(w.rooms) <= 20
    assert {r.kind for r in w.rooms} == {"single", "double"}
    assert sorted(x.kind for x in w.exits) == ["exit", "exit", "refuge", "stairs"]
    night = [s.role for s in w.staff_on("night")]
    day = [s.role for s in w.staff_on("day")]
    assert (day.count("nurse"), day.count("charge_nurse"), day.count("hca")) == (6, 1, 3)
    assert (night.count("nurse"), night.count("charge_nurse"), night.count("hca")) == (4, 1, 2)
    assert len({s.id for s in w.staff_on("night")}) == 7  # groups expanded to one id per person
    assert w.equipment_count("crash_cart") >= 1 and w.equipment_count("evac_chair") >= 1
    assert {d.bed for d in w.devices if d.kind == "monitor"} == {b.id for b in w.beds}
    assert all(g.outbox_capacity == 2_000_000 for g in w.gateways)  # gateway_agent's DEFAULT_MAX_ENTRIES
    from gateway_agent.outbox import DEFAULT_MAX_ENTRIES

    assert w.gateways[0].outbox_capacity == DEFAULT_MAX_ENTRIES


def test_distances_are_shortest_paths_along_the_graph(example_ward: WardModel) -> None:
    w = example_ward
    assert w.distance("c00", "c11") == pytest.approx(66.0)
    assert w.distance("station", "x-west") == pytest.approx(3 + 30 + 4)
    assert w.distance("r01", "r01") == 0.0
    exit_, metres = w.nearest_exit("r01", ("exit", "refuge"))
    assert exit_.node == "x-west" and metres == pytest.approx(9.0)


@pytest.mark.parametrize(("old", "new", "where", "needle"), [
    ("room: r03,", "room: r99,", "beds[4].room", "no room 'r99'"),
    ("kind: monitor,", "kind: monitor, colour: red,", "devices[0].colour", "Extra inputs"),
    ("{a: c00, b: c01, metres: 6}", "{a: c00, b: c01, metres: -6}", "graph.edges[0].metres", "greater than 0"),
    ("{node: x-west, kind: exit,", "{node: x-nowhere, kind: exit,", "exits[0].node", "no graph node 'x-nowhere'"),
    ("acuity: high", "acuity: critical", ".acuity", "'low', 'medium' or 'high'"),
    ("{id: rn-night, role: nurse,", "{id: rn-night, role: surgeon,", "staff[4].role", "nurse"),
])
def test_errors_name_the_key_and_the_line(example_ward_text: str, old: str, new: str, where: str, needle: str) -> None:
    text = example_ward_text.replace(old, new, 1)
    assert text != example_ward_text
    with pytest.raises(WardError) as info:
        parse_ward(text, "ward.yaml")
    message = str(info.value)
    line = _line_of(text, new)
    assert f"ward.yaml:{line}:" in message, message
    assert where in message and needle in message, message


def test_duplicate_keys_unknown_top_level_keys_and_python_tags_are_refused(example_ward_text: str) -> None:
    with pytest.raises(WardError, match=r"ward.yaml:\d+: foo: Extra inputs"):
        parse_ward(example_ward_text + "foo: 1\n", "ward.yaml")
    with pytest.raises(WardError, match="duplicate key 'id'"):
        parse_ward(example_ward_text + "id: other\n", "ward.yaml")
    with pytest.raises(WardError, match="not allowed: ward files are data"):
        parse_ward(example_ward_text + "x: !!python/object/apply:os.system ['true']\n", "ward.yaml")


def test_a_room_without_a_path_to_an_exit_is_refused(example_ward_text: str) -> None:
    text = example_ward_text.replace("    - {a: r01, b: c00, metres: 5}\n", "", 1)
    with pytest.raises(WardError, match=r"rooms\[0\]\.node: room 'r01' \(node 'r01'\) has no path to any exit"):
        parse_ward(text, "ward.yaml")


def test_missing_file_and_empty_file_are_named(tmp_path: Path) -> None:
    with pytest.raises(WardError, match=r"nope.yaml: cannot read the ward file: No such file") as info:
        load_ward(tmp_path / "nope.yaml")
    assert "$" not in str(info.value)
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(WardError, match="the file is empty"):
        load_ward(tmp_path / "empty.yaml")


def test_with_overrides_validates_and_keeps_the_layout(example_ward: WardModel) -> None:
    fewer = example_ward.with_overrides(staff=[{"role": "nurse", "shift": "night", "count": 2}])
    assert [s.role for s in fewer.staff_on("night")] == ["nurse", "nurse"]
    assert fewer.distance("c00", "c11") == example_ward.distance("c00", "c11")
    with pytest.raises(WardError, match="beds"):
        example_ward.with_overrides(beds=[{"id": "1", "room": "nowhere"}])
    with pytest.raises(WardError, match="not a field"):
        example_ward.with_overrides(colour="red")


def test_a_copy_with_a_new_graph_recomputes_distances(example_ward: WardModel) -> None:
    longer = example_ward.graph.model_copy(update={"edges": [
        e.model_copy(update={"metres": e.metres * 2}) for e in example_ward.graph.edges]})
    copy = example_ward.model_copy(update={"graph": longer})
    assert copy.distance("c00", "c11") == pytest.approx(132.0)
    assert example_ward.distance("c00", "c11") == pytest.approx(66.0)
    same = example_ward.model_copy(update={"name": "x"})
    assert same.distance("c00", "c11") == pytest.approx(66.0)
