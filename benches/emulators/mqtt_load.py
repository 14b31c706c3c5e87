"""Device round trips, over MQTT or the HTTP data plane: DEVICES devices, each in a loop of
StartNext then UpdateJobExecution(IN_PROGRESS) on its own thing (t0..t{DEVICES-1}, seeded by
seed.py with `job1`), each request waiting for its answer before the next. Prints one RESULT line.

Usage: mqtt_load.py TARGET DEVICES SECONDS
  TARGET: mqtt://HOST:PORT, ws://HOST:PORT (MQTT over WebSocket, path /mqtt), or http://HOST:PORT
The devices are spread over PROCS processes (env, default 2), one thread per device; each process
reports the CPU it used, so a generator at its limit is visible (cpu% near 100 × PROCS).
"""
import json
import multiprocessing as mp
import os
import socket
import sys
import threading
import time

AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iot-jobs-data/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
UPDATE = json.dumps({"status": "IN_PROGRESS"})


def mqtt_device(target, thing, stop_at, out):
    import paho.mqtt.client as mqtt
    scheme, hostport = target.split("://", 1)
    host, port = hostport.rsplit(":", 1)
    got = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{thing}-{os.getpid()}",
                    transport="websockets" if scheme == "ws" else "tcp")
    if scheme == "ws":
        # ministack routes a WebSocket to its IoT broker by an IoT data host name (`….iot.REGION.…`).
        c.ws_set_options(path="/mqtt", headers=lambda h: {**h, "Host": "bench-ats.iot.us-east-1.amazonaws.com"})
    answer = []

    def on_message(c, u, m):
        answer.append(m.topic.endswith("/accepted"))
        got.set()
    c.on_message = on_message
    ready = threading.Event()

    def on_connect(c, u, f, rc, p):
        # paho leaves Nagle on: a request written while its previous PUBACK is unacknowledged
        # would wait for the server's delayed ACK (~40 ms), whatever the server.
        sock = c.socket()
        sock = getattr(sock, "_socket", sock)  # the TCP socket under paho's WebSocket wrapper
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ready.set()
    c.on_connect = on_connect
    c.connect(host, int(port), keepalive=60)
    c.loop_start()
    if not ready.wait(10):
        raise RuntimeError(f"no CONNACK from {target}")
    base = f"$aws/things/{thing}/jobs"
    subscribed = threading.Event()
    c.on_subscribe = lambda *a: subscribed.set()
    c.subscribe([(f"{base}/start-next/+", 1), (f"{base}/job1/update/+", 1)])
    if not subscribed.wait(10):
        raise RuntimeError("no SUBACK")
    lat, errors = [], 0
    while time.time() < stop_at:
        for topic, body in ((f"{base}/start-next", "{}"), (f"{base}/job1/update", UPDATE)):
            got.clear()
            answer.clear()
            t0 = time.perf_counter()
            c.publish(topic, body, qos=1)
            if got.wait(10) and answer == [True]:
                lat.append(time.perf_counter() - t0)
            else:
                errors += 1
    c.disconnect()
    c.loop_stop()
    out.append((lat, errors))


def http_device(target, thing, stop_at, out):
    import http.client
    host, port = target.split("://", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Authorization": AUTH, "X-Amz-Date": "20260101T000000Z", "Content-Type": "application/json"}
    lat, errors = [], 0
    while time.time() < stop_at:
        for method, path, body in (("PUT", f"/things/{thing}/jobs/$next", "{}"),
                                   ("POST", f"/things/{thing}/jobs/job1", UPDATE)):
            t0 = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            if 200 <= r.status < 300:
                lat.append(time.perf_counter() - t0)
            else:
                errors += 1
    conn.close()
    out.append((lat, errors))


def worker(target, things, seconds, start_at, q):
    fn = http_device if target.startswith("http") else mqtt_device
    out = []
    stop_at = start_at + seconds
    threads = [threading.Thread(target=fn, args=(target, t, stop_at, out)) for t in things]
    # Connections are made before the clock starts; the loops start together.
    time.sleep(max(0.0, start_at - 1.0 - time.time()))
    cpu0 = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = [x for lst, _ in out for x in lst]
    q.put((lat, sum(e for _, e in out), time.process_time() - cpu0))


def main():
    target, devices, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    procs = int(os.environ.get("PROCS", "2"))
    things = [f"t{i}" for i in range(devices)]
    q = mp.Queue()
    start_at = time.time() + 2.0
    ps = [mp.Process(target=worker, args=(target, things[i::procs], seconds, start_at, q)) for i in range(procs)]
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    lat = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    cpu = sum(r[2] for r in results)
    elapsed = seconds + 1.0  # connecting, up to 1 s, is inside the worker's CPU time too

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else float("nan")
    print(f"RESULT requests={len(lat)} errors={errors} secs={seconds:.1f} req_per_s={len(lat) / seconds:.0f} "
          f"p50_ms={pct(50):.2f} p99_ms={pct(99):.2f} loadgen_cpu_pct={100 * cpu / elapsed:.0f}")


if __name__ == "__main__":
    main()
