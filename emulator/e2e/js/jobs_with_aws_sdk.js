// The AWS SDK for JavaScript v3 (`@aws-sdk/client-iot`, `@aws-sdk/client-iot-jobs-data-plane`),
// configured with the endpoint, a region and dummy credentials only: a fleet backend creates and
// reads jobs, a device runs one over the data plane, the service's errors come back as the SDK's
// exception classes, and an injected throttle is retried by the SDK itself. Prints one line per
// check and exits 1 if any failed.
// Usage (run.sh installs the SDK; the e2e test runs this):
//   NODE_PATH=target/e2e-node/node_modules node jobs_with_aws_sdk.js http://HOST:PORT THING JOB
"use strict";
const I = require("@aws-sdk/client-iot");
const D = require("@aws-sdk/client-iot-jobs-data-plane");

const [endpoint, thing, job] = process.argv.slice(2);
// `maxAttempts: 3` is the SDK's default, given here because the suite's AWS_MAX_ATTEMPTS=1 (for the
// CLI) would set it otherwise.
const config = {
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 3,
};
const iot = new I.IoTClient(config);
const data = new D.IoTJobsDataPlaneClient(config);
const arn = `arn:aws:iot:us-east-1:123456789012:thing/${thing}`;
let failed = 0;

function check(name, ok, detail) {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : ` :: ${JSON.stringify(detail)}`}`);
  if (!ok) failed += 1;
}

async function refusal(promise) {
  try {
    return { answered: await promise };
  } catch (e) {
    return e;
  }
}

async function main() {
  await iot.send(new I.CreateThingCommand({ thingName: thing }));
  const created = await iot.send(
    new I.CreateJobCommand({
      jobId: job,
      targets: [arn],
      document: JSON.stringify({ op: "install", size: 1.5 }),
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobExecutionsRolloutConfig: { maximumPerMinute: 10 },
    }),
  );
  check("CreateJob answers the job's ARN", created.jobArn.endsWith(`:job/${job}`), created);
  const described = (await iot.send(new I.DescribeJobCommand({ jobId: job }))).job;
  check("DescribeJob: createdAt parses as a Date", described.createdAt instanceof Date && !isNaN(described.createdAt), described);
  check("DescribeJob: jobProcessDetails counts a QUEUED thing", described.jobProcessDetails.numberOfQueuedThings === 1, described);

  const listed = [];
  for await (const page of I.paginateListJobExecutionsForJob({ client: iot, pageSize: 1 }, { jobId: job })) {
    listed.push(...page.executionSummaries);
  }
  check("paginateListJobExecutionsForJob walks the pages", listed.length === 1 && listed[0].thingArn === arn, listed);

  const missing = await refusal(iot.send(new I.DescribeJobCommand({ jobId: `${job}-missing` })));
  check(
    "an unknown job is the SDK's ResourceNotFoundException, 404, not retried",
    missing instanceof I.ResourceNotFoundException && missing.$metadata.httpStatusCode === 404 && missing.$metadata.attempts === 1,
    [missing.name, missing.$metadata],
  );
  const busy = await refusal(iot.send(new I.DeleteJobCommand({ jobId: job })));
  check(
    "DeleteJob of a job in progress without force is InvalidStateTransitionException, 409",
    busy instanceof I.InvalidStateTransitionException && busy.$metadata.httpStatusCode === 409,
    [busy.name, busy.$metadata],
  );

  const pending = await data.send(new D.GetPendingJobExecutionsCommand({ thingName: thing }));
  check("GetPendingJobExecutions lists the job QUEUED", pending.queuedJobs.map((j) => j.jobId).join() === job, pending);
  const started = (await data.send(new D.StartNextPendingJobExecutionCommand({ thingName: thing }))).execution;
  check(
    "StartNextPendingJobExecution: IN_PROGRESS at version 2, the document as a string, times as numbers",
    started.status === "IN_PROGRESS" && started.versionNumber === 2 && JSON.parse(started.jobDocument).size === 1.5
      && typeof started.startedAt === "number",
    started,
  );
  const stale = await refusal(
    data.send(new D.UpdateJobExecutionCommand({ thingName: thing, jobId: job, status: "SUCCEEDED", expectedVersion: 1 })),
  );
  check(
    "a stale expectedVersion is InvalidStateTransitionException, 409, not retried",
    stale instanceof D.InvalidStateTransitionException && stale.$metadata.httpStatusCode === 409 && stale.$metadata.attempts === 1,
    [stale.name, stale.$metadata],
  );

  // Two throttles, injected: the SDK's standard retry takes them and succeeds on its third attempt.
  const fault = { error: "ThrottlingException", count: 2, operations: ["UpdateJobExecution"] };
  const injected = await fetch(`${endpoint}/_emulator/faults`, { method: "POST", body: JSON.stringify(fault) });
  check("POST /_emulator/faults", injected.status === 200, await injected.text());
  const updated = await data.send(
    new D.UpdateJobExecutionCommand({
      thingName: thing, jobId: job, status: "SUCCEEDED", expectedVersion: 2, includeJobExecutionState: true,
    }),
  );
  check(
    "the SDK retries two throttles and the update is applied once (version 3)",
    updated.$metadata.attempts === 3 && updated.executionState.status === "SUCCEEDED" && updated.executionState.versionNumber === 3,
    [updated.$metadata, updated.executionState],
  );
  const done = (await iot.send(new I.DescribeJobCommand({ jobId: job }))).job;
  check("the job is COMPLETED, completedAt a Date", done.status === "COMPLETED" && done.completedAt instanceof Date, done);
  console.log(`aws-sdk: ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL ${e.name}: ${e.message}`);
  process.exit(1);
});
