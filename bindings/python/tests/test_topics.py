"""Every jobs topic kind: build from parts, parse back, and refuse what is not a jobs topic."""

from __future__ import annotations

import pytest

import iot_jobs_core as j
from iot_jobs_core.topics import KINDS, Topic

GOLDEN = [
    (Topic("get_pending", thing="dev:1"), "$aws/things/dev:1/jobs/get"),
    (Topic("get_pending", thing="dev:1", reply="accepted"), "$aws/things/dev:1/jobs/get/accepted"),
    (Topic("start_next", thing="dev:1", reply="rejected"), "$aws/things/dev:1/jobs/start-next/rejected"),
    (Topic("describe", thing="dev:1", job="job_1"), "$aws/things/dev:1/jobs/job_1/get"),
    (Topic("describe", thing="dev:1", job="$next", reply="accepted"), "$aws/things/dev:1/jobs/$next/get/accepted"),
    (Topic("update", thing="dev:1", job="job_1"), "$aws/things/dev:1/jobs/job_1/update"),
    (Topic("update", thing="dev:1", job="job_1", reply="rejected"), "$aws/things/dev:1/jobs/job_1/update/rejected"),
    (Topic("notify", thing="dev:1"), "$aws/things/dev:1/jobs/notify"),
    (Topic("notify_next", thing="dev:1"), "$aws/things/dev:1/jobs/notify-next"),
    (Topic("job_event", job="job_1", event="completed"), "$aws/events/job/job_1/completed"),
    (
        Topic("execution_event", job="job_1", event="timed_out"),
        "$aws/events/jobExecution/job_1/timed_out",
    ),
]


@pytest.mark.parametrize("topic, string", GOLDEN, ids=[s for _, s in GOLDEN])
def test_golden_strings_both_ways(topic, string):
    assert str(topic) == string
    assert Topic.parse(string) == topic


def test_namespaced_topics_round_trip():
    for kind in ("describe", "update", "notify", "notify_next", "documented_notify"):
        job = "job_1" if kind in ("describe", "update", "documented_notify") else None
        t = Topic(kind, thing="dev-1", job=job, namespace="ns-1")
        s = str(t)
        assert "ns-1" in s
        assert Topic.parse(s) == t


def test_every_kind_is_covered():
    covered = {t.kind for t, _ in GOLDEN} | {"documented_notify"}
    assert covered == set(KINDS)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "$aws/things/dev/shadow/update",
        "$aws/things/dev/jobs/nope",
        "$aws/things/dev/jobs/$next/update",
        "$aws/things/bad thing/jobs/get",
        "$aws/events/job/job_1/exploded",
    ],
)
def test_parse_refuses_non_jobs_topics(bad):
    with pytest.raises(ValueError):
        Topic.parse(bad)


def test_making_a_topic_refuses_bad_parts():
    # Refused when the Topic is made, not later when it is built: no Topic holds bad parts.
    with pytest.raises(j.InvalidFieldError):
        Topic("get_pending", thing="bad thing")
    with pytest.raises(ValueError, match="needs a thing"):
        Topic("notify")
    with pytest.raises(ValueError, match="not a topic kind"):
        Topic("subscribe", thing="t")
    with pytest.raises(ValueError):
        Topic("update", thing="t", job="$next")  # $next is only for describe
    with pytest.raises(ValueError):
        Topic("get_pending", thing="t", reply="maybe")
    with pytest.raises(ValueError):
        Topic("job_event", job="j", event="exploded")


# The parts each kind is built from; any other part given is refused, not dropped.
PARTS = {
    "get_pending": {"thing": "dev-1", "reply": "accepted"},
    "start_next": {"thing": "dev-1", "reply": "accepted"},
    "describe": {"thing": "dev-1", "job": "job_1", "namespace": "ns-1", "reply": "accepted"},
    "update": {"thing": "dev-1", "job": "job_1", "namespace": "ns-1", "reply": "accepted"},
    "notify": {"thing": "dev-1", "namespace": "ns-1"},
    "notify_next": {"thing": "dev-1", "namespace": "ns-1"},
    "documented_notify": {"thing": "dev-1", "job": "job_1", "namespace": "ns-1"},
    "job_event": {"job": "job_1", "event": "completed"},
    "execution_event": {"job": "job_1", "event": "succeeded"},
}
VALUES = {"thing": "dev-1", "job": "job_1", "namespace": "ns-1", "reply": "accepted", "event": "completed"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_part_the_kind_does_not_use_is_refused_naming_both(kind):
    used = PARTS[kind]
    assert Topic.parse(str(Topic(kind, **used))) == Topic(kind, **used)
    unused = [p for p in VALUES if p not in used]
    assert unused, kind
    for part in unused:
        with pytest.raises(ValueError, match=f"a {kind} topic has no {part} ") as info:
            Topic(kind, **{**used, part: VALUES[part]})
        assert not isinstance(info.value, j.InvalidFieldError)
        with pytest.raises(ValueError, match=f"a {kind} topic has no {part} "):
            j._native.build_topic(kind, **{**used, part: VALUES[part]})
