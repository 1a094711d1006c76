"""Personal data out of logs and reports: mainland ID numbers and phone numbers become placeholders."""
from __future__ import annotations

import re

# 18-digit resident ID (last character may be X), 15-digit old IDs, mainland mobiles (optionally +86 and
# separated by spaces or dashes), and landlines with an area code. Digit runs are bounded so that dates
# and amounts stay as they are.
_ID = re.compile(r"(?<![0-9a-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9x](?![0-9a-z])", re.I)
_OLD_ID = re.compile(r"(?<!\d)[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")


def redact(text: str) -> str:
    """The text with every ID number and phone number replaced by a placeholder."""
    text = _ID.sub("[身份证号]", text)
    text = _OLD_ID.sub("[身份证号]", text)
    text = _MOBILE.sub("[手机号]", text)
    return _LANDLINE.sub("[电话]", text)
