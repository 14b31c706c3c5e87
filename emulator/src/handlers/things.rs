//! Things and thing groups (CreateThing ... RemoveThingFromThingGroup), and the thing-group
//! hierarchy (ListThingGroups, ListThingsInThingGroup, ListThingGroupsForThing; SPEC AMBIG-32).

use super::*;
use crate::state::MAX_GROUP_DEPTH;

pub(super) fn create_thing(st: &mut State, thing: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let input: wire::CreateThingIn = wire::parse_body(body)?;
    let attributes = input.attribute_payload.and_then(|p| p.attributes).unwrap_or_default();
    limits::attributes(&attributes)?;
    if let Some(t) = &input.thing_type_name {
        limits::type_or_billing_name("thingTypeName", t)?;
    }
    if let Some(b) = &input.billing_group_name {
        limits::type_or_billing_name("billingGroupName", b)?;
    }
    let out = |st: &State, m: &ThingMeta| wire::CreateThingOut {
        thing_name: thing.to_owned(),
        thing_arn: st.arns.thing(thing),
        thing_id: m.id.clone(),
    };
    if let (Some(_), Some(m)) = (st.registry.thing(&name), st.meta.things.get(thing)) {
        // Thing registry (not the jobs lifecycle): the same request again is accepted.
        if m.attributes == attributes
            && m.type_name == input.thing_type_name
            && m.billing_group == input.billing_group_name
        {
            return reply(&out(st, m), false);
        }
        return Err(ApiError::exists(format!("thing {thing} already exists with different attributes")));
    }
    let id = st.meta.next_free_id()?;
    st.registry.add_thing(&name).on(C)?;
    st.meta.take_id();
    let meta = ThingMeta {
        id,
        type_name: input.thing_type_name,
        attributes,
        version: 1,
        billing_group: input.billing_group_name,
    };
    let r = reply(&out(st, &meta), true);
    st.meta.things.insert(thing.to_owned(), meta);
    r
}

pub(super) fn thing_meta<'s>(st: &'s State, name: &ThingName) -> Result<&'s ThingMeta, ApiError> {
    st.registry.thing(name).and(st.meta.things.get(name.as_str())).ok_or_else(|| not_found(Resource::Thing))
}

pub(super) fn describe_thing(st: &mut State, thing: &str) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let m = thing_meta(st, &name)?;
    reply(
        &wire::DescribeThingOut {
            default_client_id: thing.to_owned(),
            thing_name: thing.to_owned(),
            thing_id: m.id.clone(),
            thing_arn: st.arns.thing(thing),
            thing_type_name: m.type_name.clone(),
            attributes: m.attributes.clone(),
            version: m.version,
            billing_group_name: m.billing_group.clone(),
        },
        false,
    )
}

/// An `expectedVersion` that is not `version`, the version of `what`, is a 409
/// VersionConflictException.
fn expect_version(what: &str, expected: Option<i64>, version: u64) -> Result<(), ApiError> {
    match expected {
        Some(v) if u64::try_from(v).ok() != Some(version) => {
            Err(ApiError::version_conflict(format!("{what} is at version {version}, not {v}")))
        }
        _ => Ok(()),
    }
}

/// The attributes an UpdateThing or UpdateThingGroup `payload` (its attributes checked by
/// [`limits::attributes`]) leaves of `current`: with `merge`, the given ones are set and the
/// others stay; without, the given ones replace them all. An empty value removes its attribute
/// either way (the model: "To remove an attribute, call UpdateThing with an empty attribute
/// value"). No payload, or one without `attributes`, leaves them as they are.
fn updated_attributes(
    current: &StringMap,
    payload: Option<wire::AttributePayload>,
) -> Result<StringMap, ApiError> {
    let Some(wire::AttributePayload { attributes: Some(given), merge }) = payload else {
        return Ok(current.clone());
    };
    let mut out = if merge.unwrap_or(false) { current.clone() } else { StringMap::new() };
    for (k, v) in given {
        if v.is_empty() {
            out.remove(&k);
        } else {
            out.insert(k, v);
        }
    }
    if out.len() > limits::MAX_ATTRIBUTES {
        return Err(ApiError::invalid(format!(
            "the merged attributes would be {}; at most {} are allowed",
            out.len(),
            limits::MAX_ATTRIBUTES
        )));
    }
    Ok(out)
}

/// Checks the attributes of an UpdateThing or UpdateThingGroup payload, before any lookup.
fn check_payload(payload: Option<&wire::AttributePayload>) -> Result<(), ApiError> {
    payload.and_then(|p| p.attributes.as_ref()).map_or(Ok(()), limits::attributes)
}

/// UpdateThing: the thing's attributes (merged or replaced), its thing type set or removed, and
/// its version one more.
pub(super) fn update_thing(st: &mut State, thing: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let input: wire::UpdateThingIn = wire::parse_body(body)?;
    check_payload(input.attribute_payload.as_ref())?;
    if let Some(t) = &input.thing_type_name {
        limits::type_or_billing_name("thingTypeName", t)?;
    }
    let remove_type = input.remove_thing_type.unwrap_or(false);
    if remove_type && input.thing_type_name.is_some() {
        return Err(ApiError::invalid("thingTypeName cannot be given with removeThingType true"));
    }
    let m = thing_meta(st, &name)?;
    expect_version(&format!("thing {thing}"), input.expected_version.map(|Long(v)| v), m.version)?;
    let attributes = updated_attributes(&m.attributes, input.attribute_payload)?;
    let type_name = if remove_type { None } else { input.thing_type_name.or_else(|| m.type_name.clone()) };
    let m = st.meta.things.get_mut(thing).ok_or_else(|| not_found(Resource::Thing))?;
    m.attributes = attributes;
    m.type_name = type_name;
    m.version = m.version.saturating_add(1);
    empty(true)
}

pub(super) fn delete_thing(st: &mut State, thing: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let expected = q.long("expectedVersion")?;
    // DeleteThing of an unknown thing succeeds (API reference).
    let Ok(m) = thing_meta(st, &name) else { return empty(false) };
    expect_version(&format!("thing {thing}"), expected, m.version)?;
    with_events(st, |r, now, sink| r.remove_thing(&name, now, sink)).on(C)?;
    st.meta.things.remove(thing);
    st.forget_thing(thing);
    empty(true)
}

pub(super) fn list_things(st: &mut State, q: &Query<'_>) -> Result<Reply, ApiError> {
    let max = q.max_results()?;
    // In name order: the next page starts after the token's name (a range of the map).
    let after = q.after("ListThings")?;
    let (attr, value, type_name) = (q.get("attributeName"), q.get("attributeValue"), q.get("thingTypeName"));
    limits::thing_filters(attr, value, type_name)?;
    let prefix = q.flag("usePrefixAttributeValue")?;
    let from = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let passes = |(_, m): &(&String, &ThingMeta)| {
        let attr_ok = match (attr, value) {
            (Some(a), Some(v)) => {
                m.attributes.get(a).is_some_and(|x| if prefix { x.starts_with(v) } else { x == v })
            }
            (Some(a), None) => m.attributes.contains_key(a),
            (None, _) => true,
        };
        attr_ok && type_name.is_none_or(|t| m.type_name.as_deref() == Some(t))
    };
    // With filters, a page reads `LOOKS_PER_PAGE` things at most.
    let things = st.meta.things.range::<str, _>((from, Bound::Unbounded)).map(|(n, m)| (n.as_str(), (n, m)));
    let mut page = Vec::new();
    let next_token = token::filtered_page(things, max, LOOKS_PER_PAGE, &mut page, passes)
        .map(|name| Token::After(name.to_owned()).encode());
    let things = page
        .into_iter()
        .map(|(name, m)| wire::ThingAttribute {
            thing_name: name.clone(),
            thing_type_name: m.type_name.clone(),
            thing_arn: st.arns.thing(name),
            attributes: m.attributes.clone(),
            version: m.version,
        })
        .collect();
    reply(&wire::ListThingsOut { things, next_token: q.bind(next_token) }, false)
}

// ---- thing groups ------------------------------------------------------------------------------------

pub(super) fn create_group(st: &mut State, group: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = group_name(group)?;
    let input: wire::CreateThingGroupIn = wire::parse_body(body)?;
    let props = input.thing_group_properties.unwrap_or_default();
    let attributes = props.attribute_payload.and_then(|p| p.attributes).unwrap_or_default();
    limits::attributes(&attributes)?;
    if let Some(d) = &props.thing_group_description {
        limits::group_description(d)?;
    }
    limits::tags(input.tags.as_deref())?;
    if let Some(p) = &input.parent_group_name {
        named_group("parentGroupName", p)?;
        if !st.meta.groups.contains_key(p) {
            return Err(ApiError::not_found(format!("the parent thing group {p} does not exist")));
        }
        // SPEC AMBIG-32: the parent's ancestors, the parent and the new group.
        let depth = ancestors(st, p).len().saturating_add(2);
        if depth > MAX_GROUP_DEPTH && !st.meta.groups.contains_key(&name) {
            return Err(ApiError::invalid(format!(
                "thing group {name} would be level {depth} of its hierarchy; a hierarchy has at most {MAX_GROUP_DEPTH} levels"
            )));
        }
    }
    let out = |st: &State, g: &GroupMeta| wire::CreateThingGroupOut {
        thing_group_name: name.clone(),
        thing_group_arn: st.arns.group(&name),
        thing_group_id: g.id.clone(),
    };
    if let Some(g) = st.meta.groups.get(&name) {
        if g.description == props.thing_group_description
            && g.attributes == attributes
            && g.parent == input.parent_group_name
        {
            return reply(&out(st, g), false);
        }
        return Err(ApiError::exists(format!("thing group {name} already exists with different properties")));
    }
    let g = GroupMeta {
        id: st.meta.next_free_id()?,
        description: props.thing_group_description,
        attributes,
        parent: input.parent_group_name,
        members: BTreeSet::new(),
        version: 1,
        created_at: st.now().secs(),
    };
    if st.meta.groups.len() >= st.caps.thing_groups {
        return Err(ApiError::limit_exceeded(format!(
            "the emulator keeps at most {} thing groups (--max-thing-groups): delete one first",
            st.caps.thing_groups
        )));
    }
    let r = reply(&out(st, &g), true);
    st.meta.take_id();
    st.meta.tags.set(super::tags::GROUP, &name, super::tags::tag_map(input.tags.unwrap_or_default()));
    st.add_group(name, g);
    r
}

pub(super) fn describe_group(st: &mut State, group: &str) -> Result<Reply, ApiError> {
    let name = group_name(group)?;
    let g = st
        .meta
        .groups
        .get(&name)
        .ok_or_else(|| ApiError::not_found(format!("thing group {name} does not exist")))?;
    reply(
        &wire::DescribeThingGroupOut {
            thing_group_name: name.clone(),
            thing_group_id: g.id.clone(),
            thing_group_arn: st.arns.group(&name),
            version: g.version,
            thing_group_properties: wire::GroupPropertiesOut {
                thing_group_description: g.description.clone(),
                attribute_payload: wire::AttributesOut { attributes: g.attributes.clone() },
            },
            thing_group_metadata: wire::GroupMetadataOut {
                parent_group_name: g.parent.clone(),
                root_to_parent_thing_groups: ancestors(st, &name)
                    .into_iter()
                    .map(|a| name_and_arn(st, a))
                    .collect(),
                creation_date: g.created_at,
            },
        },
        false,
    )
}

/// UpdateThingGroup: the group's description (when given) and attributes (merged or
/// replaced), and its version one more, which it answers.
pub(super) fn update_group(st: &mut State, group: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = group_name(group)?;
    let input: wire::UpdateThingGroupIn = wire::parse_body(body)?;
    let props =
        input.thing_group_properties.ok_or_else(|| ApiError::invalid("thingGroupProperties is required"))?;
    check_payload(props.attribute_payload.as_ref())?;
    if let Some(d) = &props.thing_group_description {
        limits::group_description(d)?;
    }
    let g = st
        .meta
        .groups
        .get(&name)
        .ok_or_else(|| ApiError::not_found(format!("thing group {name} does not exist")))?;
    expect_version(&format!("thing group {name}"), input.expected_version.map(|Long(v)| v), g.version)?;
    let attributes = updated_attributes(&g.attributes, props.attribute_payload)?;
    let g = st
        .meta
        .groups
        .get_mut(&name)
        .ok_or_else(|| ApiError::not_found(format!("thing group {name} does not exist")))?;
    if let Some(d) = props.thing_group_description {
        g.description = Some(d);
    }
    g.attributes = attributes;
    g.version = g.version.saturating_add(1);
    reply(&wire::UpdateThingGroupOut { version: g.version }, true)
}

pub(super) fn delete_group(st: &mut State, group: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = group_name(group)?;
    let expected = q.long("expectedVersion")?;
    // DeleteThingGroup of an unknown group succeeds (its model has no ResourceNotFound).
    let Some(g) = st.meta.groups.get(&name) else { return empty(false) };
    expect_version(&format!("thing group {name}"), expected, g.version)?;
    // SPEC AMBIG-32: a group with child groups stays; its children are deleted first.
    let children: Vec<&str> = children(st, &name).collect();
    if !children.is_empty() {
        return Err(ApiError::invalid(format!(
            "thing group {name} has child groups ({}): delete them first",
            children.join(", ")
        )));
    }
    let members: Vec<String> = g.members.iter().map(|t| t.to_string()).collect();
    let leave = leaves(st, &name, &members);
    st.remove_group(&name);
    st.meta.tags.forget(super::tags::GROUP, &name);
    apply_leaves(st, leave);
    empty(true)
}

// ---- the hierarchy (SPEC AMBIG-32) ---------------------------------------------------------------------

/// The ancestors of `group`, the root first (none for a root group or an unknown one).
pub(super) fn ancestors(st: &State, group: &str) -> Vec<String> {
    crate::state::ancestors(&st.meta, group)
}

/// The direct child groups of `group`, by name.
fn children<'s>(st: &'s State, group: &str) -> impl Iterator<Item = &'s str> + 's {
    st.group_index().children_of(group).into_iter().flatten().map(|c| &**c)
}

/// Whether `group` is `ancestor` or one of its descendants.
fn within(st: &State, group: &str, ancestor: &str) -> bool {
    group == ancestor || ancestors(st, group).iter().any(|a| a == ancestor)
}

/// `group` and its descendants, by name (none for an unknown group).
pub(super) fn subtree(st: &State, group: &str) -> BTreeSet<String> {
    if !st.meta.groups.contains_key(group) {
        return BTreeSet::new();
    }
    let below = st.group_index().below(group).into_iter().flatten().map(|g| g.to_string());
    std::iter::once(group.to_owned()).chain(below).collect()
}

fn name_and_arn(st: &State, name: String) -> wire::GroupNameAndArn {
    wire::GroupNameAndArn { group_arn: st.arns.group(&name), group_name: name }
}

/// ListThingGroups: the children of `parentGroup` (the root groups without it), and with
/// `recursive` (the default) their descendants too, whose names start with `namePrefixFilter`.
/// A page reads from the later of the token's name and the prefix, and stops at the first name
/// past the prefix; the root groups and each group's children are kept in name order by the
/// state's [`GroupIndex`](crate::state::GroupIndex).
pub(super) fn list_groups(st: &mut State, q: &Query<'_>) -> Result<Reply, ApiError> {
    let max = q.max_results()?;
    let after = q.after("ListThingGroups")?;
    let parent = q.get("parentGroup").map(|p| named_group("parentGroup", p)).transpose()?;
    let prefix = q
        .get("namePrefixFilter")
        .map(|p| named_group("namePrefixFilter", p))
        .transpose()?
        .unwrap_or_default();
    let recursive = q.opt_flag("recursive")?.unwrap_or(true);
    if let Some(p) = &parent
        && !st.meta.groups.contains_key(p)
    {
        return Err(ApiError::not_found(format!("thing group {p} does not exist")));
    }
    // From after the token's name, or from the prefix when it sorts later (no name before it
    // starts with it).
    let from = match after.as_deref() {
        Some(a) if a >= prefix.as_str() => Bound::Excluded(a),
        _ => Bound::Included(prefix.as_str()),
    };
    let range = (from, Bound::Unbounded);
    // The groups a page is taken from, in name order from `from`.
    let index = st.group_index();
    let placed: Box<dyn Iterator<Item = &str>> = match (&parent, recursive) {
        (Some(p), _) => {
            let set = if recursive { index.below(p) } else { index.children_of(p) };
            Box::new(set.into_iter().flat_map(move |c| c.range::<str, _>(range)).map(|n| &**n))
        }
        (None, false) => Box::new(index.roots().range::<str, _>(range).map(|n| &**n)),
        (None, true) => Box::new(st.meta.groups.range::<str, _>(range).map(|(n, _)| n.as_str())),
    };
    // In name order, the names that start with the prefix come together.
    let matching = placed.take_while(|name| name.starts_with(prefix.as_str()));
    let (page, next_token) = token::page_in_order(matching, max, |name| name);
    let thing_groups = page.into_iter().map(|n| name_and_arn(st, n.to_owned())).collect();
    reply(&wire::ThingGroupsOut { thing_groups, next_token: q.bind(next_token) }, false)
}

/// ListThingsInThingGroup: the group's things, and with `recursive` those of its descendants.
pub(super) fn list_things_in_group(st: &mut State, group: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = group_name(group)?;
    let max = q.max_results()?;
    let after = q.after("ListThingsInThingGroup")?;
    let recursive = q.flag("recursive")?;
    if !st.meta.groups.contains_key(&name) {
        return Err(ApiError::not_found(format!("thing group {name} does not exist")));
    }
    // In name order from after the token's: the group's members, and with `recursive` the
    // things of its descendants (kept by the state's `GroupIndex`; none is a member too).
    let from = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let members = st
        .meta
        .groups
        .get(&name)
        .into_iter()
        .flat_map(|g| g.members.range::<str, _>((from, Bound::Unbounded)))
        .map(|t| &**t);
    let under = recursive.then(|| st.group_index().things_under_after(&name, after.as_deref()));
    let (page, next_token) =
        token::page_in_order(token::merged(members, under.into_iter().flatten()), max, |n| n);
    let things = page.into_iter().map(str::to_owned).collect();
    reply(&wire::ThingNamesOut { things, next_token: q.bind(next_token) }, false)
}

/// ListThingGroupsForThing: the groups the thing was added to.
pub(super) fn list_groups_for_thing(st: &mut State, thing: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let max = q.max_results()?;
    let after = q.after("ListThingGroupsForThing")?;
    thing_meta(st, &name)?;
    // At most 10, in name order.
    let groups = st.group_index().groups_of(thing).iter().map(|g| &**g);
    let groups = groups.filter(|g| after.as_deref().is_none_or(|a| *g > a));
    let (page, next_token) = token::page_in_order(groups, max, |n| n);
    let thing_groups = page.into_iter().map(|n| name_and_arn(st, n.to_owned())).collect();
    reply(&wire::ThingGroupsOut { thing_groups, next_token: q.bind(next_token) }, false)
}

/// Resolves `name`/`arn` members of a membership request.
pub(super) fn pick_name(
    arns: &wire::Arns,
    name: Option<String>,
    arn: Option<String>,
    what: &str,
) -> Result<String, ApiError> {
    match (name, arn) {
        (Some(n), _) => Ok(n),
        (None, Some(arn)) => match (arns.own_target(&arn)?, what) {
            (Target::Thing(n), "thing") | (Target::Group(n), "thing group") => Ok(n),
            _ => Err(ApiError::invalid(format!("{arn} is not a {what} ARN"))),
        },
        (None, None) => Err(ApiError::invalid(format!("the {what} name or ARN is required"))),
    }
}

pub(super) fn membership(st: &mut State, body: &[u8], join: bool) -> Result<Reply, ApiError> {
    let input: wire::GroupMembershipIn = wire::parse_body(body)?;
    let group =
        group_name(&pick_name(&st.arns, input.thing_group_name, input.thing_group_arn, "thing group")?)?;
    let thing = pick_name(&st.arns, input.thing_name, input.thing_arn, "thing")?;
    let name = thing_name(&thing, C)?;
    thing_meta(st, &name)?;
    group_exists(st, &group)?;
    let group = std::slice::from_ref(&group);
    if join { regroup(st, &thing, &[], group) } else { regroup(st, &thing, group, &[]) }
}

/// UpdateThingGroupsForThing: the thing leaves `thingGroupsToRemove` and joins
/// `thingGroupsToAdd` as one change, made or refused whole: every name is checked, and every
/// group found, before anything changes.
pub(super) fn update_groups_for_thing(st: &mut State, body: &[u8]) -> Result<Reply, ApiError> {
    let input: wire::UpdateThingGroupsForThingIn = wire::parse_body(body)?;
    let thing = input.thing_name.ok_or_else(|| ApiError::invalid("thingName is required"))?;
    let name = thing_name(&thing, C)?;
    let add = input.thing_groups_to_add.unwrap_or_default();
    let remove = input.thing_groups_to_remove.unwrap_or_default();
    for g in &add {
        named_group("thingGroupsToAdd", g)?;
    }
    for g in &remove {
        named_group("thingGroupsToRemove", g)?;
    }
    if let Some(g) = add.iter().find(|g| remove.contains(g)) {
        return Err(ApiError::invalid(format!(
            "thing group {g} is in both thingGroupsToAdd and thingGroupsToRemove"
        )));
    }
    thing_meta(st, &name)?;
    for g in add.iter().chain(&remove) {
        group_exists(st, g)?;
    }
    regroup(st, &thing, &remove, &add)
}

fn group_exists(st: &State, group: &str) -> Result<(), ApiError> {
    if st.meta.groups.contains_key(group) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("thing group {group} does not exist")))
    }
}

/// Thing `thing` (which exists) leaves the groups of `remove` it is in and joins those of `add`
/// it is not in (all of which exist), as one change: AddThingToThingGroup,
/// RemoveThingFromThingGroup and UpdateThingGroupsForThing. Refused, with nothing changed, when
/// the groups it would be in break SPEC AMBIG-32 ([`joinable`]). Each group joined or left is
/// one version more. Then the CONTINUOUS jobs follow (SPEC T1, T10, T13), decided on the groups
/// the thing is in afterwards: a job it is no longer a target of removes its execution, and a
/// job targeting a group it joined (or an ancestor) rolls out to it; the registry refuses jobs
/// that no longer roll out, which leaves the change itself standing.
fn regroup(st: &mut State, thing: &str, remove: &[String], add: &[String]) -> Result<Reply, ApiError> {
    let mine = st.group_index().groups_of(thing);
    let mut leaving: Vec<String> = Vec::new();
    for g in remove {
        if mine.iter().any(|m| **m == **g) && !leaving.contains(g) {
            leaving.push(g.clone());
        }
    }
    let mut joining: Vec<String> = Vec::new();
    for g in add {
        if !mine.iter().any(|m| **m == **g) && !joining.contains(g) {
            joining.push(g.clone());
        }
    }
    joinable(st, thing, &leaving, &joining)?;
    if leaving.is_empty() && joining.is_empty() {
        return empty(false);
    }
    for g in &leaving {
        st.leave(g, thing);
    }
    for g in &joining {
        st.join(g, thing);
    }
    for g in leaving.iter().chain(&joining) {
        if let Some(g) = st.meta.groups.get_mut(g) {
            g.version = g.version.saturating_add(1);
        }
    }
    let things = [thing.to_owned()];
    let mut leave = Vec::new();
    for g in &leaving {
        for pair in leaves(st, g, &things) {
            if !leave.contains(&pair) {
                leave.push(pair);
            }
        }
    }
    apply_leaves(st, leave);
    let Ok(name) = ThingName::new(thing) else { return empty(true) };
    let mut rolled: Vec<JobId> = Vec::new();
    for g in &joining {
        for id in continuous_jobs_targeting(st, g) {
            if rolled.contains(&id) {
                continue;
            }
            let joined =
                with_events(st, |r, now, sink| r.add_members(&id, std::slice::from_ref(&name), now, sink));
            if let Err(e) = joined {
                tracing::debug!(job = %id, thing, "no execution for the new group member: {e}");
            }
            rolled.push(id);
        }
    }
    empty(true)
}

/// Most static groups a thing is in (AWS IoT Device Management quotas).
pub(super) const MAX_GROUPS_PER_THING: usize = 10;

/// May `thing` leave `leaving` (groups it is in) and join `joining` (groups it is not in)? Not
/// when it would be in two groups of the same hierarchy (the same root), nor in more than
/// [`MAX_GROUPS_PER_THING`] groups (SPEC AMBIG-32).
fn joinable(st: &State, thing: &str, leaving: &[String], joining: &[String]) -> Result<(), ApiError> {
    let root = |g: &str| ancestors(st, g).into_iter().next().unwrap_or_else(|| g.to_owned());
    let mut kept: Vec<String> = st
        .group_index()
        .groups_of(thing)
        .iter()
        .filter(|g| !leaving.iter().any(|l| **l == ***g))
        .map(|g| g.to_string())
        .collect();
    for group in joining {
        let hierarchy = root(group);
        if let Some(other) = kept.iter().find(|g| root(g) == hierarchy) {
            let is = if joining.contains(other) { "would be" } else { "is" };
            return Err(ApiError::invalid(format!(
                "thing {thing} {is} in thing group {other}, of the same hierarchy as {group} (root {hierarchy}): \
                 a thing is in at most one group of a hierarchy"
            )));
        }
        if kept.len() >= MAX_GROUPS_PER_THING {
            return Err(ApiError::invalid(format!(
                "thing {thing} is in {} thing groups already; a thing is in at most {MAX_GROUPS_PER_THING}",
                kept.len()
            )));
        }
        kept.push(group.clone());
    }
    Ok(())
}

/// The CONTINUOUS jobs that target `group` or one of its ancestors (a job targeting a group
/// reaches the things of its descendants; SPEC AMBIG-32).
pub(super) fn continuous_jobs_targeting(st: &State, group: &str) -> Vec<JobId> {
    let mut reaching = ancestors(st, group);
    reaching.push(group.to_owned());
    let jobs: BTreeSet<&str> = reaching
        .iter()
        .filter_map(|g| st.group_index().jobs_targeting(g))
        .flatten()
        .map(|(_, id)| id.as_str())
        .collect();
    jobs.into_iter()
        .filter_map(|id| JobId::new(id).ok())
        .filter(|id| st.registry.job(id).is_ok_and(|j| j.target_selection() == TargetSelection::Continuous))
        .collect()
}

/// The (job, thing) pairs whose thing stops being a target when `things` leave `group`: the
/// CONTINUOUS jobs targeting the group or an ancestor, unless the thing is still targeted
/// directly or through another group within one of the job's target groups.
pub(super) fn leaves(st: &State, group: &str, things: &[String]) -> Vec<(JobId, ThingName)> {
    let mut out = Vec::new();
    for id in continuous_jobs_targeting(st, group) {
        let Some(m) = st.meta.jobs.get(id.as_str()) else { continue };
        for t in things {
            let still = m.things.contains(t)
                || st
                    .group_index()
                    .groups_of(t)
                    .iter()
                    .any(|h| **h != *group && m.groups.iter().any(|target| within(st, h, target)));
            if let (false, Ok(name)) = (still, ThingName::new(t)) {
                out.push((id.clone(), name));
            }
        }
    }
    out
}

pub(super) fn apply_leaves(st: &mut State, leave: Vec<(JobId, ThingName)>) {
    for (job, thing) in leave {
        // SPEC T10, R10: the registry decides what becomes of the thing's execution.
        if let Err(e) = with_events(st, |r, now, sink| r.remove_target(&job, &thing, now, sink)) {
            tracing::debug!(%job, %thing, "group leave: {e}");
        }
    }
}
