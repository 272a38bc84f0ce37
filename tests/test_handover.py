"""Handover (交接): posts, open hazards and pending notifications pass to the successor in
one transaction, and the handover list (交接清单) names exactly what moved."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import dualduty
from dualduty.cli import main
from dualduty.model.notify import ChannelTable, NotifySettings
from dualduty.records import (
    HandoverRecorded,
    PermissionDenied,
    Recorder,
    Timeline,
    TimelineError,
    fold_hazards,
    handover,
)
from dualduty.storage import OutboxMessage, Settlement, Store, open_store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
LEADER = "p001"  # 局长, the leader
HEAD, STAFF, STAFF_2 = "p010", "p011", "p012"  # the general office: head and staff
OFFICE_STAFF = "p008"  # the leading group's office
SCHOOL = "s0002"  # packaged to the general office
OTHER_SCHOOL = "s0003"  # packaged to 政教科
DAY = dt.date(2026, 7, 15)


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=ZONE)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'records.db'}") as store:
        yield store


def recorder(store: Store, when: dt.datetime, org: dualduty.Organisation = ORG) -> Recorder:
    return Recorder(store, org, clock=lambda: when)


def open_work(store: Store) -> dict[str, str]:
    """Hazards in every state the handover must tell apart; their ids by role."""
    r = recorder(store, at(6, 1))
    ids = {}

    def planned(school: str, responsible: str, actor: str, day: int) -> str:
        found = r.hazards.find(school, "general", f"隐患{day}", actor=actor, at=at(6, day))
        r.hazards.register(found.id, actor=OFFICE_STAFF, at=at(6, day, 11))
        r.hazards.plan(
            found.id,
            actor=actor,
            measures=["整改"],
            responsible=responsible,
            time_limit=dt.date(2026, 8, 30),
            at=at(6, day, 12),
        )
        return found.id

    ids["head_responsible"] = planned(SCHOOL, HEAD, HEAD, 2)
    ids["staff_responsible"] = planned(SCHOOL, STAFF, HEAD, 3)
    # the head answers for a rectification at a school of another package
    ids["head_elsewhere"] = planned(OTHER_SCHOOL, HEAD, "p013", 4)
    ids["unplanned"] = r.hazards.find(SCHOOL, "general", "未定方案", actor=STAFF, at=at(6, 5)).id
    closed = planned(SCHOOL, HEAD, HEAD, 6)
    r.hazards.claim(closed, actor=STAFF, at=at(6, 7))
    r.hazards.reinspect(closed, actor=STAFF_2, accepted=True, at=at(6, 8))
    r.hazards.close(closed, actor=HEAD, at=at(6, 9))
    ids["closed"] = closed
    return ids


def messages(store: Store) -> dict[str, int]:
    """Pending notifications: two to the head, one to a staff member, one to the head
    that a dispatcher has claimed; their outbox ids by role."""
    store.enqueue(
        OutboxMessage("console", HEAD, "整改提醒", "隐患即将到期", key="head-1"),
        OutboxMessage("console", HEAD, "督查提醒", "明日督查", key="head-2"),
        OutboxMessage("console", STAFF, "督查提醒", "明日督查", key="staff-1"),
        OutboxMessage("console", HEAD, "季度报告", "报告将到期", key="head-claimed"),
    )
    items = {i.message.key: i for i in store.outbox()}
    # (messages are due when queued, by the wall clock)
    claimed = store.claim(10, lease=3600, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    for item in claimed:  # hand every claim back but the one a dispatcher keeps
        if item.message.key != "head-claimed":
            store.settle([Settlement(item.id, item.claim, "release", 0, 0)])
    return {key: item.id for key, item in items.items() if key is not None}


def test_a_handover_moves_every_open_item_and_lists_exactly_what_moved(db: Store) -> None:
    hazards = open_work(db)
    outbox = messages(db)
    before = db.head()[0]

    done = handover(
        recorder(db, at(7, 20)), HEAD, "p090", DAY, actor=LEADER, successor_name="钱立新"
    )

    # the post: the successor holds it from the day, the predecessor until the day before
    line = Timeline.from_store(ORG, db)
    g_before = dualduty.OrgGraph(line.as_of(DAY - dt.timedelta(days=1)))
    g_after = dualduty.OrgGraph(line.as_of(DAY))
    assert g_before.post("general-office.head").holder == HEAD
    assert g_after.post("general-office.head").holder == "p090"
    assert g_after.person("p090").name == "钱立新"
    assert [i.id for i in done.of("post")] == ["general-office.head"]

    # hazards: those the head answered for now name the successor; the others stay
    states = {s.id: s for s in fold_hazards(db)}
    moved = {i.id for i in done.of("hazard") if i.seq is not None}
    assert moved == {hazards["head_responsible"], hazards["head_elsewhere"]}
    for hid in moved:
        plan = states[hid].plan
        assert plan is not None
        assert plan.responsible == "p090"
    staff_plan = states[hazards["staff_responsible"]].plan
    assert staff_plan is not None
    assert staff_plan.responsible == STAFF
    # the package's other open hazards follow the package, without a record of their own
    follows = {i.id for i in done.of("hazard") if i.seq is None}
    assert follows == {hazards["staff_responsible"], hazards["unplanned"]}
    assert hazards["closed"] not in {i.id for i in done.of("hazard")}

    # notifications: the head's pending ones go to the successor; the claimed one stays
    by_id = {i.id: i for i in db.outbox(state=None)}
    for key in ("head-1", "head-2"):
        assert by_id[outbox[key]].message.recipient == "p090"
        assert "因交接改发钱立新" in by_id[outbox[key]].message.text
    assert by_id[outbox["staff-1"]].message.recipient == STAFF
    assert by_id[outbox["head-claimed"]].message.recipient == HEAD
    listed = {i.id: i.moved for i in done.of("message")}
    assert listed == {
        str(outbox["head-1"]): True,
        str(outbox["head-2"]): True,
        str(outbox["head-claimed"]): False,
    }

    # the package and its upcoming visits are listed as following the post
    assert [i.id for i in done.of("package")] == ["pkg-general-office"]
    visits = [i.id for i in done.of("visit")]
    assert visits
    assert all(".general-office.s0002." in v for v in visits)
    assert all(v.startswith(("v.2026q3", "v.2026q4")) for v in visits)

    # one transaction: the joining, the post, two hazards, the list; the list as recorded
    assert done.seqs == tuple(range(before + 1, before + 6))
    (entry,) = db.read(kind="handover")
    assert entry.seq == done.seq
    record = entry.record.data
    assert isinstance(record, HandoverRecorded)
    assert (record.predecessor, record.successor, record.effective) == (HEAD, "p090", DAY)
    assert set(record.hazards) == moved
    assert set(record.messages) == {outbox["head-1"], outbox["head-2"]}
    assert len(record.items) == len(done.items)
    assert db.verify().ok


def test_the_successor_acts_for_the_post_and_the_predecessor_no_longer_does(db: Store) -> None:
    hazards = open_work(db)
    handover(recorder(db, at(7, 20)), HEAD, "p090", DAY, actor=LEADER, successor_name="钱立新")
    later = recorder(db, at(7, 21))
    with pytest.raises(PermissionDenied):
        later.hazards.claim(hazards["head_responsible"], actor=HEAD, at=at(7, 21))
    later.hazards.claim(hazards["head_responsible"], actor="p090", at=at(7, 21))


def test_history_stays_as_it_was(db: Store) -> None:
    open_work(db)
    entries = [(e.seq, e.hash) for e in db.read()]
    handover(recorder(db, at(7, 20)), HEAD, "p090", DAY, actor=LEADER, successor_name="钱立新")
    assert [(e.seq, e.hash) for e in db.read()][: len(entries)] == entries
    found = list(db.read(kind="hazard-found"))
    assert {e.record.actor for e in found} >= {HEAD, STAFF}


def test_only_the_posts_named_move_and_messages_stay_while_a_post_is_kept(db: Store) -> None:
    # the head also takes a staff post of the office (兼任) from 1 July
    setup = recorder(db, at(7, 1))
    setup.org_changes.assign("general-office.staff-2", HEAD, dt.date(2026, 7, 1), actor=LEADER)
    outbox = messages(db)
    done = handover(
        recorder(db, at(7, 20)),
        HEAD,
        "p090",
        DAY,
        actor=LEADER,
        successor_name="钱立新",
        posts=["general-office.head"],
    )
    assert [i.id for i in done.of("post")] == ["general-office.head"]
    snap = Timeline.from_store(ORG, db).as_of(DAY)
    holders = {p.id: p.holder for _, p in snap.iter_posts()}
    assert holders["general-office.head"] == "p090"
    assert holders["general-office.staff-2"] == HEAD
    # the predecessor still holds a post: their notifications stay, the list says why
    title = dualduty.OrgGraph(ORG).post("general-office.staff-2").title
    notes = {i.id: (i.moved, i.note) for i in done.of("message")}
    assert notes == {
        str(outbox["head-1"]): (False, f"马伟仍任{title}，通知不转"),
        str(outbox["head-2"]): (False, f"马伟仍任{title}，通知不转"),
        str(outbox["head-claimed"]): (False, "发送程序已领取，正在发送，未转"),
    }
    assert {i.message.recipient for i in db.outbox(state=None) if i.message.key != "staff-1"} == {
        HEAD
    }


def test_a_successor_without_an_address_on_the_channel_keeps_the_message_where_it_was(
    db: Store,
) -> None:
    mail = ChannelTable("mail", "email", {"host": "127.0.0.1", "port": 2525, "sender": "a@b.c"})
    people = tuple(
        attrs.evolve(p, email="ma@example.org") if p.id == HEAD else p for p in ORG.people
    )
    org = attrs.evolve(
        ORG,
        people=people,
        notify=NotifySettings(channels=(mail,)),
    )
    db.enqueue(
        OutboxMessage("mail", "马伟 <ma@example.org>", "整改提醒", "到期", key="m"),
        OutboxMessage("console", HEAD, "整改提醒", "到期", key="c"),
    )
    done = handover(
        recorder(db, at(7, 20), org), HEAD, "p090", DAY, actor=LEADER, successor_name="钱立新"
    )
    outcome = {i.text.split("　")[1]: (i.moved, i.note) for i in done.of("message")}
    assert outcome["mail"] == (False, "钱立新在 mail 无联系方式，未转")
    assert outcome["console"] == (True, "改发钱立新")
    by_key = {i.message.key: i.message.recipient for i in db.outbox()}
    assert by_key == {"m": "马伟 <ma@example.org>", "c": "p090"}


def test_a_dry_run_writes_nothing_and_lists_the_same(db: Store) -> None:
    open_work(db)
    messages(db)
    before, outbox = db.head()[0], db.outbox(state=None)
    preview = handover(
        recorder(db, at(7, 20)),
        HEAD,
        "p090",
        DAY,
        actor=LEADER,
        successor_name="钱立新",
        dry_run=True,
    )
    assert (db.head()[0], db.outbox(state=None)) == (before, outbox)
    assert preview.seq is None
    assert preview.seqs == ()
    done = handover(
        recorder(db, at(7, 20)), HEAD, "p090", DAY, actor=LEADER, successor_name="钱立新"
    )
    assert [(i.kind, i.id, i.moved) for i in preview.items] == [
        (i.kind, i.id, i.moved) for i in done.items
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"effective": dt.date(2026, 7, 21)}, TimelineError, "after today"),
        ({"successor": "p091"}, TimelineError, "no person 'p091'"),
        ({"successor": STAFF, "successor_name": "重名"}, TimelineError, "already"),
        ({"posts": ["director"]}, TimelineError, "does not hold director"),
        ({"actor": STAFF}, PermissionDenied, "may not record a handover"),
        ({"successor": HEAD}, TimelineError, "themselves"),
    ],
)
def test_a_refused_handover_writes_nothing(
    db: Store, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    open_work(db)
    messages(db)
    before, outbox = db.head()[0], db.outbox(state=None)
    args: dict[str, object] = {
        "successor": "p090",
        "effective": DAY,
        "actor": LEADER,
        "successor_name": "钱立新",
    }
    args.update(kwargs)
    if "successor" in kwargs and "successor_name" not in kwargs:
        args["successor_name"] = None
    with pytest.raises(error, match=match):
        handover(
            recorder(db, at(7, 20)),
            HEAD,
            str(args["successor"]),
            args["effective"],  # type: ignore[arg-type]  # a date
            actor=str(args["actor"]),
            successor_name=args["successor_name"],  # type: ignore[arg-type]  # str | None
            posts=args.get("posts"),  # type: ignore[arg-type]  # a list of post ids
        )
    assert (db.head()[0], db.outbox(state=None)) == (before, outbox)


def test_the_command_prints_the_list_and_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org = tmp_path / "bureau.toml"
    dualduty.dump(ORG, org)
    url = f"sqlite:///{tmp_path / 'records.db'}"
    with open_store(url) as store:
        hazards = open_work(store)
    common = ["handover", "--db", url, "--org", str(org), "--from", HEAD, "--date", "2026-07-15"]
    common += ["--actor", LEADER, "--at", "2026-07-20T10:00:00+08:00"]

    assert main([*common, "--to", "p091"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dualduty: handover: no person 'p091'")
    assert "Traceback" not in err

    assert main([*common, "--to", "p090", "--name", "钱立新", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("（预览：未写入）\n交接清单\n")
    with open_store(url) as store:
        assert list(store.read(kind="handover")) == []

    assert main([*common, "--to", "p090", "--name", "钱立新"]) == 0
    out = capsys.readouterr().out
    for heading in ("岗位", "分管科室", "分包学校", "未销号隐患", "待开展督查", "待发通知"):
        assert heading in out
    assert f"{hazards['head_responsible']}" in out
    assert "整改责任人改为钱立新" in out

    assert main([*common, "--to", STAFF, "--format", "json"]) == 2
    assert "holds no post on 2026-07-15" in capsys.readouterr().err

    with open_store(url) as store:
        recorder(store, at(7, 20)).org_changes.assign(
            "general-office.staff-2", "p090", dt.date(2026, 7, 16), actor=LEADER
        )
    back = ["handover", "--db", url, "--org", str(org), "--from", "p090", "--to", STAFF_2]
    back += ["--date", "2026-07-20", "--actor", LEADER, "--posts", "general-office.staff-2"]
    back += ["--at", "2026-07-20T11:00:00+08:00", "--format", "json"]
    assert main(back) == 0
    doc = json.loads(capsys.readouterr().out)
    name = dualduty.OrgGraph(ORG).person(STAFF_2).name
    assert doc["successor"] == {"id": STAFF_2, "name": name}
    assert [i["id"] for i in doc["items"] if i["kind"] == "post"] == ["general-office.staff-2"]
    assert doc["dry_run"] is False
