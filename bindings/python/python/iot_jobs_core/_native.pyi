"""Type stubs of the Rust extension ``iot_jobs_core._native`` (see the package README)."""

from typing import Any, Dict, List, Mapping, Optional, Tuple, Union, final

from ._types import (
    AbortCriterion,
    Advanced,
    CancelJobOutcome,
    ExecutionState,
    ExecutionStatus,
    JobStatus,
    Plane,
    RetriesUsed,
    NotifyTopics,
    Ramp,
    Retry,
    ScheduleEvent,
    TargetSelection,
    WindowAt,
)
from .records import (
    Execution,
    ExecutionChanged,
    Job,
    JobChanged,
    Notify,
    NotifyNamespace,
    NotifyNext,
    NotifyNextNamespace,
)

_JobStatus = Union[JobStatus, str]
_ExecutionStatus = Union[ExecutionStatus, str]
_Plane = Union[Plane, str]
_Selection = Union[TargetSelection, str]
_Event = Union[Notify, NotifyNext, NotifyNamespace, NotifyNextNamespace, JobChanged, ExecutionChanged]
_Cursor = Tuple[int, int]

MAX_JOBS_DELETING: int
MAX_TARGETS_PER_JOB: int

@final
class Policy:
    def __init__(
        self,
        *,
        delete_timed_out_without_force: bool = True,
        delete_queued_without_force: bool = False,
        force_cancel_escalates: bool = False,
        version_bump: str = "EVERY_CHANGE",
        numbering: str = "REUSE_AFTER_DELETE",
        device_may_skip_in_progress: bool = True,
        remove_in_progress: bool = True,
        data_plane_describes_terminal: bool = False,
        pending_cap: int = 10,
        details_write: str = "REPLACE",
        notify_on: str = "MEMBERSHIP_CHANGE",
        unknown_thing: str = "EMPTY",
    ) -> None: ...
    @property
    def delete_timed_out_without_force(self) -> bool: ...
    @property
    def delete_queued_without_force(self) -> bool: ...
    @property
    def force_cancel_escalates(self) -> bool: ...
    @property
    def version_bump(self) -> str: ...
    @property
    def numbering(self) -> str: ...
    @property
    def device_may_skip_in_progress(self) -> bool: ...
    @property
    def remove_in_progress(self) -> bool: ...
    @property
    def data_plane_describes_terminal(self) -> bool: ...
    @property
    def pending_cap(self) -> int: ...
    @property
    def details_write(self) -> str: ...
    @property
    def notify_on(self) -> str: ...
    @property
    def unknown_thing(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class _Id:
    MAX_LEN: int
    def __init__(self, value: str) -> None: ...
    @property
    def value(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __lt__(self, other: Any) -> bool: ...
    def __hash__(self) -> int: ...

@final
class JobId(_Id): ...

@final
class ThingName(_Id): ...

@final
class NamespaceId(_Id): ...

@final
class ReasonCode(_Id): ...

def validate_status_details(details: Mapping[str, str]) -> None: ...
def job_status_is_terminal(status: _JobStatus) -> bool: ...
def execution_status_flags(status: _ExecutionStatus) -> Tuple[bool, bool, bool, bool]: ...
def job_statuses() -> List[str]: ...
def execution_statuses() -> List[str]: ...

# -- decisions (iot_jobs_core::rules) --------------------------------------------------------
def delete_job(job: _JobStatus, force: bool = False, deleting: int = 0) -> None: ...
def delete_execution(status: _ExecutionStatus, version: int, force: bool = False, policy: Optional[Policy] = None) -> None: ...
def cancel_execution(
    status: _ExecutionStatus, version: int, force: bool = False, expected_version: Optional[int] = None
) -> bool: ...
def update_execution(
    status: _ExecutionStatus,
    version: int,
    requested: _ExecutionStatus,
    expected_version: Optional[int] = None,
    policy: Optional[Policy] = None,
) -> ExecutionStatus: ...
def cancel_job(job: _JobStatus, force: bool = False, policy: Optional[Policy] = None) -> CancelJobOutcome: ...
def cancel_job_execution_effect(status: _ExecutionStatus, scope: str) -> Optional[ExecutionStatus]: ...
def create_job(scheduled: bool) -> JobStatus: ...
def job_id_available(existing: Optional[_JobStatus] = None) -> None: ...
def job_completes(job: _JobStatus, selection: _Selection, all_terminal: bool, end_passed: bool) -> bool: ...
def associate_targets(job: _JobStatus, selection: _Selection, targets_after: int) -> None: ...
def pending_rank(status: _ExecutionStatus) -> Optional[int]: ...
def listed_to_device(job: _JobStatus, execution: _ExecutionStatus) -> bool: ...
def start_next(head: Optional[_ExecutionStatus] = None, version: int = 1) -> str: ...
def describe_execution(
    status: _ExecutionStatus, version: int, plane: Optional[_Plane] = None, policy: Optional[Policy] = None
) -> None: ...
def remove_target(status: _ExecutionStatus, policy: Optional[Policy] = None) -> Optional[ExecutionStatus]: ...
def remove_thing(job: _JobStatus, status: _ExecutionStatus, policy: Optional[Policy] = None) -> Optional[ExecutionStatus]: ...
def device_access(job: _JobStatus, plane: _Plane) -> None: ...
def unknown_thing(policy: Optional[Policy] = None) -> None: ...
def queue_on_rejoin(newest: Optional[_ExecutionStatus] = None) -> bool: ...
def notifies(was_listed: bool, now_listed: bool, status_changed: bool, policy: Optional[Policy] = None) -> bool: ...
def notify_topics(namespaced: bool, list_changed: bool, head_changed: bool) -> NotifyTopics: ...
def version_after(current: int, actor: str, policy: Optional[Policy] = None) -> int: ...
def next_execution_number(
    highest_existing: Optional[int] = None, highest_ever: Optional[int] = None, policy: Optional[Policy] = None
) -> int: ...
def merge_details(
    existing: Mapping[str, str], update: Mapping[str, str], policy: Optional[Policy] = None
) -> Dict[str, str]: ...

# -- decisions the service makes on its own: retries, abort, UpdateJob, schedule bounds -----
_RetryConfig = Mapping[str, int]
_AbortConfig = List[Tuple[str, int, int]]
_Windows = List[Tuple[str, int]]
"""``[(startTime cron expression, durationInMinutes)]``."""
_Exponential = Tuple[int, int, Optional[int], Optional[int]]
"""``(baseRatePerMinute, incrementFactor in tenths, numberOfNotifiedThings, numberOfSucceededThings)``."""
_RampTuple = Tuple[int, int, int, int]

def retry_failure(status: _ExecutionStatus) -> Optional[str]: ...
def job_retries(job: _JobStatus) -> bool: ...
def retry(
    job: _JobStatus, status: _ExecutionStatus, retry: Optional[_RetryConfig] = None, used: Tuple[int, int] = (0, 0)
) -> Optional[Retry]: ...
def job_aborts(job: _JobStatus) -> bool: ...
def abort_due(
    job: _JobStatus,
    abort: Optional[_AbortConfig] = None,
    *,
    succeeded: int = 0,
    failed: int = 0,
    rejected: int = 0,
    timed_out: int = 0,
) -> Optional[AbortCriterion]: ...
def update_job_config(job: Mapping[str, Any], update: Mapping[str, Any]) -> Dict[str, Any]: ...
def job_config_from_template(
    template: Mapping[str, Any],
    given: Mapping[str, Any],
    *,
    start_time: Optional[int] = None,
    end_time: Optional[int] = None,
    end_behavior: Optional[str] = None,
    maintenance_windows: Optional[_Windows] = None,
) -> Dict[str, Any]: ...
def schedule_bounds(now: int, start_time: Optional[int] = None, end_time: Optional[int] = None) -> None: ...

# -- time: schedule events, rollout, maintenance windows, timers ----------------------------
def schedule_event(
    job: _JobStatus,
    now: int,
    *,
    start_time: Optional[int] = None,
    end_time: Optional[int] = None,
    end_behavior: Optional[str] = None,
    started: bool = False,
    ended: bool = False,
    rollout_at: Optional[int] = None,
    window: Optional[Tuple[Optional[int], bool]] = None,
) -> ScheduleEvent: ...
def next_job_event(
    job: _JobStatus,
    *,
    start_time: Optional[int] = None,
    end_time: Optional[int] = None,
    end_behavior: Optional[str] = None,
    started: bool = False,
    ended: bool = False,
    rollout_at: Optional[int] = None,
    window: Optional[Tuple[Optional[int], bool]] = None,
) -> Optional[int]: ...
def batch_on_start(
    job: _JobStatus,
    now: int,
    *,
    start_time: Optional[int] = None,
    end_time: Optional[int] = None,
    end_behavior: Optional[str] = None,
    started: bool = False,
    ended: bool = False,
    rollout_at: Optional[int] = None,
    window: Optional[Tuple[Optional[int], bool]] = None,
) -> bool: ...
def end_passed(
    now: int, *, start_time: Optional[int] = None, end_time: Optional[int] = None, end_behavior: Optional[str] = None
) -> bool: ...
def starts_scheduled(
    now: int, *, start_time: Optional[int] = None, end_time: Optional[int] = None, end_behavior: Optional[str] = None
) -> bool: ...
def end_behavior(behavior: str) -> Optional[CancelJobOutcome]: ...
def rollout_batch(maximum_per_minute: Optional[int] = None) -> Optional[int]: ...
def rollout_reaches(registered: bool, had_execution: bool) -> bool: ...
def next_batch_at(now: int, targets_wait: bool) -> Optional[int]: ...
def ramp_up(rate: _Exponential, ramp: _RampTuple = (0, 0, 0, 0), succeeded: int = 0) -> Ramp: ...
def ramp_batch(maximum_per_minute: Optional[int] = None, ramp: Optional[_RampTuple] = None) -> Optional[int]: ...
def maintenance_window(windows: _Windows, now: int) -> WindowAt: ...
def starts_in_window(
    now: int,
    at: Tuple[bool, Optional[int]],
    *,
    start_time: Optional[int] = None,
    end_time: Optional[int] = None,
    end_behavior: Optional[str] = None,
) -> Tuple[bool, Optional[int]]: ...
def window(job: _JobStatus, change: str) -> JobStatus: ...
def timer_on_status(from_status: _ExecutionStatus, to_status: _ExecutionStatus) -> str: ...
def in_progress_deadline(now: int, minutes: Optional[int] = None) -> Optional[int]: ...
def step_deadline(now: int, step: int, in_progress: Optional[int] = None) -> Optional[int]: ...

# -- conformance and topics -----------------------------------------------------------------
def conformance_tables() -> List[str]: ...
def conformance_table(name: str) -> List[Dict[str, Any]]: ...
def conformance_constants() -> List[Tuple[str, int]]: ...
def parse_topic(
    topic: str,
) -> Tuple[str, Optional[str], Optional[str], Optional[str], Optional[str], Optional[str]]: ...
def build_topic(
    kind: str,
    thing: Optional[str] = None,
    job: Optional[str] = None,
    namespace: Optional[str] = None,
    reply: Optional[str] = None,
    event: Optional[str] = None,
) -> str: ...

def canonical_message(kind: str, payload: bytes, source: Optional[str] = None, target: Optional[str] = None) -> bytes: ...
def message_kinds() -> List[str]: ...

# -- the registry ---------------------------------------------------------------------------
@final
class Registry:
    def __init__(
        self,
        *,
        policy: Optional[Policy] = None,
        jobs: int = 1000,
        things: int = 1000,
        executions: int = 10000,
        status_details: int = 10000,
        deletion_delay: int = 0,
        max_events: int = 100000,
    ) -> None: ...
    @property
    def policy(self) -> Policy: ...
    def set_deletion_delay(self, secs: int) -> None: ...
    def clear(self) -> None: ...
    def drain_events(self) -> List[_Event]: ...
    def usage(self) -> Dict[str, int]: ...
    def jobs_deleting(self) -> int: ...
    def add_thing(self, name: str) -> None: ...
    def remove_thing(self, name: str, now: int) -> None: ...
    def things(self) -> List[str]: ...
    def create_job(
        self,
        job_id: str,
        targets: List[str],
        now: int,
        *,
        target_selection: Optional[_Selection] = None,
        namespace_id: Optional[str] = None,
        in_progress_timeout_minutes: Optional[int] = None,
        retry: Optional[Mapping[str, int]] = None,
        abort: Optional[List[Tuple[str, int, int]]] = None,
        start_time: Optional[int] = None,
        end_time: Optional[int] = None,
        end_behavior: Optional[str] = None,
        maximum_per_minute: Optional[int] = None,
        maintenance_windows: Optional[_Windows] = None,
        exponential_rate: Optional[_Exponential] = None,
    ) -> None: ...
    def update_job_config(
        self,
        job_id: str,
        now: int,
        *,
        in_progress_timeout_minutes: Optional[int] = None,
        retry: Optional[Mapping[str, int]] = None,
        abort: Optional[List[Tuple[str, int, int]]] = None,
        maximum_per_minute: Optional[int] = None,
        exponential_rate: Optional[_Exponential] = None,
    ) -> None: ...
    def job(self, job_id: str) -> Job: ...
    def jobs(self) -> List[Job]: ...
    def add_targets(self, job_id: str, targets: List[str], now: int) -> int: ...
    def remove_target(self, job_id: str, thing: str, now: int) -> None: ...
    def cancel_job(self, job_id: str, now: int, *, force: bool = False, reason_code: Optional[str] = None) -> None: ...
    def delete_job(self, job_id: str, now: int, *, force: bool = False) -> None: ...
    def open_window(self, job_id: str, now: int) -> None: ...
    def close_window(self, job_id: str, now: int) -> None: ...
    def describe_execution(
        self, job_id: str, thing: str, execution_number: Optional[int] = None, *, plane: Optional[_Plane] = None
    ) -> Execution: ...
    def cancel_execution(
        self,
        job_id: str,
        thing: str,
        now: int,
        *,
        force: bool = False,
        expected_version: Optional[int] = None,
        status_details: Optional[Mapping[str, str]] = None,
    ) -> ExecutionState: ...
    def delete_execution(
        self, job_id: str, thing: str, execution_number: int, now: int, *, force: bool = False
    ) -> None: ...
    def list_for_job(
        self,
        job_id: str,
        *,
        status: Optional[_ExecutionStatus] = None,
        max_results: int = 100,
        cursor: Optional[_Cursor] = None,
    ) -> Tuple[List[Execution], Optional[_Cursor]]: ...
    def list_for_thing(
        self,
        thing: str,
        *,
        status: Optional[_ExecutionStatus] = None,
        max_results: int = 100,
        cursor: Optional[_Cursor] = None,
    ) -> Tuple[List[Execution], Optional[_Cursor]]: ...
    def pending(self, thing: str, *, namespace: Optional[str] = None) -> List[Execution]: ...
    def next_pending(self, thing: str, *, namespace: Optional[str] = None) -> Optional[Execution]: ...
    def start_next(
        self,
        thing: str,
        now: int,
        *,
        status_details: Optional[Mapping[str, str]] = None,
        step_timeout_minutes: Optional[int] = None,
    ) -> Optional[Execution]: ...
    def update_execution(
        self,
        job_id: str,
        thing: str,
        status: _ExecutionStatus,
        now: int,
        *,
        status_details: Optional[Mapping[str, str]] = None,
        expected_version: Optional[int] = None,
        execution_number: Optional[int] = None,
        step_timeout_minutes: Optional[int] = None,
    ) -> ExecutionState: ...
    def next_deadline(self) -> Optional[int]: ...
    def advance(self, now: int, budget: Optional[int] = None) -> Advanced: ...
