"""The licence types yiwang ships (电子证照目录), loaded by a data migration.

Each type is data: administrators may change the fields, the layout, the validity and the
issuing departments afterwards. The GB/T 36903 metadata items are filled as far as public
sources allow. ``catalogue_code`` follows the national catalogue's layout (the defining
authority's 18-character credit code, a letter and a three-digit number); the values here
are the demo region's own (the defining authorities' codes are the demo's, not the real
ministries'), so a real deployment replaces them with the 国家政务服务平台 catalogue's codes.

Issuing departments are the demo city's department codes (``yiwang/demo/population.py``);
民政局 (``mzj``), which issues 结婚证, is not among the demo's departments and is added by
``yiwang/demo/licences.py``.
"""

from __future__ import annotations

from typing import Any

# Field helper: key, label (Chinese), English label, type, and options.


def _f(key: str, label: str, label_en: str, type_: str = "string", *, required: bool = True,
       fmt: str = "", personal: bool = False, holder: str = "", choices: list[str] | None = None,
       max_length: int = 200) -> dict[str, Any]:
    field: dict[str, Any] = {"key": key, "label": label, "label_en": label_en, "type": type_,
                             "required": required, "personal": personal}
    if fmt:
        field["format"] = fmt
    if holder:
        field["holder"] = holder  # "name" or "code": filled from the holder
    if choices:
        field["enum"] = choices
    if type_ == "string":
        field["maxLength"] = max_length
    return field


def _layout(title: str, title_en: str, colour: str, rows: list[str],
            subtitle: str = "") -> dict[str, Any]:
    return {"title": title, "title_en": title_en, "subtitle": subtitle, "colour": colour,
            "rows": rows, "qr": "bottom-right", "seal": "bottom-centre"}


def _meta(type_code: str, name: str, authority: str, authority_level: str, holder: str,
          category: str, issuer: str) -> dict[str, Any]:
    return {"证照类型代码": type_code, "证照名称": name, "证照定义机构": authority,
            "证照定义机构级别": authority_level, "颁发机构": issuer, "持证主体类别": holder,
            "证照分类": category, "证照标识规则": "GB/T 36904-2018",
            "证照标准": "GB/T 36903-2018 电子证照 元数据规范"}


TYPES: list[dict[str, Any]] = [
    {
        "code": "business_licence",
        "catalogue_code": "11339900MB0000001ND001",
        "name": "营业执照", "name_en": "Business Licence", "holder_kind": "enterprise",
        "validity_years": None, "issuing_departments": ["scjg"],
        "schema": {"fields": [
            _f("credit_code", "统一社会信用代码", "Unified social credit code", fmt="credit_code",
               holder="code"),
            _f("name", "名称", "Name", holder="name"),
            _f("kind", "类型", "Type", max_length=64),
            _f("legal_representative", "法定代表人", "Legal representative", personal=True,
               max_length=64),
            _f("registered_capital", "注册资本", "Registered capital", max_length=64),
            _f("established_on", "成立日期", "Date of establishment", "date", fmt="date"),
            _f("address", "住所", "Domicile"),
            _f("business_scope", "经营范围", "Business scope", required=False, max_length=500),
        ]},
        "layout": _layout("营业执照", "Business Licence", "#9b1c1c",
                          ["credit_code", "name", "kind", "legal_representative",
                           "registered_capital", "established_on", "address", "business_scope"],
                          subtitle="(副本)"),
        "metadata": _meta("11339900MB0000001ND001", "营业执照", "国家市场监督管理总局", "国家级",
                          "法人和其他组织", "市场主体登记", "示例市市场监管局"),
    },
    {
        "code": "birth_certificate",
        "catalogue_code": "12339900MB0000002ND002",
        "name": "出生医学证明", "name_en": "Medical Certificate of Birth",
        "holder_kind": "person", "validity_years": None, "issuing_departments": ["wjw"],
        "schema": {"fields": [
            _f("child_name", "新生儿姓名", "Name of the newborn", personal=True, holder="name",
               max_length=64),
            _f("child_id_number", "新生儿公民身份号码", "Newborn's citizen ID number",
               fmt="id_number", personal=True, holder="code"),
            _f("sex", "性别", "Sex", choices=["男", "女"]),
            _f("born_on", "出生日期", "Date of birth", "date", fmt="date"),
            _f("birthplace", "出生地点", "Place of birth", max_length=100),
            _f("hospital", "接生机构", "Delivering institution", max_length=100),
            _f("mother_name", "母亲姓名", "Mother's name", personal=True, max_length=64),
            _f("mother_id_number", "母亲公民身份号码", "Mother's citizen ID number",
               fmt="id_number", personal=True),
            _f("father_name", "父亲姓名", "Father's name", personal=True, required=False,
               max_length=64),
            _f("father_id_number", "父亲公民身份号码", "Father's citizen ID number",
               fmt="id_number", personal=True, required=False),
        ]},
        "layout": _layout("出生医学证明", "Medical Certificate of Birth", "#1d4e89",
                          ["child_name", "sex", "born_on", "birthplace", "hospital",
                           "mother_name", "mother_id_number", "father_name",
                           "father_id_number", "child_id_number"]),
        "metadata": _meta("12339900MB0000002ND002", "出生医学证明", "国家卫生健康委员会", "国家级",
                          "自然人", "卫生健康",
                          "示例市卫健委(经授权的助产机构)"),
    },
    {
        "code": "property_certificate",
        "catalogue_code": "11339900MB0000003ND003",
        "name": "不动产权证书", "name_en": "Real Estate Title Certificate",
        "holder_kind": "person", "validity_years": None, "issuing_departments": ["bdc"],
        "schema": {"fields": [
            _f("owner", "权利人", "Right holder", personal=True, holder="name", max_length=64),
            _f("owner_id_number", "证件号码", "ID number", fmt="id_number", personal=True,
               holder="code"),
            _f("co_ownership", "共有情况", "Co-ownership", choices=["单独所有", "共同共有",
                                                                   "按份共有"]),
            _f("location", "坐落", "Location", personal=True),
            _f("unit_number", "不动产单元号", "Real estate unit number", max_length=40),
            _f("right_type", "权利类型", "Type of right", max_length=64),
            _f("usage", "用途", "Use", max_length=64),
            _f("area", "面积", "Area", max_length=64),
            _f("term", "使用期限", "Term of use", required=False, max_length=64),
        ]},
        "layout": _layout("不动产权证书", "Real Estate Title Certificate", "#7a4b00",
                          ["owner", "co_ownership", "location", "unit_number", "right_type",
                           "usage", "area", "term", "owner_id_number"]),
        "metadata": _meta("11339900MB0000003ND003", "不动产权证书", "自然资源部", "国家级",
                          "自然人", "不动产登记", "示例市不动产登记中心"),
    },
    {
        "code": "social_security_card",
        "catalogue_code": "11339900MB0000004ND004",
        "name": "社会保障卡", "name_en": "Social Security Card", "holder_kind": "person",
        "validity_years": 10, "issuing_departments": ["rsj"],
        "schema": {"fields": [
            _f("name", "姓名", "Name", personal=True, holder="name", max_length=64),
            _f("id_number", "社会保障号码", "Social security number", fmt="id_number",
               personal=True, holder="code"),
            _f("card_number", "卡号", "Card number", personal=True, max_length=20),
            _f("issued_on", "发卡日期", "Date of issue", "date", fmt="date"),
        ]},
        "layout": _layout("社会保障卡", "Social Security Card", "#0b6e4f",
                          ["name", "id_number", "card_number", "issued_on"]),
        "metadata": _meta("11339900MB0000004ND004", "社会保障卡", "人力资源和社会保障部",
                          "国家级", "自然人", "社会保障", "示例市人社局"),
    },
    {
        "code": "no_criminal_record",
        "catalogue_code": "11339900MB0000005ND005",
        "name": "无犯罪记录证明", "name_en": "Certificate of No Criminal Record",
        "holder_kind": "person", "validity_years": 1, "issuing_departments": ["gaj"],
        "schema": {"fields": [
            _f("name", "姓名", "Name", personal=True, holder="name", max_length=64),
            _f("id_number", "公民身份号码", "Citizen ID number", fmt="id_number",
               personal=True, holder="code"),
            _f("purpose", "用途", "Purpose", max_length=100),
            _f("period", "查询期间", "Period checked", max_length=100),
            _f("statement", "证明内容", "Statement", max_length=300),
        ]},
        "layout": _layout("无犯罪记录证明", "Certificate of No Criminal Record", "#22313f",
                          ["name", "id_number", "purpose", "period", "statement"]),
        "metadata": _meta("11339900MB0000005ND005", "无犯罪记录证明", "公安部", "国家级",
                          "自然人", "公安", "示例市公安局"),
    },
    {
        "code": "marriage_certificate",
        "catalogue_code": "11339900MB0000006ND006",
        "name": "结婚证", "name_en": "Marriage Certificate", "holder_kind": "person",
        "validity_years": None, "issuing_departments": ["mzj"],
        "schema": {"fields": [
            _f("holder_name", "持证人", "Holder", personal=True, holder="name", max_length=64),
            _f("holder_id_number", "持证人公民身份号码", "Holder's citizen ID number",
               fmt="id_number", personal=True, holder="code"),
            _f("registered_on", "登记日期", "Date of registration", "date", fmt="date"),
            _f("spouse_name", "配偶姓名", "Spouse's name", personal=True, max_length=64),
            _f("spouse_id_number", "配偶公民身份号码", "Spouse's citizen ID number",
               fmt="id_number", personal=True),
            _f("certificate_number", "结婚证字号", "Certificate number", max_length=40),
        ]},
        "layout": _layout("结婚证", "Marriage Certificate", "#b3122e",
                          ["holder_name", "holder_id_number", "registered_on", "spouse_name",
                           "spouse_id_number", "certificate_number"]),
        "metadata": _meta("11339900MB0000006ND006", "结婚证", "民政部", "国家级", "自然人",
                          "民政", "示例市民政局(婚姻登记机关)"),
    },
]
