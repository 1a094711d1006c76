"""WeChat quotes ("引用"): the asker's own words apart from the message they quote, in either form a quote arrives."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

QUOTE_APP_TYPE = 57  # the app message type of a quote (WeChat message type 49, sub-type 57)
TEXT_MESSAGE_TYPE = 1  # a quoted message of this type is plain text
APP_MESSAGE_TYPE = 49  # a quoted app message (a link, an earlier quote…): its title stands for it

# The text form: 「name：quoted words」, a line of three dashes or more ("- - - - …"), then the asker's words.
_TEXT_FORM = re.compile(r"\s*「(?P<quoted>.*?)」[ \t]*\r?\n[ \t]*(?:-[ \t]*){3,}\r?\n(?P<text>.*)", re.S)
# Some puppets put the sender's id and ":\n" before a group message's XML.
_SENDER_PREFIX = re.compile(r"[\w.@-]{1,100}:[ \t]*\r?\n")
_SENDER_NAME = re.compile(r"^[^：:\n]{1,32}[：:]")  # "王姐：" before a quoted message's words
_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.I)


@dataclass(frozen=True)
class Quote:
    """A quote: `text` the asker's own words (may be empty, may carry an "@name" mention); `quoted` the quoted
    message as "name：words" (just its words when the sender's name is not given), None when it is not text."""

    text: str
    quoted: str | None


def xml_root(content: str) -> ElementTree.Element | None:
    """The root element of a message's XML (after an XML declaration or a "<sender id>:\\n" prefix), or None when
    the content is not XML, does not parse, or declares a DTD (entities are never expanded). Never raises."""
    body = content.lstrip()
    if not body.startswith("<"):
        prefix = _SENDER_PREFIX.match(body)
        body = body[prefix.end():].lstrip() if prefix else ""
        if not body.startswith("<"):
            return None
    if _DTD.search(body):
        return None
    try:
        return ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError):  # ValueError: text that cannot be encoded (a lone surrogate)
        return None


def quoted_words(quoted: str) -> str:
    """A quoted message without its sender's name: "王姐：我的证10月8号到期的" → "我的证10月8号到期的"."""
    return _SENDER_NAME.sub("", quoted, count=1)


def read_quote(content: str) -> Quote | None:
    """The quote a message's content is, or None when it is not one.

    Two forms (issue 13): the text some puppets render, `「王姐：我的证10月8号到期的」\\n- - - - - -\\n@小助手 我是…`;
    and WeChat's own app message of type 57, `<msg><appmsg><title>asker's words</title><type>57</type><refermsg>
    <type>1</type><displayname>王姐</displayname><content>quoted words</content></refermsg></appmsg></msg>`, read with
    `xml_root`. The quoted message is text for refermsg type 1, the title of an app message for type 49 (a quoted
    quote or link); other kinds (image, voice…) give `quoted` None. XML that does not parse or is another app
    message is not a quote. Never raises.
    """
    root = xml_root(content)
    if root is None:
        match = _TEXT_FORM.fullmatch(content)
        if match is None:
            return None
        return Quote(match["text"].strip(), match["quoted"].strip() or None)
    appmsg = root if root.tag == "appmsg" else root.find("appmsg")
    if appmsg is None or (appmsg.findtext("type") or "").strip() != str(QUOTE_APP_TYPE):
        return None
    return Quote((appmsg.findtext("title") or "").strip(), _quoted(appmsg.find("refermsg")))


def _quoted(refer: ElementTree.Element | None) -> str | None:
    """The quoted message of a type-57 app message's <refermsg>, as "name：words", or None when it is not text."""
    if refer is None:
        return None
    kind = (refer.findtext("type") or "").strip()
    content = (refer.findtext("content") or "").strip()
    if kind == str(APP_MESSAGE_TYPE):
        inner = xml_root(content)
        appmsg = None if inner is None else inner if inner.tag == "appmsg" else inner.find("appmsg")
        content = (appmsg.findtext("title") or "").strip() if appmsg is not None else ""
    elif kind != str(TEXT_MESSAGE_TYPE):
        return None
    if not content:
        return None
    name = (refer.findtext("displayname") or "").strip()
    return f"{name}：{content}" if name else content
