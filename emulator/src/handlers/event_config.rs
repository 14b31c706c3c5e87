//! DescribeEventConfigurations and UpdateEventConfigurations: which event types the emulator
//! publishes (SPEC R23). `JOB` and `JOB_EXECUTION` switch the `$aws/events/job/...` and
//! `$aws/events/jobExecution/...` messages ([`crate::mqtt::events`]); the other types are stored
//! and described (the emulator has no events of those types).

use super::*;
use crate::state::EVENT_TYPES;

/// DescribeEventConfigurations: every event type with its switch.
pub(super) fn describe(st: &mut State) -> Result<Reply, ApiError> {
    let c = &st.meta.event_configurations;
    let event_configurations = EVENT_TYPES
        .iter()
        .map(|t| ((*t).to_owned(), wire::EventSwitch { enabled: Some(c.enabled(t, st.job_events)) }))
        .collect();
    reply(
        &wire::DescribeEventConfigurationsOut {
            event_configurations,
            creation_date: c.created_at,
            last_modified_date: c.modified_at,
        },
        false,
    )
}

/// UpdateEventConfigurations: sets the switch of each event type given. An unknown type is a
/// 400 and changes nothing; a type without `Enabled` keeps its switch (SPEC R23).
pub(super) fn update(st: &mut State, body: &[u8]) -> Result<Reply, ApiError> {
    let input: wire::UpdateEventConfigurationsIn = wire::parse_body(body)?;
    let given = input.event_configurations.unwrap_or_default();
    if let Some(t) = given.keys().find(|t| !EVENT_TYPES.contains(&t.as_str())) {
        return Err(ApiError::invalid(format!(
            "eventConfigurations: {t:?} is not an event type (one of {})",
            EVENT_TYPES.join(", ")
        )));
    }
    let now = st.now().secs();
    let c = &mut st.meta.event_configurations;
    for (t, switch) in given {
        if let Some(on) = switch.enabled {
            c.enabled.insert(t, on);
        }
    }
    c.created_at.get_or_insert(now);
    c.modified_at = Some(now);
    empty(true)
}
