"""Settings of the ledger area (read from the environment through env())."""

from yiwang.conf.env import env

YIWANG_LEDGER_LOGS = env(
    "YIWANG_LEDGER_LOGS", ["main"], group="Ledger",
    doc="The ledger's logs, each `name` or `name:sm3` (SM3 instead of SHA-256 for its Merkle "
        "tree). A log's hash algorithm is fixed when its first entry is written; appending "
        "to a log not listed here is refused.",
)
YIWANG_LEDGER_ORIGIN = env(
    "YIWANG_LEDGER_ORIGIN", "", group="Ledger",
    show_default="(host of YIWANG_PUBLIC_URL)/ledger",
    doc="Prefix of the checkpoint origin lines and note key names: a log's origin is "
        "`<prefix>/<log>`. Fixed per log when the log is created (auditors pin it).",
)
YIWANG_LEDGER_CHECKPOINT_SECONDS = env(
    "YIWANG_LEDGER_CHECKPOINT_SECONDS", 60, group="Ledger",
    doc="How often the periodic job signs a new checkpoint of each log that grew, and asks "
        "the witnesses to cosign it.",
)
YIWANG_LEDGER_MAX_RECORD_BYTES = env(
    "YIWANG_LEDGER_MAX_RECORD_BYTES", 16384, group="Ledger",
    doc="Largest canonical (JCS) record the ledger accepts, in bytes.",
)
YIWANG_LEDGER_KEEP_RECORDS = env(
    "YIWANG_LEDGER_KEEP_RECORDS", True, group="Ledger",
    doc="Keep each canonical record beside its entry, so that exports let an auditor "
        "recompute every record hash (records never hold personal data).",
)
YIWANG_LEDGER_ANCHOR = env(
    "YIWANG_LEDGER_ANCHOR", "none", group="Ledger",
    doc="Anchoring plugin that posts each new checkpoint to an external system: `none`, "
        "`file` (appends to YIWANG_LEDGER_ANCHOR_FILE), or a dotted path to an "
        "`AnchorPlugin` class (for example a FISCO BCOS client).",
)
YIWANG_LEDGER_ANCHOR_FILE = env(
    "YIWANG_LEDGER_ANCHOR_FILE", "", group="Ledger",
    show_default="(DATA_DIR)/ledger-anchors.jsonl",
    doc="File the `file` anchoring plugin appends checkpoints to (JSON lines).",
)
