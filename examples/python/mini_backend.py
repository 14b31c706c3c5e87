"""A small moto-style AWS IoT Jobs backend that delegates every decision to ``iot_jobs_core``.

It answers DeleteJob, DeleteJobExecution, CancelJobExecution and UpdateJobExecution (plus what
they need: CreateThing, CreateJob, CancelJob, DescribeJob, DescribeJobExecution,
StartNextPendingJobExecution) the way a moto backend class does: methods named after the API,
boto3's parameter names, dict responses shaped like the service's JSON, and an exception with
``code``/``message``/``status`` for refusals. The backend itself decides nothing about the
lifecycle: statuses, force rules, the DELETION_IN_PROGRESS limit, execution numbers, versions and
timers all come from :class:`iot_jobs_core.Registry`. It keeps only what the core leaves to a
host: job documents and descriptions.

Run its tests with ``pytest examples/python`` once the ``iot-jobs-core`` wheel is installed.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional

import iot_jobs_core as core


class JobsServiceError(Exception):
    """A refused request, as a moto backend raises it (``JsonRESTError``-like): the AWS error
    code, its message and the HTTP status the response carries."""

    def __init__(self, code: str, message: str, status: int, execution_state: Optional[dict] = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.execution_state = execution_state


def _thing_name(target: str) -> str:
    """A target given as a thing ARN (``arn:aws:iot:...:thing/NAME``) or a bare name."""
    return target.rsplit("/", 1)[-1] if target.startswith("arn:") else target


class MiniJobsBackend:
    """One account and region. ``clock`` gives the current time in whole seconds."""

    def __init__(self, clock: Callable[[], int] = lambda: int(time.time()), deletion_delay: int = 0) -> None:
        self.clock = clock
        # It publishes no MQTT, so it keeps no events: a queue nobody drains fills, and then
        # every operation is throttled.
        self.registry = core.Registry(deletion_delay=deletion_delay, max_events=None)
        self.documents: Dict[str, str] = {}
        self.descriptions: Dict[str, str] = {}

    # -- plumbing ------------------------------------------------------------------------

    def _call(self, plane: core.Plane, fn: Callable[[], Any]) -> Any:
        """Runs a registry operation after applying what fell due (timeouts, deletions), and
        turns a refusal into the service's error on ``plane``."""
        now = self.clock()
        self.registry.advance(now)
        try:
            return fn()
        except core.JobsError as e:
            state = None
            if e.execution_state is not None:
                state = {"status": e.execution_state.status.value, "versionNumber": e.execution_state.version}
            raise JobsServiceError(e.exception_name_on(plane), e.message, e.http_status(plane), state) from None

    @staticmethod
    def _execution_dict(x: core.Execution) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "jobId": x.job_id,
            "thingName": x.thing_name,
            "status": x.status.value,
            "forceCanceled": x.force_canceled,
            "statusDetails": {"detailsMap": dict(x.status_details)},
            "queuedAt": x.queued_at,
            "lastUpdatedAt": x.last_updated_at,
            "executionNumber": x.execution_number,
            "versionNumber": x.version_number,
        }
        if x.started_at is not None:
            out["startedAt"] = x.started_at
        return out

    # -- control plane (service ``iot``) -------------------------------------------------

    def create_thing(self, thingName: str) -> Dict[str, Any]:
        self._call(core.Plane.CONTROL, lambda: self.registry.add_thing(thingName))
        return {"thingName": thingName}

    def create_job(
        self,
        jobId: str,
        targets: List[str],
        document: str = "{}",
        description: str = "",
        targetSelection: str = "SNAPSHOT",
    ) -> Dict[str, Any]:
        names = [_thing_name(t) for t in targets]
        self._call(
            core.Plane.CONTROL,
            lambda: self.registry.create_job(jobId, names, self.clock(), target_selection=targetSelection),
        )
        self.documents[jobId] = document
        self.descriptions[jobId] = description
        return {"jobId": jobId, "description": description}

    def describe_job(self, jobId: str) -> Dict[str, Any]:
        job = self._call(core.Plane.CONTROL, lambda: self.registry.job(jobId))
        details = {f"numberOf{s.title().replace('_', '')}Things": n for s, n in job.process_details.items()}
        return {
            "job": {
                "jobId": job.job_id,
                "status": job.status.value,
                "targetSelection": job.target_selection.value,
                "forceCanceled": job.force_canceled,
                "description": self.descriptions.get(jobId, ""),
                "createdAt": job.created_at,
                "lastUpdatedAt": job.last_updated_at,
                "jobProcessDetails": details,
            }
        }

    def cancel_job(self, jobId: str, force: bool = False, reasonCode: Optional[str] = None) -> Dict[str, Any]:
        self._call(
            core.Plane.CONTROL,
            lambda: self.registry.cancel_job(jobId, self.clock(), force=force, reason_code=reasonCode),
        )
        return {"jobId": jobId}

    def delete_job(self, jobId: str, force: bool = False) -> None:
        """The job becomes DELETION_IN_PROGRESS; it and its executions go once the deletion
        delay has passed (the registry applies it on the next call)."""
        self._call(core.Plane.CONTROL, lambda: self.registry.delete_job(jobId, self.clock(), force=force))

    def describe_job_execution(
        self, jobId: str, thingName: str, executionNumber: Optional[int] = None
    ) -> Dict[str, Any]:
        x = self._call(
            core.Plane.CONTROL, lambda: self.registry.describe_execution(jobId, thingName, executionNumber)
        )
        return {"execution": self._execution_dict(x)}

    def delete_job_execution(self, jobId: str, thingName: str, executionNumber: int, force: bool = False) -> None:
        self._call(
            core.Plane.CONTROL,
            lambda: self.registry.delete_execution(jobId, thingName, executionNumber, self.clock(), force=force),
        )

    def cancel_job_execution(
        self,
        jobId: str,
        thingName: str,
        force: bool = False,
        expectedVersion: Optional[int] = None,
        statusDetails: Optional[Dict[str, str]] = None,
    ) -> None:
        self._call(
            core.Plane.CONTROL,
            lambda: self.registry.cancel_execution(
                jobId,
                thingName,
                self.clock(),
                force=force,
                expected_version=expectedVersion,
                status_details=statusDetails,
            ),
        )

    # -- data plane (service ``iot-jobs-data``) ------------------------------------------

    def start_next_pending_job_execution(
        self, thingName: str, statusDetails: Optional[Dict[str, str]] = None, stepTimeoutInMinutes: Optional[int] = None
    ) -> Dict[str, Any]:
        x = self._call(
            core.Plane.DATA,
            lambda: self.registry.start_next(
                thingName, self.clock(), status_details=statusDetails, step_timeout_minutes=stepTimeoutInMinutes
            ),
        )
        return {} if x is None else {"execution": self._execution_dict(x)}

    def update_job_execution(
        self,
        jobId: str,
        thingName: str,
        status: str,
        statusDetails: Optional[Dict[str, str]] = None,
        expectedVersion: Optional[int] = None,
        executionNumber: Optional[int] = None,
        stepTimeoutInMinutes: Optional[int] = None,
    ) -> Dict[str, Any]:
        state = self._call(
            core.Plane.DATA,
            lambda: self.registry.update_execution(
                jobId,
                thingName,
                status,
                self.clock(),
                status_details=statusDetails,
                expected_version=expectedVersion,
                execution_number=executionNumber,
                step_timeout_minutes=stepTimeoutInMinutes,
            ),
        )
        x = self.registry.describe_execution(jobId, thingName)
        return {
            "executionState": {
                "status": state.status.value,
                "statusDetails": dict(x.status_details),
                "versionNumber": state.version,
            }
        }
