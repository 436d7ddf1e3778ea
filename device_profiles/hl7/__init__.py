"""HL7 v2 in one place: reading fields and date/times, the text of received bytes (MSH-18), IHE PCD
``ORU^R01``/``ORU^R40`` decoding with an ``hl7v2-mllp`` profile, ADT A01/A02/A03 parsing, and the ACKs.

Transport stays with its users: the MLLP listener and the gateway handler are ``gateway_agent``'s
(``mllp.py``, ``mllp_peers.py``, ``hl7_gateway.py``), the ``POST /adt/hl7`` route ``dashboard_api``'s.
"""

from .ack import ack_code, build_ack, escape
from .adt import AdtMessage, Hl7AdtError, adt_ack, parse_adt
from .charset import decode_text
from .fields import DtmError, field, parse_dtm, repetitions, zone_of
from .oru import Hl7Decoder, device_id, normalise
from .result import (
    APPLICATION_ERROR,
    DATA_TYPE_ERROR,
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    TABLE_VALUE_NOT_FOUND,
    UNSUPPORTED_EVENT_CODE,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_VERSION,
    Hl7Issue,
    Hl7Result,
)

__all__ = [
    "APPLICATION_ERROR",
    "DATA_TYPE_ERROR",
    "REQUIRED_FIELD_MISSING",
    "SEGMENT_SEQUENCE_ERROR",
    "TABLE_VALUE_NOT_FOUND",
    "UNSUPPORTED_EVENT_CODE",
    "UNSUPPORTED_MESSAGE_TYPE",
    "UNSUPPORTED_VERSION",
    "AdtMessage",
    "DtmError",
    "Hl7AdtError",
    "Hl7Decoder",
    "Hl7Issue",
    "Hl7Result",
    "ack_code",
    "adt_ack",
    "build_ack",
    "decode_text",
    "device_id",
    "escape",
    "field",
    "normalise",
    "parse_adt",
    "parse_dtm",
    "repetitions",
    "zone_of",
]
