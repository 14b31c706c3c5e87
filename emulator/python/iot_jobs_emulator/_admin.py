"""What an :class:`~iot_jobs_emulator.Emulator` asks of a running emulator over HTTP: the admin API
(``/_emulator/...``) and boto3 clients of its endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._errors import EmulatorError, EmulatorUnreachable

if TYPE_CHECKING:  # pragma: no cover - only for type checkers
    import subprocess

    from botocore.client import BaseClient

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The largest advanceSeconds the admin API takes (a u64).
_U64_MAX = 2**64 - 1


class _Admin:
    """The admin API and the boto3 clients of :class:`~iot_jobs_emulator.Emulator`, its base
    class: they need only its endpoint, options and log (declared here for type checkers)."""

    admin_timeout: float
    region: str | None
    extra_args: tuple[str, ...]
    _clients: dict[str, BaseClient]

    if TYPE_CHECKING:  # pragma: no cover - only for type checkers

        @property
        def endpoint(self) -> str: ...

        def log(self, since: int = 0) -> str: ...

        def _require(self) -> subprocess.Popen[bytes]: ...

    # ---- admin API ----------------------------------------------------------------------------

    def now(self) -> int:
        """The emulator's clock, in epoch seconds (``GET /_emulator/clock``)."""
        return int(self._admin("GET", "/_emulator/clock")["now"])

    def advance(self, seconds: int) -> int:
        """Moves the manual clock forward and applies everything that falls due (timeouts,
        retries, abort criteria, schedules, rollout pacing, the end of DELETION_IN_PROGRESS).

        Returns:
            the new time in epoch seconds.

        Raises:
            ValueError: ``seconds`` is not an int from 0 to 2**64 - 1 (the emulator's range),
                raised before any request.
            EmulatorError: the emulator refused (the system clock; a time past
                2106-01-01T00:00:00Z).
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= _U64_MAX:
            raise ValueError(f"seconds must be an int from 0 to 2**64 - 1 ({_U64_MAX}), not {seconds!r}")
        return int(self._admin("POST", "/_emulator/clock", {"advanceSeconds": seconds})["now"])

    def reset(self, now: int | None = None) -> None:
        """Forgets every thing, thing group, job, execution and S3 object (``POST
        /_emulator/reset``), and the MQTT broker's offline sessions and retained messages. Connected MQTT clients keep
        their connections and sessions.

        Args:
            now: where the manual clock starts again, in epoch seconds, earlier than it is too
                (``int(time.time())``: where a new emulator would start); by default the clock
                stays where it is.

        Raises:
            ValueError: ``now`` is not an int from 0 to 2**64 - 1, raised before any request.
            EmulatorError: the emulator refused ``now`` (the system clock; a time past
                2106-01-01T00:00:00Z); nothing was forgotten.
        """
        if now is None:
            self._admin("POST", "/_emulator/reset")
            return
        if isinstance(now, bool) or not isinstance(now, int) or not 0 <= now < 2**64:
            raise ValueError(f"now must be an int from 0 to 2**64 - 1, not {now!r}")
        self._admin("POST", "/_emulator/reset", {"now": now})

    def stats(self) -> dict[str, Any]:
        """Table usage and caps, jobs being deleted and notification counts (``GET
        /_emulator/stats``)."""
        return self._admin("GET", "/_emulator/stats")

    def inject_fault(
        self,
        error: str | None = None,
        count: int = 1,
        operations: Sequence[str] | None = None,
        plane: str | None = None,
        *,
        drop: str | None = None,
        delay_ms: int | None = None,
        thing: str | None = None,
    ) -> list[dict[str, Any]]:
        """Makes the next ``count`` requests of ``operations`` (every client operation, HTTP
        and MQTT, if ``None``) fail as a real service's do, so that the retry and idempotency
        paths of the code under test run (``POST /_emulator/faults``): refused with ``error``
        (not run: nothing changes), lost (``drop``), or answered late (``delay_ms``). Faults
        given earlier apply first; :meth:`reset` and :meth:`clear_faults` forget them.

        Args:
            error: ``"ThrottlingException"`` (429; MQTT ``RequestThrottled``; the default when
                neither ``drop`` nor ``delay_ms`` is given), ``"ServiceUnavailableException"``
                (503), ``"InternalFailureException"`` (500; both MQTT ``InternalError``) or
                ``"LimitExceededException"`` (410; MQTT ``RequestThrottled``).
            count: how many requests, 1 to 1,000,000.
            operations: AWS operation names, such as ``["UpdateJobExecution"]`` (an MQTT request
                counts as its data-plane operation).
            plane: ``"control"`` (``iot``) or ``"data"`` (``iot-jobs-data``, over HTTP and MQTT):
                the plane whose requests it takes; both if ``None`` (``DescribeJobExecution``
                names an operation of each).
            drop: ``"request"``: the request is lost on its way (not run, nothing changes, no
                answer); ``"reply"``: it runs and its change is kept, but its answer is lost.
                Over HTTP the connection is closed without a response (boto3 raises
                ``ConnectionClosedError``, and retries it); over MQTT no reply is published.
            delay_ms: the request runs at once and its answer goes out this many milliseconds
                later (1 to 60,000).
            thing: only the requests about this thing (the thing their path or topic names);
                any thing's, and those naming none, if ``None``.

        Returns:
            the faults waiting, this one last, as given.

        Raises:
            ValueError: more than one of ``error``, ``drop`` and ``delay_ms`` is given, raised
                before any request.
            TypeError: ``operations`` is a ``str`` (one name goes in a list), raised before any
                request.
            EmulatorError: the emulator refused the fault (an unknown error, loss or operation,
                a count or delay out of range, a thing name that is not one), naming what is
                allowed.
        """
        if isinstance(operations, str):
            raise TypeError(f"operations must be a sequence of operation names, not a str: [{operations!r}]")
        kinds = [
            (name, key, value)
            for name, key, value in (("error", "error", error), ("drop", "drop", drop), ("delay_ms", "delayMs", delay_ms))
            if value is not None
        ]
        if len(kinds) > 1:
            raise ValueError(f"a fault has one of error, drop and delay_ms, not {' and '.join(n for n, _, _ in kinds)}")
        _, key, value = kinds[0] if kinds else ("error", "error", "ThrottlingException")
        fault: dict[str, Any] = {key: value, "count": count}
        if operations is not None:
            fault["operations"] = list(operations)
        if plane is not None:
            fault["plane"] = plane
        if thing is not None:
            fault["thing"] = thing
        return list(self._admin("POST", "/_emulator/faults", fault)["faults"])

    def clear_faults(self) -> None:
        """Forgets every injected fault (``DELETE /_emulator/faults``)."""
        self._admin("DELETE", "/_emulator/faults")

    def put_object(self, bucket: str, key: str, body: bytes | str) -> dict[str, Any]:
        """Registers the S3 object ``s3://bucket/key`` (``PUT /_emulator/objects/BUCKET/KEY``),
        or replaces it: the object a job's or job template's ``documentSource`` names
        (``https://s3.amazonaws.com/BUCKET/KEY``, ``https://BUCKET.s3.REGION.amazonaws.com/KEY``,
        ...). As AWS does, CreateJob and CreateJobTemplate read it when the job or template is
        created and keep its content as the document, which GetJobDocument and the devices get;
        a ``documentSource`` whose object is not registered is an ``InvalidRequestException``
        naming the URL. The objects are part of the state (saved, exported, forgotten by
        :meth:`reset` and :meth:`clear_objects`).

        Args:
            bucket: an S3 bucket name (3 to 63 lower-case letters, digits, ``.`` and ``-``).
            key: the object key (1 to 1024 bytes; ``/`` included, as S3 has it).
            body: the job document: UTF-8 text (a ``str`` is encoded) of at most 32,768
                characters, as a ``document``; it is checked as one (JSON) when a job reads it.

        Returns:
            ``{"bucket": ..., "key": ..., "size": BYTES}``.

        Raises:
            TypeError: ``body`` is neither ``bytes`` nor ``str``, raised before any request.
            EmulatorError: the emulator refused the object (a bad bucket name or key, a body that
                is not UTF-8 or is too long, more than 1,000 objects or 16 MiB in all).
        """
        if isinstance(body, str):
            data = body.encode()
        elif isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body)
        else:
            raise TypeError(f"body must be bytes or str, not {type(body).__name__}")
        path = "/_emulator/objects/" + urllib.parse.quote(bucket, safe="") + "/" + urllib.parse.quote(key, safe="/")
        raw = self._request("PUT", path, data, "application/octet-stream")
        return dict(json.loads(raw))

    def objects(self) -> list[dict[str, Any]]:
        """The S3 objects registered (``GET /_emulator/objects``): each one's ``bucket``,
        ``key`` and ``size`` in bytes, by bucket and key."""
        return list(self._admin("GET", "/_emulator/objects")["objects"])

    def clear_objects(self) -> None:
        """Forgets every S3 object registered (``DELETE /_emulator/objects``). Jobs and
        templates keep the documents they read from them."""
        self._admin("DELETE", "/_emulator/objects")

    def save_state(self) -> bytes:
        """The whole state as a snapshot (``GET /_emulator/state``): things, groups, jobs,
        executions, tags, the event configuration and the manual clock's time, in the format of
        the state file. Give it to :meth:`load_state` (of this emulator or another, later) to
        start a test from a world seeded once, or attach it to a bug report. The MQTT broker's
        sessions and retained messages are not in it."""
        return self._request("GET", "/_emulator/state")

    def load_state(self, snapshot: bytes) -> None:
        """Replaces the whole state with ``snapshot``, one :meth:`save_state` gave (``POST
        /_emulator/state``), the manual clock's time included. A snapshot the emulator refuses
        (not one, damaged, or over this emulator's caps) raises :class:`EmulatorError` with the
        reason and changes nothing. A snapshot larger than 512 MiB needs a larger
        ``--max-state-bytes`` (``extra_args=["--max-state-bytes", "1000000000"]``).

        Raises:
            TypeError: ``snapshot`` is not bytes.
            EmulatorError: the emulator refused the snapshot.
        """
        if not isinstance(snapshot, (bytes, bytearray, memoryview)):
            raise TypeError(f"snapshot must be bytes (from save_state()), not {type(snapshot).__name__}")
        self._request("POST", "/_emulator/state", bytes(snapshot), "application/octet-stream")

    def _admin(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        raw = self._request(method, path, data)
        return json.loads(raw) if raw.strip() else {}

    def _request(
        self, method: str, path: str, data: bytes | None = None, content_type: str = "application/json"
    ) -> bytes:
        request = urllib.request.Request(self.endpoint + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with _NO_PROXY.open(request, timeout=self.admin_timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            raise EmulatorError(f"{method} {path}: HTTP {e.code}: {detail}") from None
        except OSError as e:
            reason = getattr(e, "reason", e)
            raise EmulatorUnreachable(
                f"{method} {path}: no answer within {self.admin_timeout:g} s ({reason})", self.log()
            ) from None

    # ---- boto3 --------------------------------------------------------------------------------

    def aws_env(self) -> dict[str, str]:
        """The environment that points the AWS SDKs and the AWS CLI at this emulator for the
        IoT services only: ``AWS_ENDPOINT_URL_IOT`` and ``AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE``
        (the names botocore reads; ``..._IOT_JOBS_DATA`` is silently ignored), dummy
        credentials and the region. Other services (S3, DynamoDB, ...) keep their endpoints,
        which the global ``AWS_ENDPOINT_URL`` would send here too. The pytest fixture
        ``iot_jobs_emulator_env`` sets it for one test."""
        return {
            "AWS_ENDPOINT_URL_IOT": self.endpoint,
            "AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": self.region or _region(self.extra_args),
        }

    def client(self, service_name: str, **kwargs: Any) -> BaseClient:
        """A new boto3 client for this emulator: its endpoint, its region, dummy credentials
        (signatures are not checked) and no retries (an error shows at once). ``kwargs`` go to
        ``boto3.session.Session.client`` and win over these.

        Raises:
            ImportError: boto3 is not installed (``pip install "iot-jobs-emulator[boto3]"``).
        """
        try:
            import boto3
            from botocore.config import Config
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError('the boto3 clients need boto3: pip install "iot-jobs-emulator[boto3]"') from e
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=self.region or _region(self.extra_args)
        )
        options: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "config": Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        }
        options.update(kwargs)
        return session.client(service_name, **options)

    @property
    def iot(self) -> BaseClient:
        """A boto3 ``iot`` (control plane) client, made once per start."""
        return self._cached_client("iot")

    @property
    def jobs_data(self) -> BaseClient:
        """A boto3 ``iot-jobs-data`` (device data plane) client, made once per start."""
        return self._cached_client("iot-jobs-data")

    def _cached_client(self, service_name: str) -> BaseClient:
        self._require()
        client = self._clients.get(service_name)
        if client is None:
            client = self._clients[service_name] = self.client(service_name)
        return client


def _region(args: Sequence[str]) -> str:
    """The region a command line sets (``--region R`` or ``--region=R``), else the binary's default."""
    for i, arg in enumerate(args):
        if arg == "--region" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--region="):
            return arg[len("--region=") :]
    return "us-east-1"
