"""WeChat's system lines as puppets deliver them (joins, revokes, pats, red packets…): never a member's question."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Collection

from bot.events import PAT
from bot.transports.quotes import xml_root

SYSTEM = "system"  # any other system line

PAT_APP_TYPE = 62  # the app message type of a pat, in puppets that deliver it as an app message

# A name as WeChat's system lines quote it: "张三", “张三” or 「张三」 (the last in chatlog's rendering); the account
# itself is "你" in most lines ("你邀请…"), but "我" in pats ("我拍了拍…", "…拍了拍我").
_NAME = r"""(?:["“「][^"”」\n]{1,64}["”」])"""
_WHO = rf"(?:你|{_NAME})"
# Each a whole system line (white space at the ends aside); what a member types rarely has this shape.
_SYSTEM_TEXTS = re.compile("|".join((
    rf"{_WHO}\s?邀请.{{1,400}}加入了群聊.{{0,200}}",
    rf"{_WHO}\s?通过扫描.{{1,200}}二维码加入群聊.{{0,200}}",
    rf"{_WHO}\s?加入了群聊.{{0,200}}",
    rf"{_WHO}\s?将.{{1,400}}移出了群聊",
    rf"{_WHO}\s?(?:修改群名为|已成为新群主).{{0,100}}",
    rf"{_WHO}\s?撤回了一条消息.{{0,20}}",
    rf"{_WHO}\s?与群里其他人都不是(?:微信)?朋友关系.{{0,100}}",
    r"你已添加了.{1,64}，现在可以开始聊天了。?",
    r"以上是打招呼的内容",
    r"\[?[^\[\]\n]{0,40}请在手机上查看\]?",  # web puppets' stand-in for red packets, transfers, stickers, calls
    r"\[?[^\[\]\n]{0,60}view it on (?:your )?(?:phone|mobile)\.?\]?",
)), re.I | re.S)
_PAT_TEXT = re.compile(rf"(?P<who>我|{_NAME})\s?拍了拍\s?(?P<whom>我|你|自己|{_NAME})(?P<rest>.{{0,40}})", re.S)


def system_line(content: str, *, bot_id: str | None, bot_names: Collection[str]) -> str | None:
    """What kind of system line a message's content is: PAT (a pat of the bot), SYSTEM (any other), or None when
    it is not one (a member's text, or an app message: those are `quotes.read_quote`'s and the caller's).

    Text forms: '"张三"邀请"李四"加入了群聊', '"李四" 撤回了一条消息', '收到红包，请在手机上查看', '"张三" 拍了拍 "小助手"'
    (a pat of the bot when the patted name is one of `bot_names` or "我", the bot's account seen from itself).
    XML forms: any `<sysmsg>`, a pat when `<sysmsg type="pat">` names `bot_id` as <pattedusername>; and the pat app
    message (type 62), by its <pattedusername> or its title. Never raises.
    """
    text = content.strip()
    root = xml_root(text)
    if root is not None:
        return _system_xml(root, bot_id=bot_id, bot_names=bot_names)
    pat = _PAT_TEXT.fullmatch(text)
    if pat:
        whom = pat["whom"]
        patted_bot = whom == "我" or whom[1:-1] in {name for name in bot_names if name}
        return PAT if patted_bot and pat["who"] != "我" else SYSTEM
    return SYSTEM if _SYSTEM_TEXTS.fullmatch(text) else None


def _system_xml(root: ElementTree.Element, *, bot_id: str | None, bot_names: Collection[str]) -> str | None:
    appmsg = root if root.tag == "appmsg" else root.find("appmsg")
    if root.tag != "sysmsg" and (appmsg is None or (appmsg.findtext("type") or "").strip() != str(PAT_APP_TYPE)):
        return None
    if root.tag == "sysmsg" and root.get("type") != "pat":
        return SYSTEM
    patted = (root.findtext(".//pattedusername") or "").strip()
    if patted:
        return PAT if bot_id and patted == bot_id else SYSTEM
    title = (appmsg.findtext("title") or "").strip() if appmsg is not None else ""
    return PAT if system_line(title, bot_id=bot_id, bot_names=bot_names) == PAT else SYSTEM
