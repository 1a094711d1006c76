"""When the bot speaks: confidence thresholds, the ambiguity margin, and what counts as a question in a group."""
from __future__ import annotations

import re

# Below this score a match is no intent at all: the message counts as out of scope.
MIN_CONFIDENCE = 0.22
# An unmentioned group message is answered only at or above this score.
GROUP_CONFIDENCE = 0.36
# Runners-up of another catalog intent within this margin of the best make the match ambiguous.
AMBIGUITY_MARGIN = 0.03
# Longer messages are read only this far (questions are short; pasted documents are not questions).
MAX_QUESTION_CHARS = 300

_QUESTION = re.compile(
    r"[?？]|吗|么|呢|怎|什么|啥|哪|多久|多少|几|如何|能否|能不能|可不可以|可以|是否|要不要|有没有|会不会|还能|咋|求|请问|问下|问一下"
)
_NOT_TEXT = re.compile(r"^\s*(<\?xml|<msg\b|<appmsg\b)|^\s*\[[^\]]{1,8}\]\s*$", re.IGNORECASE)


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


def is_placeholder(text: str) -> bool:
    """XML app messages and "[图片]"-style placeholders carry no question."""
    return bool(_NOT_TEXT.search(text))
