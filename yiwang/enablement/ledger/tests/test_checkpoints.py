"""Signed checkpoints (verified as signed notes by an independent reading of the spec) and
witness cosigning with its refusals."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError

from yiwang.core.audit import service as audit
from yiwang.enablement.ledger import checkpoints, notes, service, tasks
from yiwang.enablement.ledger.models import Checkpoint, WitnessState
from yiwang.enablement.ledger.tests.test_notes import (
    independent_check_cosignature,
    independent_open_checkpoint,
)

pytestmark = pytest.mark.django_db


def fill(n: int, log: str = "main") -> None:
    service.append_many([("case.updated", {"case": f"C{i}"}) for i in range(n)], log=log)


def vkey_parts(vkey: str) -> tuple[str, bytes]:
    name, _id, material = vkey.split("+", 2)
    return name, base64.b64decode(material)[1:]


def test_checkpoint_is_a_signed_note_an_independent_verifier_accepts() -> None:
    fill(10)
    note = service.checkpoint()
    [vkey] = service.log_verifier_keys()
    name, public = vkey_parts(vkey)
    assert name == "ledger.test.gov.cn/main"
    origin, size, root = independent_open_checkpoint(note, name, public)
    assert (origin, size, root.hex()) == (name, 10, service.root_hash())
    assert note.startswith(f"{name}\n10\n{base64.b64encode(root).decode()}\n\n— {name} ")


def test_checkpoints_are_signed_when_the_tree_grew_not_on_every_append() -> None:
    assert service.publish_checkpoint() is None  # empty log
    fill(3)
    assert Checkpoint.objects.count() == 0
    first = service.publish_checkpoint()
    assert first is not None and first.size == 3
    assert service.publish_checkpoint().size == 3
    assert Checkpoint.objects.count() == 1
    fill(2)
    assert service.publish_checkpoint().size == 5
    assert Checkpoint.objects.count() == 2
    assert audit.AuditEvent.objects.filter(action="ledger.checkpoint_published").count() == 2
    assert service.latest_checkpoint().size == 5


def test_the_log_key_is_a_managed_key() -> None:
    from yiwang.core.crypto import service as crypto

    fill(1)
    service.publish_checkpoint()
    key = crypto.active_signing_key("ledger:main", "ledger.checkpoint")
    assert key is not None and key.algorithm == "ed25519"
    assert Checkpoint.objects.get().key_id == key.id


def test_witnesses_cosign_and_the_cosignatures_verify(departments) -> None:
    for code in departments:
        service.enrol_witness(code)
    fill(7)
    service.publish_checkpoint()
    result = service.witness_all()
    assert sorted(result["cosigned"]) == ["main:gaj", "main:scjgj"]
    info = service.latest_checkpoint()
    assert info.cosigners == ["gaj", "scjgj"]
    for w in service.witnesses():
        name, public = vkey_parts(w.vkey)
        assert independent_check_cosignature(info.note, name, public) > 1_600_000_000
    # the log's signature still verifies on the note with cosignatures
    name, public = vkey_parts(service.log_verifier_keys()[0])
    independent_open_checkpoint(info.note, name, public)
    # the tree grows: the witnesses check consistency with what they cosigned
    fill(300)
    service.publish_checkpoint()
    assert sorted(service.witness_all()["cosigned"]) == ["main:gaj", "main:scjgj"]
    assert set(WitnessState.objects.values_list("size", flat=True)) == {307}


def test_enrolling_an_unknown_department_is_refused(departments) -> None:
    with pytest.raises(ValidationError):
        service.enrol_witness("nope")


def forged_note(text: str) -> str:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    name = "ledger.test.gov.cn/main"
    return notes.Note(text, [notes.sign_line(name, public, key.sign(text.encode()))]).serialise()


def test_a_forged_checkpoint_is_refused(departments) -> None:
    service.enrol_witness("gaj")
    fill(4)
    real = notes.parse_note(service.checkpoint())
    # signed by a key that is not the log's, with the log's name
    with pytest.raises(checkpoints.WitnessRefusal) as caught:
        service.cosign("main", "gaj", note=forged_note(real.text))
    assert caught.value.reason == "forged checkpoint"
    # the log's signature over a different root
    body = notes.parse_checkpoint(real.text)
    other = notes.Checkpoint(body.origin, body.size, bytes(32)).body
    tampered = notes.Note(other, real.signatures).serialise()
    with pytest.raises(checkpoints.WitnessRefusal) as caught:
        service.cosign("main", "gaj", note=tampered)
    assert caught.value.reason == "forged checkpoint"
    assert "伪造" in caught.value.messages[0]
    with pytest.raises(checkpoints.WitnessRefusal) as caught:
        service.cosign("main", "gaj", note="not a note")
    assert caught.value.reason == "malformed checkpoint"
    other_origin = notes.Checkpoint("elsewhere/main", 4, body.root).body
    with pytest.raises(checkpoints.WitnessRefusal) as caught:
        service.cosign("main", "gaj", note=forged_note(other_origin))
    assert caught.value.reason == "wrong origin"
    assert not WitnessState.objects.filter(size__gt=0).exists()


def test_an_inconsistent_tree_is_refused(departments) -> None:
    service.enrol_witness("gaj")
    fill(5)
    service.publish_checkpoint()
    service.cosign("main", "gaj")
    # The witness remembers a different history for size 5 (as if the log had forked).
    WitnessState.objects.filter(witness="gaj").update(root=bytes(32))
    fill(6)
    service.publish_checkpoint()
    with pytest.raises(checkpoints.WitnessRefusal) as caught:
        service.cosign("main", "gaj")
    assert caught.value.reason == "inconsistent tree"
    assert "old root mismatch" in caught.value.messages[0]


def test_a_truncated_or_rolled_back_proof_is_refused(departments) -> None:
    service.enrol_witness("gaj")
    fill(5)
    service.publish_checkpoint()
    service.cosign("main", "gaj")
    fill(6)
    service.publish_checkpoint()
    good = service.consistency_proof("main", 5, 11).hashes
    with pytest.raises(checkpoints.WitnessRefusal) as caught:
        service.cosign("main", "gaj", proof=good[:-1])
    assert caught.value.reason == "inconsistent tree"
    assert "proof too short" in caught.value.messages[0]
    with pytest.raises(checkpoints.WitnessRefusal) as caught:
        service.cosign("main", "gaj", proof=["zz"])
    assert caught.value.reason == "inconsistent tree"
    service.cosign("main", "gaj", proof=good)
    old = Checkpoint.objects.get(size=5).note
    with pytest.raises(checkpoints.WitnessRefusal) as caught:
        service.cosign("main", "gaj", note=old)
    assert caught.value.reason == "tree shrank"


def test_the_periodic_job_publishes_and_witnesses(departments) -> None:
    service.enrol_witness("scjgj")
    fill(3)
    fill(2, log="gm")
    result = tasks.publish_checkpoints()
    assert result["sizes"] == {"main": 3, "gm": 2}
    assert sorted(result["cosigned"]) == ["gm:scjgj", "main:scjgj"]
    again = tasks.publish_checkpoints()
    assert again["cosigned"] == [] and Checkpoint.objects.count() == 2


def test_file_anchor_posts_and_checks(settings, tmp_path) -> None:
    from yiwang.enablement.ledger import anchors

    settings.YIWANG_LEDGER_ANCHOR = "file"
    settings.YIWANG_LEDGER_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    fill(2)
    service.publish_checkpoint()
    cp = Checkpoint.objects.get()
    receipt = anchors.anchor(cp.pk)
    assert receipt["line"] == 1
    assert anchors.anchor(cp.pk) == receipt  # idempotent
    plugin = anchors.get_plugin()
    snapshot = anchors.AnchorCheckpoint("main", cp.log.origin, 2, bytes(cp.root).hex(), cp.note)
    assert plugin.check(snapshot, receipt)
    assert not plugin.check(snapshot, {**receipt, "line": 2})


def test_the_log_refuses_to_sign_after_its_tiles_were_changed() -> None:
    from yiwang.enablement.ledger.models import Tile

    fill(256)
    service.publish_checkpoint()
    fill(3)
    # Behind the ORM's back (the model refuses updates): rewrite the stored full tile.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_tile SET hashes = %s, root = %s WHERE level = 0",
                       [bytes(8192), bytes(32)])
    assert Tile.objects.count() == 1
    with pytest.raises(ValidationError) as caught:
        service.publish_checkpoint()
    assert caught.value.code == "inconsistent"
    assert Checkpoint.objects.count() == 1
