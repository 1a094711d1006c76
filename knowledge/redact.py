"""Personal data out of everything stored or written: ID, phone and card numbers, e-mail, car plates, addresses."""
from __future__ import annotations

import re

# By shape, not by checksum: a mistyped ID or card number is still personal (issue 14). The patterns run on a copy
# of the text with full-width forms, unicode dashes and spaces folded to ASCII one character for one, so the spans
# they find are the original text's. A number is a whole digit cluster: digit groups joined by single spaces, dashes
# or dots ("3201 0219 …", "138-1234-5678", "ID3201…" too), never a piece of a longer one. Dates are masked in that
# copy first, so "2026-12-10 13812345678" keeps its date; "2026年12月10日", "12.10", "过期40天" and amounts have no
# personal shape.
REDACTION_VERSION = "2"  # kept by the knowledge store: a new version re-redacts what it already holds

_FOLD = ({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
         | {code: ord("-") for code in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212, 0xFE63)}
         | {code: ord(" ") for code in (0x3000, 0x00A0, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2009, 0x202F)})
_SEP = r"[ \-.]"
_START = rf"(?<!\d)(?<!\d{_SEP})"  # the start of a digit cluster …
_END = rf"(?!{_SEP}?\d)"  # … and its end


def _more(count: str) -> str:
    """`count` more digits (a quantifier body: "16", "12,18"), each perhaps after one separator."""
    return rf"(?:{_SEP}?\d){{{count}}}"


# A date standing on its own (no digit group joined to it by a dash or dot, not inside a word or an e-mail
# address such as "li7.15@qq.com"): Y-M-D with one separator, or M.D.
_DATE = re.compile(r"(?<![a-z\d._%+@\-])(?<!\d[\-.])(?:(?:19|20)\d\d([\-./])(?:0?[1-9]|1[0-2])\1"
                   r"(?:0?[1-9]|[12]\d|3[01])|(?:0?[1-9]|1[0-2])[\-./](?:0?[1-9]|[12]\d|3[01]))(?![\-.]?\d)(?![a-z@])",
                   re.I)

_PROVINCES = "京津沪滬渝冀豫云雲辽遼黑湘皖鲁魯新苏蘇浙赣贛鄂桂甘晋晉蒙陕陝吉闽閩贵貴粤青藏川宁寧琼瓊"
_ROAD = r"(?:路|街|巷|大道|公路|村|苑|小区|小區|新村|花园|花園|公寓|大厦|大廈)"
_UNIT = r"(?:支弄|弄|号楼|號樓|号|號|栋|棟|幢|座|单元|單元|室|层|層|楼|樓)"
_ROOM = r"(?:[ \-]?\d{2,4}(?![\d年月日号號天点點时時分]))?"

# (placeholder, pattern), in this order: e-mail, plates and addresses before the digit runs inside them.
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((label, re.compile(pattern, re.I)) for label, pattern in (
    ("[邮箱]", r"(?<![a-z0-9._%+\-])[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}(?![a-z])"),
    ("[车牌号]", rf"[{_PROVINCES}][a-hj-np-z][ ·•\-]?[a-hj-np-z0-9]{{5,6}}(?![a-z0-9])"),
    # The house number after a road or estate ("张杨路1234弄56号789室"), or two or more units in a row ("3号楼502室");
    # a lone "10号" or "12月10号3楼" is a date.
    # Only the number is replaced (a pattern's last matching group, when it has groups): the road stays. A room
    # number may end it without 室 ("3栋2单元501").
    ("[地址]", rf"{_ROAD}\s?(\d+{_UNIT}(?:\s?\d+{_UNIT})*{_ROOM})|(?<![月\d])(\d+{_UNIT}(?:\s?\d+{_UNIT})+{_ROOM})"),
    # 18-character resident ID: 17 digits and a check character (a digit or X).
    ("[身份证号]", rf"{_START}\d{_more('16')}{_SEP}?[\dx](?![\dx])(?!{_SEP}\d)"),
    # Mobile: 1[3-9] and nine more digits, perhaps after +86.
    ("[手机号]", rf"{_START}(?:\+?86{_SEP}?)?1[3-9]{_more('9')}{_END}"),
    # Landline with its area code: (021) 6123 4567, 021-61234567, 02161234567, +86 21 61234567.
    ("[电话]", rf"(?:\(0\d{{2,3}}\)|{_START}(?:0\d{{2,3}}|\+?86{_SEP}?[1-9]\d{{1,2}})){_SEP}?\d{_more('6,7')}{_END}"),
    # 15-digit first-generation ID (birth date YYMMDD in the middle), then bank cards: 13 to 19 digits.
    ("[身份证号]", rf"{_START}\d{{6}}{_SEP}?\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_SEP}?\d{{3}}{_END}"),
    ("[银行卡号]", rf"{_START}\d{_more('12,18')}{_END}"),
    # Any other cluster of 11 or more digits: a number of another kind, or two numbers typed together.
    ("[号码]", rf"{_START}\d{_more('10,')}{_END}"),
))


_CANDIDATE = re.compile(r"[\d@\uff20]")  # every shape above holds a digit or an at sign


def _scan_copy(text: str) -> str:
    """The text folded to ASCII and with its dates masked, character for character."""
    return _DATE.sub(lambda found: "#" * len(found.group()), text.translate(_FOLD))


def redact(text: str) -> str:
    """The text with each ID, phone and bank card number, e-mail address, car plate and house number replaced by a
    bracketed Chinese placeholder ("[身份证号]", "[手机号]", "[电话]", "[银行卡号]", "[邮箱]", "[车牌号]", "[地址]",
    "[号码]"); dates, durations and amounts are kept. Linear in the text's length; never raises."""
    if not _CANDIDATE.search(text):
        return text
    scan = _scan_copy(text)
    for label, pattern in _RULES:
        spans = [found.span(found.lastindex or 0) for found in pattern.finditer(scan)]
        if spans:
            pieces, last = [], 0
            for start, end in spans:
                pieces += [text[last:start], label]
                last = end
            text = "".join(pieces) + text[last:]
            scan = _scan_copy(text)
    return text
