"""Test helpers other apps' tests may use: a form definition with every component type and
data that satisfies it."""

from __future__ import annotations

from typing import Any

# Synthetic, checksum-valid identifiers (never real people or enterprises).
ID_NUMBER = "110101199003070011"
CREDIT_CODE = "913399014JURQ2830K"
TOKEN = "tok_" + "a" * 40
TOKEN_2 = "tok_" + "b" * 40


def sample_definition(*, region: str = "339900000000") -> dict[str, Any]:
    """A shop-registration-like form (个体工商户设立登记) using every component type, with a
    condition, calculations and a custom rule. ``region`` bounds the address and map point."""
    return {"version": 1, "components": [
        {"type": "content", "key": "intro", "text": "请如实填写以下信息。",
         "text_en": "Please fill in truthfully."},
        {"type": "section", "key": "applicant", "label": "申请人", "label_en": "Applicant",
         "components": [
             {"type": "text", "key": "name", "label": "姓名", "label_en": "Name",
              "required": True, "prefill": "profile.name", "validate": {"max_length": 30}},
             {"type": "id_number", "key": "id_number", "label": "身份证号码",
              "label_en": "ID number", "required": True, "prefill": "profile.id_number",
              "validate": {"min_age": 18}},
             {"type": "phone", "key": "phone", "label": "联系电话", "label_en": "Phone",
              "required": True, "prefill": "profile.phone"},
         ]},
        {"type": "choice", "key": "kind", "label": "经营者类型", "label_en": "Operator",
         "required": True, "options": [
             {"value": "person", "label": "个人经营", "label_en": "Individual"},
             {"value": "family", "label": "家庭经营", "label_en": "Family"}]},
        {"type": "table", "key": "members", "label": "家庭成员", "label_en": "Members",
         "conditional": {"==": [{"var": "kind"}, "family"]}, "required": True,
         "min_rows": 1, "max_rows": 10, "components": [
             {"type": "text", "key": "member_name", "label": "姓名", "required": True},
             {"type": "id_number", "key": "member_id", "label": "身份证号码", "required": True},
         ]},
        {"type": "credit_code", "key": "credit_code", "label": "统一社会信用代码",
         "label_en": "Credit code", "prefill": "enterprise.credit_code"},
        {"type": "text", "key": "shop_name", "label": "字号名称", "label_en": "Shop name",
         "required": True, "validate": {"min_length": 2, "pattern": "[\u4e00-\u9fa5]+",
                                        "pattern_message": "字号名称只能使用汉字"}},
        {"type": "choice", "key": "scope", "label": "经营范围", "label_en": "Business scope",
         "multiple": True, "required": True, "validate": {"max_items": 2}, "options": [
             {"value": "retail", "label": "零售", "label_en": "Retail"},
             {"value": "food", "label": "餐饮", "label_en": "Catering"},
             {"value": "repair", "label": "维修", "label_en": "Repair"}]},
        {"type": "date", "key": "start_date", "label": "开业日期", "label_en": "Opening date",
         "required": True, "validate": {"min": "2020-01-01"}},
        {"type": "address", "key": "premises", "label": "经营场所", "label_en": "Premises",
         "required": True, "validate": {"within": region, "min_level": "street"}},
        {"type": "map_point", "key": "location", "label": "经营场所位置",
         "label_en": "Location", "validate": {"within": region}},
        {"type": "table", "key": "rooms", "label": "经营用房", "label_en": "Rooms",
         "max_rows": 5, "components": [
             {"type": "text", "key": "room", "label": "房间", "required": True},
             {"type": "number", "key": "area", "label": "面积", "unit": "平方米",
              "required": True, "validate": {"min": 1, "max": 10000}},
         ]},
        {"type": "number", "key": "total_area", "label": "总面积", "label_en": "Total area",
         "unit": "平方米",
         "calculate": {"reduce": [{"var": "rooms"},
                                  {"+": [{"var": "accumulator"}, {"var": "current.area"}]},
                                  0]}},
        {"type": "number", "key": "staff", "label": "从业人数", "label_en": "Staff",
         "required": True,
         "validate": {"integer": True, "min": 0, "max": 500,
                      "rule": {"<=": [{"var": "staff"}, 50]},
                      "message": "个体工商户从业人数一般不超过 50 人，超过请办理企业登记",
                      "message_en": "Over 50 staff: register a company instead"}},
        {"type": "textarea", "key": "notes", "label": "备注", "label_en": "Notes"},
        {"type": "file", "key": "lease", "label": "经营场所使用证明",
         "label_en": "Proof of premises", "required": True, "material": "premises_proof",
         "accept": ["application/pdf", "image/jpeg", "image/png"], "max_files": 3},
        {"type": "signature", "key": "signature", "label": "申请人签名",
         "label_en": "Signature", "required": True},
    ]}


def sample_data() -> dict[str, Any]:
    """Data valid for :func:`sample_definition` (needs the region chain of
    ``yiwang.platform.regions.testing.make_chain``)."""
    return {
        "name": "张三", "id_number": ID_NUMBER, "phone": "13800138000", "kind": "person",
        "shop_name": "张记", "scope": ["retail"], "start_date": "2026-03-01",
        "premises": {"region": "339901001000", "detail": "湖滨路 1 号"},
        "location": {"lng": 120.1, "lat": 30.1},
        "rooms": [{"room": "前厅", "area": 20}, {"room": "仓库", "area": "12.5"}],
        "staff": 3, "lease": [TOKEN], "signature": TOKEN_2,
    }
