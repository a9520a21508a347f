"""`uvtorch check`'s rules: a registry of coded, documented checks over one `CheckContext`.

See `registry` for the API (`@rule`, `run`, `all_rules`), `codes` for the code table,
`output` for the report formats and `silence` for inline suppression.
"""

from uvtorch.checks.registry import (
    CheckContext,
    Finding,
    Fix,
    Place,
    Rule,
    Severity,
    all_rules,
    rule,
    run,
)

__all__ = [
    "CheckContext", "Finding", "Fix", "Place", "Rule", "Severity", "all_rules", "rule", "run",
]
