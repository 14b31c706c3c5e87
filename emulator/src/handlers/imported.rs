//! A state from outside (`POST /_emulator/state`, a state file at start) is checked as the API
//! checks what it takes: the registry and the emulator's payloads must describe the same
//! things and jobs, and every payload must be one the API could have accepted. The emulator
//! never makes any other state; a hand-edited one is refused whole, naming the item.

use std::collections::BTreeMap;

use super::*;
use crate::state::{Meta, TagStore, TemplateMeta};
use crate::wire::Arns;

/// The thing and group id [`Meta::next_free_id`] makes for `n`: this prefix, then `n` in 12 hexadecimal digits.
const ID_PREFIX: &str = "00000000-0000-4000-8000-";

/// Where a job's or template's document comes from in a saved state: since format 4 a
/// `documentSource` comes with the document read from it; before, it came alone (the emulator
/// did not read it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sources {
    /// Format 4 and later: a `documentSource` comes with its document.
    Read,
    /// Formats 1 to 3: a `documentSource` comes alone.
    Unread,
}

/// Checks `meta` against `registry`, against the API's own bounds and against the emulator's
/// region and account (`arns`).
///
/// # Errors
/// The first problem found, naming the thing, group, job, template, tag or S3 object.
pub(crate) fn check(
    meta: &Meta,
    registry: &Registry<Heap>,
    arns: &Arns,
    sources: Sources,
) -> Result<(), String> {
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
        // The form `Meta::next_free_id` writes: 12 lower-case hexadecimal digits after the prefix.
        let numbered = id
            .strip_prefix(ID_PREFIX)
            .filter(|n| n.len() == 12 && n.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .and_then(|n| u64::from_str_radix(n, 16).ok());
        let Some(n) = numbered else {
            return Err(format!(
                "{whose} has the id {id:?}, which is not an id the emulator makes ({ID_PREFIX} and 12 \
                 lower-case hexadecimal digits)"
            ));
        };
        if n == 0 || n > meta.next_id {
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
        let Ok(job) = registry.job(&id) else {
            return Err(format!("{whose} has payloads but is not in the registry"));
        };
        job_payloads(j, arns, sources).map_err(api(whose.clone()))?;
        // What the targets name is what the registry counts (CreateJob, AssociateTargetsWithJob).
        for thing in &j.things {
            if !thing_name(thing, C).is_ok_and(|t| registry.is_target(&id, &t)) {
                return Err(format!(
                    "{whose} targets thing {thing}, which the registry does not count among its targets"
                ));
            }
        }
        let counted = job.targets();
        if j.groups.is_empty() && usize::try_from(counted).ok() != Some(j.things.len()) {
            return Err(format!(
                "{whose}: the registry counts {counted} targets, but its targets name {} things and no thing group",
                j.things.len()
            ));
        }
    }
    for (name, t) in &meta.templates {
        let whose = format!("job template {name}");
        limits::job_template_id(name).map_err(api(whose.clone()))?;
        template_payloads(t, sources).map_err(api(whose))?;
    }
    super::objects::check_imported(&meta.objects)?;
    for (key, tags) in &meta.tags.0 {
        let exists = match key.split_once('/') {
            Some((TagStore::JOB, n)) => meta.jobs.contains_key(n),
            Some((TagStore::GROUP, n)) => meta.groups.contains_key(n),
            Some((TagStore::JOB_TEMPLATE, n)) => meta.templates.contains_key(n),
            Some(_) | None => false,
        };
        if !exists {
            return Err(format!(
                "the tags of {key}: no such resource (tags are kept for job/ID, thinggroup/NAME and \
                 jobtemplate/ID of the jobs, thing groups and job templates there are)"
            ));
        }
        let list: Vec<wire::Tag> =
            tags.iter().map(|(k, v)| wire::Tag { key: k.clone(), value: v.clone() }).collect();
        limits::tags(Some(&list)).map_err(api(format!("the tags of {key}")))?;
    }
    Ok(())
}

/// A thing's or group's version: 1 to `i64::MAX` (a `long` on the wire; it starts at 1).
fn version(v: u64) -> Result<(), ApiError> {
    if v == 0 || i64::try_from(v).is_err() {
        return Err(ApiError::invalid(format!("version {v}: versions go from 1 to {}", i64::MAX)));
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

/// A job's payloads, each within the bounds CreateJob (and AssociateTargetsWithJob, UpdateJob)
/// puts on it, with targets of this region and account.
fn job_payloads(j: &JobMeta, arns: &Arns, sources: Sources) -> Result<(), ApiError> {
    document(j.document.as_deref(), j.document_source.as_deref(), sources)?;
    // SPEC §5 JobTargets, §6: 1 to 100 target ARNs in all.
    rules::job_targets(j.targets.len()).on(C)?;
    let (mut groups, mut things) = (BTreeSet::new(), BTreeSet::new());
    for arn in &j.targets {
        match arns.own_target(arn)? {
            Target::Thing(n) => things.insert(n),
            Target::Group(n) => groups.insert(n),
        };
    }
    if groups != j.groups || things != j.things {
        return Err(ApiError::invalid(format!(
            "its thing groups {:?} and things {:?} are not those its targets name: groups {groups:?}, things {things:?}",
            j.groups, j.things
        )));
    }
    if let Some(d) = &j.description {
        check_text("description", d, 2028)?;
    }
    if let Some(c) = &j.comment {
        Comment::new(c).on(C)?;
    }
    j.document_parameters.as_ref().map_or(Ok(()), limits::document_parameters)?;
    limits::destination_package_versions(j.destination_package_versions.as_deref())?;
    if let Some(a) = &j.job_template_arn {
        template_arn(a, arns)?;
    }
    limits::job_configs(&j.configs)
}

/// A job's `jobTemplateArn`: an AWS managed template the emulator has, or a custom template's
/// ARN of this region and account with a valid id (the template may have been deleted since).
fn template_arn(a: &str, arns: &Arns) -> Result<(), ApiError> {
    limits::job_template_arn(a)?;
    match wire::parse_template_arn(a) {
        Some(wire::TemplateArn::Custom(id)) => {
            limits::job_template_id(&id)?;
            arns.own(a, "jobtemplate", &id)
        }
        Some(wire::TemplateArn::Managed { name, version }) => {
            match crate::managed::find(&name, Some(version.as_str())) {
                Some(_) => Ok(()),
                None => Err(ApiError::invalid(format!(
                    "jobTemplateArn {a} names no AWS managed template the emulator has"
                ))),
            }
        }
        None => Err(ApiError::invalid(format!("jobTemplateArn {a} is not a job template ARN"))),
    }
}

fn template_payloads(t: &TemplateMeta, sources: Sources) -> Result<(), ApiError> {
    check_text("description", &t.description, 2028)?;
    limits::destination_package_versions(t.configs.destination_package_versions.as_deref())?;
    document(t.document.as_deref(), t.document_source.as_deref(), sources)
}

/// A job's or template's document, as CreateJob and CreateJobTemplate take it: a `document`, or
/// the S3 object URL of a `documentSource` with the document read from it (alone in a state
/// of format 3 or earlier).
fn document(document: Option<&str>, source: Option<&str>, sources: Sources) -> Result<(), ApiError> {
    if let Some(url) = source {
        limits::document_source(url)?;
        crate::wire::s3::parse_source(url).map_err(|why| {
            ApiError::invalid(format!("documentSource {url} is not an S3 object URL: {why}"))
        })?;
    }
    match (document, source, sources) {
        (Some(d), _, _) => check_document(d),
        (None, Some(_), Sources::Unread) => Ok(()),
        (None, Some(_), Sources::Read) => Err(ApiError::invalid(
            "it has a documentSource without the document read from it (a state of format 4 or \
             later keeps both)",
        )),
        (None, None, _) => Err(ApiError::invalid("it needs one of document and documentSource")),
    }
}
