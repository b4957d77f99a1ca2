"""政务公开 in the workbench, for the editors of a department (``portal.publish_article``):
the policy documents (政策文件) and notices (通知公告) of the official's departments (filters,
pagination), the editor of a new or existing article (a 400 with a message beside each field
it refuses, keeping what was typed), and publishing and withdrawing (撤回) one.

An article of another department is a 404. Writes carry the version the page showed: when
someone else changed the article first, the write is refused with a plain message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.entry.portal import service as portal
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import expected_version, page_query, render_page
from yiwang.platform.orgs import service as orgs

NAV = "articles"
PUBLISH = "portal.publish_article"
PER_PAGE = 25
BODY_HINT = gettext_lazy("纯文本。段落之间空一行；不支持 HTML 标签，页面上会原样显示。")


def _scope(user: Any) -> list[str] | None:
    return None if user.is_superuser else orgs.unit_codes_of(user)


def _article(request: HttpRequest, pk: int) -> Any:
    found = portal.department_articles(_scope(request.user)).filter(pk=pk).first()
    if found is None:
        raise Http404("no such article for this official")
    return found


def _crumbs(*extra: tuple[str, str]) -> list[portal.Crumb]:
    return [portal.Crumb(_("工作台首页"), reverse("workbench:home")),
            *(portal.Crumb(name, href) for name, href in extra)]


@require_safe
@never_cache
@permission_required(PUBLISH)
def articles(request: HttpRequest) -> HttpResponse:
    """The articles of the official's departments, last edited first."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in portal.ArticleKind.values else ""
    state = request.GET.get("state", "")
    state = state if state in portal.ArticleState.values else ""
    q = " ".join(request.GET.get("q", "").split())[:64]
    rows = portal.department_articles(_scope(request.user))
    if kind:
        rows = rows.filter(kind=kind)
    if state:
        rows = rows.filter(state=state)
    if q:
        rows = rows.filter(Q(title__icontains=q) | Q(doc_no__icontains=q))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/articles_list.html", NAV, {
        "page": page, "kind": kind, "state": state, "q": q, "query": page_query(request),
        "kinds": portal.ArticleKind.choices, "states": portal.ArticleState.choices,
        "filtered": bool(kind or state or q)})


def _select(choices: list[tuple[str, Any]]) -> forms.Select:
    return forms.Select(attrs={"class": "input"}, choices=choices)


class ArticleForm(forms.Form):
    """What the editor typed, as text: the service checks it and says what is wrong with
    each field (only the date's format is checked here)."""

    kind = forms.CharField(label=gettext_lazy("类别"), required=False,
                           widget=_select(portal.ArticleKind.choices))
    department_code = forms.CharField(label=gettext_lazy("发布部门"), required=False)
    title = forms.CharField(label=gettext_lazy("标题"), required=False, strip=False,
                            widget=forms.TextInput(attrs={"class": "input", "maxlength": 200,
                                                          "autocomplete": "off"}))
    doc_no = forms.CharField(
        label=gettext_lazy("文号"), required=False,
        help_text=gettext_lazy("政策文件的发文字号，例如 示政办发〔2026〕12号；通知公告可不填。"),
        widget=forms.TextInput(attrs={"class": "input", "maxlength": 64, "autocomplete": "off"}))
    topic = forms.CharField(label=gettext_lazy("主题分类"), required=False,
                            widget=_select([("", gettext_lazy("不分类")),
                                            *portal.Topic.choices]))
    summary = forms.CharField(
        label=gettext_lazy("摘要"), required=False, strip=False,
        help_text=gettext_lazy("一两句话说明这份文件讲什么、对谁有用，显示在列表中。"),
        widget=forms.Textarea(attrs={"class": "input", "rows": 3, "maxlength": 500}))
    body = forms.CharField(label=gettext_lazy("正文"), required=False, strip=False,
                           help_text=BODY_HINT,
                           widget=forms.Textarea(attrs={"class": "input", "rows": 18}))
    valid_until = forms.DateField(
        label=gettext_lazy("有效期至"), required=False, input_formats=["%Y-%m-%d"],
        help_text=gettext_lazy("仅政策文件填写；长期有效的不填。"),
        error_messages={"invalid": gettext_lazy("请按“年-月-日”的格式填写日期，例如 2028-12-31。")},
        widget=forms.DateInput(attrs={"class": "input input--short", "type": "date"},
                               format="%Y-%m-%d"))

    def __init__(self, *args: Any, departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(d.code, d.name) for d in departments]
        if len(choices) != 1:
            choices.insert(0, ("", _("请选择")))
        self.fields["department_code"].widget = _select(choices)


def _public_url(article: Any | None) -> str:
    """Where the portal shows the article ("" unless it is published)."""
    if article is None or article.state != portal.ArticleState.PUBLISHED:
        return ""
    path = reverse(f"portal:{article.kind}", urlconf="yiwang.urls.public", args=[article.pk])
    return settings.YIWANG_PUBLIC_URL.rstrip("/") + path


def _initial(article: Any) -> dict[str, Any]:
    return {name: getattr(article, name) for name in ArticleForm.base_fields}


def _editor(request: HttpRequest, article: Any | None) -> HttpResponse:
    departments = portal.departments_of_writer(request.user)
    if request.method == "POST":
        form = ArticleForm(request.POST, departments=departments)
        if form.is_valid():
            try:
                saved = portal.save_article(
                    request.user, pk=article.pk if article is not None else None,
                    expected_version=expected_version(request), **form.cleaned_data)
            except PermissionDenied as exc:
                form.add_error("department_code", str(exc))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if article is None:
                    messages.success(request, _("已保存为草稿。检查无误后请点击“发布”。"))
                elif saved.state == portal.ArticleState.PUBLISHED:
                    messages.success(request, _("已保存，门户上显示的是修改后的内容。"))
                else:
                    messages.success(request, _("已保存。"))
                return redirect("workbench:article", pk=saved.pk)
    elif article is not None:
        form = ArticleForm(initial=_initial(article), departments=departments)
    else:
        kind = request.GET.get("kind", "")
        form = ArticleForm(initial={
            "kind": kind if kind in portal.ArticleKind.values else portal.ArticleKind.POLICY,
        }, departments=departments)
    title = article.title if article is not None else _("新建政务公开信息")
    return render_page(request, "workbench/articles_form.html", NAV, {
        "form": form, "article": article, "page_title": title,
        "public_url": _public_url(article),
        "crumbs": _crumbs((_("政务公开"), reverse("workbench:articles"))),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(PUBLISH)
def article_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(PUBLISH)
def article(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, _article(request, pk))


@require_POST
@permission_required(PUBLISH)
def article_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Publish or withdraw (撤回, with a reason) the article."""
    found = _article(request, pk)
    try:
        if action == "publish":
            portal.publish_article(request.user, found, expected_version(request))
            messages.success(request, _("已发布，门户上的政务公开栏目中已可查看。"))
        elif action == "withdraw":
            portal.withdraw_article(request.user, found, request.POST.get("reason", ""),
                                    expected_version(request))
            messages.success(request, _("已撤回，门户上不再显示。"))
        else:
            raise Http404("no such action")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workbench:article", pk=found.pk)
