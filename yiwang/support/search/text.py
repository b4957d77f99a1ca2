"""Text processing of unified search: Chinese segmentation (jieba, with a user dictionary of
service names and synonym terms), pinyin and initials (pypinyin), synonyms, stop words,
query checks and highlighting. Index time and query time segment the same way.

jieba's full-mode "for search" segmentation emits the sub-words of long words too
(无犯罪记录证明 → 犯罪 记录 证明 无犯罪记录证明), so a document indexed before a word
joined the user dictionary is still found through its parts.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_QUERY = 100
MAX_TOKENS = 16
_lock = threading.Lock()
_ready = False
_added: set[str] = set()

# Words that carry no meaning in a question ("孩子刚出生要办什么" → 孩子 出生).
_STOP_WORDS = """
的 了 吗 呢 吧 啊 呀 么 嘛 哦 哈 啦 我 你 您 他 她 它 我们
你们 他们 自己 要 想 想要 怎么 怎么办 怎么样 怎样 如何 什么 啥 哪
哪里 哪儿 哪个 在 去 到 办 办理 办个 弄 搞 需要 要求 可以 能
能不能 可不可以 是 是不是 有 有没有 没有 和 与 及 或 个 一个 这 那
这个 那个 请问 请 一下 应该 该 多少 多久 几 几天 咨询 问 问下 着
过 给 把 被 从 为 对 就 都 也 还 又 得 地 之 其 及其 手续 流程
哪些 时候 现在 刚 刚刚 已经 还是 需 须 吗 么 啊 嗯 如果 的话 时
后 前 里 上 下 中 帮 帮忙 告诉 知道
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_ASCII_WORD = re.compile(r"^[a-z]+$")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _initialise() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.dt.tmp_dir = str(settings.DATA_DIR)
        jieba.initialize()
        _ready = True


def add_words(words: Iterable[str]) -> None:
    """Teach the segmenter whole words (service names, synonym terms)."""
    _initialise()
    import jieba

    for word in words:
        word = normalise(word)
        if 2 <= len(word) <= 20 and word not in _added and _CJK.search(word):
            jieba.add_word(word, freq=20000)
            _added.add(word)


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower-case, collapsed whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def tokens(text: str) -> list[str]:
    """The search tokens of a text: jieba's for-search segmentation, punctuation dropped."""
    _initialise()
    import jieba

    found = []
    for token in jieba.cut_for_search(normalise(text)):
        token = token.strip()
        if token and not _PUNCT.fullmatch(token):
            found.append(token)
    return found


def index_text(text: str) -> str:
    """What the backends index: the tokens joined by spaces."""
    return " ".join(tokens(text))


def pinyin_text(title: str, extra: Iterable[str] = ()) -> str:
    """Full pinyin and initials of a title and of its keywords (``extra``), and the pinyin
    of each word and each pair of adjacent words (无犯罪记录证明 → wufanzuijiluzhengming
    wfzjlzm fanzui jilu …; 内地居民结婚登记 → … jiehundengji)."""
    from pypinyin import Style, lazy_pinyin

    _initialise()
    import jieba

    out = []
    for phrase in (title, *extra):
        phrase = normalise(phrase)
        cut = [w for w in jieba.cut(phrase) if _CJK.search(w)]
        whole = "".join(cut)
        if not whole:
            continue
        out.append("".join(lazy_pinyin(whole)))
        out.append("".join(lazy_pinyin(whole, style=Style.FIRST_LETTER)))
        words = [w for w in jieba.cut_for_search(phrase) if _CJK.search(w) and len(w) >= 2]
        short = [w for w in words if len(w) < len(whole)]  # the parts of a long user word
        words += [a + b for seq in (cut, short) for a, b in pairwise(seq)]
        out += ["".join(lazy_pinyin(w)) for w in words]
    return " ".join(dict.fromkeys(p for p in out if p.isascii() and p.isalnum()))


@dataclass
class Query:
    """A checked query: the text as typed, its tokens (stop words dropped), the synonym
    expansions, and whether it is pinyin."""

    text: str
    tokens: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    pinyin: bool = False

    @property
    def terms(self) -> list[str]:
        """Every token to look for, synonyms included, without duplicates."""
        return list(dict.fromkeys([*self.tokens, *self.expansions]))[:MAX_TOKENS * 2]


def check_query(raw: str) -> str:
    """The query normalised, or a ``ValidationError`` a person can act on."""
    text = normalise(raw)
    if len(text) > MAX_QUERY:
        raise ValidationError(_("搜索内容太长了:请用不超过 %(n)d 个字描述您要找的事项,"
                                "例如“营业执照遗失补领”。") % {"n": MAX_QUERY}, code="too_long")
    if not _PUNCT.sub("", text):
        raise ValidationError(_("请输入要搜索的文字,例如事项名称、证照名称或您遇到的问题。"),
                              code="empty")
    return text


def parse_query(raw: str, synonyms: dict[str, list[str]]) -> Query:
    """Check and segment a query; add the synonyms of every term found in it (良民证 →
    无犯罪记录证明)."""
    text = check_query(raw)
    compact = _PUNCT.sub("", text)
    if _ASCII_WORD.fullmatch(compact):
        return Query(text=text, tokens=[compact], pinyin=True)
    found = [t for t in tokens(text) if t not in STOP_WORDS]
    if not found:  # only stop words ("怎么办"): search them rather than nothing
        found = tokens(text)
    expansions: list[str] = []
    for term, targets in synonyms.items():
        if term in compact:
            for target in targets:
                expansions.extend(t for t in tokens(target) if t not in STOP_WORDS)
    return Query(text=text, tokens=list(dict.fromkeys(found))[:MAX_TOKENS],
                 expansions=list(dict.fromkeys(expansions))[:MAX_TOKENS])


def highlight(text: str, terms: Iterable[str], *, width: int = 0) -> str:
    """``text`` HTML-escaped with the terms marked (<mark>); with ``width``, a snippet of
    about that many characters around the first match."""
    text = text or ""
    wanted = sorted({t for t in terms if t and (len(t) >= 2 or _CJK.search(t))},
                    key=len, reverse=True)
    if width and len(text) > width:
        lowered = text.lower()
        first = min((i for i in (lowered.find(t) for t in wanted) if i >= 0), default=0)
        start = max(0, first - width // 4)
        text = ("…" if start else "") + text[start:start + width] + (
            "…" if start + width < len(text) else "")
    if not wanted:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in wanted), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last:match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)
