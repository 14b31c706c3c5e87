//! The device agent: every public function, in an order chosen by opaque bytes, on topics,
//! payloads, times, statuses and buffer sizes cut out of opaque input.

use core::fmt::{self, Write};
use core::hint::black_box;

use iot_jobs_core::agent::{Agent, AgentEvent, Config, MAX_TRANSMIT_LEN};
use iot_jobs_core::{
    ExecutionStatus, NamespaceId, StatusDetails, StepTimeout, ThingName, TimeoutMinutes, Timestamp,
};

use crate::{keep, pick, text};

/// A `fmt::Write` whose output the optimiser cannot see through.
struct Sink;

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        black_box(s);
        Ok(())
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut le = [0; 8];
    for (i, byte) in le.iter_mut().enumerate() {
        *byte = b.get(at.wrapping_add(i)).copied().unwrap_or(0);
    }
    u64::from_le_bytes(le)
}

/// A piece of `b` chosen by two opaque bytes.
fn cut(b: &[u8], start: u8, len: u8) -> &[u8] {
    let start = usize::from(start).wrapping_mul(2);
    let end = start.saturating_add(usize::from(len).wrapping_mul(4));
    b.get(start..end.min(b.len())).unwrap_or_default()
}

/// `input`: payloads; `topics`: topic text; `ops`: which call, with its arguments.
pub fn exercise(input: &[u8], topics: &[u8], ops: &[u8; 64]) {
    let Ok(thing) = ThingName::new(text(cut(topics, 0, ops[0] % 8))).or_else(|_| ThingName::new("dev1"))
    else {
        return;
    };
    let namespace = NamespaceId::new(text(cut(topics, 3, ops[1] % 8))).ok();
    let config = Config {
        response_timeout_secs: u64_at(input, 0),
        backoff_initial_secs: u64_at(input, 8),
        backoff_max_secs: u64_at(input, 16),
        max_attempts: ops[2],
        step_timeout: TimeoutMinutes::step(u16::from_le_bytes([ops[3], ops[4]])).ok(),
        jitter: ops[5] & 2 == 2,
        check_interval_secs: (ops[5] & 4 == 4).then(|| u64_at(input, 24)),
        first_client_token: u32::from_le_bytes([ops[9], ops[10], ops[11], ops[12]]),
    };
    let mut agent: Agent<128> = Agent::new(&thing, namespace.as_ref().filter(|_| ops[5] & 1 == 1), config);
    let mut buf = [0u8; MAX_TRANSMIT_LEN];
    for s in agent.subscriptions() {
        keep(s.write_to(buf.get_mut(..usize::from(ops[6])).unwrap_or_default()).map(str::len));
        let _ = write!(Sink, "{s}");
    }
    let details_text = text(cut(input, ops[7], ops[8]));
    let (key, value) = details_text.split_at_checked(details_text.len() / 2).unwrap_or(("k", "v"));
    let pairs = [(key, value)];
    let details = StatusDetails::new(&pairs).ok();

    for (i, op) in ops.iter().enumerate().skip(9) {
        let arg = ops.get(i.wrapping_add(1)).copied().unwrap_or(0);
        let now = Timestamp(u64_at(input, usize::from(arg)));
        match op % 8 {
            7 => {
                let topic = text(cut(topics, arg, op.wrapping_shr(3)));
                match agent.handle_oversized(topic, usize::from(arg).wrapping_mul(257)) {
                    Ok(()) => keep(0),
                    Err(e) => {
                        let _ = write!(Sink, "{e}");
                    }
                }
            }
            0 => {
                let topic = text(cut(topics, arg, op.wrapping_shr(3)));
                let payload = cut(input, op.wrapping_add(arg), arg);
                match agent.handle(now, topic, payload) {
                    Ok(()) => keep(0),
                    Err(e) => {
                        let _ = write!(Sink, "{e}");
                    }
                }
            }
            1 => {
                let room = usize::from(arg).wrapping_mul(16);
                let out = buf.get_mut(..room).unwrap_or(&mut []);
                keep(agent.poll_transmit(now, out).map(|t| (t.topic.len(), t.payload.len())));
            }
            2 => {
                while let Some(e) = agent.poll_event() {
                    match e {
                        AgentEvent::Run { document, version, .. } => keep((document.len(), version.get())),
                        AgentEvent::Error(e) => {
                            let _ = write!(Sink, "{e}");
                        }
                        other => keep(other),
                    }
                }
            }
            3 if arg & 16 == 16 => {
                // 0 to 10455 minutes: in range and out of it.
                let minutes = StepTimeout::Minutes(u16::from(arg).wrapping_mul(41));
                let step = if arg & 32 == 32 { StepTimeout::Cancel } else { minutes };
                keep(agent.report_progress(details.as_ref().filter(|_| arg & 8 == 8), step));
            }
            3 => {
                let status = pick(&ExecutionStatus::ALL, arg, ExecutionStatus::InProgress);
                keep(agent.report(status, details.as_ref().filter(|_| arg & 8 == 8)));
            }
            4 => {
                keep(agent.poll_timeout());
                agent.handle_timeout(now);
            }
            5 => agent.reconnected(),
            _ => keep((
                agent.job().map(|j| (j.job_id.as_str().len(), j.version)),
                agent.is_idle(),
                agent.document().map(<[u8]>::len),
            )),
        }
    }
    black_box(&agent);
}
