"""Text normalisation shared by matching and date extraction: one canonical form per message."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
# Lone UTF-16 halves ("\ud83d" from a JSON escape of a split emoji, or undecodable input bytes) cannot be
# encoded as UTF-8, which OpenCC, SQLite and every file need.
UNENCODABLE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACES = re.compile(r"\s+")
_SPLIT_ENDORSE = re.compile(r"签(了|的|好了|好|完了|完|过)注")
# "过了" said of a date line ("要是过了呢", "是不是已经过了", "拖过了会怎样"), not of a step done ("审核过了", "调过了").
_PAST_THE_LINE = re.compile(r"(?:^|(?<=[\s那是经果一真拖]))过了(?=[呢吗会怎咋还的\s]|$)")
# Shanghainese and Cantonese as members type them, read as Mandarin (dates and question words included): the
# particle 伐 ending a clause is 吗, "哪能办" is 怎么办 ("在哪能查" is not), 今朝 today, 辰光 time; 咗, 喺, 唔, 冇.
_DIALECT = {"伐": "吗", "哪能": "怎么", "今朝": "今天", "明朝": "明天", "昨日": "昨天", "啥辰光": "什么时候",
            "啥时光": "什么时候", "辰光": "时候", "阿拉": "我们", "侬": "你", "屋里厢": "家里", "亲眷": "亲戚",
            "小囡": "孩子", "覅": "不要", "咗": "了", "喺": "在", "唔": "不", "冇": "没有", "嘅": "的", "咁": "那",
            "点计": "怎么算", "点样": "怎么", "佢": "他", "哋": "们", "咩": "什么", "乜": "什么", "啲": "些", "畀": "给",
            "睇": "看", "拎": "拿", "边度": "哪里", "几时": "什么时候", "而家": "现在", "使唔使": "要不要",
            "系咪": "是不是", "仲": "还", "嗰": "那"}
_DIALECT_WORDS = re.compile(r"(?<![采砍征讨步杀])伐(?=[\s?？!！,，。~～]|$)|(?<![在去从到])哪能(?=[办弄续签搞做])|仲(?!裁)|"
                            + "|".join(sorted((w for w in _DIALECT if w not in ("伐", "哪能", "仲")), key=len,
                                              reverse=True)))
# WeChat ends a mention with U+2005; people typing by hand use a space, or end the message; a reply typed by hand,
# "回复 @李姐：你说…", ends the name with a colon.
_MENTION = re.compile(r"@[^\s@:：]{1,20}(?:[\u2005 :：]|$)")


_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def clean_text(text: str) -> str:
    """The text without what cannot be encoded as UTF-8 (lone surrogates), so that no later step raises on it."""
    return UNENCODABLE.sub("", text) if UNENCODABLE.search(text) else text


def mentions_name(text: str, name: str, *, at_start: bool = False) -> bool:
    """Whether "@<name>" is typed as a whole mention: followed by WeChat's U+2005, a space (any white space) or
    the end of the text, so "@小助手妈妈 …" does not mention 小助手. With `at_start`, only a mention opening the
    text counts (leading white space aside). An empty name never matches."""
    if not name:
        return False
    return re.search((r"^\s*@" if at_start else "@") + re.escape(name) + r"(?=\s|$)", text) is not None


def to_halfwidth(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation become their half-width forms."""
    return text.translate(_HALFWIDTH)


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    """Traditional characters become simplified (OpenCC t2s)."""
    return _T2S.convert(text)


def strip_mentions(text: str, aliases: tuple[str, ...] = ()) -> str:
    """Remove "@name" mentions: the bot's own aliases anywhere, any other name ended by a space."""
    for alias in aliases:
        text = text.replace("@" + alias, " ")
    return _MENTION.sub(" ", text)


def normalize(text: str, aliases: tuple[str, ...] = ()) -> str:
    """Canonical form of a chat message: simplified, half-width, lower-case, mentions and control characters gone,
    the split verb 签…注 ("11号签的注", "签好了注") joined again (签注的, 签注好了), Shanghainese and Cantonese in
    Mandarin words ("今朝到期 哪能办伐", "过期咗两个月 仲可唔可以补签"), and a date line passed ("要是过了呢") said as 过期了."""
    text = unicodedata.normalize("NFC", clean_text(text))
    text = _CONTROL.sub("", text)
    text = to_halfwidth(text)
    text = strip_mentions(text, aliases)
    text = _SPACES.sub(" ", text).strip().lower()
    text = _SPLIT_ENDORSE.sub(r"签注\1", to_simplified(text))
    text = _DIALECT_WORDS.sub(lambda found: _DIALECT[found.group()], text)
    return _PAST_THE_LINE.sub("过期了", text)
