//! A state from outside (`POST /_emulator/state`, a state file at start) is checked as the API
//! checks what it takes: the registry and the emulator's payloads must describe the same
//! things and jobs, and every payload must be one the API could have accepted. The emulator
//! never makes any other state; a hand-edited one is refused whole, naming the item.

use std::collections::BTreeMap;

use super::*;
use crate::state::{Meta, TemplateMeta};

/// The thing and group id [`Meta::next_free_id`] makes for `n`: this prefix, then `n` in 12 hexadecimal digits.
const ID_PREFIX: &str = "00000000-0000-4000-8000-";

/// Checks `meta` against `registry` and against the API's own bounds.
///
/// # Errors
/// The first problem found, naming the thing, group, job or template.
pub(crate) fn check(meta: &Meta, registry: &Registry<Heap>) -> Result<(), String> {
    let api = |what: String| move |e: ApiError| format!("{what}: {}", e.message);
    for name in registry.things() {
        if !meta.things.contains_key(name.as_str()) {
            return Err(format!("thing {name} is in the registry but has no payloads (meta.things)"));
        }
    }
    if meta.next_id > crate::state::LAST_ID {
        return Err(format!(
            "next_id {} is past the last id, {} (a UUID's last group has 12 hexadecimal digits)",
            meta.next_id,
            crate::state::LAST_ID
        ));
    }
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut id = |id: &str, whose: String| -> Result<(), String> {
        let numbered = id.strip_prefix(ID_PREFIX).and_then(|n| u64::from_str_radix(n, 16).ok());
        if id.is_empty() || numbered.is_some_and(|n| n > meta.next_id) {
            return Err(format!(
                "{whose} has the id {id:?}, which next_id {} has not given out",
                meta.next_id
            ));
        }
        match ids.insert(id.to_owned(), whose.clone()) {
            Some(other) => Err(format!("{whose} and {other} have one id, {id}")),
            None => Ok(()),
        }
    };
    for (name, t) in &meta.things {
        let whose = format!("thing {name}");
        let thing = thing_name(name, C).map_err(api(whose.clone()))?;
        if registry.thing(&thing).is_none() {
            return Err(format!("{whose} has payloads but is not in the registry"));
        }
        thing_payloads(t).map_err(api(whose.clone()))?;
        id(&t.id, whose)?;
    }
    for (name, g) in &meta.groups {
        let whose = format!("thing group {name}");
        group_name(name).map_err(api(whose.clone()))?;
        group_payloads(g).map_err(api(whose.clone()))?;
        if let Some(thing) = g.members.iter().find(|t| !meta.things.contains_key(&***t)) {
            return Err(format!("{whose} has the member {thing}, which is not a thing"));
        }
        id(&g.id, whose)?;
    }
    for job in registry.jobs() {
        if !meta.jobs.contains_key(job.id().as_str()) {
            return Err(format!("job {} is in the registry but has no payloads (meta.jobs)", job.id()));
        }
    }
    for (name, j) in &meta.jobs {
        let whose = format!("job {name}");
        let id = job_id(name, C).map_err(api(whose.clone()))?;
        if registry.job(&id).is_err() {
            return Err(format!("{whose} has payloads but is not in the registry"));
        }
        job_payloads(j).map_err(api(whose))?;
    }
    for (name, t) in &meta.templates {
        let whose = format!("job template {name}");
        limits::job_template_id(name).map_err(api(whose.clone()))?;
        template_payloads(t).map_err(api(whose))?;
    }
    for (key, tags) in &meta.tags.0 {
        let list: Vec<wire::Tag> =
            tags.iter().map(|(k, v)| wire::Tag { key: k.clone(), value: v.clone() }).collect();
        limits::tags(Some(&list)).map_err(api(format!("the tags of {key}")))?;
    }
    Ok(())
}

fn version(v: u64) -> Result<(), ApiError> {
    if v == 0 {
        return Err(ApiError::invalid("version 0: versions start at 1"));
    }
    Ok(())
}

fn thing_payloads(t: &ThingMeta) -> Result<(), ApiError> {
    version(t.version)?;
    limits::attributes(&t.attributes)?;
    t.type_name.as_deref().map_or(Ok(()), |n| limits::type_or_billing_name("thingTypeName", n))?;
    t.billing_group.as_deref().map_or(Ok(()), |n| limits::type_or_billing_name("billingGroupName", n))
}

fn group_payloads(g: &GroupMeta) -> Result<(), ApiError> {
    version(g.version)?;
    limits::attributes(&g.attributes)?;
    if let Some(p) = &g.parent {
        group_name(p)?;
    }
    g.description.as_deref().map_or(Ok(()), limits::group_description)
}

fn job_payloads(j: &JobMeta) -> Result<(), ApiError> {
    match (&j.document, &j.document_source) {
        (Some(d), None) => check_document(d)?,
        (None, Some(_)) => {}
        (None, None) | (Some(_), Some(_)) => {
            return Err(ApiError::invalid("it needs one of document and documentSource"));
        }
    }
    if j.targets.is_empty() {
        return Err(ApiError::invalid("it has no targets"));
    }
    for arn in &j.targets {
        wire::parse_target(arn)?;
    }
    if let Some(d) = &j.description {
        check_text("description", d, 2028)?;
    }
    limits::job_configs(&j.configs)
}

fn template_payloads(t: &TemplateMeta) -> Result<(), ApiError> {
    check_text("description", &t.description, 2028)?;
    match (&t.document, &t.document_source) {
        (Some(d), None) => check_document(d),
        (None, Some(_)) => Ok(()),
        (None, None) | (Some(_), Some(_)) => {
            Err(ApiError::invalid("it needs one of document and documentSource"))
        }
    }
}
