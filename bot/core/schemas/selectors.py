"""metav1.LabelSelector: its syntax (ValidateLabelSelector) and whether it selects a set of labels (Matches)."""

from __future__ import annotations

from typing import Any

from bot.core.resource import FieldPath
from bot.core.schemas import k8svalidation as kv
from bot.core.schemas.apicheck import RULE_LABEL, Checker, items
from bot.core.schemas.messages import RULE_ENUM, RULE_REQUIRED
from bot.core.schemas.podspec import check_labels

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def check_label_selector(c: Checker, selector: dict[str, Any], path: FieldPath) -> bool:
    """ValidateLabelSelector (apimachinery/pkg/apis/meta/v1/validation); returns whether it is usable for matching."""
    before = len(c.findings)
    check_labels(c, selector.get("matchLabels"), (*path, "matchLabels"))
    for index, requirement in items(selector, "matchExpressions"):
        where = (*path, "matchExpressions", index)
        operator, values = requirement.get("operator"), requirement.get("values")
        key = requirement.get("key")
        if isinstance(key, str):
            c.each_error(RULE_LABEL, (*where, "key"), key, kv.is_qualified_name(key), "ValidateLabelName")
        if operator in ("In", "NotIn") and not values and not c.partial:
            c.add(
                RULE_REQUIRED,
                (*where, "values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
                "ValidateLabelSelectorRequirement",
            )
        elif operator in ("Exists", "DoesNotExist") and values:
            c.add(
                RULE_LABEL,
                (*where, "values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                "ValidateLabelSelectorRequirement",
            )
        elif isinstance(operator, str) and operator not in _OPERATORS:
            c.add(
                RULE_ENUM,
                (*where, "operator"),
                f'"{operator}" is not a valid selector operator (In, NotIn, Exists, DoesNotExist)',
                "ValidateLabelSelectorRequirement",
            )
        for value_index, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str):
                c.each_error(
                    RULE_LABEL,
                    (*where, "values", value_index),
                    value,
                    kv.is_valid_label_value(value),
                    "IsValidLabelValue",
                )
    return len(c.findings) == before


def selector_matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    """LabelSelectorAsSelector(selector).Matches(labels): every matchLabels pair and every requirement holds."""
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, dict):
        for name, value in match_labels.items():
            if name not in labels or str(labels[name]) != str(value):
                return False
    for _, requirement in items(selector, "matchExpressions"):
        key: Any = requirement.get("key")  # any YAML scalar: an int key matches no label
        operator = requirement.get("operator")
        values = [str(v) for v in requirement.get("values") or [] if v is not None]
        present = key in labels
        if operator == "In" and not (present and str(labels[key]) in values):
            return False
        if operator == "NotIn" and present and str(labels[key]) in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
