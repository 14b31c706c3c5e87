"""Prints a free loopback port that no earlier call with the same ledger file gave, and adds it
to the ledger: the ports a script asks for one after another are distinct (once a probe's
socket is closed, the kernel may give the same free port to the next bind).
Usage: free_port.py LEDGER"""
import socket
import sys

ledger = sys.argv[1]
try:
    with open(ledger) as f:
        given = set(f.read().split())
except FileNotFoundError:
    given = set()
held = []  # ports already given, kept bound so that the next bind gets another
while True:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if str(port) not in given:
        break
    held.append(s)
with open(ledger, "a") as f:
    f.write(f"{port}\n")
print(port)
