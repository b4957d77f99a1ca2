"""yiwang.verify.asn1fix: asn1crypto no longer takes a definite length ending in 0x80 for
BER's indefinite form (wbond/asn1crypto#249), which re-encoded whole CMS subtrees on every
dump — exponentially in their depth (one seal in a few dozen took 30 s of CPU)."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import core

import yiwang.verify  # noqa: F401  (installs the correction)


class Leaf(core.Sequence):
    _fields = [("a", core.OctetString)]


def _nested(depth: int) -> tuple[type[core.Sequence], bytes]:
    """A SEQUENCE { SET OF { SEQUENCE { SET OF { … Leaf } } } } whose outer length is a
    definite long form ending in 0x80 (as in ``81 80``)."""
    classes: list[Any] = [Leaf]
    for i in range(depth):
        set_of = type(f"S{i}", (core.SetOf,), {"_child_spec": classes[-1]})
        classes.append(type(f"Q{i}", (core.Sequence,), {"_fields": [("s", set_of)]}))
    for pad in range(60, 400):
        value: Any = Leaf({"a": b"x" * pad})
        for cls in classes[1:]:
            # Reloaded at each level: a tree built in memory is re-encoded on every access
            # to its contents (asn1crypto never clears its "mutated" flag), which is slow
            # in its own right and beside the point here.
            value = cls.load(cls({"s": [value]}).dump())
        der = value.dump()
        if der[1:3] == b"\x81\x80" or der[1:4] == b"\x82\x01\x80":
            return classes[-1], der
    raise AssertionError("no padding gives a length ending in 0x80")


def test_a_loaded_value_with_a_length_ending_in_0x80_is_not_re_encoded(monkeypatch) -> None:
    top_cls, der = _nested(8)
    top = top_cls.load(der)
    node = top
    for _ in range(8):
        node = node["s"][0]
    assert node["a"].native  # everything parsed, as pyHanko does when it reads a token

    class Wrap(core.Sequence):
        _fields = [("t", top_cls), ("n", core.Integer)]

    calls = []
    original = core.Sequence._set_contents

    def counting(self: Any, force: bool = False) -> None:
        calls.append((type(self).__name__, force))
        original(self, force)

    monkeypatch.setattr(core.Sequence, "_set_contents", counting)
    wrap = Wrap({"t": top, "n": 5})
    first, second = wrap.dump(), wrap.dump()
    assert first == second and der in first  # the loaded DER is carried verbatim
    # Only the new wrapper is encoded; none of the 17 loaded levels below it (before the
    # correction: every one of them, forced, and again for each enclosing SET OF).
    assert {name for name, _ in calls} == {"Wrap"}
    assert not any(force for _, force in calls)


def test_real_indefinite_lengths_are_still_re_encoded_as_der() -> None:
    class One(core.Sequence):
        _fields = [("n", core.Integer)]

    ber = bytes.fromhex("3080020105" "0000")  # SEQUENCE, indefinite length, INTEGER 5, EOC
    value = One.load(ber)
    assert value["n"].native == 5
    assert value.dump() == bytes.fromhex("3003020105")


@pytest.mark.parametrize("length", [128, 384, 640])
def test_definite_lengths_ending_in_0x80_dump_to_the_same_bytes(length: int) -> None:
    der = core.OctetString(b"y" * length).dump()
    assert der[-length - 1] == 0x80
    loaded = core.OctetString.load(der)
    assert loaded.native == b"y" * length
    assert loaded.dump() == der
    assert core.OctetString.load(der).dump(force=True) == der
