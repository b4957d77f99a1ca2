"""Which regular expressions an editor may put in ``validate.pattern``.

Python's ``re`` backtracks and has no timeout, and a pattern runs on every citizen's value.
The accepted subset is the patterns without catastrophic backtracking that we can recognise
from the parsed pattern: no back-references, no repetition of something that itself repeats
(``(a+)+``), no repeated alternatives that can match the same text (``(a|ab)*``), and no
unbounded repeat that may start while an earlier unbounded repeat over overlapping characters
could still be going on (``\\d*\\d*``, ``\\d*-?\\d*``, ``.+@.+``), since the engine then
tries every way of sharing the text between them: O(n^k) for k of them (review 2026-11-27
session 2, M4). Bounded repeats of variable width count the same way, up to
:data:`MAX_WAYS` ways of sharing, and none may sit inside a repetition (``(\\d\\d?){1,30}``).
``values.check`` also caps the length of a value matched against a pattern.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Iterator
from typing import Any


def is_safe_pattern(pattern: str) -> bool:
    """Whether a regular expression compiles and cannot backtrack catastrophically: no
    back-references, no repetition of something that itself repeats (``(a+)+``), and no
    unbounded repeat that may start while an earlier one over overlapping characters could
    still be going on (``\\d*\\d*``, ``\\d*-?\\d*``, ``.+@.+``: write ``[^@]+@[^@]+``)."""
    try:
        parsed = sre_parse.parse(pattern)
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return False
    repeats = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)
    possessive = (sre_constants.POSSESSIVE_REPEAT,)

    def distinct_branch(alternatives: Any) -> bool:
        # Alternatives inside a repetition must not be able to match the same text, or the
        # engine tries every split: each must start with its own literal character.
        firsts = []
        for alt in alternatives:
            if not alt or alt[0][0] != sre_constants.LITERAL:
                return False
            firsts.append(alt[0][1])
        return len(set(firsts)) == len(firsts)

    def risky_in_repeat(items: Any) -> bool:
        for op, av in items:
            # Inside a repeat, a piece of variable width (``\\d?``, ``\\d{1,2}``) lets the
            # rounds share the text in many ways: ``(\\d\\d?){1,30}`` is exponential.
            if op in repeats and (av[1] > 1 or av[0] != av[1]):
                return True
            if op in repeats or op in possessive:
                if risky_in_repeat(av[2]):
                    return True
            elif op == sre_constants.SUBPATTERN:
                if risky_in_repeat(av[-1]):
                    return True
            elif op == sre_constants.BRANCH and (
                    not distinct_branch(av[1]) or any(risky_in_repeat(a) for a in av[1])):
                return True
        return False

    def safe(items: Any) -> bool:
        for op, av in items:
            if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
                return False
            if op in repeats or op in possessive:
                if av[1] > 1 and risky_in_repeat(av[2]):
                    return False
                if not safe(av[2]):
                    return False
            elif op == sre_constants.SUBPATTERN:
                if not safe(av[-1]):
                    return False
            elif op == sre_constants.BRANCH:
                if not all(safe(alt) for alt in av[1]):
                    return False
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and not safe(av[1]):
                return False
        return True

    return safe(parsed) and not _overlapping_repeats(parsed)


# Characters tried when asking whether two character sets overlap: ASCII, a few of each class
# beyond it (CJK, full-width digit and space, accented letter, Arabic-Indic digit, no-break
# space), plus every literal and range end the two sets name.
_PROBES = [chr(c) for c in range(128)] + list("中０\u3000é٣\u00a0")
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: re.compile(r"\d"),
    sre_constants.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    sre_constants.CATEGORY_SPACE: re.compile(r"\s"),
    sre_constants.CATEGORY_NOT_SPACE: re.compile(r"\S"),
    sre_constants.CATEGORY_WORD: re.compile(r"\w"),
    sre_constants.CATEGORY_NOT_WORD: re.compile(r"\W"),
}
_Leaf = tuple[Any, Any]


def _leaf_has(leaf: _Leaf, ch: str) -> bool:
    op, av = leaf
    if op == sre_constants.LITERAL:
        return ch == chr(av)
    if op == sre_constants.NOT_LITERAL:
        return ch != chr(av)
    if op == sre_constants.ANY:
        return ch != "\n"
    if op == sre_constants.RANGE:
        return av[0] <= ord(ch) <= av[1]
    if op == sre_constants.CATEGORY:
        matcher = _CATEGORIES.get(av)
        return matcher.match(ch) is not None if matcher else True
    if op == sre_constants.IN:
        negate = bool(av) and av[0][0] == sre_constants.NEGATE
        found = any(_leaf_has(item, ch) for item in (av[1:] if negate else av))
        return found != negate
    return True  # anything else: assume it may match (refusing more, never less)


def _chars_named(leaves: list[_Leaf]) -> Iterator[str]:
    for op, av in leaves:
        if op in (sre_constants.LITERAL, sre_constants.NOT_LITERAL):
            yield chr(av)
        elif op == sre_constants.RANGE:
            yield from (chr(av[0]), chr(av[1]), chr(min(av[0] + 1, av[1])))
        elif op == sre_constants.IN:
            yield from _chars_named([item for item in av if item[0] != sre_constants.NEGATE])


def _overlap(a: list[_Leaf], b: list[_Leaf], fold: bool) -> bool:
    if not a or not b:
        return False
    for ch in [*_PROBES, *_chars_named(a), *_chars_named(b)]:
        forms = {ch, ch.swapcase()} if fold else {ch}
        if any(_leaf_has(x, c) for x in a for c in forms) and any(
                _leaf_has(y, c) for y in b for c in forms):
            return True
    return False


_CHAR_OPS = (sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.ANY,
             sre_constants.IN)
_REPEAT_OPS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT,
               sre_constants.POSSESSIVE_REPEAT)


def _first(items: Any) -> tuple[list[_Leaf], bool]:
    """The matchers of the first character ``items`` may consume, and whether it may be empty."""
    found: list[_Leaf] = []
    for op, av in items:
        if op in _CHAR_OPS:
            return [*found, (op, av)], False
        if op in (sre_constants.SUBPATTERN, sre_constants.ATOMIC_GROUP):
            more, empty = _first(av[-1])
        elif op == sre_constants.BRANCH:
            more, empty = [], False
            for alt in av[1]:
                alt_first, alt_empty = _first(alt)
                more, empty = more + alt_first, empty or alt_empty
        elif op in _REPEAT_OPS:
            more, empty = _first(av[2])
            empty = empty or av[0] == 0
        else:  # anchors and look-arounds take no character
            more, empty = [], True
        found += more
        if not empty:
            return found, False
    return found, True


MAX_WAYS = 1_000


class _Overlap(Exception):
    pass


def _overlapping_repeats(parsed: Any) -> bool:
    """Whether an unbounded repeat may start where an earlier unbounded repeat could still be
    going on, over the same characters (``\\d*\\d*``, ``\\d*-?\\d*``, ``.*=.*``): each way
    of sharing the text between them is tried, O(n^k) for k of them."""
    fold = bool(parsed.state.flags & re.IGNORECASE)
    # How many ways the current run of overlapping variable-width repeats can share the text
    # (the product of their spans): ``\\d?`` twenty times, or ``\\d{0,999}\\d{0,999}``.
    ways = [1]

    def sequence(items: Any, open_: list[_Leaf]) -> list[_Leaf]:
        for item in items:
            open_ = step(item, open_)
        return open_

    def inside(sub: Any) -> list[_Leaf]:
        # A repeat's own body, checked on its own: its characters do not end the run outside.
        saved = ways[0]
        after = sequence(sub, [])
        ways[0] = saved
        return after

    def step(item: Any, open_: list[_Leaf]) -> list[_Leaf]:
        # open_: the characters an earlier unbounded repeat could still be consuming here.
        op, av = item
        if op in _CHAR_OPS:
            # A character the open repeat cannot take ends it; one it can take does not.
            if _overlap([item], open_, fold):
                return open_
            ways[0] = 1
            return []
        if op in (sre_constants.SUBPATTERN, sre_constants.ATOMIC_GROUP):
            return sequence(av[-1], open_)
        if op == sre_constants.BRANCH:
            after: list[_Leaf] = []
            for alt in av[1]:
                after += sequence(alt, open_)
            return after
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            sequence(av[1], [])
            return open_
        if op in _REPEAT_OPS:
            low, high, sub = av
            if high == sre_constants.MAXREPEAT:
                start, _ = _first(sub)
                if _overlap(start, open_, fold):
                    raise _Overlap
                # Still going afterwards: a next round, or the end of the last one.
                going = start + inside(sub)
                return open_ + going if low == 0 else going
            if low != high:  # bounded, of variable width: like the above, up to MAX_WAYS
                start, _ = _first(sub)
                if not _overlap(start, open_, fold) and low > 0:
                    ways[0] = 1
                ways[0] *= high - low + 1
                if ways[0] > MAX_WAYS:
                    raise _Overlap
                going = start + inside(sub)
                return open_ + going if low == 0 else going
            result = list(open_) if low == 0 else []
            current = open_
            rounds = min(high, 2)
            for done in range(1, rounds + 1):
                current = sequence(sub, current)
                if done >= low or done == rounds:
                    result += current
            return result
        return open_  # anchors (^ $ \\b) take no character

    try:
        sequence(parsed, [])
    except _Overlap:
        return True
    return False
