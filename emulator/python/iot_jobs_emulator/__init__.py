"""Run the ``iot-jobs-emulator`` binary from Python.

The wheel installs the emulator (a local AWS IoT Jobs endpoint: the ``iot`` control plane, the
``iot-jobs-data`` data plane and an MQTT broker) as the ``iot-jobs-emulator`` command; this
package finds that binary and drives it:

    from iot_jobs_emulator import Emulator

    with Emulator() as emu:                         # free loopback ports, manual clock
        emu.iot.create_thing(thingName="dev1")      # boto3 clients (the ``boto3`` extra)
        emu.advance(60)                             # timeouts, retries, deletions fall due
        emu.reset()                                 # forget everything (the clock stays)

The pytest plugin (``iot_jobs_emulator.pytest_plugin``, loaded automatically) gives tests the
``iot_jobs_emulator`` fixture: one emulator per session, reset before every test.

Only the standard library is needed, except for the ``iot`` and ``jobs_data`` clients (boto3).
"""

from __future__ import annotations

from ._emulator import Emulator
from ._errors import ERROR_LOG_LINES, EmulatorError, EmulatorUnreachable
from ._process import BINARY_ENV, BINARY_NAME, find_binary

__all__ = ["BINARY_NAME", "BINARY_ENV", "ERROR_LOG_LINES", "Emulator", "EmulatorError", "EmulatorUnreachable", "find_binary"]

# The public names are this package's, wherever they are defined: their reprs, tracebacks and
# pickles say ``iot_jobs_emulator.Emulator``, not the private module that holds it.
for _public in (Emulator, EmulatorError, EmulatorUnreachable, find_binary):
    _public.__module__ = __name__
del _public
