//! Control-plane shapes of things, thing groups, tags and event configurations: serde structs
//! mirroring botocore's `iot` (2015-05-28) model (member names, optional members, nesting).
//! Timestamps are epoch seconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::StringMap;
use super::control::{Long, Tag, unique_keys};

// ---- control plane: things and groups ------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributePayload {
    #[serde(default, deserialize_with = "unique_keys")]
    pub attributes: Option<StringMap>,
    pub merge: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThingIn {
    pub thing_type_name: Option<String>,
    pub attribute_payload: Option<AttributePayload>,
    pub billing_group_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThingOut {
    pub thing_name: String,
    pub thing_arn: String,
    pub thing_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeThingOut {
    pub default_client_id: String,
    pub thing_name: String,
    pub thing_id: String,
    pub thing_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thing_type_name: Option<String>,
    pub attributes: StringMap,
    pub version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_group_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThingAttribute {
    pub thing_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thing_type_name: Option<String>,
    pub thing_arn: String,
    pub attributes: StringMap,
    pub version: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListThingsOut {
    pub things: Vec<ThingAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThingGroupProperties {
    pub thing_group_description: Option<String>,
    pub attribute_payload: Option<AttributePayload>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThingGroupIn {
    pub parent_group_name: Option<String>,
    pub thing_group_properties: Option<ThingGroupProperties>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThingGroupOut {
    pub thing_group_name: String,
    pub thing_group_arn: String,
    pub thing_group_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPropertiesOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thing_group_description: Option<String>,
    pub attribute_payload: AttributesOut,
}

#[derive(Debug, Serialize)]
pub struct AttributesOut {
    pub attributes: StringMap,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMetadataOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_group_name: Option<String>,
    /// The group's ancestors, the root first (absent for a root group).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub root_to_parent_thing_groups: Vec<GroupNameAndArn>,
    pub creation_date: u64,
}

/// `GroupNameAndArn`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupNameAndArn {
    pub group_name: String,
    pub group_arn: String,
}

/// ListThingGroups and ListThingGroupsForThing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThingGroupsOut {
    pub thing_groups: Vec<GroupNameAndArn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListThingsInThingGroup.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThingNamesOut {
    pub things: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---- control plane: tags and event configurations ----------------------------------------------

/// TagResource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceIn {
    pub resource_arn: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

/// UntagResource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceIn {
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

/// ListTagsForResource.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsOut {
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `Configuration` (one event type's switch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSwitch {
    #[serde(rename = "Enabled", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// UpdateEventConfigurations.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateEventConfigurationsIn {
    #[serde(default, deserialize_with = "unique_keys")]
    pub event_configurations: Option<BTreeMap<String, EventSwitch>>,
}

/// DescribeEventConfigurations.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeEventConfigurationsOut {
    pub event_configurations: BTreeMap<String, EventSwitch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeThingGroupOut {
    pub thing_group_name: String,
    pub thing_group_id: String,
    pub thing_group_arn: String,
    pub version: u64,
    pub thing_group_properties: GroupPropertiesOut,
    pub thing_group_metadata: GroupMetadataOut,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMembershipIn {
    pub thing_group_name: Option<String>,
    pub thing_group_arn: Option<String>,
    pub thing_name: Option<String>,
    pub thing_arn: Option<String>,
    pub override_dynamic_groups: Option<bool>,
}

/// UpdateThing.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateThingIn {
    pub thing_type_name: Option<String>,
    pub attribute_payload: Option<AttributePayload>,
    pub expected_version: Option<Long>,
    pub remove_thing_type: Option<bool>,
}

/// UpdateThingGroup.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateThingGroupIn {
    pub thing_group_properties: Option<ThingGroupProperties>,
    pub expected_version: Option<Long>,
}

/// UpdateThingGroup's answer: the group's new version.
#[derive(Debug, Serialize)]
pub struct UpdateThingGroupOut {
    pub version: u64,
}

/// UpdateThingGroupsForThing.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateThingGroupsForThingIn {
    pub thing_name: Option<String>,
    pub thing_groups_to_add: Option<Vec<String>>,
    pub thing_groups_to_remove: Option<Vec<String>>,
    pub override_dynamic_groups: Option<bool>,
}
