"""Models of the assistant (智能客服): the passages it answers from (sections of service
guides, FAQs, 一件事 bundles), with their sentence vectors; conversations with their
messages (encrypted at rest: people type their ID numbers and phones into chat boxes); and
the questions it could not answer, for editors."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class Passage(models.Model):
    """One section of a guide (受理条件, 申请材料…) or one FAQ, with its vector."""

    key = models.CharField(max_length=200, unique=True)  # "<source>#<section>"
    source = models.CharField(max_length=128, db_index=True)  # "service:<matter code>"
    title = models.CharField(_("标题"), max_length=300)
    section = models.CharField(_("栏目"), max_length=64)
    text = models.TextField(_("内容"))
    url = models.CharField(max_length=300)
    vector = models.BinaryField()  # float16, the encoder's dimension
    encoder = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("知识片段")
        verbose_name_plural = _("知识片段")
        permissions = [("answer_chat", _("人工客服:接待转人工的对话")),
                       ("view_unanswered", _("查看智能客服未能回答的问题"))]

    def __str__(self) -> str:
        return self.key


class ConversationState(models.TextChoices):
    BOT = "bot", _("智能应答")
    WAITING = "waiting", _("等待人工")
    HUMAN = "human", _("人工服务中")
    CLOSED = "closed", _("已结束")


class Conversation(models.Model):
    token = models.CharField(max_length=43, unique=True)  # the visitor's, in their session
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("状态"), max_length=16, choices=ConversationState.choices,
                             default=ConversationState.BOT, db_index=True)
    created_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("最近消息"), auto_now=True, db_index=True)
    handed_over_at = models.DateTimeField(_("转人工时间"), null=True, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("客服人员"))
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    abusive = models.PositiveSmallIntegerField(default=0)
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("客服对话")
        verbose_name_plural = _("客服对话")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"conversation {self.pk}"


class Role(models.TextChoices):
    USER = "user", _("群众")
    BOT = "bot", _("智能客服")
    AGENT = "agent", _("人工客服")
    SYSTEM = "system", _("系统")


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="messages")
    role = models.CharField(max_length=8, choices=Role.choices)
    text = EncryptedTextField(purpose="assistant.message")
    citations = models.JSONField(default=list, blank=True)  # [{"title", "section", "url"}]
    choices = models.JSONField(default=list, blank=True)  # a clarifying question's options
    outcome = models.CharField(max_length=16, blank=True)  # answer|clarify|none|refused…
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.role} {self.pk}"


class Unanswered(models.Model):
    """A question the assistant found no answer to (masked), counted."""

    question = models.CharField(_("问题"), max_length=200, unique=True)
    count = models.PositiveIntegerField(_("次数"), default=1)
    last_at = models.DateTimeField(_("最近一次"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("未能回答的问题")
        verbose_name_plural = _("未能回答的问题")

    def __str__(self) -> str:
        return self.question
