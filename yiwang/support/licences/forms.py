"""Forms of the licences pages (portal and workbench)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from yiwang.support.licences.models import LicenceStatus

SHARE_HOURS = [(1, _("1 小时")), (24, _("1 天")), (24 * 7, _("7 天")), (24 * 30, _("30 天"))]
VERIFY_KINDS = [("pdf", _("上传 PDF 文件")), ("qr", _("粘贴二维码内容")),
                ("vc", _("粘贴可验证凭证(JSON)"))]


class WalletFilterForm(forms.Form):
    type = forms.ChoiceField(label=_("证照类型"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部")), *LicenceStatus.choices])
    holder = forms.ChoiceField(label=_("持证主体"), required=False)

    def __init__(self, *args: Any, types: list[tuple[str, str]],
                 holders: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _("全部")), *types]
        self.fields["holder"].choices = [("", _("全部")), ("self", _("本人")), *holders]


class ShareForm(forms.Form):
    hours = forms.TypedChoiceField(label=_("有效期"), choices=SHARE_HOURS, coerce=int,
                                   initial=24)
    disclosed = forms.MultipleChoiceField(
        label=_("向核验方展示的信息"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("核验方只能看到核验结果和您勾选的信息。"))

    def __init__(self, *args: Any, fields: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["disclosed"].choices = fields


class VerifyForm(forms.Form):
    kind = forms.ChoiceField(label=_("核验方式"), choices=VERIFY_KINDS, initial="pdf",
                             widget=forms.RadioSelect)
    file = forms.FileField(label=_("PDF 文件"), required=False)
    text = forms.CharField(label=_("二维码内容或凭证 JSON"), required=False,
                           widget=forms.Textarea(attrs={"rows": 6, "class": "input",
                                                        "spellcheck": "false"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        limit = int(settings.YIWANG_LICENCES_MAX_UPLOAD_BYTES)
        if data.get("kind") == "pdf":
            upload = data.get("file")
            if upload is None:
                self.add_error("file", _("请选择要核验的 PDF 文件。"))
            elif upload.size > limit:
                self.add_error("file", _("文件过大,最大 %(max)s 字节。") % {"max": limit})
        elif not (data.get("text") or "").strip():
            self.add_error("text", _("请粘贴二维码内容或凭证 JSON。"))
        elif len(data["text"].encode()) > limit:
            self.add_error("text", _("内容过长,最多 %(max)s 字节。") % {"max": limit})
        return data
