import pytest

from yiwang.core.audit.service import AuditEvent
from yiwang.platform.registry.service import PersonRow, register_person

pytestmark = pytest.mark.django_db


def test_records_with_personal_data_are_not_named_in_the_log():
    person = register_person(PersonRow(name="欧阳娜娜", id_number="110101199003074258",
                                       region_code="110101001001"))
    event = AuditEvent.objects.filter(object_type="registry.person",
                                      object_id=str(person.pk)).get(action="create")
    assert event.personal_data is True
    assert "娜娜" not in event.object_repr
