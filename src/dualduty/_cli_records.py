"""``dualduty record …``: the common actions of the records layer from the command line.

Every sub-command opens the store (``--db``), loads the organisation (``--org``) whose
posts decide who may act, runs one command of :class:`~dualduty.records.Recorder` as
``--actor`` and prints what the record now says (``--format json`` for programs). A
refused command (:class:`~dualduty.records.PermissionDenied`,
:class:`~dualduty.records.InvalidTransition`) is printed without a traceback, writes
nothing, and exits 2 like every other bad input.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from .records import ActivityState, HazardState, IncidentState, Recorder

__all__ = ["add_ledger_parser", "add_record_parser", "run_ledger", "run_record"]

EXIT_OK = 0


def _common() -> argparse.ArgumentParser:
    import argparse

    from ._cli_args import aware_time

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", required=True, metavar="URL", help="the store: sqlite:///path.db")
    common.add_argument(
        "--org", required=True, metavar="FILE", help="the district file (who may do what)"
    )
    common.add_argument("--actor", required=True, metavar="PERSON", help="who acts (person id)")
    common.add_argument(
        "--at",
        type=aware_time,
        metavar="TIME",
        help="when, ISO 8601 with an offset (default: now)",
    )
    common.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    return common


def add_record_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``record`` sub-command and its actions to *sub*."""
    from ._cli_args import aware_time, iso_date

    parser: argparse.ArgumentParser = sub.add_parser(
        "record",
        help="record what happened: inspections, hazards, incidents, activities, meetings",
        description="Record one action in the store as the acting person. Exit 0 when it "
        "was recorded, 2 when it was refused (who may not, or it does not fit what the "
        "record says) or the input is bad; a refused action writes nothing.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = _common()

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = actions.add_parser(
            name, help=help_, description=help_, parents=[common]
        )
        return p

    p = add("inspection", "record an inspection of a school (督查), scheduled or ad hoc")
    p.add_argument("school", help="the school's id")
    p.add_argument(
        "--holder", required=True, help="the package holder it counts for (post or unit id)"
    )
    p.add_argument("--date", type=iso_date, required=True, metavar="DATE", help="the day inspected")
    p.add_argument(
        "--inspector",
        action="append",
        metavar="PERSON",
        help="who went (repeatable; default: the actor)",
    )
    p.add_argument("--visit", metavar="ID", help="the scheduled visit it carries out")
    p.add_argument("--unannounced", action="store_true", help="an unannounced visit (暗访)")
    p.add_argument(
        "--finding",
        action="append",
        default=[],
        metavar="TEXT[=SEVERITY]",
        help="a finding; with =general or =major it opens a hazard (repeatable)",
    )
    p.add_argument("--summary", default="", help="a summary")
    p.add_argument("--id", dest="inspection_id", metavar="ID", help="its id (default: new)")

    p = add("hazard", "record a hazard found at a school (隐患); a major one alerts the office")
    p.add_argument("school", help="the school's id")
    p.add_argument("description", help="what was found")
    p.add_argument("--severity", choices=["general", "major"], default="general")
    p.add_argument("--id", dest="hazard_id", metavar="ID", help="the hazard's id (default: new)")
    p.add_argument("--inspection", metavar="ID", help="the inspection that found it")

    p = add("register", "the office registers a hazard (登记; a major one is listed, 挂牌督办)")
    p.add_argument("hazard", help="the hazard's id")

    p = add("plan", "record a hazard's rectification plan (整改方案)")
    p.add_argument("hazard", help="the hazard's id")
    p.add_argument("--measure", action="append", required=True, help="a measure (repeatable)")
    p.add_argument("--responsible", required=True, metavar="PERSON", help="who answers for it")
    p.add_argument("--time-limit", type=iso_date, required=True, metavar="DATE")
    p.add_argument("--funds", type=int, default=0, metavar="YUAN", help="funds in yuan (0)")
    p.add_argument(
        "--safeguard", action="append", default=[], help="an interim safeguard (repeatable)"
    )

    p = add("rectify", "report a hazard's rectification done (整改完成), for re-inspection")
    p.add_argument("hazard", help="the hazard's id")
    p.add_argument("--text", default="整改完成", help="what was done")

    p = add("accept", "re-inspect a rectification (复查) and accept it, or --reject it")
    p.add_argument("hazard", help="the hazard's id")
    p.add_argument("--reject", action="store_true", help="send it back to rectifying")
    p.add_argument("--notes", default="", help="the re-inspection's notes")

    p = add("close", "close an accepted hazard (销号); only the office closes a major one")
    p.add_argument("hazard", help="the hazard's id")
    p.add_argument("--notes", default="", help="notes")

    p = add("escalate", "the office escalates every overdue hazard one level up its chain")

    classes = [
        "social_safety", "accident", "public_health", "natural_disaster",
        "network_security", "exam_safety", "public_opinion",
    ]  # fmt: skip
    p = add("incident", "record an incident at a school (事故/突发事件); the office is told")
    p.add_argument("school", help="the school's id")
    p.add_argument("category", choices=classes, help="its class")
    p.add_argument("title", help="what happened, in a line")
    p.add_argument(
        "--occurred", type=aware_time, required=True, metavar="TIME", help="when it happened"
    )
    p.add_argument("--deaths", type=int, default=0, metavar="N")
    p.add_argument("--injuries", type=int, default=0, metavar="N", help="serious injuries")
    p.add_argument("--loss", type=int, default=0, metavar="YUAN", help="direct loss in yuan")
    p.add_argument(
        "--discovered-by",
        metavar="WHO",
        help="it came to light from others (media, superiors), not from the school's side",
    )
    p.add_argument("--description", default="", help="more detail")
    p.add_argument("--id", dest="incident_id", metavar="ID", help="its id (default: new)")

    p = add(
        "incident-report", "report on an incident: initial (初报), follow_up (续报), final (终报)"
    )
    p.add_argument("incident", help="the incident's id")
    p.add_argument("stage", choices=["initial", "follow_up", "final"])
    p.add_argument("--text", required=True, help="the report")
    p.add_argument("--deaths", type=int, metavar="N", help="deaths as now known")
    p.add_argument("--injuries", type=int, metavar="N", help="serious injuries as now known")
    p.add_argument("--loss", type=int, metavar="YUAN", help="direct loss as now known")

    p = add("incident-determine", "record the finding on responsibility (责任认定)")
    p.add_argument("incident", help="the incident's id")
    p.add_argument(
        "--responsible", choices=["yes", "no"], required=True, help="was responsibility found"
    )
    p.add_argument("--post", action="append", default=[], help="a post held responsible")
    p.add_argument("--text", default="", help="the finding")

    p = add("activity", "register an activity a unit hosts (谁主办谁负责: the host answers for it)")
    p.add_argument("host", help="the host unit's id")
    p.add_argument("title", help="what it is")
    p.add_argument(
        "--date", type=iso_date, required=True, metavar="DATE", help="the day it is held"
    )
    p.add_argument(
        "--participants", type=int, required=True, metavar="N", help="how many take part"
    )
    p.add_argument("--school", metavar="ID", help="the school it is held at, if any")
    p.add_argument("--venue", help="where")
    p.add_argument("--id", dest="activity_id", metavar="ID", help="its id (default: new)")

    p = add("activity-plan", "file an activity's safety plan (安全预案)")
    p.add_argument("activity", help="the activity's id")
    p.add_argument("summary", help="the plan in a sentence")
    p.add_argument("--measure", action="append", default=[], help="a measure (repeatable)")
    p.add_argument("--emergency-plan", action="store_true", help="it includes an emergency plan")

    p = add("activity-approve", "approve an activity, or with --plan its safety plan")
    p.add_argument("activity", help="the activity's id")
    p.add_argument("--plan", action="store_true", help="approve the safety plan as last filed")
    p.add_argument("--notes", default="", help="notes")

    p = add("activity-supervise", "record who supervised an activity on the day")
    p.add_argument("activity", help="the activity's id")
    p.add_argument(
        "--supervisor", action="append", metavar="PERSON", help="who (repeatable; default: actor)"
    )
    p.add_argument("--notes", default="", help="notes")

    p = add("meeting", "record a meeting held: a topic study, a coordination or summary meeting")
    p.add_argument("kind", choices=["topic_study", "coordination", "summary"])
    p.add_argument("unit", help="the unit that held it")
    p.add_argument("topic", help="what it was about")
    p.add_argument(
        "--date", type=iso_date, required=True, metavar="DATE", help="the day it was held"
    )
    p.add_argument(
        "--attendee", action="append", required=True, metavar="PERSON", help="repeatable"
    )
    p.add_argument("--scheduled", metavar="ID", help="the scheduled meeting it carries out")
    p.add_argument("--minutes", default="", help="the minutes (纪要)")
    p.add_argument("--id", dest="meeting_id", metavar="ID", help="its id (default: new)")

    p = add("pledge", "sign the year's responsibility pledge (责任状) of the actor's post")
    p.add_argument("post", help="the post it is signed for (the actor holds it)")
    p.add_argument("--year", type=int, required=True, help="the year it covers")
    p.add_argument(
        "--with",
        dest="counterpart",
        required=True,
        metavar="POST",
        help="the post it is signed with (the leader, the deputy in charge)",
    )
    p.add_argument("--date", type=iso_date, metavar="DATE", help="the day signed (default: today)")
    p.add_argument("--text", default="", help="its targets, in words")

    p = add("training", "record a safety training of staff (安全教育培训) held by a unit")
    p.add_argument("unit", help="the unit that held it")
    p.add_argument("topic", help="what was studied")
    p.add_argument(
        "--date", type=iso_date, required=True, metavar="DATE", help="the day it was held"
    )
    p.add_argument("--hours", type=float, required=True, help="how long, in hours")
    p.add_argument("--trainee", action="append", required=True, metavar="PERSON", help="repeatable")
    p.add_argument("--id", dest="training_id", metavar="ID", help="its id (default: new)")

    p = add("targets", "put a section's annual targets on record, school safety among them")
    p.add_argument("unit", help="the section")
    p.add_argument("--year", type=int, required=True, help="the year the targets are for")
    p.add_argument(
        "--safety",
        action="append",
        default=[],
        metavar="TEXT",
        help="a school-safety target (repeatable; none: safety is not among them)",
    )
    p.add_argument("--target", action="append", default=[], metavar="TEXT", help="another target")
    p.add_argument("--date", type=iso_date, metavar="DATE", help="the day set (default: today)")
    return parser


def run_record(ns: argparse.Namespace) -> int:
    """Run ``dualduty record ACTION`` from parsed arguments; return the exit code."""
    from .io import load
    from .records import Recorder
    from .storage import open_store

    org = load(ns.org)
    with open_store(ns.db) as store:
        # a record entered late (--at) is checked against the organisation in force then
        at = getattr(ns, "at", None)
        recorder = Recorder(store, org, clock=None if at is None else (lambda: at))
        result = _ACTIONS[ns.action](recorder, ns)
    if ns.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _text(result, sys.stdout)
    return EXIT_OK


def _text(result: dict[str, Any], out: Any) -> None:
    print(result["summary"], file=out)
    for key, value in result.items():
        if key in ("summary", "action") or value in (None, [], ""):
            continue
        if isinstance(value, list) and isinstance(value[0], dict):
            print(f"  {key}", file=out)
            for item in value:
                print(f"    {json.dumps(item, ensure_ascii=False)}", file=out)
            continue
        if isinstance(value, dict):
            shown = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, list):
            shown = ", ".join(map(str, value))
        else:
            shown = str(value)
        print(f"  {key:<16} {shown}", file=out)


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def hazard_json(state: HazardState, now: dt.datetime) -> dict[str, Any]:
    """A hazard's state as JSON-ready built-in types."""
    plan = state.plan
    return {
        "hazard": state.id,
        "school": state.school,
        "severity": state.severity.value,
        "status": state.status.value,
        "description": state.description,
        "found_at": _iso(state.found_at),
        "found_by": state.found_by,
        "listed": state.listed,
        "report_by": _iso(state.report_by),
        "plan_by": _iso(state.plan_by),
        "close_by": _iso(state.close_by),
        "plan": None
        if plan is None
        else {
            "measures": list(plan.measures),
            "responsible": plan.responsible,
            "time_limit": plan.time_limit.isoformat(),
            "funds_yuan": plan.funds_yuan,
            "safeguards": list(plan.safeguards),
        },
        "claimed_by": state.claimed_by,
        "rejections": state.rejections,
        "escalation_level": state.escalation_level,
        "missed": list(state.missed(now)),
        "closed_at": _iso(state.closed_at),
    }


def _hazard_result(action: str, state: HazardState, now: dt.datetime) -> dict[str, Any]:
    out = {"action": action, "summary": f"hazard {state.id}: {state.status.value}"}
    out.update(hazard_json(state, now))
    return out


def _now(recorder: Recorder, ns: argparse.Namespace) -> dt.datetime:
    return recorder.desk.now(ns.at)


def _finding_arg(text: str) -> tuple[str, str | None]:
    body, sep, severity = text.rpartition("=")
    if sep and severity in ("general", "major"):
        return body, severity
    return text, None


def _inspection(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    done = r.inspections.record(
        ns.school,
        actor=ns.actor,
        holder=ns.holder,
        date=ns.date,
        inspectors=ns.inspector,
        visit=ns.visit,
        announced=False if ns.unannounced else None,
        findings=[_finding_arg(f) for f in ns.finding],
        summary=ns.summary,
        inspection_id=ns.inspection_id,
        at=ns.at,
    )
    hazards = [f.hazard for f in done.findings if f.hazard is not None]
    return {
        "action": "inspection",
        "summary": f"inspection {done.inspection} of {done.school} recorded"
        + (f"; {len(hazards)} hazard(s) opened" if hazards else ""),
        "inspection": done.inspection,
        "school": done.school,
        "holder": done.holder,
        "date": done.date.isoformat(),
        "inspectors": list(done.inspectors),
        "visit": done.visit,
        "announced": done.announced,
        "findings": [
            {
                "text": f.text,
                "severity": None if f.severity is None else f.severity.value,
                "hazard": f.hazard,
            }
            for f in done.findings
        ],
        "hazards": hazards,
    }


def _hazard(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.hazards.find(
        ns.school,
        ns.severity,
        ns.description,
        actor=ns.actor,
        hazard_id=ns.hazard_id,
        inspection=ns.inspection,
        at=ns.at,
    )
    return _hazard_result("hazard", state, _now(r, ns))


def _register(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    return _hazard_result(
        "register", r.hazards.register(ns.hazard, actor=ns.actor, at=ns.at), _now(r, ns)
    )


def _plan(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.hazards.plan(
        ns.hazard,
        actor=ns.actor,
        measures=ns.measure,
        responsible=ns.responsible,
        time_limit=ns.time_limit,
        funds_yuan=ns.funds,
        safeguards=ns.safeguard,
        at=ns.at,
    )
    return _hazard_result("plan", state, _now(r, ns))


def _rectify(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.hazards.claim(ns.hazard, actor=ns.actor, text=ns.text, at=ns.at)
    return _hazard_result("rectify", state, _now(r, ns))


def _accept(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.hazards.reinspect(
        ns.hazard, actor=ns.actor, accepted=not ns.reject, notes=ns.notes, at=ns.at
    )
    return _hazard_result("accept", state, _now(r, ns))


def _close(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.hazards.close(ns.hazard, actor=ns.actor, notes=ns.notes, at=ns.at)
    return _hazard_result("close", state, _now(r, ns))


def _escalate(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    now = _now(r, ns)
    states = r.hazards.escalate_overdue(now, actor=ns.actor)
    return {
        "action": "escalate",
        "summary": f"{len(states)} hazard(s) escalated",
        "escalated": [
            {"hazard": s.id, "level": s.escalation_level, "missed": list(s.missed(now))}
            for s in states
        ],
    }


def incident_json(state: IncidentState, now: dt.datetime) -> dict[str, Any]:
    """An incident's state as JSON-ready built-in types, with its flags at *now*."""
    figures = state.figures
    return {
        "incident": state.id,
        "school": state.school,
        "category": state.category.value,
        "title": state.title,
        "occurred_at": _iso(state.occurred_at),
        "came_to_light": state.came_to_light.value,
        "grade": state.grade.value,
        "deaths": figures.deaths,
        "serious_injuries": figures.serious_injuries,
        "loss_yuan": figures.loss_yuan,
        "reports": [{"stage": r.stage.value, "at": _iso(r.at)} for r in state.reports],
        "deadlines": {stage.value: _iso(due) for stage, due in state.deadlines().items()},
        "flags": [
            {
                "kind": f.kind.value,
                "stage": None if f.stage is None else f.stage.value,
                "reason": f.reason,
            }
            for f in state.flags(now)
        ],
        "responsible": state.responsible,
    }


def _incident_result(
    action: str, r: Recorder, ns: argparse.Namespace, state: IncidentState
) -> dict[str, Any]:
    out = {"action": action, "summary": f"incident {state.id}: {state.title} ({state.grade.value})"}
    out.update(incident_json(state, _now(r, ns)))
    return out


def _incident(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.incidents.record(
        ns.school,
        ns.category,
        ns.title,
        occurred=ns.occurred,
        actor=ns.actor,
        deaths=ns.deaths,
        serious_injuries=ns.injuries,
        loss_yuan=ns.loss,
        came_to_light="discovered" if ns.discovered_by else "reported",
        discovered_by=ns.discovered_by or "",
        description=ns.description,
        incident_id=ns.incident_id,
        at=ns.at,
    )
    return _incident_result("incident", r, ns, state)


def _incident_report(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.incidents.report(
        ns.incident,
        ns.stage,
        text=ns.text,
        actor=ns.actor,
        deaths=ns.deaths,
        serious_injuries=ns.injuries,
        loss_yuan=ns.loss,
        at=ns.at,
    )
    return _incident_result("incident-report", r, ns, state)


def _incident_determine(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.incidents.determine(
        ns.incident,
        responsible=ns.responsible == "yes",
        actor=ns.actor,
        posts=ns.post,
        text=ns.text,
        at=ns.at,
    )
    return _incident_result("incident-determine", r, ns, state)


def activity_json(state: ActivityState, today: dt.date) -> dict[str, Any]:
    """An activity's state as JSON-ready built-in types, with its findings on *today*."""
    return {
        "activity": state.id,
        "host": state.host,
        "title": state.title,
        "date": state.date.isoformat(),
        "participants": state.participants,
        "large_scale": state.large_scale,
        "school": state.school,
        "approved": state.approved,
        "plan_filed": state.plan is not None,
        "plan_approved": state.plan_approved,
        "supervisors": list(state.supervisors),
        "cancelled": state.cancelled,
        "findings": [
            {"gap": f.gap.value, "clause": f.clause, "message": f.message}
            for f in state.findings(today)
        ],
    }


def _activity_result(
    action: str, r: Recorder, ns: argparse.Namespace, state: ActivityState
) -> dict[str, Any]:
    today = _now(r, ns).astimezone(r.desk.zone).date()
    out = {"action": action, "summary": f"activity {state.id}: {state.title}"}
    out.update(activity_json(state, today))
    return out


def _activity(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.activities.register(
        ns.host,
        ns.title,
        ns.date,
        ns.participants,
        actor=ns.actor,
        school=ns.school,
        venue=ns.venue,
        activity_id=ns.activity_id,
        at=ns.at,
    )
    return _activity_result("activity", r, ns, state)


def _activity_plan(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.activities.file_plan(
        ns.activity,
        ns.summary,
        actor=ns.actor,
        measures=ns.measure,
        emergency_plan=ns.emergency_plan,
        at=ns.at,
    )
    return _activity_result("activity-plan", r, ns, state)


def _activity_approve(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    approve = r.activities.approve_plan if ns.plan else r.activities.approve
    state = approve(ns.activity, actor=ns.actor, notes=ns.notes, at=ns.at)
    return _activity_result("activity-approve", r, ns, state)


def _activity_supervise(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    state = r.activities.supervise(
        ns.activity, actor=ns.actor, supervisors=ns.supervisor, notes=ns.notes, at=ns.at
    )
    return _activity_result("activity-supervise", r, ns, state)


def _meeting(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    held = r.meetings.held(
        ns.kind,
        ns.unit,
        ns.date,
        ns.topic,
        actor=ns.actor,
        attendees=ns.attendee,
        scheduled=ns.scheduled,
        minutes=ns.minutes,
        meeting_id=ns.meeting_id,
        at=ns.at,
    )
    return {
        "action": "meeting",
        "summary": f"meeting {held.meeting} of {held.unit} recorded",
        "meeting": held.meeting,
        "kind": held.kind.value,
        "unit": held.unit,
        "date": held.date.isoformat(),
        "topic": held.topic,
        "attendees": list(held.attendees),
        "scheduled": held.scheduled,
    }


def _pledge(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    signed = r.meetings.sign(
        ns.year, ns.post, ns.counterpart, actor=ns.actor, date=ns.date, text=ns.text, at=ns.at
    )
    return {
        "action": "pledge",
        "summary": f"the {signed.year} pledge of {signed.post} signed by {signed.person}",
        "year": signed.year,
        "person": signed.person,
        "post": signed.post,
        "counterpart": signed.counterpart,
        "date": signed.date.isoformat(),
    }


def _training(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    held = r.meetings.train(
        ns.unit,
        ns.date,
        ns.topic,
        actor=ns.actor,
        hours=ns.hours,
        trainees=ns.trainee,
        training_id=ns.training_id,
        at=ns.at,
    )
    return {
        "action": "training",
        "summary": f"training {held.training} of {held.unit} recorded",
        "training": held.training,
        "unit": held.unit,
        "date": held.date.isoformat(),
        "topic": held.topic,
        "hours": held.hours,
        "trainees": list(held.trainees),
    }


def _targets(r: Recorder, ns: argparse.Namespace) -> dict[str, Any]:
    data = r.meetings.set_targets(
        ns.unit,
        ns.year,
        actor=ns.actor,
        safety=ns.safety,
        targets=ns.target,
        date=ns.date,
        at=ns.at,
    )
    return {
        "action": "targets",
        "summary": f"the {data.year} targets of {data.unit} recorded"
        + ("" if data.safety else " (school safety not among them)"),
        "unit": data.unit,
        "year": data.year,
        "date": data.date.isoformat(),
        "safety": list(data.safety),
        "targets": list(data.targets),
    }


_ACTIONS: dict[str, Callable[[Recorder, argparse.Namespace], dict[str, Any]]] = {
    "inspection": _inspection,
    "hazard": _hazard,
    "register": _register,
    "plan": _plan,
    "rectify": _rectify,
    "accept": _accept,
    "close": _close,
    "escalate": _escalate,
    "incident": _incident,
    "incident-report": _incident_report,
    "incident-determine": _incident_determine,
    "activity": _activity,
    "activity-plan": _activity_plan,
    "activity-approve": _activity_approve,
    "activity-supervise": _activity_supervise,
    "meeting": _meeting,
    "pledge": _pledge,
    "training": _training,
    "targets": _targets,
}


def add_ledger_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``ledger`` sub-command (``export`` and ``import``) to *sub*."""
    import argparse

    from ._cli_args import aware_time

    parser: argparse.ArgumentParser = sub.add_parser(
        "ledger",
        help="export or import the hazard and inspection ledgers (台账) as CSV or Excel",
        description="Write the hazard ledger (隐患台账) or the inspection ledger (督查台账) "
        "from the store, or read one back into it. An import is all or nothing: every bad "
        "row is listed with its row and column, and a file with any bad row writes "
        "nothing (exit 2).",
    )
    actions = parser.add_subparsers(dest="ledger_action", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("ledger", choices=["hazards", "inspections"], help="which ledger")
    common.add_argument("--db", required=True, metavar="URL", help="the store: sqlite:///path.db")
    common.add_argument("--org", required=True, metavar="FILE", help="the district file")
    common.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    out = actions.add_parser(
        "export",
        parents=[common],
        help="write a ledger (.csv with a BOM, or .xlsx)",
        description="Write a ledger, ordered by id; the format is the suffix of -o.",
    )
    out.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="a .csv or .xlsx file to write"
    )
    out.add_argument(
        "--as-of",
        type=aware_time,
        metavar="TIME",
        help="compute overdue hazards at this time, ISO 8601 with an offset (default: now)",
    )
    into = actions.add_parser(
        "import",
        parents=[common],
        help="read a ledger into the store (the office does)",
        description="Read a ledger into the store: new ids are added, rows that continue "
        "the stored history extend it, rows the store agrees with change nothing.",
    )
    into.add_argument("file", metavar="FILE", help="a .csv or .xlsx ledger")
    into.add_argument("--actor", required=True, metavar="PERSON", help="who imports (the office)")
    return parser


def run_ledger(ns: argparse.Namespace) -> int:
    """Run ``dualduty ledger export|import`` from parsed arguments; return the exit code."""
    from .io import load
    from .records import export_ledger, import_ledger
    from .storage import open_store

    org = load(ns.org)
    result: dict[str, Any]
    if ns.ledger_action == "export":
        with open_store(ns.db, readonly=True) as store:
            rows = export_ledger(ns.ledger, store, org, ns.output, as_of=ns.as_of)
        result = {
            "action": "export",
            "summary": f"{ns.output}: {rows} row(s) written",
            "ledger": ns.ledger,
            "file": ns.output,
            "rows": rows,
        }
    else:
        with open_store(ns.db) as store:
            done = import_ledger(ns.ledger, store, org, ns.file, actor=ns.actor)
        result = {
            "action": "import",
            "summary": str(done),
            "ledger": ns.ledger,
            "file": ns.file,
            "rows": done.rows,
            "added": list(done.added),
            "extended": list(done.extended),
            "unchanged": list(done.unchanged),
            "behind": list(done.behind),
            "records": done.records,
        }
    if ns.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _text(result, sys.stdout)
    return EXIT_OK
