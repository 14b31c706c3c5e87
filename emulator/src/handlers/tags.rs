//! Tags (TagResource, UntagResource, ListTagsForResource) and the `tags` of the create calls,
//! kept per resource in [`crate::state::TagStore`] (SPEC AMBIG-33).
//!
//! The taggable resources this emulator has are jobs, thing groups and job templates (the
//! service tags thing groups, thing types, topic rules, jobs, job templates, security profiles,
//! billing groups and more, but not things; an AWS managed template has no account, so no
//! tags).

use super::*;
use crate::state::{TagStore, Tags};

pub(super) const JOB: &str = TagStore::JOB;
pub(super) const GROUP: &str = TagStore::GROUP;
const JOB_TEMPLATE: &str = TagStore::JOB_TEMPLATE;

/// Most tags a resource keeps (AWS: 50 user tags per resource).
const MAX_TAGS: usize = limits::MAX_TAGS;

/// The tags of a create call (validated with [`limits::tags`]), as stored.
pub(super) fn tag_map(tags: Vec<wire::Tag>) -> Tags {
    tags.into_iter().map(|t| (t.key, t.value)).collect()
}

/// The resource `arn` names, as (type, name), once it is known to exist: 400 for an ARN that
/// is not a taggable resource's, 404 for one of another region or account, or of a resource
/// that does not exist.
fn resource(st: &State, arn: &str) -> Result<(&'static str, String), ApiError> {
    let bad = || {
        ApiError::invalid(format!(
            "resourceArn {arn:?} is not the ARN of a taggable resource \
             (arn:aws:iot:REGION:ACCOUNT:job/ID, ...:thinggroup/NAME or ...:jobtemplate/ID)"
        ))
    };
    let resource = arn.strip_prefix("arn:").and_then(|r| r.splitn(5, ':').nth(4)).ok_or_else(bad)?;
    let (kind, name) = resource.split_once('/').ok_or_else(bad)?;
    let kind = match kind {
        JOB => JOB,
        GROUP => GROUP,
        JOB_TEMPLATE => JOB_TEMPLATE,
        "thing" => return Err(ApiError::invalid(format!("{arn}: things cannot be tagged (use attributes)"))),
        _ => return Err(bad()),
    };
    st.arns.own(arn, kind, name)?;
    let exists = match kind {
        JOB => JobId::new(name).is_ok_and(|id| st.registry.job(&id).is_ok()),
        GROUP => st.meta.groups.contains_key(name),
        _ => st.meta.templates.contains_key(name),
    };
    if !exists {
        return Err(ApiError::not_found(format!("{arn} does not exist")));
    }
    Ok((kind, name.to_owned()))
}

fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::invalid(format!("{member} is required")))
}

/// TagResource: adds the tags, replacing the values of keys the resource already has; more than
/// [`MAX_TAGS`] in all is a 410 `LimitExceededException` and changes nothing.
pub(super) fn tag_resource(st: &mut State, body: &[u8]) -> Result<Reply, ApiError> {
    let input: wire::TagResourceIn = wire::parse_body(body)?;
    let arn = required(input.resource_arn, "resourceArn")?;
    let tags = required(input.tags, "tags")?;
    limits::tags(Some(&tags))?;
    let (kind, name) = resource(st, &arn)?;
    let mut merged = st.meta.tags.get(kind, &name).cloned().unwrap_or_default();
    merged.extend(tag_map(tags));
    if merged.len() > MAX_TAGS {
        return Err(ApiError::limit_exceeded(format!(
            "{arn} would have {} tags; a resource has at most {MAX_TAGS}",
            merged.len()
        )));
    }
    st.meta.tags.set(kind, &name, merged);
    empty(true)
}

/// UntagResource: removes the keys (keys the resource does not have are ignored).
pub(super) fn untag_resource(st: &mut State, body: &[u8]) -> Result<Reply, ApiError> {
    let input: wire::UntagResourceIn = wire::parse_body(body)?;
    let arn = required(input.resource_arn, "resourceArn")?;
    let keys = required(input.tag_keys, "tagKeys")?;
    keys.iter().try_for_each(|k| limits::tag_key("tagKeys", k))?;
    let (kind, name) = resource(st, &arn)?;
    let mut tags = st.meta.tags.get(kind, &name).cloned().unwrap_or_default();
    let before = tags.len();
    for k in &keys {
        tags.remove(k);
    }
    let changed = tags.len() != before;
    st.meta.tags.set(kind, &name, tags);
    empty(changed)
}

/// ListTagsForResource: the tags by key. A resource holds at most [`MAX_TAGS`], so one page
/// holds them all; `nextToken` is still read (a token of another listing is a 400).
pub(super) fn list_tags(st: &mut State, q: &Query<'_>) -> Result<Reply, ApiError> {
    let arn = required(q.get("resourceArn"), "resourceArn")?;
    let skip = q.offset("ListTagsForResource")?;
    let (kind, name) = resource(st, arn)?;
    let tags = st.meta.tags.get(kind, &name).into_iter().flatten();
    let (page, next_token) = token::page(tags, skip, MAX_TAGS);
    let tags = page.into_iter().map(|(k, v)| wire::Tag { key: k.clone(), value: v.clone() }).collect();
    reply(&wire::ListTagsOut { tags, next_token: q.bind(next_token) }, false)
}
