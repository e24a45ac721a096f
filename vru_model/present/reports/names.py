"""What a reader calls a scenario's ids: services, funding streams, rules, systems, areas and file keys."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from vru_model.model.build import RULES
from vru_model.present.charts import Chart
from vru_model.present.reports.fragments import Html, esc

RULE_NAMES = {  # the ledger's rules as a reader knows them (summary.json keeps the ids)
    "commissioning_minimum": "Commissioning minimum",
    "stream_budget": "Funding stream within its amount",
    "ring_fence": "Ring-fenced money spent only where allowed",
    "central_capability_floor": "Core functions of the unit kept running",
    "committed_contracts": "Committed contracts honoured",
    "underwriting_cap": "OPCC underwriting within its cap",
}


FILE_KEYS = {  # scenario-file keys that sentences from the analysis name, as a reader says them
    " (scale_at_start)": "",
    "scale_at_start": "the scale at the start",
    " (scale.max)": "",
}


class Names:
    """A scenario's ids (services, funding streams, rules) and the titles a reader knows them by.

    Pages show titles only; text built elsewhere from a summary (explanations, ledgers, cliff-edge sentences) may
    still carry an id, so every report section passes through `plain` before it is shown."""

    def __init__(self, scenario: Any) -> None:
        titles = {i: item.title for i, item in scenario.interventions.items()}
        titles |= {s: stream.title or s.replace("_", " ") for s, stream in scenario.funding.items()}
        self.titles = titles
        self.rules = set(RULES) | set(RULE_NAMES)
        ids = sorted(set(titles) | self.rules, key=len, reverse=True)
        self._bracketed = re.compile(r" ?\((" + "|".join(map(re.escape, ids)) + r")\)")
        spelled = [i for i in ids if "_" in i]  # ids that cannot be ordinary words
        self._bare = re.compile(r"(?<![\w./-])(" + "|".join(map(re.escape, spelled)) + r")(?![\w/-])")

    def _title(self, key: str) -> str:
        if key in self.titles:
            return self.titles[key]
        return RULE_NAMES.get(key, key.replace("_", " ")).lower()

    def plain(self, text: str, escape: bool = False) -> str:
        """Ids in TEXT replaced by titles: "(rule_id)" after a rule's words is dropped, "(service_id)" and a bare
        id become the title (escaped when TEXT is HTML)."""
        def bracketed(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in self.titles:
                return f" ({esc(self.titles[key]) if escape else self.titles[key]})"
            return ""

        def bare(m: re.Match[str]) -> str:
            title = self._title(m.group(1))
            return esc(title) if escape else title

        for key, words_ in FILE_KEYS.items():
            text = text.replace(key, words_)
        return self._bare.sub(bare, self._bracketed.sub(bracketed, text))

    def source_label(self, key: str) -> str:
        """'interventions.iris.annual_cost' -> 'IRIS, annual cost': the scenario file's key in a reader's words."""
        parts = [p for p in key.split(".") if p not in ("interventions", "funding", "sources")]
        words_ = [self.titles.get(p) or p.replace("_", " ") for p in parts]
        return ", ".join(words_) or "scenario"

    def item(self, item: object) -> object:
        if isinstance(item, Html):
            return Html(self.plain(str(item), escape=True))
        if isinstance(item, Chart):
            return replace(item, alt=self.plain(item.alt), caption=self.plain(item.caption))
        return item


def system_label(system: str) -> str:
    return system.replace("_", " ").capitalize()


def area_label(area: str, full: bool = False) -> str:
    """An area as a row or a bar label. Services for the whole West Midlands are one row of their own, not a total;
    a service shared by several areas is named by its areas (in full, or its first two and a count on a chart)."""
    if area == "all":
        return "West Midlands-wide services"
    parts = [a.strip() for a in area.split(",")]
    if len(parts) > 2 and not full:
        return f"{parts[0]}, {parts[1]} and {len(parts) - 2} more"
    return ", ".join(parts)


def sources_of(scenario: Any) -> list[tuple[str, str]]:
    """Every `source`/`sources` entry in the scenario, with its key path."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                key = f"{path}.{k}" if path else str(k)
                if k == "source" and isinstance(v, str) and v:
                    found.append((path or "scenario", v))
                elif k == "sources" and isinstance(v, dict):
                    found.extend((f"{path}.{sk}" if path else str(sk), str(sv)) for sk, sv in v.items())
                else:
                    walk(v, key)
        elif isinstance(node, list):
            for k, v in enumerate(node):
                walk(v, f"{path}[{k}]")

    walk(scenario.model_dump(mode="json"), "")
    return found
