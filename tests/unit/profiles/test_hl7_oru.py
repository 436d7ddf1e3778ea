"""HL7 v2 IHE PCD decoding: the real IHE example, MDC quirks, alarms, and problems named per OBX."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from device_profiles import compile_profile_file
from device_profiles.hl7 import Hl7Decoder, Hl7Result, build_ack
from device_profiles.registry import BUILTIN_DIR

NOW = 1_763_805_900_000
T_OBR7 = 1421951216000  # 2015-01-22T18:26:56Z
T_NIBP = 1421927400000  # 2015-01-22T11:50:00Z


@pytest.fixture(scope="module")
def dec() -> Hl7Decoder:
    # the examples are years old: no retention limit here (test_observations_older_than_the_retention…)
    return Hl7Decoder(compile_profile_file(BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml"), max_age_ms=None)


@pytest.fixture
def ihe(testdata: Path) -> str:
    """The real IHE PCD-01 example (Philips monitor), segments separated by CR."""
    return (testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7").read_bytes().decode("latin-1")


def values(res: Hl7Result) -> dict[str, float]:
    out: dict[str, float] = {}
    for d in res.decoded:
        assert d.observation is not None
        for s in d.observation.samples:
            out.update(s.values)
    return out


def oru(obx: str, msh7: str = "20250122182658+0100", obr7: str = "20250122182656", extra: str = "") -> str:
    return "\r".join([
        f"MSH|^~\\&|GW^0012345678901234^EUI-64|ACME|||{msh7}||ORU^R01^ORU_R01|MSG1|P|2.6|||AL|NE",
        "PID|||P1^^^^MR", f"OBR|1||X1|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||{obr7}",
        "OBX|1|ST|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||MON-7", obx, extra]).strip("\r")


def test_ihe_example_six_vitals(dec: Hl7Decoder, ihe: str) -> None:
    res = dec.decode(ihe, NOW)
    assert (res.message_type, res.control_id, res.rejected, res.issues) == ("ORU^R01", "HP0122182658686QQ000CND119C0WS61", False, [])
    [d] = res.decoded
    assert d.device == "e86c094f-f751-4acf-92b2-38f11c1f6f57-Device"
    assert d.observation is not None
    by_t = {s.t: s.values for s in d.observation.samples}
    assert by_t[T_NIBP] == {"nibp_sys": 117, "nibp_dia": 82, "nibp_mean": 90}  # OBX-14
    assert by_t[T_OBR7] == {"heart_rate": 80, "resp_rate": 30, "spo2": 99, "perfusion_index": 3.9}  # OBR-7
    assert sorted(res.unmapped) == ["OBX[10] 147232^MDC_ECG_TIME_PD_QT_GL", "OBX[11] 147236^MDC_ECG_TIME_PD_QTc"]
    ack = build_ack(res)
    assert "\rMSA|AA|HP0122182658686QQ000CND119C0WS61|\r" in ack and "ERR" not in ack
    assert ack.startswith("MSH|^~\\&|SMARTWARD||PAT_DEVICE_PHILIPS_C|Philips|") and "|ACK^R01^ACK|" in ack


def test_lf_separated_file_is_accepted(dec: Hl7Decoder, ihe: str) -> None:
    res = dec.decode(ihe.replace("\r", "\n"), NOW)
    assert values(res)["heart_rate"] == 80 and not res.issues


def test_short_codes_names_and_kpa(dec: Hl7Decoder) -> None:
    obx = "\r".join([
        "OBX|2|NM|16770^^MDC|1.2.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",  # short code of 147842
        "OBX|3|NM|^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.1|0.96|262656^MDC_DIM_DIMLESS^MDC|||||F",  # by name, fraction
        "OBX|4|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.5|16|^MDC_DIM_KILO_PA^MDC|||||F",
        "OBX|5|NM|150324^MDC_SAT_O2_ART^MDC|1.4.1.1|91|262688^MDC_DIM_PERCENT^MDC|||||F",  # SaO2 is not SpO2
        "OBX|6|NM|150364^MDC_TEMP_BODY^MDC|1.5.1.1|98.6|^MDC_DIM_FAHR^MDC|||||F",
        "OBX|7|NM|151562^MDC_RESP_RATE^MDC|1.2.1.19|14||||||F"])  # no unit: canonical
    res = dec.decode(oru(obx), NOW)
    assert not res.issues
    assert values(res) == {"heart_rate": 72, "spo2": 96.0, "nibp_sys": 120.01, "temperature": 37.0, "resp_rate": 14}
    assert res.unmapped == ["OBX[5] 150324^MDC_SAT_O2_ART"]


def test_time_fallbacks_and_zones(dec: Hl7Decoder) -> None:
    obx = "\r".join(["OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F|||20250122170000",
                     "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||F"])
    res = dec.decode(oru(obx, obr7=""), NOW)
    [d] = res.decoded
    assert d.observation is not None
    # OBX-14 without offset takes MSH-7's +0100; SpO2 has neither OBX-14 nor OBR-7 -> MSH-7
    assert {s.t: s.values for s in d.observation.samples} == {
        1737561600000: {"heart_rate": 72}, 1737566818000: {"spo2": 97}}
    assert d.observation.seq == 1737566818000


def test_obx4_hierarchy_splits_devices(dec: Hl7Decoder) -> None:
    obx = "\r".join([
        "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F",
        "OBX|3|ST|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|2.0.0.0|||||||X|||||||MON 8/b",
        "OBX|4|NM|147842^MDC_ECG_HEART_RATE^MDC|2.2.1.1|110|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F"])
    res = dec.decode(oru(obx), NOW)
    assert {d.device: values(Hl7Result(decoded=[d]))["heart_rate"] for d in res.decoded} == {"MON-7": 72, "MON-8-b": 110}


def test_bad_observations_are_named_and_the_rest_kept(dec: Hl7Decoder) -> None:
    obx = "\r".join([
        "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|abc|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F",
        "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.1|180|262688^MDC_DIM_PERCENT^MDC|||||F",
        "OBX|4|NM|151562^MDC_RESP_RATE^MDC|1.2.1.19|14|^MDC_DIM_FURLONG^MDC|||||F",
        "OBX|5|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.5|120|266016^MDC_DIM_MMHG^MDC|||||F|||2025013",
        "OBX|6|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.6|80|266016^MDC_DIM_MMHG^MDC|||||D",
        "OBX|7|NM|150364^MDC_TEMP_BODY^MDC|1.5.1.1|37.1|268192^MDC_DIM_DEGC^MDC|||||F"])
    res = dec.decode(oru(obx), NOW)
    assert [str(i) for i in res.issues] == [
        "OBX[2]-5: MDC_ECG_HEART_RATE: 'abc' is not a number",
        "OBX[3]-5: MDC_PULS_OXIM_SAT_O2: 180 % is outside the physical range 0..100",
        "OBX[4]-6: MDC_RESP_RATE: unknown unit 'MDC_DIM_FURLONG'",
        "OBX[5]-14: '2025013' is not an HL7 date/time (YYYYMMDDHHMMSS[.SSSS][+ZZZZ])"]
    assert values(res) == {"temperature": 37.1}  # OBX 6 has status D (deleted): skipped
    ack = build_ack(res)
    assert "\rMSA|AE|MSG1|OBX[2]-5: MDC_ECG_HEART_RATE: 'abc' is not a number\r" in ack
    assert "\rERR||OBX^2^5|102^Data type error^HL70357|E||||OBX[2]-5: MDC_ECG_HEART_RATE: 'abc' is not a number\r" in ack


@pytest.mark.parametrize(("text", "code", "where"), [
    ("PID|||1", 100, "MSH[1]: message does not start"),
    ("MSH^~\\&|x", 101, "MSH[1]-1"),
    ("MSH|^^^^|A", 102, "MSH[1]-2"),
    ("MSH|^~\\&|A|B|||20250101000000||ADT^A01|C1|P|2.5", 200, "MSH[1]-9: message type 'ADT^A01'"),
    ("MSH|^~\\&|A|B|||20250101000000||ORU^R30|C1|P|2.5", 201, "MSH[1]-9: event 'R30'"),
    ("MSH|^~\\&|A|B|||20250101000000||ORU^R01|C1|P|3.0", 203, "MSH[1]-12"),
])
def test_unacceptable_messages_are_rejected(dec: Hl7Decoder, text: str, code: int, where: str) -> None:
    res = dec.decode(text, NOW)
    assert res.rejected and res.issues[0].code == code and str(res.issues[0]).startswith(where)
    ack = build_ack(res)
    assert "\rMSA|AR|" in ack and f"|{code}^" in ack


def test_no_device_identity_is_an_error(dec: Hl7Decoder) -> None:
    text = "MSH|^~\\&|||||20250122182700||ORU^R01|C9|P|2.6\rOBR|1|||x|||20250122182656\rOBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|70"
    res = dec.decode(text, NOW)
    assert not res.rejected and res.decoded == [] and "no device identity" in str(res.issues[0])


R40 = "\r".join([
    "MSH|^~\\&|ACME_GW^0012345678901234^EUI-64|ACME|||20250122182700+0000||ORU^R40^ORU_R40|AL0001|P|2.6|||AL|NE||UNICODE UTF-8",
    "PID|||P1^^^^MR", "PV1||I|ICU^12^1",
    "OBR|1|AL0001^ACME_GW|9001^ACME_GW|196616^MDC_EVT_ALARM^MDC|||20250122182658+0000",
    "OBX|1|ST|196674^MDC_EVT_LO_VAL_LT_LIM^MDC|1.3.1.150456.1|SpO2 low|||L~PM~SP|||F|||20250122182658+0000||||0012345678901234^^0012345678901234^EUI-64",
    "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456.2|86|262688^MDC_DIM_PERCENT^MDC|90-100|L|||F",
    "OBX|3|ST|68481^MDC_ATTR_EVENT_PHASE^MDC|1.3.1.150456.3|start||||||F",
    "OBX|4|ST|68482^MDC_ATTR_ALARM_STATE^MDC|1.3.1.150456.4|active||||||F"])


def test_pcd04_alarm(dec: Hl7Decoder) -> None:
    res = dec.decode(R40, NOW)
    assert not res.issues
    [d] = res.decoded
    [a] = d.alarms
    assert a.to_json() == {"v": 1, "device": "0012345678901234", "t": 1737570418000, "kind": "device",
                           "code": "MDC_EVT_LO_VAL_LT_LIM", "priority": "medium", "state": "active", "text": "SpO2 low",
                           "signal": "spo2", "value": 86.0, "id": "9001", "source": "ihe-pcd-hl7-monitor"}
    ended = R40.replace("|start|", "|end|").replace("L~PM~SP", "PH~ST")
    [a] = dec.decode(ended, NOW).decoded[0].alarms
    assert (a.state, a.priority, a.kind) == ("cleared", "high", "technical")
    no_event = "\r".join(line for line in R40.split("\r") if "MDC_EVT_LO" not in line)
    res = dec.decode(no_event, NOW)
    assert res.decoded == [] and "no event OBX" in str(res.issues[0])


def test_mutated_messages_never_raise(dec: Hl7Decoder, ihe: str) -> None:
    """Fuzz: thousands of byte-level and field-level mutations of real messages all get a verdict."""
    rng = random.Random(7)
    seeds = [ihe, R40, oru("OBX|2|NM|16770^^MDC|1.2.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R")]
    alphabet = "|^~\\&\r\n0123456789.-+ MSHOBXRX\x00\x0b\x1cé"
    for i in range(1500):
        text = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            op = rng.random()
            pos = rng.randrange(len(text))
            if op < 0.4:
                text[pos] = rng.choice(alphabet)
            elif op < 0.7:
                del text[pos: pos + rng.randint(1, 40)]
            else:
                text.insert(pos, rng.choice(alphabet) * rng.randint(1, 5))
        res = dec.decode("".join(text), NOW)
        ack = build_ack(res)
        assert ack.startswith("MSH|^~\\&|") and "\rMSA|A" in ack, i
        assert all("\r" not in s and "|" not in s.split("|")[0] for s in ack.split("\r")[1:-1]), i
