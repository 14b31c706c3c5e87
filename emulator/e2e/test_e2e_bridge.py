"""End-to-end tests of bridge mode (`--mqtt-broker`): the emulator as a client of mosquitto, with
devices (paho-mqtt, the AWS IoT Device SDK, the crate's agent) connected to mosquitto, not to the
emulator. Also runs the README's copy-paste session (mosquitto_sub, mosquitto_pub, the AWS CLI)
against a fresh emulator's embedded broker, and against the bridged one.

This script starts its own mosquitto (a minimal mosquitto 2 config on a free loopback port) and
its own emulator bridged to it, then reuses the scenarios of test_e2e_mqtt.py that do not depend on
the embedded broker (TLS listener, answers to the publisher alone).

Environment (set by run.sh): EMU_BIN, EMU_AWS, EMU_DEVICE, MOSQUITTO, MOSQUITTO_SUB, MOSQUITTO_PUB,
AWS_* dummy credentials.
"""

import atexit
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

WORK = tempfile.mkdtemp(prefix="e2e-bridge-")
WAIT = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what):
    deadline = time.time() + WAIT
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} is not listening on {port}")


class Mosquitto:
    """A mosquitto 2 on a loopback port, which can be stopped and started again on that port."""

    def __init__(self, name="mosquitto"):
        self.port, self.name = free_port(), name
        self.conf = os.path.join(WORK, name + ".conf")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(WORK, self.name + ".log"), "a")
        self.proc = subprocess.Popen([os.environ["MOSQUITTO"], "-c", self.conf], stdout=self.log, stderr=self.log)
        wait_for_port(self.port, self.proc, "mosquitto")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(WAIT)
        self.log.close()


def emulator(*args, log):
    """Starts an emulator; returns it and its HTTP and MQTT addresses (as printed)."""
    p = subprocess.Popen([os.environ["EMU_BIN"], "--addr", "127.0.0.1:0", *args], stdout=subprocess.PIPE,
                         stderr=log, text=True)
    url = mqtt_addr = None
    for line in p.stdout:
        url = url or (re.search(r"http://[0-9.:]+", line) or [None])[0]
        mqtt_addr = mqtt_addr or (re.search(r"mqtt://[0-9.:]+", line) or [None])[0]
        if line.startswith("Point the AWS CLI"):
            break
    assert url, "the emulator printed no address"
    # Reads the rest of its output (so it never fills the pipe) and closes the pipe at its exit.
    threading.Thread(target=lambda: (p.stdout.read(), p.stdout.close()), daemon=True).start()
    return p, url, mqtt_addr


BROKER = Mosquitto()
EMU_ERR = open(os.path.join(WORK, "emulator.err"), "w+")
EMU, URL, _ = emulator("--mqtt-broker", f"mqtt://127.0.0.1:{BROKER.port}", "--clock", "manual",
                       "--deletion-delay", "60", "--log-level", "info", log=EMU_ERR)
EMBEDDED, EMBEDDED_URL, EMBEDDED_MQTT = emulator("--mqtt-addr", "127.0.0.1:0", log=subprocess.DEVNULL)


def cleanup():
    for p in (EMU, EMBEDDED):
        if p.poll() is None:
            p.terminate()
            p.wait(WAIT)
    BROKER.stop()
    EMU_ERR.close()


atexit.register(cleanup)


def emulator_log():
    EMU_ERR.flush()
    with open(EMU_ERR.name) as f:
        return f.read()


def wait_for_log(pattern, count, log=emulator_log):
    deadline = time.time() + 3 * WAIT
    while len(re.findall(pattern, log())) < count:
        assert time.time() < deadline, f"{pattern!r} not logged {count} times:\n{log()}"
        time.sleep(0.05)


wait_for_log("MQTT bridge subscribed", 1)

# The scenarios of test_e2e_mqtt.py, pointed at mosquitto and the bridged emulator.
# The bridge serves no WebSocket: mosquitto's is not set up.
os.environ.pop("EMU_MQTT_WS", None)
os.environ.pop("EMU_MQTT_WSS", None)
os.environ.update(EMU_URL=URL, EMU_MQTT=f"127.0.0.1:{BROKER.port}", EMU_MQTTS="127.0.0.1:1",
                  EMU_TLS_DIR=os.path.join(WORK, "no-tls"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_e2e_mqtt as m  # noqa: E402
from test_e2e import run_cases  # noqa: E402


class SubscribingPaho(m.Paho):
    """A device through a broker hears an answer only if it subscribed to it (the embedded broker
    answers the publisher whether or not it did): subscribes to TOPIC/+ before each request."""

    def request(self, topic, body):
        if topic not in getattr(self, "answers", set()):
            self.answers = getattr(self, "answers", set()) | {topic}
            self.sub(topic + "/+")
        return super().request(topic, body)


m.Paho = SubscribingPaho


class BridgedPaho311(m.Paho311):
    """paho-mqtt over 3.1.1 connected to mosquitto: lifecycle, rejections, notifications caused by
    HTTP calls and the clock, namespaces, events, DescribeEndpoint (mosquitto's address)."""


class BridgedPaho5(m.Paho5):
    """The same over MQTT 5."""


class BridgedDeviceSdk(unittest.TestCase):
    """The AWS IoT Device SDK connected to mosquitto."""

    run_v2 = m.DeviceSdk.run_v2
    test_iot_jobs_client_over_mqtt311 = m.DeviceSdk.test_iot_jobs_client_over_mqtt311

    def test_iot_jobs_client_v2_over_mqtt5(self):
        self.run_v2(m.HOST, m.PORT, None)


class BridgedCrateAgent(m.CrateAgent):
    """The crate's agent connected to mosquitto."""


class BrokerRestart(unittest.TestCase):
    """mosquitto goes away and comes back on the same port: the emulator reconnects, subscribes
    again and serves devices and notifications as before."""

    def test_the_emulator_reconnects_and_serves_again(self):
        before = len(re.findall("MQTT bridge subscribed", emulator_log()))
        BROKER.stop()
        wait_for_log("MQTT bridge: connection lost", 1)
        # Changes while the broker is away are taken over HTTP as usual.
        thing, job = m.unique("restart"), m.unique("rjob")
        m.create_job(job, [thing])
        time.sleep(1)
        BROKER.start()
        # Connected is not enough: a request published before the broker grants the bridge's
        # subscription is delivered to no one.
        wait_for_log("MQTT bridge subscribed", before + 1)
        self.assertIsNone(EMU.poll(), "the emulator stopped")
        dev = m.Paho(thing, m.mqtt.MQTTv5)
        self.addCleanup(dev.close)
        base = f"$aws/things/{thing}/jobs"
        dev.sub(f"{base}/notify-next")
        # The subscription is made again after every connection: requests are answered.
        kind, got = dev.request(f"{base}/start-next", {"clientToken": "after-restart"})
        self.assertEqual((kind, got["clientToken"], got["execution"]["jobId"]), ("accepted", "after-restart", job))
        started = got["timestamp"]
        kind, got = dev.request(f"{base}/{job}/update", {"status": "SUCCEEDED"})
        self.assertEqual(kind, "accepted")
        # The creation's notify-next waited for the broker and is published on the new
        # connection (README): it may reach the device after its subscription, and (QoS 1) more
        # than once. It is told apart by what it says, the job QUEUED: the clock is manual, so
        # its timestamp is the start's. The update's notify-next follows it: nothing is next.
        for _ in range(3):
            note = dev.json(f"{base}/notify-next")
            if "execution" not in note:
                break
            self.assertEqual((note["execution"]["jobId"], note["execution"]["status"]), (job, "QUEUED"))
            self.assertLessEqual(note["timestamp"], started)
        self.assertEqual(note.keys(), {"timestamp"})
        # A notification caused by an HTTP call reaches the device through the new connection.
        second = m.unique("rjob2")
        m.iot.create_job(jobId=second, targets=[f"{m.ARN}:thing/{thing}"], document="{}")
        self.assertEqual(dev.json(f"{base}/notify-next")["execution"]["jobId"], second)


class EmulatorRestart(unittest.TestCase):
    """The emulator stops, a device publishes a request, the emulator starts again from its state
    file: with --mqtt-broker-session mosquitto held the request for the emulator's session and it
    is answered; with the default clean session it reaches no one. Each test has a mosquitto of
    its own (the suite's bridged emulator would answer the request on the shared one)."""

    def restartable(self, *session):
        """A mosquitto of this test's own; returns it, a function that starts an emulator bridged
        to it (the same state file and `session` arguments each time) and one that reads the
        emulators' log."""
        broker = Mosquitto(m.unique("mosquitto"))
        self.addCleanup(broker.stop)
        name = m.unique("restart-emu")
        state, log_path = os.path.join(WORK, name + ".state"), os.path.join(WORK, name + ".err")
        log = open(log_path, "a")
        self.addCleanup(log.close)

        def read_log():
            log.flush()
            with open(log_path) as f:
                return f.read()

        def start():
            p, url, _ = emulator("--mqtt-broker", f"mqtt://127.0.0.1:{broker.port}", "--mqtt-addr", "off",
                                 "--clock", "manual", "--state-file", state, *session, "--log-level", "info",
                                 log=log)
            self.addCleanup(lambda: p.poll() is None and (p.terminate(), p.wait(WAIT)))
            return p, url

        return broker, start, read_log

    def with_job(self, start, read_log):
        """Starts the first emulator and creates a thing and a job for it over HTTP; returns the
        emulator, its URL, the thing and the job."""
        emu, url = start()
        wait_for_log("MQTT bridge subscribed", 1, read_log)
        iot = m.boto3.client("iot", endpoint_url=url, region_name=m.REGION)
        thing, job = m.unique("held"), m.unique("hjob")
        iot.create_thing(thingName=thing)
        iot.create_job(jobId=job, targets=[f"{m.ARN}:thing/{thing}"], document="{}")
        return emu, url, thing, job

    def run_restart(self, *session):
        broker, start, read_log = self.restartable(*session)
        emu, url, thing, job = self.with_job(start, read_log)
        emu.terminate()
        self.assertEqual(emu.wait(WAIT), 0)
        dev = m.Paho(thing, m.mqtt.MQTTv5, port=broker.port)
        self.addCleanup(dev.close)
        base = f"$aws/things/{thing}/jobs"
        dev.sub(f"{base}/start-next/+")
        # mosquitto takes it (PUBACK) while no emulator is connected.
        dev.pub(f"{base}/start-next", json.dumps({"clientToken": "while-away"}))
        emu, url = start()
        wait_for_log("MQTT bridge subscribed", 2, read_log)
        return dev, base, job, url

    def test_a_persistent_session_answers_requests_published_while_the_emulator_was_away(self):
        session_id = m.unique("e2e-session")
        dev, base, job, url = self.run_restart("--mqtt-broker-session", session_id,
                                               "--mqtt-broker-session-expiry", "60")
        got = dev.json(f"{base}/start-next/accepted")
        self.assertEqual((got["clientToken"], got["execution"]["jobId"], got["execution"]["status"]),
                         ("while-away", job, "IN_PROGRESS"))
        # The restarted emulator took the change: its state says so over HTTP.
        data = m.boto3.client("iot-jobs-data", endpoint_url=url, region_name=m.REGION)
        thing = base.split("/")[2]
        described = data.describe_job_execution(jobId=job, thingName=thing)["execution"]
        self.assertEqual(described["status"], "IN_PROGRESS")

    def test_a_clean_stop_under_load_carries_out_each_request_once(self):
        """A device publishes updates without waiting for their answers; the emulator is stopped
        (SIGTERM) while it works through them, and started again under the same session. Every
        update is answered once and counted once: the stopping emulator acknowledged exactly the
        requests it had carried out, and mosquitto delivered the rest to the next one."""
        broker, start, read_log = self.restartable("--mqtt-broker-session", m.unique("e2e-session"))
        emu, url, thing, job = self.with_job(start, read_log)
        dev = m.Paho(thing, m.mqtt.MQTTv5, port=broker.port)
        self.addCleanup(dev.close)
        base = f"$aws/things/{thing}/jobs/{job}/update"
        dev.sub(f"{base}/+")
        n = 400
        sent = [dev.c.publish(base, json.dumps({"status": "IN_PROGRESS", "clientToken": f"u{i}"}), qos=1)
                for i in range(n)]
        # The stop comes once the emulator has answered some of them.
        first = dev.json(f"{base}/accepted")["clientToken"]
        emu.terminate()
        self.assertEqual(emu.wait(WAIT), 0)
        emu, url = start()
        for info in sent:
            info.wait_for_publish(WAIT)
            self.assertTrue(info.is_published())
        tokens = [first] + [dev.json(f"{base}/accepted")["clientToken"] for _ in range(n - 1)]
        # One more answer would be a request carried out twice.
        with self.assertRaises(AssertionError):
            dev.next(f"{base}/accepted", timeout=1)
        self.assertEqual(set(tokens), {f"u{i}" for i in range(n)})
        data = m.boto3.client("iot-jobs-data", endpoint_url=url, region_name=m.REGION)
        described = data.describe_job_execution(jobId=job, thingName=thing)["execution"]
        # Version 1 when queued, one more per update carried out.
        self.assertEqual(described["versionNumber"], 1 + n)

    def test_without_a_session_such_a_request_is_lost(self):
        dev, base, job, url = self.run_restart()
        with self.assertRaises(AssertionError):
            dev.next(f"{base}/start-next/accepted", timeout=2)
        data = m.boto3.client("iot-jobs-data", endpoint_url=url, region_name=m.REGION)
        thing = base.split("/")[2]
        self.assertEqual(data.describe_job_execution(jobId=job, thingName=thing)["execution"]["status"], "QUEUED")


def readme_session():
    """The README's copy-paste session (the first sh block under "A copy-paste MQTT session")."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "README.md")) as f:
        readme = f.read()
    section = readme.split("### A copy-paste MQTT session", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


class ReadmeSession(unittest.TestCase):
    """The README's mosquitto_sub / mosquitto_pub session, run line by line as pasted."""

    def run_session(self, url, port):
        lines = [ln for ln in readme_session().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        script = []
        for ln in lines:
            ln = ln.replace("http://127.0.0.1:4588", url).replace("-p 1883", f"-p {port}")
            ln = ln.replace("mosquitto_sub ", os.environ["MOSQUITTO_SUB"] + " ", 1)
            ln = ln.replace("mosquitto_pub ", os.environ["MOSQUITTO_PUB"] + " ", 1)
            ln = re.sub(r"^aws ", os.environ["EMU_AWS"] + " ", ln)
            script.append(ln)
            # A person pastes line by line: the output of each line shows before the next.
            if not ln.endswith("\\"):
                script.append("sleep 0.5")
        out = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        topics = [ln.split(" ", 1)[0] for ln in out.stdout.splitlines() if ln.startswith("$aws/")]
        for t in ["$aws/things/dev1/jobs/notify-next", "$aws/things/dev1/jobs/notify",
                  "$aws/events/jobExecution/fw-1/succeeded", "$aws/events/job/fw-1/completed"]:
            self.assertIn(t, topics, out.stdout)
        self.assertIn('"status":"SUCCEEDED"', out.stdout)
        # The job is done, as the session says.
        job = subprocess.run([os.environ["EMU_AWS"], "iot", "describe-job", "--job-id", "fw-1", "--endpoint-url", url,
                              "--query", "job.status", "--output", "text"], capture_output=True, text=True)
        self.assertEqual(job.stdout.strip(), "COMPLETED", job.stderr)
        return topics

    def test_on_the_embedded_broker(self):
        topics = self.run_session(EMBEDDED_URL, EMBEDDED_MQTT.rsplit(":", 1)[1])
        # Answers go to the publishing client alone: mosquitto_sub sees none.
        self.assertNotIn("$aws/things/dev1/jobs/start-next/accepted", topics)

    def test_on_mosquitto_through_the_bridge(self):
        topics = self.run_session(URL, BROKER.port)
        # Through a broker, an answer reaches every subscriber of its topic.
        self.assertIn("$aws/things/dev1/jobs/start-next/accepted", topics)


if __name__ == "__main__":
    code = run_cases("bridge", BridgedPaho311, BridgedPaho5, BridgedDeviceSdk, BridgedCrateAgent, ReadmeSession,
                     BrokerRestart, EmulatorRestart)
    if code:
        print("--- bridged emulator log ---\n" + emulator_log()[-4000:])
    cleanup()
    sys.stdout.flush()
    # awscrt's native threads can crash the interpreter's teardown (see test_e2e_mqtt.py).
    os._exit(code)
