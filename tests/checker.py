"""An independent feasibility checker for a solved scenario's output folder.

It reads only `resolved.yaml`, `allocation.csv`, `funding.csv` (and a re-plan's actuals file, which
`resolved.yaml` names) and re-checks every grant rule
from the written plan, with its own arithmetic (it does not use the model, its data preparation or
the results code; only `vru_model.core.periods` for month arithmetic and `vru_model.scenario.schema` to parse the
scenario). `check_folder` returns the violations in words; an empty list means the plan is lawful.

Tolerances: the CSVs hold pounds to the penny and scales to four places, so sums are compared
with a small absolute slack and per-row costs with a slack proportional to the monthly cost.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import yaml

from vru_model.core import periods
from vru_model.scenario.schema import Intervention, Scenario

PENNY = 0.011
SCALE_EPS = 1e-4  # scales are written to four places


def _sum_slack(n_rows: int, amount: float) -> float:
    return 0.5 + PENNY * n_rows + 1e-7 * abs(amount)


def _row_slack(monthly_cost: float) -> float:
    return 0.05 + SCALE_EPS * monthly_cost


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def vru_share(item: Intervention, fy: str) -> float:
    """The VRU's share in a year: the latest taper entry at or before it, else all of it."""
    earlier = [k for k in item.taper if k <= fy]
    return item.taper[max(earlier)] if earlier else 1.0


def monthly_cost(sc: Scenario, item: Intervention, month: str) -> float:
    """Cost per month at scale 1, with the scenario's annual cost inflation from the first FY."""
    years = periods.fys(sc.horizon.start, sc.horizon.months)
    return item.annual_cost / 12.0 * (1 + sc.policy.cost_inflation_annual) ** years.index(periods.fy_of(month))


def check_folder(folder: str | Path) -> list[str]:
    """Every rule violation in the plan written to `folder`, in words."""
    folder = Path(folder)
    sc = Scenario.model_validate(yaml.safe_load((folder / "resolved.yaml").read_text(encoding="utf-8")))
    actuals = _read_actuals(Path(sc.actuals.file)) if sc.actuals is not None else None
    return check_plan(sc, _read_csv(folder / "allocation.csv"), _read_csv(folder / "funding.csv"), actuals)


def _read_actuals(path: Path) -> dict[tuple[str, str, str], float]:
    """A re-plan's actual spend by (stream, intervention, month), from its CSV (XLSX: the Actuals or first sheet)."""
    if path.suffix.lower() == ".csv":
        rows = _read_csv(path)
    else:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book["Actuals"] if "Actuals" in book.sheetnames else book.worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        rows = [dict(zip([str(h) for h in values[0]], r, strict=False)) for r in values[1:]]
    out: dict[tuple[str, str, str], float] = defaultdict(float)
    for row in rows:
        out[str(row["stream"]), str(row["intervention"]), str(row["period"])[:7]] += float(row["amount"])
    return {k: v for k, v in out.items() if v}


def check_plan(sc: Scenario, alloc_rows: list[dict[str, str]], fund_rows: list[dict[str, str]],
               actuals: dict[tuple[str, str, str], float] | None = None) -> list[str]:
    """Every violation; with `actuals` (a re-plan) the months up to the actuals' as-of month must be what was spent,
    the rules on changing a service apply from the month after, and notice counts from then."""
    bad: list[str] = []
    months = periods.months(sc.horizon.start, sc.horizon.months)
    as_of = sc.actuals.as_of if actuals is not None and sc.actuals is not None else None
    fys = periods.fys(sc.horizon.start, sc.horizon.months)
    policy = sc.policy

    # --- shape: one allocation row per intervention x month ------------------------------------
    alloc: dict[tuple[str, str], dict[str, float]] = {}
    for row in alloc_rows:
        key = (row["intervention"], row["period"])
        if key in alloc:
            bad.append(f"allocation has two rows for {key[0]} in {key[1]}")
        if row["scenario"] != sc.name:
            bad.append(f"allocation row for {key} names scenario {row['scenario']!r}, not {sc.name!r}")
        if row["intervention"] in sc.interventions and row["fy"] != periods.fy_of(row["period"]):
            bad.append(f"allocation row for {key} says fy {row['fy']}, not {periods.fy_of(row['period'])}")
        alloc[key] = {k: float(v) for k, v in row.items() if k not in ("scenario", "intervention", "period", "fy")}
    for i in sc.interventions:
        for t in months:
            if (i, t) not in alloc:
                bad.append(f"allocation has no row for {i} in {t}")
    for i, t in alloc:
        if i not in sc.interventions or t not in months:
            bad.append(f"allocation has a row for unknown intervention or month: {i} {t}")
    if bad:
        return bad

    # --- funding rows: known stream, positive, right FY, summing to vru_spend -------------------
    by_stream_fy: dict[tuple[str, str], float] = defaultdict(float)
    rows_stream_fy: dict[tuple[str, str], int] = defaultdict(int)
    paid: dict[tuple[str, str], float] = defaultdict(float)
    core_claimed: dict[str, float] = defaultdict(float)
    core_paid: dict[tuple[str, str], float] = defaultdict(float)
    core = next(s for s, st in sc.funding.items() if st.kind == "core_grant")
    for row in fund_rows:
        s, i, t, amount = row["stream"], row["intervention"], row["period"], float(row["amount"])
        if s not in sc.funding:
            bad.append(f"funding row from unknown stream {s!r} ({i}, {t})")
            continue
        if i not in sc.interventions or t not in months:
            bad.append(f"funding row for unknown intervention or month: {s} {i} {t}")
            continue
        if amount <= 0:
            bad.append(f"funding row {s} -> {i} in {t} has a non-positive amount {amount}")
        if row["fy"] != periods.fy_of(t):
            bad.append(f"funding row {s} -> {i} in {t} says fy {row['fy']}")
        y = periods.fy_of(t)
        by_stream_fy[s, y] += amount
        rows_stream_fy[s, y] += 1
        paid[i, t] += amount
        if s == core:
            core_claimed[y] += amount
            core_paid[i, t] += amount
        stream = sc.funding[s]
        if stream.eligible is not None and i not in stream.eligible:
            bad.append(f"ring-fence: {s} paid {amount:.2f} to {i} in {t}, which is not eligible")
    for (i, t), row in alloc.items():
        if abs(paid[i, t] - row["vru_spend"]) > 0.5 + PENNY * len(sc.funding):
            bad.append(f"funding rows for {i} in {t} sum to {paid[i, t]:.2f}, but vru_spend is {row['vru_spend']:.2f}")

    # --- budgets per stream and FY, no carry-over ---------------------------------------------
    min_grant = policy.objective == "min_grant"  # the core grant is the decision, not a limit
    for (s, y), spent in sorted(by_stream_fy.items()):
        stream = sc.funding[s]
        slack = _sum_slack(rows_stream_fy[s, y], spent)
        if stream.kind == "underwriting":
            continue
        if s == core and min_grant:
            continue
        limit = stream.amounts.get(y, 0.0)
        if spent > limit + slack:
            bad.append(f"stream budget: {s} spends {spent:.2f} in {y}, above its {limit:.2f} for that year")
    for s, stream in sc.funding.items():
        if stream.kind != "underwriting":
            continue
        drawn = sum(v for (ss, _y), v in by_stream_fy.items() if ss == s)
        n = sum(v for (ss, _y), v in rows_stream_fy.items() if ss == s)
        if drawn > (stream.cap or 0.0) + _sum_slack(n, drawn):
            bad.append(f"underwriting: {s} draws {drawn:.2f}, above its cap {stream.cap or 0.0:.2f}")
        # It covers spending before the grant is confirmed, and the notice period of a service
        # stopped at confirmation, within the confirmation's financial year.
        confirmed = sc.funding[core].confirmed_month
        for row in fund_rows:
            if row["stream"] != s or row["intervention"] not in sc.interventions:
                continue
            until = None if confirmed is None else periods.add_months(
                confirmed, sc.interventions[row["intervention"]].notice_months
            )
            if until is None or row["period"] >= until or periods.fy_of(row["period"]) != periods.fy_of(confirmed):
                bad.append(f"underwriting: {s} pays {row['intervention']} in {row['period']}, after the grant "
                           f"is confirmed ({confirmed}) and the service's notice period, or outside that year")

    # --- commissioning minimum ----------------------------------------------------------------
    # Core money counts towards the minimum only up to the VRU's part of a service's running cost: exit and
    # start-up costs are for closing and opening, not delivery (unless the policy counts them).
    core_commissioned: dict[str, float] = defaultdict(float)
    for (i, t), row in alloc.items():
        if not sc.interventions[i].is_commissioned:
            continue
        counted = core_paid[i, t]
        if not policy.exit_costs_count_as_commissioned:
            counted = min(counted, row["total_cost"] - row["partner_spend"] + PENNY)
        core_commissioned[periods.fy_of(t)] += max(0.0, counted)
    if policy.commissioning_min_share > 0 and not (min_grant and policy.commissioning_basis == "awarded"):
        for y in fys:
            base = core_claimed[y] if policy.commissioning_basis == "claimed" else sc.funding[core].amounts.get(y, 0.0)
            need = policy.commissioning_min_share * base
            got = core_commissioned[y]
            if got < need - _sum_slack(len(sc.interventions) * 12, need):
                bad.append(f"commissioning minimum: {got:.2f} of {y} core grant went to commissioned services, "
                           f"below the required {need:.2f} ({policy.commissioning_basis} basis)")

    # --- a re-plan: the months up to as-of are the actual spend, to the penny ----------------------
    start = periods.add_months(as_of, 1) if as_of is not None else months[0]  # the first month the plan decides
    if as_of is not None:
        written: dict[tuple[str, str, str], float] = defaultdict(float)
        for row in fund_rows:
            if row["period"] <= as_of:
                written[row["stream"], row["intervention"], row["period"]] += float(row["amount"])
        for key in sorted(set(written) | set(actuals or {})):
            if abs(written.get(key, 0.0) - (actuals or {}).get(key, 0.0)) > PENNY:
                bad.append(f"actuals: {key} is {written.get(key, 0.0):.2f} in the plan, "
                           f"{(actuals or {}).get(key, 0.0):.2f} in the actuals")

    # --- per service: scale, taper, money balance, commitments, closures ----------------------
    for i, item in sc.interventions.items():
        before = 1 if item.running_at_start else 0
        before_scale: float | None = 0.0  # None: the plan sets the first scale
        if item.running_at_start:
            given = item.scale_at_start
            before_scale = None if given is None else min(max(given, item.scale.min), item.scale.max)
        committed_scale = item.committed_scale if item.committed_scale is not None else before_scale
        committed_scale = min(max(committed_scale or 0.0, item.scale.min), item.scale.max)
        variation = item.notice_months if item.variation_notice_months is None else item.variation_notice_months
        year_scale: dict[str, float] = {}
        openings = 0
        for k, t in enumerate(months):
            row = alloc[i, t]
            y = periods.fy_of(t)
            on, scale = int(row["running"]), row["scale"]
            if as_of is not None and t <= as_of:  # what happened: its money is checked against the actuals
                before, before_scale = on, scale
                continue
            cost = monthly_cost(sc, item, t)
            if on not in (0, 1):
                bad.append(f"{i} in {t}: running is {row['running']}, not 0 or 1")
            if on == 1 and scale < item.scale.min - SCALE_EPS:
                bad.append(f"viable scale: {i} runs at {scale} in {t}, below its minimum {item.scale.min}")
            if scale > item.scale.max * on + SCALE_EPS:
                bad.append(f"capacity: {i} runs at {scale} in {t}, above {item.scale.max * on} (running={on})")
            if abs(row["total_cost"] - cost * scale) > _row_slack(cost):
                bad.append(f"{i} in {t}: total_cost {row['total_cost']:.2f} is not the cost at scale {scale} "
                           f"({cost * scale:.2f})")
            if min(row["vru_spend"], row["partner_spend"], row.get("exit_cost", 0.0)) < -PENNY:
                bad.append(f"{i} in {t}: a negative amount")
            pickup = item.pickup if item.pickup is not None else policy.partner_pickup
            partner_max = (1 - vru_share(item, y)) * pickup * cost * scale
            if row["partner_spend"] > partner_max + _row_slack(cost):
                bad.append(f"taper: partners pay {row['partner_spend']:.2f} for {i} in {t}, above "
                           f"{partner_max:.2f} (VRU share {vru_share(item, y):.2f}, pick-up {pickup:.2f})")
            extra = row.get("exit_cost", 0.0) + row.get("startup_cost", 0.0)
            if abs(row["vru_spend"] + row["partner_spend"] - row["total_cost"] - extra) > _row_slack(cost):
                bad.append(f"cost split: for {i} in {t} vru_spend {row['vru_spend']:.2f} + partner_spend "
                           f"{row['partner_spend']:.2f} is not total_cost {row['total_cost']:.2f} + exit/start-up "
                           f"{extra:.2f}")
            if item.committed_until and t <= item.committed_until and on != 1:
                bad.append(f"committed contract: {i} is not running in {t} (committed until {item.committed_until})")
            if item.committed_until and t <= item.committed_until and scale < committed_scale - SCALE_EPS:
                bad.append(f"committed contract: {i} runs at {scale} in {t}, below its committed {committed_scale}")
            granted = min_grant or sc.funding[core].amounts.get(y, 0.0) > 0
            if item.mandatory and granted and on != 1:
                bad.append(f"central capability floor: mandatory {i} is not running in {t}")
            lower = before_scale is not None and scale < before_scale - SCALE_EPS
            if item.protected and item.running_at_start and granted and (on != 1 or lower):
                bad.append(f"protected service {i} is not running, or runs below its earlier scale, in {t}")
            if on == 1 and policy.scale_changes == "yearly":
                if y in year_scale and abs(scale - year_scale[y]) > SCALE_EPS:
                    bad.append(f"yearly scale: {i} runs at {scale} in {t}, but at {year_scale[y]} earlier in {y}")
                year_scale.setdefault(y, scale)
            if before == 1 and on == 1 and lower and periods.add_months(t, -variation) < start:
                bad.append(f"notice of reduction: {i} is reduced in {t}, so notice was due by "
                           f"{periods.add_months(t, -variation)}, before the plan starts")
            closes_next = k + 1 < len(months) and on == 1 and int(alloc[i, months[k + 1]]["running"]) == 0
            closes_now = k == 0 and before == 1 and on == 0
            due = item.exit_cost if (closes_next or closes_now) else 0.0
            carried = row.get("exit_cost", 0.0)
            if abs(carried - due) > PENNY:
                bad.append(f"exit cost: {i} in {t} carries exit cost {carried:.2f}, expected {due:.2f}")
            if before == 1 and on == 0:
                notice_by = periods.add_months(t, -item.notice_months)
                served = item.notice_served is not None and t >= periods.add_months(item.notice_served,
                                                                                    item.notice_months)
                if notice_by < start and not served:
                    bad.append(f"notice: {i} closes from {t}, so notice was due by {notice_by}, before the plan starts")
            if before == 0 and on == 1:
                openings += 1
                if not policy.allow_reopening and (item.running_at_start or openings > 1):
                    bad.append(f"no re-opening: {i} starts again in {t} after closing")
            before, before_scale = on, scale
    return bad
