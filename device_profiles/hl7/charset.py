"""The text of an HL7 v2 message received as bytes, in the character set its MSH-18 names."""

from __future__ import annotations


def decode_text(data: bytes) -> tuple[str, str]:
    """Bytes -> (text, codec) using MSH-18 (``UNICODE UTF-8`` / ``8859/1`` / empty: UTF-8 if valid, else Latin-1)."""
    head = data[:1024].decode("latin-1")
    msh = head.split("\r", 1)[0]
    charset = ""
    if msh.startswith("MSH") and len(msh) > 3:
        parts = msh.split(msh[3])
        charset = parts[17].upper() if len(parts) > 17 else ""
    if "UTF" in charset:
        return data.decode("utf-8", errors="replace"), "utf-8"
    if charset.startswith("8859") or charset == "ASCII":
        return data.decode("latin-1"), "latin-1"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"
