"""The embedded broker's SUBSCRIBE among many retained messages: what a subscription costs when the
broker keeps 10,000 retained topics, and what a client that subscribes over and over costs the
others.

Usage: python3 benches/emulators/mqtt_retained.py BIN [BIN...]   (env: SECONDS=3, RETAINED=10000)

A client retains one 16-byte message on each of `RETAINED` topics `r/{i}/state`. Then:
- SUBSCRIBE + UNSUBSCRIBE round trips per second of one client, per filter: an exact topic
  (`r/1234/state`, 1 retained match), one level open (`r/1234/+`), a filter under no retained
  topic (`x/+/state`), a filter that starts with a wildcard (`+/1234/state`) and a shared
  subscription (`$share/g/r/+/state`): 0 retained messages for each of these, since AWS IoT Core
  (and the emulator since 2026-12-06) gives a retained message only to a subscription to its
  exact topic. Each round trip reads the SUBACK, the retained messages and the UNSUBACK.
- a publisher's QoS 1 round trips (PUBLISH → PUBACK, to a topic nobody subscribes to): per
  second and p50 / p99 in µs, alone, and while another client sends back to back SUBSCRIBEs of
  8 filters that match nothing and their UNSUBSCRIBEs: filters under no retained topic
  (`x/{n}/+`), then filters that start with a wildcard (`+/x/{n}`, which every retained topic
  must be looked at for).
"""

import os
import statistics
import struct
import sys
import threading
import time

from mqtt_wire import connect, emulator, packet, read_packet, string

SECONDS = float(os.environ.get("SECONDS", "3"))
RETAINED = int(os.environ.get("RETAINED", "10000"))
FILTERS = ["r/1234/state", "r/1234/+", "x/+/state", "+/1234/state", "$share/g/r/+/state"]


def retain_all(port):
    s = connect(port, b"retainer")
    for i in range(RETAINED):
        s.sendall(packet(0x31, string(f"r/{i}/state".encode()) + b"s" * 16))
    # A QoS 1 publish after them: its PUBACK says the broker has taken them all.
    s.sendall(packet(0x32, string(b"done") + struct.pack(">H", 1) + b"."))
    assert read_packet(s)[0] == 0x40
    s.sendall(b"\xe0\x00")
    s.close()


def subscribe_round_trips(port, filters, stop_after=None, stop=None):
    """SUBSCRIBE `filters` and UNSUBSCRIBE them, back to back: (round trips, retained messages
    received per round trip), for `stop_after` seconds or until `stop` is set."""
    s = connect(port, b"subscriber-" + str(len(filters)).encode() + os.urandom(4).hex().encode())
    body = b"".join(string(f.encode()) + b"\x00" for f in filters)
    unbody = b"".join(string(f.encode()) for f in filters)
    rounds = received = 0
    end = time.monotonic() + stop_after if stop_after else None
    while (end is None or time.monotonic() < end) and not (stop and stop.is_set()):
        pkid = rounds % 30000 * 2 + 1
        s.sendall(packet(0x82, struct.pack(">H", pkid) + body) + packet(0xA2, struct.pack(">H", pkid + 1) + unbody))
        while True:
            first, _ = read_packet(s)
            if first >> 4 == 3:
                received += 1
            elif first >> 4 == 11:  # UNSUBACK
                break
        rounds += 1
    s.sendall(b"\xe0\x00")
    s.close()
    return rounds, received / max(rounds, 1)


def publish_round_trips(port, seconds):
    """QoS 1 round trips for `seconds`: (per second, p50 µs, p99 µs)."""
    s = connect(port, b"publisher")
    lat = []
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        t = time.perf_counter()
        s.sendall(packet(0x32, string(b"nobody/here") + struct.pack(">H", n % 65535 + 1) + b"p" * 16))
        assert read_packet(s)[0] == 0x40
        lat.append(time.perf_counter() - t)
    s.sendall(b"\xe0\x00")
    s.close()
    q = statistics.quantiles(lat, n=100)
    return len(lat) / seconds, q[49] * 1e6, q[98] * 1e6


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    width = max(len(b) for b in sys.argv[1:])
    print(f"{RETAINED:,} retained topics; {SECONDS:g} s per measurement")
    for binary in sys.argv[1:]:
        with emulator(binary) as (_, port):
            retain_all(port)
            for f in FILTERS:
                rounds, per = subscribe_round_trips(port, [f], stop_after=SECONDS)
                print(f"{binary:<{width}} SUBSCRIBE {f:<20} {rounds / SECONDS:>9,.0f}/s  ({per:g} retained each)", flush=True)
            results = [("alone", publish_round_trips(port, SECONDS))]
            for what, filters in (("beside x/{n}/+", "x/{}/+"), ("beside +/x/{n}", "+/x/{}")):
                stop = threading.Event()
                churn = threading.Thread(
                    target=subscribe_round_trips, args=(port, [filters.format(n) for n in range(8)]), kwargs={"stop": stop}
                )
                churn.start()
                results.append((what, publish_round_trips(port, SECONDS)))
                stop.set()
                churn.join()
            for what, (rate, p50, p99) in results:
                print(f"{binary:<{width}} PUBLISH {what:<19} {rate:>9,.0f}/s  p50 {p50:,.0f} µs, p99 {p99:,.0f} µs", flush=True)


if __name__ == "__main__":
    main()
