"""What a WeChat message's content is (issue 13, items 2-3): a quote split into the asker's words and the quoted
message, in its text and XML forms, and the system lines that are nobody's question. The shapes are WeChat's (the
examples in issue 13, WeChatMsg's exporter for the XML); names and ids are made up."""
from __future__ import annotations

from html import escape

import pytest
from hypothesis import given, strategies as st

from bot.transports.quotes import Quote, read_quote
from bot.transports.system_lines import PAT, SYSTEM, system_line

ASKED = "@小助手 我是12月25号到期，现在能签注吗"
QUOTED = "我的证10月8号到期的"
DASHES = "- - - - - - - - - - - - - - -"
TEXT_FORM = f"「王姐：{QUOTED}」\n{DASHES}\n{ASKED}"


def quote_xml(title: str = ASKED, *, refer_type: int = 1, content: str = QUOTED, name: str = "王姐",
              app_type: int = 57) -> str:
    return ('<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>' + escape(title) + '</title><des></des>'
            f'<type>{app_type}</type><refermsg><type>{refer_type}</type><svrid>7001</svrid>'
            '<fromusr>34567890123@chatroom</fromusr><chatusr>wxid_wangjie01</chatusr>'
            f'<displayname>{escape(name)}</displayname><content>{escape(content)}</content></refermsg></appmsg></msg>')


def test_the_text_form_splits_at_the_dashed_line():
    assert read_quote(TEXT_FORM) == Quote(ASKED, f"王姐：{QUOTED}")
    assert read_quote(TEXT_FORM.replace("\n", "\r\n")) == Quote(ASKED, f"王姐：{QUOTED}")
    assert read_quote(f"「王姐：{QUOTED}」\n- - -\n我也是") == Quote("我也是", f"王姐：{QUOTED}")
    # Only the first dashed line after the quote ends it: the asker may write dashes too.
    assert read_quote(f"「王姐：短」\n{DASHES}\n第一行\n- - -\n第二行") == Quote("第一行\n- - -\n第二行", "王姐：短")


def test_the_xml_form_gives_the_title_and_the_named_quoted_message():
    assert read_quote(quote_xml()) == Quote(ASKED, f"王姐：{QUOTED}")
    assert read_quote("wxid_zhaoliu03:\n" + quote_xml()) == Quote(ASKED, f"王姐：{QUOTED}")  # a group's sender prefix
    assert read_quote(quote_xml(name="")) == Quote(ASKED, QUOTED)
    assert read_quote(quote_xml(title="")) == Quote("", f"王姐：{QUOTED}")  # nothing asked: the caller stays silent


def test_a_quoted_image_is_no_text_and_a_quoted_quote_is_its_title():
    assert read_quote(quote_xml(refer_type=3, content="<msg><img length='1'/></msg>")) == Quote(ASKED, None)
    earlier = quote_xml(title="我的也是10月到期", content="之前的问题")  # 王姐's own quote reply, quoted again
    assert read_quote(quote_xml(title="同问", refer_type=49, content=earlier)) == Quote("同问", "王姐：我的也是10月到期")


@pytest.mark.parametrize("content", [
    "居住证签注要带什么材料？",
    "「居住证」签注要带什么材料？",  # brackets but no dashed line
    "「王姐：我的证10月8号到期的」\n我也是",
    quote_xml(app_type=5),  # a link card
    quote_xml(app_type=33),  # a mini-program
    "<msg><appmsg><title>@小助手 签注</title><type>57</type>",  # cut off
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    "<msg><appmsg><title>&b;</title><type>57</type></appmsg></msg>",  # entities are never expanded
    "<msg><appmsg><title>\ud83d签注</title><type>57</type></appmsg></msg>",  # a lone surrogate
    "<居住证> 签注要带什么？",
    "",
])
def test_what_is_not_a_quote(content):
    assert read_quote(content) is None


@given(st.text(max_size=300))
def test_any_text_is_read_without_raising(text):
    for content in (text, f"<msg><appmsg><title>{text}</title><type>57</type></appmsg></msg>", f"「{text}」\n- - -\n"):
        found = read_quote(content)
        assert found is None or isinstance(found.text, str)


# -- system lines ---------------------------------------------------------------------------------

BOT = ("小助手", "居住证机器人")


SYSTEM_LINES = [
    '"王姐"邀请"李四"加入了群聊',
    '你邀请"李四"、"赵六"加入了群聊',
    '"李四"通过扫描"王姐"分享的二维码加入群聊',
    '"李四"加入了群聊',
    '"王姐"将"李四"移出了群聊',
    '"王姐"修改群名为"居住证交流群"',
    '"李四" 撤回了一条消息',
    "你撤回了一条消息 重新编辑",
    "收到红包，请在手机上查看",
    "[收到一条微信转账消息，请在手机上查看]",
    "[Send an emoji, view it on mobile]",
    "你已添加了李四，现在可以开始聊天了。",
    "以上是打招呼的内容",
    '"张三" 拍了拍 "李四"',
    '我拍了拍"张三"',
    '"张三" 拍了拍自己',
    '<sysmsg type="revokemsg"><revokemsg><replacemsg><![CDATA["李四" 撤回了一条消息]]></replacemsg></revokemsg></sysmsg>',
    '<sysmsg type="sysmsgtemplate"><sysmsgtemplate><content_template type="tmpl_type_profile"><plain><![CDATA[]]>'
    '</plain><template><![CDATA["$username$"邀请"$names$"加入了群聊]]></template></content_template>'
    '</sysmsgtemplate></sysmsg>',
    '34567890123@chatroom:\n<sysmsg type="pat"><pat><fromusername>wxid_zhangsan</fromusername>'
    '<pattedusername>wxid_lisi</pattedusername></pat></sysmsg>',
]
PATS_OF_THE_BOT = [
    '"张三" 拍了拍 "小助手"',
    '"张三"拍了拍"居住证机器人"',
    '"张三" 拍了拍我',
    '"张三" 拍了拍我的小脑袋',
    "「李四」拍了拍「小助手」",  # chatlog's rendering
    '<sysmsg type="pat"><pat><fromusername>wxid_zhangsan</fromusername><chatusername>34567890123@chatroom'
    '</chatusername><pattedusername>wxid_bot</pattedusername><template><![CDATA["${wxid_zhangsan}" 拍了拍 '
    '"${wxid_bot}"]]></template></pat></sysmsg>',
    '<msg><appmsg><title>"张三" 拍了拍 "小助手"</title><type>62</type></appmsg></msg>',
]
MEMBERS_WORDS = [
    "签注申请能撤回吗？",
    "我邀请朋友加入了群聊，他能问居住证的事吗",
    "红包要在手机上看吗",
    "小助手拍了拍是什么意思",
    TEXT_FORM,
    quote_xml(),  # a quote is not a system line (read_quote's)
    quote_xml(app_type=5),  # nor is a link card (not text: the caller's)
]


@pytest.mark.parametrize(("content", "kind"), [*((line, SYSTEM) for line in SYSTEM_LINES),
                                               *((line, PAT) for line in PATS_OF_THE_BOT),
                                               *((line, None) for line in MEMBERS_WORDS)])
def test_system_lines_pats_of_the_bot_and_members_words(content, kind):
    assert system_line(content, bot_id="wxid_bot", bot_names=BOT) == kind


def test_without_the_bots_names_only_me_and_its_id_say_the_bot_was_patted():
    assert system_line('"张三" 拍了拍 "小助手"', bot_id=None, bot_names=()) == SYSTEM
    assert system_line('"张三" 拍了拍我', bot_id=None, bot_names=()) == PAT
    assert system_line('<sysmsg type="pat"><pat><pattedusername>wxid_bot</pattedusername></pat></sysmsg>',
                       bot_id=None, bot_names=BOT) == SYSTEM


@given(st.text(max_size=300))
def test_any_text_is_classified_without_raising(text):
    assert system_line(text, bot_id="wxid_bot", bot_names=BOT) in (None, PAT, SYSTEM)
