"""ACK construction: escaping, ERR segments, charsets."""

from __future__ import annotations

import hl7

from device_profiles.hl7 import DATA_TYPE_ERROR, Hl7Result, build_ack, decode_text, escape


def test_escape_delimiters_in_free_text() -> None:
    assert escape("a|b^c~d\\e&f\rg\x00") == "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f g "


def test_error_texts_cannot_break_the_ack_structure() -> None:
    res = Hl7Result(control_id="C|1")
    res.reject("OBX", 3, 5, DATA_TYPE_ERROR, "value 'x|y^z' is not a number")
    ack = build_ack(res, now_s=1_763_805_600)
    parsed = hl7.parse(ack)
    assert str(parsed.segment("MSA")(1)) == "AR"
    assert parsed.segment("MSA").extract_field(1, 2) == "C|1"  # unescaped back by a real parser
    err = parsed.segment("ERR")
    assert err.extract_field(1, 2, 1, 1) == "OBX" and err.extract_field(1, 2, 1, 3) == "5"
    assert err.extract_field(1, 8) == "OBX[3]-5: value 'x|y^z' is not a number"
    assert ack.startswith("MSH|^~\\&|SMARTWARD||||20251122100000+0000||ACK|")


def test_charset_follows_msh18() -> None:
    utf = "MSH|^~\\&|A|B|||20250101000000||ORU^R01|1|P|2.6|||||||UNICODE UTF-8\rPID|||1||Müller".encode()
    assert decode_text(utf) == (utf.decode(), "utf-8")
    latin = "MSH|^~\\&|A|B|||20250101000000||ORU^R01|1|P|2.6|||||||8859/1\rPID|||1||Müller".encode("latin-1")
    assert decode_text(latin) == (latin.decode("latin-1"), "latin-1")
    assert decode_text(b"MSH|^~\\&|A\rPID|||\xff")[1] == "latin-1"  # no MSH-18, not UTF-8: Latin-1
