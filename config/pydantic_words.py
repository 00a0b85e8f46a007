"""Chinese for pydantic's validation errors: one table for the settings, the catalogue and the
escalation ladder (it lives in ``config/`` because settings may import nothing else of ours).

Only the error ``type`` and its ``ctx`` are read; pydantic's English ``msg`` is never shown.
"""

from __future__ import annotations

from pydantic_core import ErrorDetails

REASONS: dict[str, str] = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知的键",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "数太大，超出范围",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "须是有限的数，不能是 .nan 或 .inf",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_max_places": "小数位太多：最多 {decimal_places} 位",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文字",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期，不带时刻",
    "list_type": "应为列表",
    "dict_type": "应为键值对（映射）",
    "model_type": "应为键值对（映射）",
    "model_attributes_type": "应为键值对（映射）",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "greater_than": "超出范围：须大于 {gt}",
    "greater_than_equal": "超出范围：须不小于 {ge}",
    "less_than": "超出范围：须小于 {lt}",
    "less_than_equal": "超出范围：须不大于 {le}",
    "string_too_long": "文字过长：最多 {max_length} 个字符",
    "string_too_short": "太短：至少 {min_length} 个字符",
    "too_short": "太少：至少 {min_length} 项",
    "too_long": "太多：最多 {max_length} 项",
    "string_pattern_mismatch": "格式不对",
    "url_parsing": "不是有效的网址",
    "url_scheme": "网址的协议不对：应为 {expected_schemes}",
    "union_tag_invalid": "类型不对：应为 {expected_tags}",
}
"""pydantic error type → Chinese reason, with ``{…}`` filled from the error's context."""

FALLBACK = "取值无效"
"""The reason for an error type the table lacks."""


def pydantic_reason(detail: ErrorDetails) -> str:
    """One pydantic error as a Chinese reason; a ``value_error`` keeps our own message (without
    pydantic's "Value error, " prefix), an unknown type gets :data:`FALLBACK`."""
    if detail["type"] == "value_error":
        error = detail.get("ctx", {}).get("error")
        return str(error) if error is not None else str(detail["msg"]).removeprefix("Value error, ")
    template = REASONS.get(detail["type"])
    if template is None:
        return FALLBACK
    context = {
        k: str(v).replace(" or ", "、").replace(", ", "、")
        for k, v in detail.get("ctx", {}).items()
    }
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template.split("：")[0]
