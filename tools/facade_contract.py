"""An import-linter contract: across apps, import only the other app's public modules.

yiwang's apps are the packages ``yiwang.<layer>.<app>``. Code in one app may import another
app only through its facade — ``service.py`` — and the few other public modules listed in
``public_modules`` (for example ``fields``, for model fields other apps' models use).
Modules outside the apps (settings, URL configurations, the demo loader) are held to the
same rule when they import an app.
"""

from __future__ import annotations

import grimp
from importlinter import Contract, ContractCheck, fields, output

LAYERS = ("core", "platform", "enablement", "support", "industry", "entry")


def _app_of(module: str, apps: set[str]) -> str | None:
    parts = module.split(".")
    candidate = ".".join(parts[:3])
    return candidate if len(parts) >= 3 and candidate in apps else None


class FacadeContract(Contract):
    type_name = "facade"

    public_modules = fields.ListField(subfield=fields.StringField())
    allow = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        public = set(self.public_modules)  # type: ignore[arg-type]
        allowed = set(self.allow or [])  # type: ignore[arg-type]
        # An app is a package directly inside a layer (a plain module there is shared code).
        apps = {m for m in graph.modules
                if m.count(".") == 2 and m.split(".")[1] in LAYERS and graph.find_children(m)}
        violations = []
        for importer in sorted(graph.modules):
            if not importer.startswith("yiwang"):
                continue
            importer_app = _app_of(importer, apps)
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                imported_app = _app_of(imported, apps)
                if imported_app is None or imported_app == importer_app:
                    continue
                rest = imported[len(imported_app) + 1:] if imported != imported_app else ""
                head = rest.split(".")[0] if rest else ""
                if head in public or f"{importer} -> {imported}" in allowed:
                    continue
                if importer.split(".")[-2:-1] == ["tests"] and head == "testing":
                    continue
                violations.append((importer, imported))
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported in check.metadata["violations"]:
            output.print_error(f"{importer} imports {imported}: use its service.py instead")
            output.new_line()
