"""``dualduty who`` and ``dualduty org …``: responsibility over time from the command line.

``dualduty who --org FILE --db URL --school S [--domain D] --date YYYY-MM-DD
[--format text|json]`` answers who answered for a school (and a hazard domain) on a day:
every chain of responsibility (staff, section head, the post in charge, the leader) of
the organisation in force that day — the district file with the changes recorded in the
store laid over it (:class:`~dualduty.records.Timeline`) — and, for every post, package
and in-charge edge on a chain, the change record that made it so, or that the district
file says it.

``dualduty org assign|vacate|join|in-charge|package|end-package … --db URL --org FILE
--actor PERSON --date YYYY-MM-DD [--reason TEXT] [--at TIME]`` records one change to the
organisation, effective from ``--date``, through
:class:`~dualduty.records.OrgChanges`; ``dualduty org history`` lists the recorded
changes. A change that does not fit (:class:`~dualduty.records.TimelineError`) or that
the actor may not make (:class:`~dualduty.records.PermissionDenied`) is printed without
a traceback, writes nothing, and exits 2.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    import datetime as dt
    from collections.abc import Callable

    from .graph import ChainLink, ResponsibilityChain
    from .model import Organisation
    from .records import Snapshot, Timeline
    from .records.base import Entry
    from .records.timeline import Change, ChangeData

__all__ = ["add_org_parser", "add_who_parser", "run_org", "run_who"]

EXIT_OK = 0

#: Chain levels and bases in Chinese, beside the English values the JSON carries.
_LEVEL_ZH = {
    "staff": "机关干部",
    "section_head": "科室负责人",
    "in_charge": "分管领导",
    "leader": "组长",
}
_BASIS_ZH = {
    "section_package": "科室分包",
    "leader_package": "领导分包",
    "business_line": "管业务必管安全",
}
_VACANT = "空缺"
_FROM_FILE = "组织文件"


# -- dualduty who ------------------------------------------------------------------------------


def add_who_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``who`` sub-command to *sub*."""
    from ._cli_args import iso_date

    parser: argparse.ArgumentParser = sub.add_parser(
        "who",
        help="who answered for a school (and a hazard domain) on a date, and the records "
        "that made it so",
        description="Print every chain of responsibility for a school on a date — staff, "
        "section head, the post in charge, the leader, each with its post, unit and person "
        "(空缺 when vacant) — from the district file with the organisation changes recorded "
        "in the store, and for every post, package and in-charge edge on a chain the change "
        "record that made it so (or that the district file says it). Exit 0, or 2 on an "
        "unknown school or domain, a bad date, or a file or store that cannot be read.",
    )
    parser.add_argument("--org", required=True, metavar="FILE", help="the district file")
    parser.add_argument(
        "--db", required=True, metavar="URL", help="the store: sqlite:///path.db (read only)"
    )
    parser.add_argument("--school", required=True, metavar="SCHOOL", help="the school's id")
    parser.add_argument(
        "--domain",
        metavar="DOMAIN",
        help="a hazard domain (fire, food, …): add the sections whose business covers it",
    )
    parser.add_argument(
        "--date", type=iso_date, required=True, metavar="DATE", help="the day, YYYY-MM-DD"
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    return parser


def run_who(ns: argparse.Namespace) -> int:
    """Run ``dualduty who`` from parsed arguments; return the exit code."""
    from .io import load
    from .records import Timeline
    from .storage import open_store

    org = load(ns.org)
    with open_store(ns.db, readonly=True) as store:
        line = Timeline.from_store(org, store)
    result = who_json(line, ns.school, ns.date, ns.domain)
    if ns.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _who_text(result, sys.stdout)
    return EXIT_OK


def who_json(
    line: Timeline, school: str, day: dt.date, domain: str | None = None
) -> dict[str, Any]:
    """Who answered for *school* (and *domain*) on *day*, as JSON-ready built-in types.

    :raises ~dualduty.graph.UnknownId: for a school or hazard domain the organisation
        does not have.
    """
    from .graph import ChainBasis, ChainLevel

    snapshot = line.snapshot(day)
    graph = snapshot.graph()
    chains = graph.chains(school, domain)  # raises UnknownId for an unknown school or domain
    name = _target_name(snapshot.org, school)
    domain_name = None
    if domain is not None:  # known: chains() refuses an unknown domain
        domain_name = snapshot.org.hazard_domain_registry()[domain].name
    by_seq = {c.seq: c for c in line.changes}
    people = _names(line)
    out_chains = []
    for chain in chains:
        subjects: dict[str, None] = {}
        if chain.package is not None:
            subjects[f"package:{chain.package.id}"] = None
        for link in chain.links:
            subjects[f"post:{link.post.id}"] = None
            if link.level is ChainLevel.IN_CHARGE and chain.basis is not ChainBasis.LEADER_PACKAGE:
                subjects[f"in_charge:{link.post.id}"] = None
            if link.person is not None and f"person:{link.person.id}" in snapshot.basis:
                subjects[f"person:{link.person.id}"] = None
        made_by = [_made_by(s, snapshot, by_seq, people) for s in subjects]
        out_chains.append(_chain_json(chain, made_by))
    return {
        "school": school,
        "school_name": name,
        "domain": domain,
        "domain_name": domain_name,
        "date": day.isoformat(),
        "chains": out_chains,
    }


def _has_school(org: Organisation, school: str) -> bool:
    return any(s.id == school for s in org.schools)


def _target_name(org: Organisation, target: str) -> str:
    """The name of a school, or of a place (a school's own plan)."""
    found = next((s.name for s in org.schools if s.id == target), None)
    return found or next((p.name for p in org.places if p.id == target), target)


def _names(line: Timeline) -> dict[str, str]:
    """Every person's name: the district file's and of everyone who joined by a record."""
    from .records import PersonJoined

    names = {p.id: p.name for p in line.org.people}
    for change in line.changes:
        if isinstance(change.data, PersonJoined):
            names.setdefault(change.data.person, change.data.name)
    return names


def _made_by(
    subject: str, snapshot: Snapshot, by_seq: dict[int, Change], people: dict[str, str]
) -> dict[str, Any]:
    seq = snapshot.basis.get(subject)
    if seq is None:
        return {"subject": subject, "source": "file"}
    change = by_seq[seq]
    return {"subject": subject, "source": "record", **change_json(change, people)}


def change_json(change: Change, people: dict[str, str] | None = None) -> dict[str, Any]:
    """One recorded change as JSON-ready built-in types: its record and what it sets."""
    import attrs

    fields = attrs.asdict(change.data, recurse=False)
    fields.pop("effective", None)
    fields.pop("reason", None)
    data = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
    return {
        "seq": change.seq,
        "kind": change.kind,
        "effective": change.effective.isoformat(),
        "actor": change.actor,
        "actor_name": (people or {}).get(change.actor),
        "at": change.at.isoformat(),
        "reason": change.data.reason,
        "data": data,
    }


def _link_json(link: ChainLink) -> dict[str, Any]:
    return {
        "level": link.level.value,
        "post": link.post.id,
        "title": link.post.title,
        "unit": link.unit.id,
        "unit_name": link.unit.name,
        "person": link.person.id if link.person is not None else None,
        "name": link.person.name if link.person is not None else None,
        "vacant": link.person is None,
        "reason": link.reason,
        "clause": link.clause,
    }


def _chain_json(chain: ResponsibilityChain, made_by: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "basis": chain.basis.value,
        "package": chain.package.id if chain.package is not None else None,
        "unit": chain.unit.id if chain.unit is not None else None,
        "unit_name": chain.unit.name if chain.unit is not None else None,
        "duties": [{"id": d.id, "clause": d.clause} for d in chain.duties],
        "complete": chain.complete,
        "missing": [level.value for level in chain.missing],
        "links": [_link_json(link) for link in chain.links],
        "made_by": made_by,
    }


def _who_text(result: dict[str, Any], out: Any) -> None:
    school = f"{result['school_name']} ({result['school']})"
    if result["domain"] is not None:
        school += f", {result['domain_name']} ({result['domain']})"
    chains = result["chains"]
    print(
        f"{school} on {result['date']}: {len(chains)} chain(s) of responsibility (责任链)",
        file=out,
    )
    if not chains:
        print("  nobody: no package of the school is in force that day", file=out)
    for n, chain in enumerate(chains, 1):
        basis = chain["basis"].replace("_", " ")
        head = f"{n}. {basis} ({_BASIS_ZH[chain['basis']]})"
        if chain["package"] is not None:
            head += f" {chain['package']}"
        if chain["unit"] is not None:
            head += f": {chain['unit_name']} ({chain['unit']})"
        if chain["duties"]:
            head += " [" + ", ".join(d["clause"] for d in chain["duties"]) + "]"
        print(head, file=out)
        for link in chain["links"]:
            who = _VACANT + " (vacant)" if link["vacant"] else f"{link['name']} ({link['person']})"
            level = f"{link['level']:<12} {_pad(_LEVEL_ZH[link['level']], 10)}"
            print(
                f"   {level} {link['title']} ({link['post']}), {link['unit_name']}: {who}",
                file=out,
            )
        if chain["missing"]:
            print(f"   incomplete: no holder at {', '.join(chain['missing'])}", file=out)
        print("   made so by", file=out)
        from_file = [m["subject"] for m in chain["made_by"] if m["source"] == "file"]
        for made in chain["made_by"]:
            if made["source"] != "record":
                continue
            actor = made["actor"] + (f" {made['actor_name']}" if made["actor_name"] else "")
            line = (
                f"     record {made['seq']} {made['subject']}: {made['kind']}, effective "
                f"{made['effective']}, recorded {made['at']} by {actor}"
            )
            if made["reason"]:
                line += f" — {made['reason']}"
            print(line, file=out)
        if from_file:
            print(f"     district file ({_FROM_FILE}): {', '.join(from_file)}", file=out)


def _pad(text: str, width: int) -> str:
    """*text* padded with spaces to *width* columns, a wide (Chinese) character taking two."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 0)


# -- dualduty org ------------------------------------------------------------------------------


def _ids(text: str) -> tuple[str, ...]:
    """A comma-separated list of ids (empty: none)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_org_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``org`` sub-command and its actions to *sub*."""
    import argparse

    from ._cli_args import aware_time, iso_date

    parser: argparse.ArgumentParser = sub.add_parser(
        "org",
        help="record changes to the organisation (posts, 分管, packages), effective from a date",
        description="Record one change to the organisation in the store, effective from "
        "--date, as the acting person (the leader, a leading-group member or the office); "
        "or list the recorded changes (history). Exit 0 when recorded, 2 when refused (who "
        "may not, or the organisation would not be valid on that date) or the input is bad; "
        "a refused change writes nothing.",
    )
    actions = parser.add_subparsers(dest="org_action", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", required=True, metavar="URL", help="the store: sqlite:///path.db")
    common.add_argument("--org", required=True, metavar="FILE", help="the district file")
    common.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    change = argparse.ArgumentParser(add_help=False, parents=[common])
    change.add_argument("--actor", required=True, metavar="PERSON", help="who records (person id)")
    change.add_argument(
        "--date",
        type=iso_date,
        required=True,
        metavar="DATE",
        help="the effective date: the first day the change is in force",
    )
    change.add_argument("--reason", default="", help="why (调动, 退休, 分工调整, …)")
    change.add_argument(
        "--at", type=aware_time, metavar="TIME", help="when recorded, ISO 8601 with an offset"
    )

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = actions.add_parser(
            name, help=help_, description=help_, parents=[change]
        )
        return p

    p = add("assign", "from --date, a person holds a post (任职)")
    p.add_argument("--post", required=True, help="the post's id")
    p.add_argument("--person", required=True, help="the person's id (joined by then)")

    p = add("vacate", "from --date, a post is vacant (空缺)")
    p.add_argument("--post", required=True, help="the post's id")

    p = add("join", "from --date, a new person is in the organisation (调入)")
    p.add_argument("--person", required=True, help="their id (new)")
    p.add_argument("--name", required=True, help="their name")
    p.add_argument("--email", help="their e-mail address")
    p.add_argument("--phone", help="their phone number")

    p = add("in-charge", "from --date, a leading-group post is in charge of exactly these units")
    p.add_argument("--post", required=True, help="the leading-group post's id")
    p.add_argument(
        "--units", required=True, type=_ids, metavar="U1,U2", help="the units (empty: none)"
    )

    p = add("package", "from --date, a package (分包) is held by a holder with these schools")
    p.add_argument("--package", required=True, help="the package's id (new or in force)")
    p.add_argument("--holder", required=True, help="a section's unit id or a leading-group post id")
    p.add_argument(
        "--schools", type=_ids, default=(), metavar="S1,S2", help="its schools from --date"
    )
    p.add_argument(
        "--places", type=_ids, default=(), metavar="P1,P2", help="its places (a school's plan)"
    )
    p.add_argument(
        "--staff",
        type=_ids,
        default=(),
        metavar="POST1,POST2",
        help="the holder section's staff posts who make the visits (default: all its staff)",
    )

    p = add("end-package", "from --date, a package is no longer in force")
    p.add_argument("--package", required=True, help="the package's id")

    history = actions.add_parser(
        "history",
        parents=[common],
        help="list the recorded changes, by effective date",
        description="List the recorded changes to the organisation, by effective date: "
        "what changed, who recorded it and when, and why.",
    )
    history.add_argument(
        "--subject",
        metavar="SUBJECT",
        help="only the changes about post:ID, package:ID, unit:ID, person:ID or school:ID",
    )
    return parser


def run_org(ns: argparse.Namespace) -> int:
    """Run ``dualduty org ACTION`` from parsed arguments; return the exit code."""
    from ._cli_records import _text
    from .io import load
    from .records import Recorder
    from .storage import open_store

    org = load(ns.org)
    if ns.org_action == "history":
        with open_store(ns.db, readonly=True) as store:
            result = _history(org, store, ns.subject)
        if ns.format == "json":
            print(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            _history_text(result, sys.stdout)
        return EXIT_OK
    with open_store(ns.db) as store:
        recorder = Recorder(store, org)
        entry = recorder.org_changes.record(_change(ns), actor=ns.actor, at=ns.at)
        line = recorder.org_changes.timeline()
    result = _recorded(ns.org_action, entry, line)
    if ns.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _text(result, sys.stdout)
    return EXIT_OK


def _recorded(action: str, entry: Entry, line: Timeline) -> dict[str, Any]:
    from .reports.pack import describe_changes

    change = next(c for c in line.changes if c.seq == entry.seq)
    what = describe_changes(line)[entry.seq]
    out: dict[str, Any] = {
        "action": action,
        "summary": f"recorded {change.seq}: {what}, effective {change.effective.isoformat()}",
        "what": what,
    }
    out.update(change_json(change, _names(line)))
    return out


def _change(ns: argparse.Namespace) -> ChangeData:
    """The change an ``org`` action records, from its parsed options; a malformed id is
    refused naming it."""
    from .records.timeline import (
        InChargeChanged,
        PackageChanged,
        PackageEnded,
        PersonJoined,
        PostAssigned,
        TimelineError,
    )

    changes: dict[str, Callable[[], ChangeData]] = {
        "assign": lambda: PostAssigned(ns.post, ns.person, ns.date, ns.reason),
        "vacate": lambda: PostAssigned(ns.post, None, ns.date, ns.reason),
        "join": lambda: PersonJoined(ns.person, ns.name, ns.date, ns.phone, ns.email, ns.reason),
        "in-charge": lambda: InChargeChanged(ns.post, ns.units, ns.date, ns.reason),
        "package": lambda: PackageChanged(
            ns.package, ns.holder, ns.date, ns.schools, ns.places, ns.staff, ns.reason
        ),
        "end-package": lambda: PackageEnded(ns.package, ns.date, ns.reason),
    }
    try:
        return changes[ns.org_action]()
    except ValueError as exc:
        raise TimelineError(f"org {ns.org_action}: {exc}") from None


_SUBJECT_KINDS = ("post", "package", "unit", "person", "school")


def _history(org: Organisation, store: Any, subject: str | None) -> dict[str, Any]:
    from .errors import DualdutyError
    from .records import Timeline
    from .reports.pack import describe_changes

    line = Timeline.from_store(org, store)
    if subject is None:
        changes = line.changes
    else:
        kind, sep, ident = subject.partition(":")
        if not sep or kind not in _SUBJECT_KINDS or not ident:
            raise DualdutyError(
                f"--subject {subject}: give post:ID, package:ID, unit:ID, person:ID or school:ID"
            )
        if not _known(line, kind, ident):
            raise DualdutyError(f"--subject {subject}: no {kind} {ident!r} in this organisation")
        changes = line.history(subject)
    people = _names(line)
    texts = describe_changes(line)
    return {
        "subject": subject,
        "changes": [{"what": texts[c.seq], **change_json(c, people)} for c in changes],
    }


def _known(line: Timeline, kind: str, ident: str) -> bool:
    """Whether the district file or a recorded change knows *ident* as a *kind*."""
    from .records import PackageChanged

    org = line.org
    if kind == "post":
        return any(p.id == ident for _u, p in org.iter_posts())
    if kind == "unit":
        return any(u.id == ident for u in org.units)
    if kind == "school":
        return _has_school(org, ident) or any(p.id == ident for p in org.places)
    if kind == "person":
        return ident in _names(line)
    return any(p.id == ident for p in org.packages) or any(
        isinstance(c.data, PackageChanged) and c.data.package == ident for c in line.changes
    )


def _history_text(result: dict[str, Any], out: Any) -> None:
    changes = result["changes"]
    about = f" about {result['subject']}" if result["subject"] else ""
    print(f"{len(changes)} recorded change(s) to the organisation{about} (责任变更)", file=out)
    for c in changes:
        actor = c["actor"] + (f" {c['actor_name']}" if c["actor_name"] else "")
        print(f"  {c['effective']}  record {c['seq']} {c['kind']}: {c['what']}", file=out)
        tail = f"           recorded {c['at']} by {actor}"
        if c["reason"]:
            tail += f" — {c['reason']}"
        print(tail, file=out)
