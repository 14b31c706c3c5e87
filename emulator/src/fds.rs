//! The file descriptors the connection caps need, fitted under the process's limit.
//!
//! Every open connection holds a descriptor, and a process that has none left accepts nothing
//! on any listener: without a budget, a flood of idle MQTT clients (the broker's cap was 10,000)
//! took every descriptor under a limit of 256 and the HTTP API answered nothing until one of
//! them left. At start the emulator raises its soft limit (`RLIMIT_NOFILE`) as far as the caps
//! need and the hard limit allows. Caps that still do not fit are refused with the numbers,
//! except the broker's default cap, which is lowered to what is left, with a warning: each
//! listener then runs out of its own connections, never of descriptors.

use crate::DEFAULT_MQTT_MAX_CONNECTIONS;

/// Descriptors kept for all but the connections: stdio, the runtime's, the listeners, the
/// journal's and the snapshot's files, the bridge's connection, and a refused MQTT connection
/// for the moment it takes to close it (an idle emulator with every listener and a journal
/// holds 14).
pub const RESERVE: u64 = 32;

/// The connections to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    /// HTTP connections per listener (`--max-connections`).
    pub http: usize,
    /// HTTP listeners (1, or 2 with a data-plane listener).
    pub http_listeners: usize,
    /// The MQTT broker's cap over its listeners: `None` without a broker, `Some(None)` for the
    /// default (lowered to fit), `Some(Some(n))` for `--mqtt-max-connections n`.
    pub mqtt: Option<Option<usize>>,
}

impl Caps {
    /// HTTP connections over all listeners.
    fn http_total(self) -> u64 {
        u64::try_from(self.http.saturating_mul(self.http_listeners)).unwrap_or(u64::MAX)
    }

    /// The MQTT connections asked for (0 without a broker).
    fn mqtt_wanted(self) -> usize {
        match self.mqtt {
            None => 0,
            Some(cap) => cap.unwrap_or(DEFAULT_MQTT_MAX_CONNECTIONS),
        }
    }

    /// The descriptors these caps need.
    pub fn needed(self) -> u64 {
        let mqtt = u64::try_from(self.mqtt_wanted()).unwrap_or(u64::MAX);
        self.http_total().saturating_add(mqtt).saturating_add(RESERVE)
    }

    /// The broker's cap under a soft limit of `soft` descriptors (`None`: no limit), whose hard
    /// limit is `hard`; an error, with the numbers, when the caps do not fit and may not shrink.
    pub fn fit(self, soft: Option<u64>, hard: Option<u64>) -> Result<usize, String> {
        let wanted = self.mqtt_wanted();
        let needed = self.needed();
        let Some(limit) = soft else { return Ok(wanted) };
        if limit >= needed {
            return Ok(wanted);
        }
        if self.mqtt == Some(None) {
            let room = limit.saturating_sub(self.http_total()).saturating_sub(RESERVE);
            if room > 0 {
                // Less than `wanted`, since `limit` is less than `needed`.
                return Ok(usize::try_from(room).unwrap_or(wanted));
            }
        }
        let hard = hard.map_or_else(|| "none".to_owned(), |h| h.to_string());
        let mqtt = match self.mqtt {
            None => String::new(),
            Some(None) => {
                format!(", at least 1 MQTT (the broker's default cap, {wanted}, is lowered to fit)")
            }
            Some(Some(n)) => format!(", {n} MQTT (--mqtt-max-connections)"),
        };
        Err(format!(
            "the connection caps need {needed} file descriptors ({} HTTP: --max-connections {} on {} \
             listener(s){mqtt}, and {RESERVE} for the emulator itself) and the limit is {limit} (hard \
             limit {hard}): raise it (ulimit -n) or lower the caps",
            self.http_total(),
            self.http,
            self.http_listeners,
        ))
    }
}

/// Raises the soft descriptor limit towards `needed`, as far as the hard limit allows; returns
/// the soft and hard limits then (`None`: unlimited, or unknown off Unix).
#[cfg(unix)]
pub(crate) fn raise(needed: u64) -> (Option<u64>, Option<u64>) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    if let Some(current) = now.current {
        let target = now.maximum.map_or(needed, |max| max.min(needed));
        if target > current {
            let raised = Rlimit { current: Some(target), maximum: now.maximum };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!("cannot raise the file-descriptor limit from {current} to {target}: {e}");
            }
        }
    }
    let after = getrlimit(Resource::Nofile);
    (after.current, after.maximum)
}

/// Raises the soft descriptor limit: not off Unix, where none is known.
#[cfg(not(unix))]
pub(crate) fn raise(_needed: u64) -> (Option<u64>, Option<u64>) {
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn caps(http: usize, http_listeners: usize, mqtt: Option<Option<usize>>) -> Caps {
        Caps { http, http_listeners, mqtt }
    }

    /// Each row: the caps, the soft limit, and the broker's cap or the refusal.
    #[test]
    fn caps_fit_under_the_limit_or_are_refused_with_the_numbers() {
        let default = DEFAULT_MQTT_MAX_CONNECTIONS;
        let table: [(Caps, Option<u64>, Result<usize, &str>); 11] = [
            // No limit, or room for everything: as asked.
            (caps(512, 1, Some(None)), None, Ok(default)),
            (caps(512, 2, Some(Some(20_000))), Some(1 << 20), Ok(20_000)),
            (caps(512, 1, Some(None)), Some(512 + 10_000 + 32), Ok(default)),
            (caps(512, 1, None), Some(544), Ok(0)),
            // The default shrinks to what HTTP and the reserve leave, down to 1.
            (caps(512, 1, Some(None)), Some(512 + 10_000 + 31), Ok(default - 1)),
            (caps(16, 1, Some(None)), Some(256), Ok(256 - 16 - 32)),
            (caps(16, 2, Some(None)), Some(65), Ok(1)),
            // Nothing left for it, an explicit cap, or HTTP alone too large: refused.
            (caps(16, 2, Some(None)), Some(64), Err("need 10064 file descriptors (32 HTTP")),
            (
                caps(16, 1, Some(Some(300))),
                Some(256),
                Err(
                    "348 file descriptors (16 HTTP: --max-connections 16 on 1 listener(s), 300 MQTT (--mqtt-max-connections), and 32 for the emulator itself) and the limit is 256",
                ),
            ),
            (caps(512, 1, None), Some(543), Err("need 544 file descriptors (512 HTTP")),
            (
                caps(usize::MAX, 2, Some(Some(usize::MAX))),
                Some(u64::MAX - 1),
                Err("need 18446744073709551615 file"),
            ),
        ];
        for (caps, soft, want) in table {
            match (caps.fit(soft, Some(4096)), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{caps:?} under {soft:?}"),
                (Err(got), Err(want)) => {
                    assert!(got.contains(want), "{caps:?} under {soft:?}: {got}");
                    assert!(got.contains("hard limit 4096"), "{got}");
                }
                (got, want) => panic!("{caps:?} under {soft:?}: {got:?}, not {want:?}"),
            }
        }
    }

    /// Raising asks for what is needed, no more than the hard limit, and never lowers the soft
    /// limit. (The test lowers this process's soft limit for a moment, to at most 512, and puts
    /// it back.)
    #[cfg(unix)]
    #[test]
    fn raising_the_limit_asks_for_what_is_needed_up_to_the_hard_limit() {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let before = getrlimit(Resource::Nofile);
        let low = (before.maximum.unwrap_or(u64::MAX) / 4).clamp(16, 512);
        let more = low + low / 2;
        setrlimit(Resource::Nofile, Rlimit { current: Some(low), maximum: before.maximum }).unwrap();
        let raised = raise(more);
        let kept = raise(low / 2);
        let highest = raise(u64::MAX);
        setrlimit(Resource::Nofile, before).unwrap();
        assert_eq!(raised, (Some(more), before.maximum));
        assert_eq!(kept, (Some(more), before.maximum), "never lowered");
        if let Some(hard) = before.maximum {
            assert_eq!(highest, (Some(hard), Some(hard)), "up to the hard limit");
        }
    }
}
