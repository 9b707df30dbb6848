"""Settings from `initializationOptions` and `workspace/configuration` (section "papercycle").

```json
{"models": {"reviewer": "deepreviewer-7b", "section": "tiny-section", "researcher": null},
 "reviewMode": "sections" | "fast" | "standard" | "best",
 "checkFrequency": "save" | "edit" | "manual", "debounceMs": 1500,
 "severities": {"clarity": "information", "soundness": "warning"},
 "enabledCategories": null | ["soundness", "evidence", ...],
 "autoStartDaemon": true,
 "aiScientist": {"reflections": 0, "ensemble": 1, "fewShot": ["/papers/examples"]}}
```
`aiScientist` is passed on whole-paper reviews (reviewMode fast/standard/best) as
`review.paper`'s `reflections`, `ensemble`, `few_shot` (daemon/engine/aiscientist_run.py);
the daemon refuses them, in one line shown to the user, for a reviewer of another format.
Unknown keys and bad values are ignored (each reported once in the log), never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from lsprotocol import types
from papercycle.daemon.severity import DEFAULT_BY_CATEGORY

SECTION = "papercycle"
FREQUENCIES = ("save", "edit", "manual")
MODES = ("sections", "fast", "standard", "best")
ROLES = ("reviewer", "section", "researcher")
LEVELS = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
# Per category, when the user sets nothing: daemon/severity.py, the CLI's mapping too.
DEFAULT_SEVERITIES: dict[str, str] = DEFAULT_BY_CATEGORY


@dataclass(frozen=True)
class Settings:
    models: dict[str, str] = field(default_factory=dict)
    review_mode: str = "sections"
    check_frequency: str = "save"
    debounce_ms: int = 1500
    severities: dict[str, str] = field(default_factory=dict)
    enabled_categories: frozenset[str] | None = None
    auto_start_daemon: bool = True
    # review.paper's AI Scientist params, as the daemon names them; only those set differently
    # from the one-answer default
    ai_scientist: dict[str, Any] = field(default_factory=dict)

    def model_for(self, role: str) -> str | None:
        return self.models.get(role) or None

    def category_enabled(self, category: str) -> bool:
        return self.enabled_categories is None or category in self.enabled_categories

    def merged(self, data: Any, problems: list[str] | None = None) -> Settings:
        """These settings with `data` (a dict, possibly {"papercycle": {...}}) on top."""
        problems = problems if problems is not None else []
        if not isinstance(data, dict):
            return self
        if isinstance(data.get(SECTION), dict):
            data = data[SECTION]
        out = self
        for key, value in data.items():
            if key == "models" and isinstance(value, dict):
                models = dict(out.models)
                for role, name in value.items():
                    if role not in ROLES:
                        problems.append(f"models.{role}: unknown role (known: {', '.join(ROLES)})")
                    elif name is None or isinstance(name, str):
                        models[role] = name or ""
                out = replace(out, models=models)
            elif key == "reviewMode" and value in MODES:
                out = replace(out, review_mode=value)
            elif key == "checkFrequency" and value in FREQUENCIES:
                out = replace(out, check_frequency=value)
            elif key == "debounceMs" and isinstance(value, int) and not isinstance(value, bool):
                out = replace(out, debounce_ms=max(0, min(value, 600_000)))
            elif key == "severities" and isinstance(value, dict):
                levels = dict(out.severities)
                for category, level in value.items():
                    if str(level).lower() in LEVELS:
                        levels[str(category)] = str(level).lower()
                    else:
                        problems.append(f"severities.{category}: {level!r} is not a severity")
                out = replace(out, severities=levels)
            elif key == "enabledCategories" and (value is None or isinstance(value, list)):
                out = replace(
                    out,
                    enabled_categories=None if value is None else frozenset(map(str, value)),
                )
            elif key == "autoStartDaemon" and isinstance(value, bool):
                out = replace(out, auto_start_daemon=value)
            elif key == "aiScientist" and isinstance(value, dict):
                out = replace(out, ai_scientist=_ai_scientist(value, out.ai_scientist, problems))
            else:
                problems.append(f"setting {key!r} = {value!r} ignored")
        return out


# setting -> (daemon param, lowest, highest, the default that is not sent)
AI_SCIENTIST = {"reflections": ("reflections", 0, 5, 0), "ensemble": ("ensemble", 1, 8, 1)}


def _ai_scientist(value: dict, current: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    out = dict(current)
    for key, item in value.items():
        if key in AI_SCIENTIST:
            param, low, high, default = AI_SCIENTIST[key]
            if isinstance(item, int) and not isinstance(item, bool) and low <= item <= high:
                if item == default:
                    out.pop(param, None)
                else:
                    out[param] = item
            else:
                problems.append(f"aiScientist.{key} = {item!r} is not a whole number {low}-{high}")
        elif key == "fewShot" and isinstance(item, list | None):
            paths = [str(p) for p in item or [] if isinstance(p, str) and p]
            if paths:
                out["few_shot"] = paths
            else:
                out.pop("few_shot", None)
        else:
            problems.append(f"setting aiScientist.{key} = {item!r} ignored")
    return out
