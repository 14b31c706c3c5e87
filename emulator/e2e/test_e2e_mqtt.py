"""End-to-end tests of the emulator's MQTT broker and jobs device API with real MQTT clients (see
run.sh): paho-mqtt 2.x (exact topics and payloads, MQTT 3.1.1 and 5), the AWS IoT Device SDK v2
for Python (awsiotsdk: IotJobsClientV2 over MQTT 5, IotJobsClient over MQTT 3.1.1) and MQTT.js
(Node.js, over WebSocket), with boto3 for the control plane.

Environment (set by run.sh): EMU_URL (a running emulator with --clock manual), EMU_MQTT
(host:port of its broker), EMU_NODE and EMU_NODE_MODULES (node and MQTT.js), AWS_* dummy
credentials.
"""

import json
import os
import queue
import ssl
import subprocess
import threading
import time
import unittest
import urllib.request
import uuid
from concurrent.futures import Future

import boto3
import paho.mqtt.client as mqtt
from botocore.config import Config
from test_e2e import run_cases

URL = os.environ["EMU_URL"]
HOST, PORT = os.environ["EMU_MQTT"].rsplit(":", 1)
PORT = int(PORT)
# MQTT over WebSocket (ws://HOST:PORT/mqtt), when the emulator serves it.
WS_HOST, WS_PORT = os.environ.get("EMU_MQTT_WS", ":0").rsplit(":", 1)
WS_PORT = int(WS_PORT)
# MQTT over WebSocket over TLS (wss://HOST:PORT/mqtt), when the emulator serves it.
WSS_HOST, WSS_PORT = os.environ.get("EMU_MQTT_WSS", ":0").rsplit(":", 1)
WSS_PORT = int(WSS_PORT)
TLS_HOST, TLS_PORT = os.environ["EMU_MQTTS"].rsplit(":", 1)
TLS_PORT = int(TLS_PORT)
TLS_DIR = os.environ["EMU_TLS_DIR"]
REGION = "us-east-1"
ARN = "arn:aws:iot:us-east-1:123456789012"
WAIT = 10

iot = boto3.client("iot", endpoint_url=URL, region_name=REGION,
                   config=Config(retries={"max_attempts": 1, "mode": "standard"}))
data = boto3.client("iot-jobs-data", endpoint_url=URL, region_name=REGION,
                    config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def advance(seconds):
    req = urllib.request.Request(URL + "/_emulator/clock", method="POST",
                                 data=json.dumps({"advanceSeconds": seconds}).encode())
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_job(job, things, **extra):
    for t in things:
        iot.create_thing(thingName=t)
    iot.create_job(jobId=job, targets=[f"{ARN}:thing/{t}" for t in things],
                   document=json.dumps({"op": "install", "job": job}), **extra)


class Paho:
    """A paho client that collects what it receives, by topic."""

    def __init__(self, client_id, protocol=mqtt.MQTTv311, port=None, websocket=False):
        self.messages = queue.Queue()
        self.stash = []
        self.acks = {}
        self.connected = threading.Event()
        transport = "websockets" if websocket else "tcp"
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
                             transport=transport)
        if websocket:
            self.c.ws_set_options(path="/mqtt")
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_connect = lambda c, u, f, rc, p: self.connected.set()
        self.c.on_subscribe = self._subscribed
        self.c.connect(WS_HOST if websocket else HOST, port or (WS_PORT if websocket else PORT), keepalive=30)
        self.c.loop_start()
        assert self.connected.wait(WAIT), "no CONNACK"

    def _subscribed(self, c, u, mid, reason_codes, props):
        self.acks[mid] = [getattr(rc, "value", rc) for rc in reason_codes]

    def sub(self, *filters):
        rc, mid = self.c.subscribe([(f, 1) for f in filters])
        assert rc == mqtt.MQTT_ERR_SUCCESS
        deadline = time.time() + WAIT
        while mid not in self.acks:
            assert time.time() < deadline, "no SUBACK"
            time.sleep(0.01)
        return self.acks[mid]

    def pub(self, topic, payload, qos=1):
        info = self.c.publish(topic, payload, qos=qos)
        info.wait_for_publish(WAIT)
        assert info.is_published(), f"no PUBACK for {topic}"

    def next(self, topic, timeout=WAIT):
        for i, m in enumerate(self.stash):
            if m.topic == topic:
                return self.stash.pop(i)
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"nothing on {topic}; got {[m.topic for m in self.stash]}")
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if m.topic == topic:
                return m
            self.stash.append(m)

    def json(self, topic):
        return json.loads(self.next(topic).payload)

    def request(self, topic, body):
        """Publishes a request; returns ("accepted" | "rejected", payload)."""
        self.pub(topic, body if isinstance(body, (bytes, str)) else json.dumps(body))
        deadline = time.time() + WAIT
        while True:
            for i, m in enumerate(self.stash):
                if m.topic in (topic + "/accepted", topic + "/rejected"):
                    self.stash.pop(i)
                    return m.topic.rsplit("/", 1)[1], json.loads(m.payload)
            left = deadline - time.time()
            assert left > 0, f"no answer on {topic}"
            try:
                self.stash.append(self.messages.get(timeout=left))
            except queue.Empty:
                pass

    def received(self):
        """Everything received so far, after a round trip that orders it."""
        self.request("$aws/things/ordering/jobs/get", {})
        out = list(self.stash)
        self.stash.clear()
        while not self.messages.empty():
            out.append(self.messages.get())
        return out

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


class Paho311(unittest.TestCase):
    """Exact topics and payloads with paho-mqtt over MQTT 3.1.1."""

    protocol = mqtt.MQTTv311

    def client(self, client_id):
        c = Paho(client_id, self.protocol)
        self.addCleanup(c.close)
        return c

    def test_a_whole_device_lifecycle(self):
        thing, job = unique("dev"), unique("fw")
        dev = self.client(thing)
        base = f"$aws/things/{thing}/jobs"
        self.assertEqual(dev.sub(f"{base}/notify", f"{base}/notify-next"), [1, 1])
        rules = self.client(unique("rules"))
        rules.sub("$aws/events/#")
        create_job(job, [thing])
        n = dev.next(f"{base}/notify-next")
        self.assertEqual(n.qos, 1)
        n = json.loads(n.payload)
        self.assertEqual(set(n), {"timestamp", "execution"})
        ex = n["execution"]
        self.assertEqual((ex["jobId"], ex["thingName"], ex["status"]), (job, thing, "QUEUED"))
        self.assertEqual(ex["jobDocument"], {"op": "install", "job": job})
        self.assertEqual((ex["versionNumber"], ex["executionNumber"]), (1, 1))
        lst = dev.json(f"{base}/notify")
        self.assertEqual([j["jobId"] for j in lst["jobs"]["QUEUED"]], [job])

        kind, got = dev.request(f"{base}/get", {"clientToken": "tok-get"})
        self.assertEqual(kind, "accepted")
        self.assertEqual(set(got), {"inProgressJobs", "queuedJobs", "timestamp", "clientToken"})
        self.assertEqual(got["clientToken"], "tok-get")
        self.assertEqual(got["queuedJobs"][0]["jobId"], job)
        self.assertIsInstance(got["timestamp"], int)

        kind, got = dev.request(f"{base}/start-next", {"statusDetails": {"step": "download"}, "clientToken": "tok-s"})
        self.assertEqual(kind, "accepted")
        self.assertEqual(got["clientToken"], "tok-s")
        self.assertEqual(got["execution"]["status"], "IN_PROGRESS")
        self.assertEqual(got["execution"]["statusDetails"], {"step": "download"})
        self.assertEqual(got["execution"]["versionNumber"], 2)

        kind, got = dev.request(f"{base}/$next/get", {"includeJobDocument": False, "clientToken": "tok-n"})
        self.assertEqual(kind, "accepted")
        self.assertEqual(got["execution"]["jobId"], job)
        self.assertNotIn("jobDocument", got["execution"])

        kind, got = dev.request(f"{base}/{job}/update", {
            "status": "IN_PROGRESS", "statusDetails": {"step": "flash"}, "expectedVersion": 2,
            "includeJobExecutionState": True, "includeJobDocument": True, "clientToken": "tok-u1"})
        self.assertEqual(kind, "accepted")
        self.assertEqual(got["executionState"], {"status": "IN_PROGRESS", "statusDetails": {"step": "flash"},
                                                 "versionNumber": 3})
        self.assertEqual(got["jobDocument"], {"op": "install", "job": job})
        self.assertEqual(got["clientToken"], "tok-u1")

        kind, got = dev.request(f"{base}/{job}/update", {"status": "SUCCEEDED", "clientToken": "tok-u2"})
        self.assertEqual((kind, got["clientToken"]), ("accepted", "tok-u2"))
        self.assertEqual(dev.json(f"{base}/notify-next").keys(), {"timestamp"})
        self.assertEqual(dev.json(f"{base}/notify")["jobs"], {})
        # The MQTT update is what the HTTP planes see.
        d = iot.describe_job_execution(jobId=job, thingName=thing)["execution"]
        self.assertEqual((d["status"], d["statusDetails"]["detailsMap"]), ("SUCCEEDED", {"step": "flash"}))
        ev = rules.json(f"$aws/events/jobExecution/{job}/succeeded")
        self.assertEqual((ev["eventType"], ev["operation"], ev["jobId"], ev["status"]),
                         ("JOB_EXECUTION", "succeeded", job, "SUCCEEDED"))
        self.assertEqual(ev["thingArn"], f"{ARN}:thing/{thing}")
        ev = rules.json(f"$aws/events/job/{job}/completed")
        self.assertEqual((ev["eventType"], ev["status"]), ("JOB", "COMPLETED"))

    def test_every_rejection_code_a_device_can_cause(self):
        thing, job = unique("rej"), unique("job")
        create_job(job, [thing])
        dev = self.client(thing)
        base = f"$aws/things/{thing}/jobs"
        kind, got = dev.request(f"{base}/{job}/update", {"status": "IN_PROGRESS"})
        self.assertEqual(kind, "accepted")
        cases = [
            (f"{base}/get", b"{not json", "InvalidJson", False),
            (f"{base}/{job}/update", {"status": "DONE", "clientToken": "c1"}, "InvalidRequest", False),
            (f"{base}/{job}/update", {"status": "QUEUED", "clientToken": "c2"}, "InvalidStateTransition", True),
            (f"{base}/{job}/update", {"status": "SUCCEEDED", "expectedVersion": 99, "clientToken": "c3"},
             "VersionMismatch", True),
            (f"{base}/missing-job/get", {"clientToken": "c4"}, "ResourceNotFound", False),
            (f"{base}/{job}/frobnicate", {"clientToken": "c5"}, "InvalidTopic", False),
        ]
        for topic, body, code, with_state in cases:
            with self.subTest(code=code):
                kind, got = dev.request(topic, body)
                self.assertEqual(kind, "rejected", got)
                self.assertEqual(got["code"], code)
                self.assertTrue(got["message"])
                self.assertIsInstance(got["timestamp"], int)
                if isinstance(body, dict):
                    self.assertEqual(got["clientToken"], body["clientToken"])
                if with_state:
                    self.assertEqual(got["executionState"]["status"], "IN_PROGRESS")
                    self.assertEqual(got["executionState"]["versionNumber"], 2)
                else:
                    self.assertNotIn("executionState", got)
        # Nothing changed.
        kind, got = dev.request(f"{base}/{job}/get", {})
        self.assertEqual((got["execution"]["status"], got["execution"]["versionNumber"]), ("IN_PROGRESS", 2))

    def test_notifications_caused_by_http_calls_and_by_the_clock(self):
        thing = unique("ntf")
        dev = self.client(thing)
        base = f"$aws/things/{thing}/jobs"
        dev.sub(f"{base}/notify-next", f"{base}/notify")
        first, second = unique("timed"), unique("cancelled")
        create_job(first, [thing], timeoutConfig={"inProgressTimeoutInMinutes": 1})
        self.assertEqual(dev.json(f"{base}/notify-next")["execution"]["jobId"], first)
        iot.create_job(jobId=second, targets=[f"{ARN}:thing/{thing}"], document="{}")
        dev.received()
        kind, _ = dev.request(f"{base}/start-next", {})
        self.assertEqual(kind, "accepted")
        # The clock: the in-progress timer runs out; the second job becomes next.
        advance(61)
        self.assertEqual(dev.json(f"{base}/notify-next")["execution"]["jobId"], second)
        self.assertEqual([j["jobId"] for j in dev.json(f"{base}/notify")["jobs"]["QUEUED"]], [second])
        # An HTTP call: CancelJobExecution on the control plane.
        iot.cancel_job_execution(jobId=second, thingName=thing)
        self.assertEqual(dev.json(f"{base}/notify-next").keys(), {"timestamp"})
        self.assertEqual(dev.json(f"{base}/notify")["jobs"], {})

    def test_event_configurations_switch_the_job_event_topics(self):
        thing = unique("evc")
        rules = self.client(unique("rules"))
        rules.sub("$aws/events/#")

        def switch(job, execution):
            iot.update_event_configurations(
                eventConfigurations={"JOB": {"Enabled": job}, "JOB_EXECUTION": {"Enabled": execution}})
        self.addCleanup(switch, True, True)
        switch(False, True)
        off = unique("evoff")
        create_job(off, [thing])
        iot.cancel_job(jobId=off, force=True)
        self.assertEqual(rules.json(f"$aws/events/jobExecution/{off}/canceled")["jobId"], off)
        topics = [m.topic for m in rules.received()]
        self.assertFalse([t for t in topics if t.startswith(f"$aws/events/job/{off}/")], topics)
        switch(True, True)
        on = unique("evon")
        iot.create_job(jobId=on, targets=[f"{ARN}:thing/{thing}"], document="{}")
        iot.cancel_job(jobId=on, force=True)
        self.assertEqual(rules.json(f"$aws/events/job/{on}/canceled")["jobId"], on)

    def test_namespace_topics(self):
        thing, job = unique("ns"), unique("nsjob")
        create_job(job, [thing])
        dev = self.client(thing)
        ns = f"$aws/things/{thing}/jobs/{job}/namespace-aws-gg-deployment"
        kind, got = dev.request(f"{ns}/get", {"clientToken": "g"})
        self.assertEqual((kind, got["execution"]["jobId"], got["clientToken"]), ("accepted", job, "g"))
        kind, got = dev.request(f"{ns}/update", {"status": "IN_PROGRESS", "clientToken": "u"})
        self.assertEqual((kind, got["clientToken"]), ("accepted", "u"))
        nxt = f"$aws/things/{thing}/jobs/$next/namespace-aws-gg-deployment/get"
        kind, got = dev.request(nxt, {})
        self.assertEqual((kind, got["execution"]["status"]), ("accepted", "IN_PROGRESS"))

    def test_namespace_notifications(self):
        """SPEC R20, AMBIG-27: a job created with a namespaceId is told on the plain topics and on
        its namespace's, whose payloads list only that namespace's executions."""
        thing, plain, deploy = unique("gg"), unique("plain"), unique("deploy")
        dev = self.client(thing)
        base = f"$aws/things/{thing}/jobs"
        ns, next_ns = f"{base}/notify-namespace-aws-gg-deployment", f"{base}/notify-next-namespace-aws-gg-deployment"
        self.assertEqual(dev.sub(f"{base}/notify", f"{base}/notify-next", ns, next_ns), [1, 1, 1, 1])
        # A job without a namespace: the plain topics only.
        create_job(plain, [thing])
        self.assertEqual(dev.json(f"{base}/notify-next")["execution"]["jobId"], plain)
        seen = [m.topic for m in dev.received()]
        self.assertEqual(seen, [f"{base}/notify"])
        # A namespaced job behind it (over HTTP, control plane): both lists; the head is unchanged.
        iot.create_job(jobId=deploy, targets=[f"{ARN}:thing/{thing}"], namespaceId="aws-gg-deployment",
                       document=json.dumps({"components": {"a": "1.0"}}))
        m = dev.next(ns)
        self.assertEqual(m.qos, 1)
        lst = json.loads(m.payload)
        self.assertEqual(set(lst), {"timestamp", "jobs"})
        self.assertEqual([j["jobId"] for j in lst["jobs"]["QUEUED"]], [deploy])
        self.assertEqual(set(lst["jobs"]), {"QUEUED"})
        whole = dev.json(f"{base}/notify")
        self.assertEqual([j["jobId"] for j in whole["jobs"]["QUEUED"]], [plain, deploy])
        self.assertEqual(lst["jobs"]["QUEUED"][0], whole["jobs"]["QUEUED"][1])
        self.assertEqual([m.topic for m in dev.received()], [])
        # The device starts it over HTTP (data plane): it becomes the head, told on both.
        data.update_job_execution(jobId=deploy, thingName=thing, status="IN_PROGRESS")
        nxt = dev.json(next_ns)
        self.assertEqual(set(nxt), {"timestamp", "execution"})
        ex = nxt["execution"]
        self.assertEqual((ex["jobId"], ex["status"], ex["versionNumber"]), (deploy, "IN_PROGRESS", 2))
        self.assertEqual(ex["jobDocument"], {"components": {"a": "1.0"}})
        self.assertEqual(dev.json(f"{base}/notify-next")["execution"]["jobId"], deploy)
        self.assertEqual([m.topic for m in dev.received()], [])
        # It ends over MQTT on its namespace topic: the namespace has nothing pending.
        kind, _ = dev.request(f"{base}/{deploy}/namespace-aws-gg-deployment/update", {"status": "SUCCEEDED"})
        self.assertEqual(kind, "accepted")
        self.assertEqual(dev.json(ns)["jobs"], {})
        self.assertEqual(dev.json(next_ns).keys(), {"timestamp"})
        self.assertEqual([j["jobId"] for j in dev.json(f"{base}/notify")["jobs"]["QUEUED"]], [plain])
        self.assertEqual(dev.json(f"{base}/notify-next")["execution"]["jobId"], plain)

    def test_describe_endpoint_leads_to_the_broker(self):
        address = iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
        self.assertEqual(address, f"{HOST}:{PORT}")
        self.assertEqual(iot.describe_endpoint(endpointType="iot:Jobs")["endpointAddress"], URL.split("//")[1])

    def test_the_dollar_wildcard_rule_and_qos1(self):
        thing = unique("dollar")
        everything = self.client(unique("hash"))
        self.assertEqual(everything.sub("#", "+/things/+/jobs/#"), [1, 1])
        jobs = self.client(unique("jobs"))
        jobs.sub("$aws/things/+/jobs/#")
        create_job(unique("j"), [thing])
        self.assertEqual(jobs.next(f"$aws/things/{thing}/jobs/notify").qos, 1)
        everything.pub("plain/topic", "x")
        self.assertEqual(everything.next("plain/topic").payload, b"x")
        seen = [m.topic for m in everything.received()]
        self.assertFalse([t for t in seen if t.startswith("$")], seen)
        # QoS 0 subscription: delivered at QoS 0.
        low = self.client(unique("low"))
        low.c.subscribe("q/+", qos=0)
        time.sleep(0.2)
        low.pub("q/1", "y", qos=1)
        self.assertEqual(low.next("q/1").qos, 0)


class Paho5(Paho311):
    """The same over MQTT 5."""

    protocol = mqtt.MQTTv5

    def test_a_will_waits_its_delay_and_is_dropped_if_the_session_comes_back(self):
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        from paho.mqtt.reasoncodes import ReasonCode

        base = unique("late")
        watcher = self.client(unique("watch"))
        watcher.sub(f"{base}/#")

        def device(name, delay, clean_start):
            """A client with a will of `delay` s and a session that outlives it by 60 s."""
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{base}-{name}",
                            protocol=mqtt.MQTTv5)
            will = Properties(PacketTypes.WILLMESSAGE)
            will.WillDelayInterval = delay
            c.will_set(f"{base}/{name}", "gone", qos=1, properties=will)
            connect = Properties(PacketTypes.CONNECT)
            connect.SessionExpiryInterval = 60
            present, connected = [], threading.Event()

            def on_connect(c, u, flags, rc, p):
                present.append(flags.session_present)
                connected.set()

            c.on_connect = on_connect
            c.connect(HOST, PORT, keepalive=30, clean_start=clean_start, properties=connect)
            c.loop_start()
            assert connected.wait(WAIT), "no CONNACK"
            return c, present[0]

        def leave_with_will(c):
            c.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message"))
            c.loop_stop()

        # Published once its delay has run out.
        a, _ = device("a", 1, True)
        left = time.monotonic()
        leave_with_will(a)
        self.assertEqual(watcher.next(f"{base}/a").payload, b"gone")
        self.assertGreaterEqual(time.monotonic() - left, 1.0)
        # The client takes its session back before the delay runs out: never published.
        b, _ = device("b", 2, True)
        left = time.monotonic()
        leave_with_will(b)
        back, present = device("b", 2, False)
        self.addCleanup(back.loop_stop)
        self.addCleanup(back.disconnect)
        self.assertTrue(present)
        time.sleep(max(0.0, left + 3 - time.monotonic()))
        seen = [m.topic for m in watcher.received()]
        self.assertNotIn(f"{base}/b", seen)


class PahoWebSocket(Paho5):
    """The same over MQTT 5 over WebSocket (ws://HOST:PORT/mqtt, subprotocol mqtt), as browser
    and mobile apps reach AWS IoT Core."""

    def client(self, client_id):
        c = Paho(client_id, self.protocol, websocket=True)
        self.addCleanup(c.close)
        return c


class DeviceSdk(unittest.TestCase):
    """The AWS IoT Device SDK v2 for Python (awscrt) in plain TCP."""

    def test_iot_jobs_client_v2_over_mqtt5(self):
        self.run_v2(HOST, PORT, None)

    def test_iot_jobs_client_v2_over_mqtt5_with_client_certificates(self):
        from awscrt import io
        options = io.TlsContextOptions.create_client_with_mtls_from_path(
            os.path.join(TLS_DIR, "client.pem"), os.path.join(TLS_DIR, "client.key"))
        options.override_default_trust_store_from_path(None, os.path.join(TLS_DIR, "ca.pem"))
        self.run_v2(TLS_HOST, TLS_PORT, io.ClientTlsContext(options))

    def test_iot_jobs_client_v2_over_websockets_signed_with_sigv4(self):
        """As browser and mobile apps reach AWS IoT Core: wss://…/mqtt, the handshake signed with
        SigV4 (taken, not checked), the server certificate the emulator's CA signed."""
        self.run_v2(WSS_HOST, WSS_PORT, None, websocket=True)

    def run_v2(self, host, port, tls_ctx, websocket=False):
        from awscrt import auth, mqtt5, mqtt_request_response
        from awsiot import V2ServiceException, iotjobs, mqtt5_client_builder

        thing, job = unique("sdk5"), unique("sdkjob")
        create_job(job, [thing])
        connected, stopped = Future(), threading.Event()
        success = lambda d: connected.done() or connected.set_result(True)  # noqa: E731
        failure = lambda d: connected.done() or connected.set_exception(RuntimeError(str(d.exception)))  # noqa: E731
        if websocket:
            client = mqtt5_client_builder.websockets_with_default_aws_signing(
                endpoint=host, port=port, client_id=thing, region="us-east-1",
                credentials_provider=auth.AwsCredentialsProvider.new_static("test", "test"),
                ca_filepath=os.path.join(TLS_DIR, "ca.pem"), on_lifecycle_connection_success=success,
                on_lifecycle_connection_failure=failure, on_lifecycle_stopped=lambda d: stopped.set())
        else:
            client = mqtt5.Client(mqtt5.ClientOptions(
                host_name=host, port=port, tls_ctx=tls_ctx, connect_options=mqtt5.ConnectPacket(client_id=thing),
                on_lifecycle_event_connection_success_fn=success, on_lifecycle_event_connection_failure_fn=failure,
                on_lifecycle_event_stopped_fn=lambda d: stopped.set()))
        client.start()

        def stop():
            client.stop()
            stopped.wait(WAIT)
        self.addCleanup(stop)
        connected.result(WAIT)
        jobs = iotjobs.IotJobsClientV2(client, mqtt_request_response.ClientOptions(
            max_request_response_subscriptions=4, max_streaming_subscriptions=2, operation_timeout_in_seconds=5))
        pending = jobs.get_pending_job_executions(iotjobs.GetPendingJobExecutionsRequest(thing_name=thing)).result(WAIT)
        self.assertEqual([j.job_id for j in pending.queued_jobs], [job])
        started = jobs.start_next_pending_job_execution(
            iotjobs.StartNextPendingJobExecutionRequest(thing_name=thing)).result(WAIT)
        self.assertEqual((started.execution.job_id, started.execution.status), (job, "IN_PROGRESS"))
        self.assertEqual(started.execution.job_document, {"op": "install", "job": job})
        updated = jobs.update_job_execution(iotjobs.UpdateJobExecutionRequest(
            thing_name=thing, job_id=job, status="SUCCEEDED", include_job_execution_state=True)).result(WAIT)
        self.assertEqual(updated.execution_state.status, "SUCCEEDED")
        with self.assertRaises(V2ServiceException) as e:
            jobs.describe_job_execution(iotjobs.DescribeJobExecutionRequest(
                thing_name=thing, job_id="no-such-job")).result(WAIT)
        self.assertEqual(e.exception.modeled_error.code, "ResourceNotFound")
        del jobs  # the request-response client goes before its MQTT client stops

    def test_iot_jobs_client_over_mqtt311(self):
        from awscrt import mqtt
        from awsiot import iotjobs

        thing, job = unique("sdk3"), unique("sdkjob")
        create_job(job, [thing])
        conn = mqtt.Connection(client=mqtt.Client(None, None), host_name=HOST, port=PORT, client_id=thing)
        conn.connect().result(WAIT)
        self.addCleanup(lambda: conn.disconnect().result(WAIT))
        jobs = iotjobs.IotJobsClient(conn)
        got = {"start": Future(), "update": Future()}
        fut, _ = jobs.subscribe_to_start_next_pending_job_execution_accepted(
            iotjobs.StartNextPendingJobExecutionSubscriptionRequest(thing_name=thing), mqtt.QoS.AT_LEAST_ONCE,
            lambda r: got["start"].set_result(r))
        fut.result(WAIT)
        fut, _ = jobs.subscribe_to_update_job_execution_accepted(
            iotjobs.UpdateJobExecutionSubscriptionRequest(thing_name=thing, job_id=job), mqtt.QoS.AT_LEAST_ONCE,
            lambda r: got["update"].set_result(r))
        fut.result(WAIT)
        jobs.publish_start_next_pending_job_execution(
            iotjobs.StartNextPendingJobExecutionRequest(thing_name=thing, client_token="v1-start"),
            mqtt.QoS.AT_LEAST_ONCE).result(WAIT)
        start = got["start"].result(WAIT)
        self.assertEqual((start.execution.job_id, start.client_token), (job, "v1-start"))
        jobs.publish_update_job_execution(
            iotjobs.UpdateJobExecutionRequest(thing_name=thing, job_id=job, status="SUCCEEDED",
                                              client_token="v1-upd"), mqtt.QoS.AT_LEAST_ONCE).result(WAIT)
        self.assertEqual(got["update"].result(WAIT).client_token, "v1-upd")
        d = iot.describe_job_execution(jobId=job, thingName=thing)["execution"]
        self.assertEqual(d["status"], "SUCCEEDED")


class MqttJs(unittest.TestCase):
    """MQTT.js, the MQTT client of browser and Node apps, over WebSocket (ws://HOST:PORT/mqtt),
    MQTT 3.1.1 and 5: a device that starts its next job, reports it SUCCEEDED and makes an update
    the service rejects (js/jobs_over_websocket.js prints what it saw)."""

    def test_mqtt311_over_websocket(self):
        self.run_device(4)

    def test_mqtt5_over_websocket(self):
        self.run_device(5)

    def run_device(self, version):
        node, modules = os.environ.get("EMU_NODE"), os.environ.get("EMU_NODE_MODULES")
        self.assertTrue(node and modules, "EMU_NODE and EMU_NODE_MODULES are set by run.sh")
        thing, job = unique(f"js{version}"), unique("jsjob")
        create_job(job, [thing])
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js", "jobs_over_websocket.js")
        done = subprocess.run([node, script, f"ws://{WS_HOST}:{WS_PORT}/mqtt", thing, job, str(version)],
                              env={**os.environ, "NODE_PATH": modules}, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        seen = json.loads(done.stdout)
        self.assertEqual((seen["sessionPresent"], seen["reasonCode"]), (False, 0 if version == 5 else None))
        self.assertEqual(seen["granted"], [1, 1, 1])
        base = f"$aws/things/{thing}/jobs"
        by_topic = {}
        for topic, body in seen["messages"]:
            by_topic.setdefault(topic, []).append(body)
        self.assertEqual(sorted(by_topic), sorted(
            [f"{base}/start-next/accepted", f"{base}/{job}/update/accepted", f"{base}/notify-next",
             f"{base}/{job}/update/rejected"]), seen["messages"])
        self.assertEqual(seen["messages"][0][0], f"{base}/start-next/accepted")
        [started] = by_topic[f"{base}/start-next/accepted"]
        self.assertEqual(started["clientToken"], "js-start")
        execution = started["execution"]
        self.assertEqual((execution["jobId"], execution["thingName"], execution["status"], execution["versionNumber"]),
                         (job, thing, "IN_PROGRESS", 2))
        self.assertEqual(execution["jobDocument"], {"op": "install", "job": job})
        [updated] = by_topic[f"{base}/{job}/update/accepted"]
        self.assertEqual(updated["clientToken"], "js-done")
        # Nothing else is pending: notify-next carries no execution.
        [nothing_next] = by_topic[f"{base}/notify-next"]
        self.assertNotIn("execution", nothing_next)
        [rejected] = by_topic[f"{base}/{job}/update/rejected"]
        self.assertEqual((rejected["code"], rejected["clientToken"], rejected["executionState"]["status"]),
                         ("InvalidStateTransition", "js-again", "SUCCEEDED"))
        e = iot.describe_job_execution(jobId=job, thingName=thing)["execution"]
        self.assertEqual((e["status"], e["versionNumber"]), ("SUCCEEDED", 3))


class Tls(unittest.TestCase):
    """The TLS listener: a client certificate signed by the emulator's CA is required."""

    def client(self, certificate):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("tls"))
        if certificate:
            c.tls_set(ca_certs=os.path.join(TLS_DIR, "ca.pem"), certfile=os.path.join(TLS_DIR, "client.pem"),
                      keyfile=os.path.join(TLS_DIR, "client.key"))
        else:
            c.tls_set(ca_certs=os.path.join(TLS_DIR, "ca.pem"))
        return c

    def test_a_device_with_the_generated_certificate_runs_the_jobs_api(self):
        thing, job = unique("tlsdev"), unique("tlsjob")
        create_job(job, [thing])
        got = queue.Queue()
        c = self.client(True)
        c.on_message = lambda c, u, m: got.put((m.topic, json.loads(m.payload)))
        c.connect(TLS_HOST, TLS_PORT)
        c.loop_start()
        self.addCleanup(c.loop_stop)
        c.subscribe(f"$aws/things/{thing}/jobs/start-next/accepted", qos=1)[1]
        time.sleep(0.3)
        c.publish(f"$aws/things/{thing}/jobs/start-next", json.dumps({"clientToken": "tls1"}), qos=1).wait_for_publish()
        topic, body = got.get(timeout=WAIT)
        self.assertEqual((topic, body["clientToken"], body["execution"]["jobId"]),
                         (f"$aws/things/{thing}/jobs/start-next/accepted", "tls1", job))
        c.disconnect()

    def test_a_client_without_a_certificate_is_refused(self):
        c = self.client(False)
        refused = False
        try:
            c.connect(TLS_HOST, TLS_PORT)
            c.loop_start()
            time.sleep(1)
            refused = not c.is_connected()
            c.loop_stop()
        except (ssl.SSLError, OSError):
            refused = True
        self.assertTrue(refused)


class CrateAgent(unittest.TestCase):
    """The crate's own sans-IO agent over a real TCP connection (`emulator/examples/device_mqtt.rs`),
    running jobs that the AWS CLI creates."""

    def run_small_client_device(self, thing):
        """The device for `thing` until it has finished 2 jobs, its client holding packets of at
        most 8 KiB (rumqttc closes the connection on a larger one); its output, once it exited 0."""
        device = subprocess.run(
            [os.environ["EMU_DEVICE"], "--broker", os.environ["EMU_MQTT"], "--thing", thing, "--jobs", "2",
             "--rx-max", "8192", "--response-timeout", "2", "--seconds", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=90)
        self.assertEqual(device.returncode, 0, device.stdout)
        return device.stdout

    def test_the_crate_agent_runs_jobs_created_with_the_aws_cli(self):
        thing = unique("agent")
        device = subprocess.Popen(
            [os.environ["EMU_DEVICE"], "--broker", os.environ["EMU_MQTT"], "--thing", thing, "--jobs", "2",
             "--seconds", "60"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        aws = [os.environ["EMU_AWS"], "iot", "--endpoint-url", URL, "--output", "json"]
        subprocess.run([*aws, "create-thing", "--thing-name", thing], check=True, capture_output=True)
        jobs = [unique("fw"), unique("fw")]
        for job in jobs:
            subprocess.run([*aws, "create-job", "--job-id", job, "--document", '{"op":"install"}',
                            "--targets", f"{ARN}:thing/{thing}"], check=True, capture_output=True)
        out, _ = device.communicate(timeout=90)
        self.assertEqual(device.returncode, 0, out)
        self.assertIn("done: 2 jobs", out)
        for job in jobs:
            self.assertIn(f"[app] run {job} (execution 1)", out)
            e = iot.describe_job_execution(jobId=job, thingName=thing)["execution"]
            self.assertEqual((e["status"], e["statusDetails"]["detailsMap"]), ("SUCCEEDED", {"by": "iot-jobs-core agent"}))

    def test_a_job_whose_document_the_devices_client_cannot_receive_is_rejected_not_stuck(self):
        # The device's client takes packets of at most 8 KiB and closes the connection on a larger
        # one (rumqttc), as a fixed receive buffer fails on it. StartNext has made the 20 KB job
        # IN_PROGRESS by then; the agent describes `$next` without the document, and the
        # application rejects it, so the next job runs.
        thing = unique("agent")
        aws = [os.environ["EMU_AWS"], "iot", "--endpoint-url", URL, "--output", "json"]
        subprocess.run([*aws, "create-thing", "--thing-name", thing], check=True, capture_output=True)
        big, small = unique("big"), unique("fw")
        iot.create_job(jobId=big, document=json.dumps({"blob": "x" * 20000}), targets=[f"{ARN}:thing/{thing}"])
        iot.create_job(jobId=small, document='{"op":"install"}', targets=[f"{ARN}:thing/{thing}"])
        out = self.run_small_client_device(thing)
        self.assertIn("payload size limit exceeded", out)
        self.assertIn(f"[app] {big}: its document never arrived", out)
        self.assertIn(f"[app] run {small} (execution 1)", out)
        statuses = [iot.describe_job_execution(jobId=j, thingName=thing)["execution"]["status"] for j in (big, small)]
        self.assertEqual(statuses, ["REJECTED", "SUCCEEDED"])

    def test_an_execution_whose_status_details_the_client_cannot_receive_is_rejected_not_stuck(self):
        # Another writer (an earlier firmware, over HTTPS) started the job and left 9 KB of
        # statusDetails: the StartNext reply and the describe of `$next` without the document both
        # carry them, and neither fits the client's 8 KiB. GetPendingJobExecutions names the
        # execution without them; the application rejects it, so the next job runs.
        thing = unique("agent")
        iot.create_thing(thingName=thing)
        held, small = unique("held"), unique("fw")
        iot.create_job(jobId=held, document='{"op":"install"}', targets=[f"{ARN}:thing/{thing}"])
        iot.create_job(jobId=small, document='{"op":"install"}', targets=[f"{ARN}:thing/{thing}"])
        details = {f"k{i}": str(i) * 900 for i in range(10)}
        started = data.start_next_pending_job_execution(thingName=thing, statusDetails=details)
        self.assertEqual(started["execution"]["jobId"], held)
        out = self.run_small_client_device(thing)
        self.assertIn(f"→ $aws/things/{thing}/jobs/get ", out)
        self.assertIn(f"[app] {held}: its document never arrived", out)
        self.assertIn(f"[app] run {small} (execution 1)", out)
        statuses = [iot.describe_job_execution(jobId=j, thingName=thing)["execution"]["status"] for j in (held, small)]
        self.assertEqual(statuses, ["REJECTED", "SUCCEEDED"])


if __name__ == "__main__":
    code = run_cases("mqtt", Paho311, Paho5, *([PahoWebSocket, MqttJs] if WS_PORT else []), DeviceSdk, Tls, CrateAgent)
    # awscrt's native threads can crash the interpreter's teardown (a segfault after every test
    # passed); the result is known, so leave without it.
    os._exit(code)
