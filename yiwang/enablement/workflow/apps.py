from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "yiwang.enablement.workflow"
    label = "workflow"
    verbose_name = "审批流程 Workflow"
