// A device on MQTT.js over WebSocket, as a browser or Node app reaches AWS IoT Core: it starts
// the next pending job of its thing, reports it SUCCEEDED, makes one update the service rejects,
// and prints one JSON line of what it saw (the CONNACK, then every message in order).
// Usage (run.sh installs MQTT.js; the e2e test runs this):
//   NODE_PATH=target/e2e-node/node_modules node jobs_over_websocket.js ws://HOST:PORT/mqtt THING JOB 4|5
"use strict";
const mqtt = require("mqtt");

const [url, thing, job, version] = process.argv.slice(2);
const base = `$aws/things/${thing}/jobs`;
const seen = [];
const waiting = new Map(); // topic -> resolve

function next(topic) {
  const i = seen.findIndex((m) => m.topic === topic && !m.taken);
  if (i >= 0) {
    seen[i].taken = true;
    return Promise.resolve(seen[i].body);
  }
  return new Promise((resolve) => waiting.set(topic, resolve));
}

async function main() {
  const client = mqtt.connect(url, {
    protocolVersion: Number(version),
    clientId: thing,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10000,
  });
  const connack = await new Promise((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
  });
  client.on("message", (topic, payload) => {
    const body = JSON.parse(payload.toString());
    const resolve = waiting.get(topic);
    seen.push({ topic, body, taken: resolve !== undefined });
    if (resolve) {
      waiting.delete(topic);
      resolve(body);
    }
  });
  const granted = await client.subscribeAsync(
    [`${base}/notify-next`, `${base}/start-next/+`, `${base}/${job}/update/+`],
    { qos: 1 },
  );
  const ask = async (topic, request, answer) => {
    const got = next(answer);
    await client.publishAsync(topic, JSON.stringify(request), { qos: 1 });
    return got;
  };
  const started = await ask(`${base}/start-next`, { clientToken: "js-start" }, `${base}/start-next/accepted`);
  await ask(
    `${base}/${job}/update`,
    { status: "SUCCEEDED", expectedVersion: started.execution.versionNumber, clientToken: "js-done" },
    `${base}/${job}/update/accepted`,
  );
  await ask(`${base}/${job}/update`, { status: "IN_PROGRESS", clientToken: "js-again" }, `${base}/${job}/update/rejected`);
  await client.endAsync();
  console.log(
    JSON.stringify({
      sessionPresent: connack.sessionPresent,
      reasonCode: connack.reasonCode ?? null,
      granted: granted.map((g) => g.qos),
      messages: seen.map(({ topic, body }) => [topic, body]),
    }),
  );
}

const timer = setTimeout(() => {
  console.error(`no answer within 20 s; seen: ${JSON.stringify(seen)}`);
  process.exit(2);
}, 20000);
main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
