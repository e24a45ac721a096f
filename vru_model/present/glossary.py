"""The words a partner meets in the reports, in plain English, and the links to them.

One list serves the glossary page (outputs/glossary.html) and the links: the first time a page uses a term,
it links to its entry there, so nobody has to know what "EVPI" or "taper" means before reading on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    slug: str  # the entry's anchor on the glossary page
    term: str
    meaning: str
    pattern: str  # how the term is written in running text (a regular expression, matched as whole words)


TERMS: tuple[Term, ...] = (
    Term("social-value", "Social value",
         "The violence a service is expected to prevent, priced in pounds with the Home Office's unit costs of "
         "crime and weighted down where the evidence is weak. Many inputs are illustrative assumptions, so read it "
         "as a way of comparing plans, not as cash.", r"social value"),
    Term("todays-money", "In today's money (discounted)",
         "Value later in the plan counts for a little less than value now (3.5% a year, the HM Treasury Green Book "
         "rate). The model weighs plans by this discounted value, net of exit costs and the disruption weight; the "
         "reports call it “value net of costs, in today's money”.",
         r"(?:net value|value net of costs)?,? ?in today's money|discounted(?: objective)?"),
    Term("core-grant", "Core grant",
         "The Home Office Serious Violence Fund grant to the VRU: the money the grant conditions are about.",
         r"core grant"),
    Term("commissioned", "Commissioned services and the commissioning minimum",
         "Services the VRU buys from providers, as opposed to its own staff. The grant conditions require at least "
         "a set share of the core grant (20% in the shipped scenarios) to go to them: the commissioning minimum.",
         r"commissioning (?:minimum|rule)|commissioned (?:services?|share|spend|interventions?)"),
    Term("headroom", "Margin above the minimum (headroom)",
         "How far a year's commissioned spend is above the commissioning minimum, in pounds. Below zero the "
         "condition is not met.", r"headroom|margin above the minimum"),
    Term("central-capability-floor", "Core functions of the unit (central capability floor)",
         "The central team and the products the grant requires every year (strategic needs assessment, response "
         "strategy, annual report, evaluation). They must run while there is a grant, so a plan cannot close them.",
         r"central capability floor|core functions of the unit"),
    Term("taper", "Mainstreaming and taper",
         "A partner (a local authority, a health commissioner) takes over a service's cost step by step; the "
         "VRU's share of the cost falls year by year (it tapers) until the partner pays it all.",
         r"taper(?:s|ing|ed)?|mainstream(?:ing|ed)?"),
    Term("ring-fenced", "Ring-fenced funding",
         "Money that may be spent only on named services, such as the Youth Justice Board's funding for parenting "
         "peer support.", r"ring-fenced?|ring-fences?"),
    Term("notice", "Notice and exit costs",
         "A contract can only end after its notice period, so notice must be served months before a service "
         "closes; cutting a contract's scale needs notice too (a notice of variation). Closing also costs money to "
         "move service users to other support: the exit (transition) cost.",
         r"(?:serve|served) notice|notice (?:period|of variation)|exit (?:\(transition\) )?costs?"),
    Term("design-strength", "Scale and design strength",
         "How much of a service runs, as a percentage of what it was designed for (100%). Some services can run "
         "below it, down to a minimum, or above it where demand is high.", r"design strength|scale"),
    Term("disruption-weight", "Disruption weight (disruption penalty)",
         "What the model counts against a plan for each participant who loses support when a service closes or is "
         "cut. It is a weight, not money: nobody pays it, but it makes the plan close a service only when the money "
         "does clearly more elsewhere. Figures “net of disruption” have it taken off.",
         r"disruption (?:weight|penalty)"),
    Term("penalty-weights", "Underwriting and liability penalty weights",
         "What the cliff-edge plan counts against drawing on the OPCC underwriting or leaving an unfunded "
         "liability, so it uses them only as a last resort. Like the disruption weight, a weight, not money.",
         r"(?:underwriting|liability) penalt(?:y|ies)(?: weights?)?|penalty weights?"),
    Term("expected", "Expected (over the grant outcomes)",
         "For a cliff-edge plan: each grant outcome's figure weighted by its chance and added up, e.g. £10m with a "
         "50% chance and £0 with a 50% chance is £5m expected.", r"expected(?: value)?"),
    Term("underwriting", "OPCC underwriting",
         "The Office of the Police and Crime Commissioner promises to pay for services, up to a cap, while the "
         "grant is not yet confirmed, as it did in 2020/21. In the model it is a last resort.",
         r"underwrit(?:es|ing|e|ten)"),
    Term("unfunded-liability", "Unfunded liability",
         "Spending that neither the grant nor the underwriting covers: a bill with nobody to pay it. A plan "
         "avoids it wherever it can.", r"unfunded liabilit(?:y|ies)"),
    Term("cliff-edge", "Cliff edge and the cliff-edge plan",
         "Funding is guaranteed only to the end of March and next year's grant is confirmed late. The cliff-edge "
         "plan decides what to do before the grant is known so that it works whichever grant arrives.",
         r"cliff[- ]edge"),
    Term("here-and-now", "Here-and-now plan",
         "The decisions that must be taken before the grant is confirmed (which services to run, which notices "
         "to serve). They are the same whatever grant then arrives.", r"here-and-now(?: plan| decisions)?"),
    Term("no-regret-core", "No-regret core",
         "The services that run all year in every possible grant outcome: safe to commit to now.",
         r"no-regret core"),
    Term("evpi", "What knowing the grant early would be worth (EVPI)",
         "The expected value of perfect information: how much more value the plan would deliver if the grant "
         "were known in April instead of in the confirmation month. It is an upper limit on what earlier "
         "confirmation is worth.", r"EVPI"),
    Term("vss", "What planning for every outcome gains (VSS)",
         "The value of the stochastic solution: how much better the cliff-edge plan does than a plan made for "
         "the average grant, once the real grant is known.", r"VSS"),
    Term("shadow-price", "Shadow price",
         "What one more pound of a funding stream, or one rule loosened, would add to the plan's value, with the "
         "same services running. A price of zero means the money or the rule is not what holds the plan back.",
         r"shadow prices?"),
    Term("rule-cost", "Cost of a rule",
         "How much more value the best plan would deliver without that rule, found by planning again without "
         "it.", r"what (?:a|each) rule costs|cost of (?:a|each) rule"),
    Term("frontier", "Funding frontier",
         "The plan worked out again at many grant levels, from nothing to half as much again, to show where "
         "each service closes.", r"funding frontier"),
    Term("lawful-plan", "A lawful plan",
         "A plan that meets every grant condition and contract rule of the scenario at once. “No possible plan” "
         "(infeasible) means the rules contradict each other, and the report says why.",
         r"lawful plan|infeasible"),
    Term("illustrative", "Illustrative assumption",
         "A figure we chose because no public source gives it; each one says why in the scenario file.",
         r"illustrative(?: assumptions?)?"),
    Term("vru", "VRU", "Violence Reduction Unit: a multi-agency unit funded by the Home Office Serious Violence "
         "Fund.", r"VRU"),
    Term("opcc", "OPCC", "Office of the Police and Crime Commissioner: the accountable body for the grant.",
         r"OPCC"),
    Term("yjb", "YJB and YOS", "Youth Justice Board and Youth Offending Services (seven in the West Midlands).",
         r"YJB|YOS"),
    Term("iris", "IRIS", "A GP-based domestic abuse identification and referral programme.", r"IRIS"),
    Term("idva", "IDVA", "Independent domestic violence adviser.", r"IDVAs?"),
    Term("mvp", "MVP", "Mentors in Violence Prevention, a schools programme.", r"MVP"),
    Term("aces", "ACEs", "Adverse childhood experiences.", r"ACEs"),
)

ACRONYMS = {"evpi", "vss", "vru", "opcc", "yjb", "iris", "idva", "mvp", "aces"}  # matched case-sensitively
SKIP_INSIDE = {"a", "header", "footer", "nav", "h1", "h2", "h3", "h4", "h5", "h6", "title", "style", "script",
               "summary", "button", "label"}
_TAG = re.compile(r"(<[^>]*>)")
_NAME = re.compile(r"</?\s*([a-zA-Z0-9]+)")


def _compiled() -> list[tuple[Term, re.Pattern[str]]]:
    out = []
    for t in TERMS:
        flags = 0 if t.slug in ACRONYMS else re.IGNORECASE
        out.append((t, re.compile(rf"(?<![\w-])(?:{t.pattern})(?![\w-])", flags)))
    return out


COMPILED = _compiled()


WEIGHT_NOTES = re.compile(r" ?\((?:a weight|weights), not money\)")


def limit_weight_notes(html: str, keep: int = 2) -> str:
    """The reminder that a weight is not money, on its first KEEP uses on a page only: the glossary's disruption
    weight entry says it once for all, and a page that repeats it in every reason reads as noise."""
    seen = 0

    def once(m: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return m.group(0) if seen <= keep else ""

    return WEIGHT_NOTES.sub(once, html)


def link_terms(html: str, glossary_href: str) -> str:
    """Link the first use of each glossary term in the page's text to its entry (never inside a link, a heading,
    a summary or an attribute). `html` is trusted, already escaped HTML; the links are added to its text only."""
    done: set[str] = set()
    open_skips: list[str] = []
    parts = _TAG.split(html)
    for k, part in enumerate(parts):
        if not part:
            continue
        if part.startswith("<"):
            m = _NAME.match(part)
            name = m.group(1).lower() if m else ""
            if name in SKIP_INSIDE and not part.endswith("/>"):
                if part.startswith("</"):
                    if name in open_skips:
                        del open_skips[len(open_skips) - 1 - open_skips[::-1].index(name)]
                else:
                    open_skips.append(name)
            continue
        if open_skips:
            continue
        parts[k] = _link_text(part, glossary_href, done)
    return "".join(parts)


def _link_text(text: str, href: str, done: set[str]) -> str:
    """Link the first match of every term not linked yet, earliest first, never overlapping."""
    found = []
    for term, pattern in COMPILED:
        if term.slug in done:
            continue
        m = pattern.search(text)
        if m:
            found.append((m.start(), m.end(), term))
    taken: list[tuple[int, int, Term]] = []
    for start, end, term in sorted(found, key=lambda f: (f[0], -f[1])):
        if all(end <= s or start >= e for s, e, _ in taken):
            taken.append((start, end, term))
            done.add(term.slug)
    for start, end, term in sorted(taken, key=lambda f: -f[0]):
        link = f'<a class="gloss" href="{href}#{term.slug}" title="In the glossary: {term.term}">{text[start:end]}</a>'
        text = text[:start] + link + text[end:]
    return text
