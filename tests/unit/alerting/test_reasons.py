"""alerting's reasons as message keys (alerting/reasons.py): the NEWS2 phrases as keys say what the score's own
English says for every band, complete or not; a reason nesting one known only by its text has no key (the
station then reads its English); the engine keys its conditions by a named AlarmKey."""

from __future__ import annotations

import itertools

import pytest

from alerting import News2Input, score_news2
from alerting.events import AlarmKey
from alerting.news2_watch import frequency_reason, response_reason, score_reason
from alerting.reasons import Term, say, then, verbatim

from .conftest import Feed, make_engine

INPUTS = [News2Input(),  # nothing measured: an incomplete 0
          News2Input(resp_rate=16, spo2=97, supplemental_o2=False, sbp=120, heart_rate=70, consciousness="A",
                     temperature=37.0),  # a complete 0
          News2Input(resp_rate=21, spo2=97, supplemental_o2=False, sbp=120, heart_rate=70, consciousness="A",
                     temperature=37.0),  # low
          News2Input(resp_rate=25, spo2=97, supplemental_o2=False, sbp=120, heart_rate=70, consciousness="A",
                     temperature=37.0),  # low-medium (a single 3)
          News2Input(resp_rate=22, spo2=95, supplemental_o2=True, sbp=120, heart_rate=95, consciousness="A",
                     temperature=37.0),  # medium
          News2Input(resp_rate=25, spo2=91, supplemental_o2=True, sbp=95, heart_rate=120, consciousness="A",
                     temperature=39.5),  # high
          News2Input(resp_rate=25),  # an incomplete low-medium floor
          News2Input(resp_rate=25, spo2=91, heart_rate=120)]  # an incomplete high floor


@pytest.mark.parametrize("inp", INPUTS)
def test_the_news2_phrases_as_keys_say_what_the_score_says(inp: News2Input) -> None:
    r = score_news2(inp)
    assert response_reason(r).text == r.response and frequency_reason(r).text == r.frequency
    head = score_reason(r).text
    assert head == (f"NEWS2 {r.total}" if r.complete else
                    f"NEWS2 at least {r.total} (incomplete, missing {', '.join(r.missing)})")


def test_the_inputs_reach_every_band_complete_and_not() -> None:
    seen = {(score_news2(i).risk.value, score_news2(i).complete) for i in INPUTS}
    assert {(risk, True) for risk in ("low", "low-medium", "medium", "high")} <= seen
    assert {("low", False), ("low-medium", False), ("high", False)} <= seen


def test_a_reason_with_a_part_known_only_by_its_text_has_no_key() -> None:
    keyed = say("reason.acknowledgedBy", by="cn")
    assert keyed.key == "reason.acknowledgedBy" and keyed.to_json() == {"key": keyed.key, "params": {"by": "cn"}}
    both = then(keyed, say("reason.latched", at="10:02"))
    assert both.key == "reason.then" and both.text == "acknowledged by cn; condition ended at 10:02, latched until " \
                                                       "acknowledged"
    assert then(verbatim("SpO2 84 % below 90"), keyed).key == ""
    assert say("reason.silenceExpired", reason=verbatim("HR 150")).key == ""
    assert say("reason.escalated", why=keyed, role=Term("reason.role.nurse_x", "nurse_x"), reason=keyed).key
    with pytest.raises(KeyError):
        say("reason.noSuchThing")


def test_the_engine_keys_each_condition_by_its_named_parts() -> None:
    f = Feed(make_engine(limits={"spo2": {"delay_s": 0}}))
    f.at(0, spo2=80, heart_rate=0)
    keys = list(itertools.chain(f.engine.lifecycle.by_key, f.engine.conditions.pending))
    assert keys and all(isinstance(k, AlarmKey) for k in keys)
    assert {(k.patient, k.kind, k.signal, k.family) for k in f.engine.lifecycle.by_key} >= {("p1", "limit", "spo2", "low")}


def test_many_clauses_read_in_order_and_nest_shallowly() -> None:
    from alerting.reasons import say, then

    parts = [say("reason.held", s=str(i)) for i in range(20)]
    r = then(*parts)
    assert r.text == "; ".join(p.text for p in parts)

    def depth(x: object) -> int:
        params = getattr(x, "params", None)
        return 1 + max((depth(v) for v in params.values()), default=0) if params else 1

    assert depth(r) <= 7
