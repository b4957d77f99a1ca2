"""Public facade of the services app (政务服务事项目录): the catalogue of service matters
with their guides (办事指南), life events (主题), service versions (draft → published →
retired) with their form, approval flow, fee decision table and licence mapping, bundles
(一件事一次办) and the service-pack format (服务包) that moves them between instances.

Other apps import this module only. Writes are verb-named functions, each one transaction,
audited, raising ``ValidationError`` with Chinese messages; a function given an ``actor``
checks that the actor may do it (``services.change_matter`` / ``services.publish_matter``
and membership of the matter's department), ``actor=None`` is a system load.

The work is done in :mod:`.catalogue` (life events, matters, guides, search, who may edit),
:mod:`.versions` (drafts, checks, publication, fees, licence mapping), :mod:`.bundles` and
:mod:`.packs`, whose public functions this facade re-exports.
"""

from __future__ import annotations

from typing import Any

from yiwang.industry.services import holders
from yiwang.industry.services.bundles import (
    BundleMember,
    PublishedBundle,
    bundle_warnings,
    check_bundle,
    get_bundle,
    list_bundles,
    project_member_data,
    publish_bundle,
    published_bundle,
    save_bundle,
    unpublish_bundle,
)
from yiwang.industry.services.catalogue import (
    create_matter,
    department_name,
    editable_departments,
    ensure_life_event,
    get_life_event,
    get_matter,
    life_events,
    list_matters,
    matter_departments,
    may_edit,
    may_publish,
    update_guide,
)
from yiwang.industry.services.checks import check_fee_table, check_licence
from yiwang.industry.services.common import logic_vars
from yiwang.industry.services.holders import KIND_LABELS as HOLDER_KIND_LABELS
from yiwang.industry.services.holders import kinds_for as holder_kinds_for
from yiwang.industry.services.holders import sources_of as holder_sources_of
from yiwang.industry.services.models import (
    Audience,
    Bundle,
    LifeEvent,
    Matter,
    MatterKind,
    OnlineLevel,
    ServiceVersion,
    VersionState,
)
from yiwang.industry.services.packs import (
    FORMAT,
    FORMAT_VERSION,
    export_definition,
    import_definition,
)
from yiwang.industry.services.versions import (
    FeeItem,
    FeeQuote,
    compute_fee,
    create_draft,
    discard_draft,
    get_version,
    latest_draft,
    licence_fields,
    publish_matter,
    publish_version,
    published_version,
    save_draft,
    unpublish_matter,
    versions_of,
)


def materials_of(version: ServiceVersion) -> list[dict]:
    """The guide's material list of the version's matter (``code``, ``name``, ``required``,
    ``licence_types`` that replace it — 免提交 —, ``form_key`` of the file component)."""
    return list(version.matter.materials or [])


def licence_holder(version: ServiceVersion, data: dict, *, application_number: str,
                   applicant: Any = None) -> str | None:
    """The ID number (GB 11643) or unified social credit code (GB 32100) the licence of an
    approved application of ``version`` is issued to, when the version's licence mapping names
    a holder other than the applicant (``licence.holder``, see :mod:`.holders`); ``None`` →
    the applicant (or the enterprise the application was made for).

    Called inside the decision transaction. ``new_individual_business`` registers the new
    个体工商户 with a newly allocated credit code (once per ``application_number``) and opens
    its enterprise account for the operator — the ``applicant`` when given (their verified
    identity), else the person the form names; ``newborn`` registers the child with a newly
    allocated ID number (once per birth: mother, date and name, so every member of a bundle
    finds the same child). Raises ``ValidationError`` when the form data cannot make one."""
    return holders.licence_holder(version, data, application_number=application_number,
                                  applicant=applicant)


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HOLDER_KIND_LABELS",
    "Audience",
    "Bundle",
    "BundleMember",
    "FeeItem",
    "FeeQuote",
    "LifeEvent",
    "Matter",
    "MatterKind",
    "OnlineLevel",
    "PublishedBundle",
    "ServiceVersion",
    "VersionState",
    "bundle_warnings",
    "check_bundle",
    "check_fee_table",
    "check_licence",
    "compute_fee",
    "create_draft",
    "create_matter",
    "department_name",
    "discard_draft",
    "editable_departments",
    "ensure_life_event",
    "export_definition",
    "get_bundle",
    "get_life_event",
    "get_matter",
    "get_version",
    "holder_kinds_for",
    "holder_sources_of",
    "import_definition",
    "latest_draft",
    "licence_fields",
    "licence_holder",
    "life_events",
    "list_bundles",
    "list_matters",
    "logic_vars",
    "materials_of",
    "matter_departments",
    "may_edit",
    "may_publish",
    "project_member_data",
    "publish_bundle",
    "publish_matter",
    "publish_version",
    "published_bundle",
    "published_version",
    "save_bundle",
    "save_draft",
    "unpublish_bundle",
    "unpublish_matter",
    "update_guide",
    "versions_of",
]
