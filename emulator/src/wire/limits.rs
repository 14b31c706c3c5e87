//! Field limits of botocore's `iot` (2015-05-28) model for the control-plane members the core
//! does not model (thing attributes, thing types, billing groups, thing-group properties, and
//! the job members the emulator stores and echoes), plus the bounds the emulator puts on what
//! the model leaves open (how deep a body nests, how many attributes a thing keeps). Everything
//! accepted is bounded, so everything accepted can be saved and loaded again.
//!
//! A value out of bounds is a 400 `InvalidRequestException` that names the member and the limit.

use iot_jobs_core::config;
use iot_jobs_core::id::is_other_category;

use super::control::{
    CreateJobIn, ExponentialRate, JobConfigs, MaintenanceWindow, PresignedUrlConfig, RolloutConfig, Tag,
};
use super::{ApiError, CreateJobTemplateIn, StringMap};

/// How deep a request body may nest objects and arrays (the deepest body of the model,
/// `schedulingConfig.maintenanceWindows[]` or `jobExecutionsRolloutConfig.exponentialRate.
/// rateIncreaseCriteria`, nests 4).
pub const MAX_DEPTH: usize = 16;

/// Most attributes of a thing or a thing group (AWS IoT quota: 50 attributes per thing).
pub const MAX_ATTRIBUTES: usize = 50;

/// Refuses `what`'s JSON `text` (a request body, a job document) nested more than `max` levels
/// deep, before it is parsed.
pub fn check_depth(text: &[u8], max: usize, what: &str) -> Result<(), ApiError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth = depth.saturating_add(1);
                if depth > max {
                    return Err(ApiError::invalid(format!(
                        "{what} nests objects and arrays more than {max} levels deep"
                    )));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// A string of `min..=max` characters, each `allowed` (`pattern` names them in the message).
fn text(
    member: &str,
    s: &str,
    min: usize,
    max: usize,
    allowed: fn(char) -> bool,
    pattern: &str,
) -> Result<(), ApiError> {
    let len = s.chars().map(char::len_utf16).sum::<usize>();
    if len < min || len > max || !s.chars().all(allowed) {
        let length = if min == 0 { format!("at most {max}") } else { format!("{min} to {max}") };
        return Err(ApiError::invalid(format!(
            "{member} must be {length} characters matching {pattern} (got {len} characters)"
        )));
    }
    Ok(())
}

/// A list or map member of at most `max` items.
fn count(member: &str, len: usize, max: usize, items: &str) -> Result<(), ApiError> {
    if len > max {
        return Err(ApiError::invalid(format!("{member} holds {len} {items}; at most {max} are allowed")));
    }
    Ok(())
}

/// An integer member in `min..=max`.
fn range(member: &str, v: i64, min: i64, max: i64) -> Result<(), ApiError> {
    if v < min || v > max {
        return Err(ApiError::invalid(format!("{member} must be from {min} to {max}, not {v}")));
    }
    Ok(())
}

fn attribute_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.,@/:#-".contains(c)
}

fn attribute_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.,@/:#=[]-".contains(c)
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ":_-".contains(c)
}

fn graph_or_space(c: char) -> bool {
    matches!(c, ' '..='~')
}

fn not_other(c: char) -> bool {
    !is_other_category(c)
}

/// `attributePayload.attributes`: at most [`MAX_ATTRIBUTES`] pairs of `AttributeName` (1 to 128
/// of `[a-zA-Z0-9_.,@/:#-]`) and `AttributeValue` (at most 800 of `[a-zA-Z0-9_.,@/:#=\[\]-]`).
pub fn attributes(map: &StringMap) -> Result<(), ApiError> {
    count("attributePayload.attributes", map.len(), MAX_ATTRIBUTES, "attributes")?;
    for (k, v) in map {
        text("attributePayload.attributes name", k, 1, 128, attribute_name_char, "[a-zA-Z0-9_.,@/:#-]")?;
        text(
            "attributePayload.attributes value",
            v,
            0,
            800,
            attribute_value_char,
            "[a-zA-Z0-9_.,@/:#=\\[\\]-]",
        )?;
    }
    Ok(())
}

/// `thingTypeName` and `billingGroupName`: 1 to 128 of `[a-zA-Z0-9:_-]`.
pub fn type_or_billing_name(member: &str, s: &str) -> Result<(), ApiError> {
    text(member, s, 1, 128, name_char, "[a-zA-Z0-9:_-]")
}

/// ListThings' filters: `attributeName` 1 to 128 of `[a-zA-Z0-9_.,@/:#-]`, `attributeValue` at
/// most 800 of the attribute value characters and only with `attributeName`, `thingTypeName` as
/// [`type_or_billing_name`].
pub fn thing_filters(
    name: Option<&str>,
    value: Option<&str>,
    type_name: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(a) = name {
        text("attributeName", a, 1, 128, attribute_name_char, "[a-zA-Z0-9_.,@/:#-]")?;
    }
    if let Some(v) = value {
        text("attributeValue", v, 0, 800, attribute_value_char, "[a-zA-Z0-9_.,@/:#=\\[\\]-]")?;
        // A value is the value of the attribute `attributeName` names: alone, it filters
        // nothing, and a page of every thing would answer a filter the client asked for.
        if name.is_none() {
            return Err(ApiError::invalid(format!(
                "attributeValue {v:?} needs attributeName: it filters the value of the attribute that attributeName names"
            )));
        }
    }
    if let Some(t) = type_name {
        type_or_billing_name("thingTypeName", t)?;
    }
    Ok(())
}

fn group_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// `thingGroupId`: 1 to 128 of `[a-zA-Z0-9-]`.
pub fn thing_group_id(s: &str) -> Result<(), ApiError> {
    text("thingGroupId", s, 1, 128, group_id_char, "[a-zA-Z0-9-]")
}

/// `thingGroupDescription`: at most 2028 of `[\p{Graph}\x20]` (printable ASCII).
pub fn group_description(s: &str) -> Result<(), ApiError> {
    text("thingGroupDescription", s, 0, 2028, graph_or_space, "[\\p{Graph}\\x20]")
}

fn arn_char(c: char) -> bool {
    matches!(c, '!'..='~')
}

/// `^arn:[!-~]+$`, 1 to 1600 characters (`JobTemplateArn`, `PackageVersionArn`).
fn arn(member: &str, s: &str) -> Result<(), ApiError> {
    text(member, s, 1, 1600, arn_char, "[!-~] after arn:")?;
    if s.strip_prefix("arn:").is_none_or(str::is_empty) {
        return Err(ApiError::invalid(format!("{member} must be an ARN (arn:...)")));
    }
    Ok(())
}

fn presigned(p: &PresignedUrlConfig) -> Result<(), ApiError> {
    if let Some(r) = &p.role_arn {
        text("presignedUrlConfig.roleArn", r, 20, 2048, |_| true, "any character")?;
    }
    if let Some(s) = p.expires_in_sec {
        range("presignedUrlConfig.expiresInSec", s, 60, 3600)?;
    }
    Ok(())
}

fn exponential(e: &ExponentialRate) -> Result<(), ApiError> {
    let m = "jobExecutionsRolloutConfig.exponentialRate";
    range(&format!("{m}.baseRatePerMinute"), e.base_rate_per_minute, 1, 1000)?;
    let f = e.increment_factor;
    let tenths = f * 10.0;
    if !(1.1..=5.0).contains(&f) || (tenths - tenths.round()).abs() > 1e-9 {
        return Err(ApiError::invalid(format!(
            "{m}.incrementFactor must be from 1.1 to 5 with one decimal, not {f}"
        )));
    }
    let c = &e.rate_increase_criteria;
    if c.number_of_notified_things.is_none() && c.number_of_succeeded_things.is_none() {
        return Err(ApiError::invalid(format!(
            "{m}.rateIncreaseCriteria needs numberOfNotifiedThings or numberOfSucceededThings"
        )));
    }
    for (name, v) in [
        ("numberOfNotifiedThings", c.number_of_notified_things),
        ("numberOfSucceededThings", c.number_of_succeeded_things),
    ] {
        if let Some(v) = v {
            range(&format!("{m}.rateIncreaseCriteria.{name}"), v, 1, i64::from(i32::MAX))?;
        }
    }
    Ok(())
}

fn rollout(r: &RolloutConfig) -> Result<(), ApiError> {
    if let Some(n) = r.maximum_per_minute {
        // SPEC lim-rollout: at least 1 and no upper bound in the current model; the member is a
        // 32-bit Integer on the wire.
        range("jobExecutionsRolloutConfig.maximumPerMinute", n, 1, i64::from(i32::MAX))?;
    }
    if let Some(e) = &r.exponential_rate {
        exponential(e)?;
    }
    Ok(())
}

/// Where a job keeps its maintenance windows (a template keeps them as [`TEMPLATE_WINDOWS`]).
pub const JOB_WINDOWS: &str = "schedulingConfig.maintenanceWindows";

/// Where a job template keeps its maintenance windows: a member of its own.
pub const TEMPLATE_WINDOWS: &str = "maintenanceWindows";

/// A window's `startTime` as the core's cron expression: the core's reading of the AWS cron
/// dialect (SPEC AMBIG-26); a refusal names the member (in `windows`) and the error's position.
fn window_start(windows: &str, w: &MaintenanceWindow) -> Result<iot_jobs_core::cron::Cron, ApiError> {
    iot_jobs_core::cron::Cron::parse(&w.start_time).map_err(|e| {
        ApiError::invalid(format!("{windows}.startTime {:?} is not a cron expression {e}", w.start_time))
    })
}

/// The maintenance windows of a job or template (`windows`: the member that holds them) as the
/// core keeps them (SPEC §2, AMBIG-28): each `startTime` an AWS cron expression (a refusal names
/// the position), each duration and their number within the core's bounds; a refusal names the
/// member.
pub fn windows(windows: &str, ws: &[MaintenanceWindow]) -> Result<config::MaintenanceWindows, ApiError> {
    let mut kept = Vec::with_capacity(ws.len());
    for w in ws {
        text(&format!("{windows}.startTime"), &w.start_time, 1, 256, |_| true, "any character")?;
        let start = window_start(windows, w)?;
        let window = u16::try_from(w.duration_in_minutes)
            .ok()
            .and_then(|minutes| config::MaintenanceWindow::new(start, minutes).ok())
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "{windows}.durationInMinutes must be from 1 to {}, not {}",
                    config::MaintenanceWindow::MAX_DURATION_MINUTES,
                    w.duration_in_minutes
                ))
            })?;
        kept.push(window);
    }
    config::MaintenanceWindows::new(&kept).map_err(|e| {
        let given = if ws.is_empty() { "no".to_owned() } else { ws.len().to_string() };
        ApiError::invalid(format!("{windows} holds {given} windows; {e}, or is left out"))
    })
}

/// The bounds of the configuration members (CreateJob, UpdateJob) that the core does not read
/// (the core validates the ones it does, in `job_config`).
pub fn job_configs(c: &JobConfigs) -> Result<(), ApiError> {
    if let Some(p) = &c.presigned_url_config {
        presigned(p)?;
    }
    if let Some(r) = &c.job_executions_rollout_config {
        rollout(r)?;
    }
    for a in c.abort_config.iter().flat_map(|a| &a.criteria_list) {
        // A 32-bit Integer on the wire (botocore `MinimumNumberOfExecutedThings`, min 1).
        range(
            "abortConfig.criteriaList.minNumberOfExecutedThings",
            a.min_number_of_executed_things,
            1,
            i64::from(i32::MAX),
        )?;
    }
    if let Some(w) = c.scheduling_config.as_ref().and_then(|s| s.maintenance_windows.as_ref()) {
        windows(JOB_WINDOWS, w)?;
    }
    Ok(())
}

/// Most tags and document parameters of a CreateJob (AWS: 50 tags per resource).
pub const MAX_TAGS: usize = 50;

fn tag_key_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// A tag key: 1–128 of `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (botocore `TagKey`), without the `aws:`
/// prefix AWS reserves for its own tags (in any case; SPEC AMBIG-33).
pub fn tag_key(member: &str, key: &str) -> Result<(), ApiError> {
    text(member, key, 1, 128, tag_key_char, "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]")?;
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(ApiError::invalid(format!(
            "{member} {key:?} starts with aws:, a prefix reserved for AWS's own tags"
        )));
    }
    Ok(())
}

fn tag(t: &Tag) -> Result<(), ApiError> {
    tag_key("tags.Key", &t.key)?;
    if let Some(v) = &t.value {
        text("tags.Value", v, 0, 256, |_| true, "any character")?;
    }
    Ok(())
}

/// `tags` (CreateJob, CreateThingGroup, TagResource): at most [`MAX_TAGS`], each within the
/// model's bounds, each key once.
pub fn tags(tags: Option<&[Tag]>) -> Result<(), ApiError> {
    let Some(tags) = tags else { return Ok(()) };
    count("tags", tags.len(), MAX_TAGS, "tags")?;
    tags.iter().try_for_each(tag)?;
    let mut seen = std::collections::BTreeSet::new();
    if let Some(t) = tags.iter().find(|t| !seen.insert(t.key.as_str())) {
        return Err(ApiError::invalid(format!("tags names the key {:?} more than once", t.key)));
    }
    Ok(())
}

fn parameter_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-".contains(c)
}

/// `destinationPackageVersions`: at most [`MAX_TAGS`] ARNs.
pub fn destination_package_versions(v: Option<&[String]>) -> Result<(), ApiError> {
    let Some(v) = v else { return Ok(()) };
    count("destinationPackageVersions", v.len(), MAX_TAGS, "ARNs")?;
    v.iter().try_for_each(|a| arn("destinationPackageVersions", a))
}

fn template_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-".contains(c)
}

/// `jobTemplateId`: 1 to 64 of `[a-zA-Z0-9_-]` (botocore `JobTemplateId`, a full match, SPEC R17).
pub fn job_template_id(id: &str) -> Result<(), ApiError> {
    text("jobTemplateId", id, 1, 64, template_id_char, "[a-zA-Z0-9_-]+")
}

/// The members of CreateJobTemplate the core does not read (`jobTemplateId`, the document and
/// description are checked by the handler, the lifecycle configuration by the core).
pub fn create_job_template(input: &CreateJobTemplateIn) -> Result<(), ApiError> {
    // The template's own member first, so that a refusal names it; then the rest as a job's.
    if let Some(w) = &input.configs.maintenance_windows {
        windows(TEMPLATE_WINDOWS, w)?;
    }
    job_configs(&input.configs.job_configs())?;
    tags(input.tags.as_deref())?;
    destination_package_versions(input.configs.destination_package_versions.as_deref())?;
    input.document_source.as_deref().map_or(Ok(()), document_source)
}

/// `templateName` of the managed-template calls: 1 to 64 characters (botocore
/// `ManagedJobTemplateName`).
pub fn managed_template_name(name: &str) -> Result<(), ApiError> {
    text("templateName", name, 1, 64, |_| true, "any character")
}

/// `templateVersion`: `^[1-9]+.[0-9]+` (botocore `ManagedTemplateVersion`), read as digits, a dot,
/// digits (SPEC R17: full match; the model's unescaped `.` is read as the dot it means).
pub fn managed_template_version(v: &str) -> Result<(), ApiError> {
    let ok = v.split_once('.').is_some_and(|(major, minor)| {
        !major.is_empty()
            && major.bytes().all(|b| (b'1'..=b'9').contains(&b))
            && !minor.is_empty()
            && minor.bytes().all(|b| b.is_ascii_digit())
    });
    if !ok {
        return Err(ApiError::invalid(format!(
            "templateVersion {v:?} must match ^[1-9]+.[0-9]+ (such as 1.0)"
        )));
    }
    Ok(())
}

/// `documentParameters`: at most [`MAX_TAGS`], each key and value within the model's bounds.
pub fn document_parameters(p: &StringMap) -> Result<(), ApiError> {
    count("documentParameters", p.len(), MAX_TAGS, "parameters")?;
    for (k, v) in p {
        text("documentParameters key", k, 1, 128, parameter_key_char, "[a-zA-Z0-9_-]")?;
        text("documentParameters value", v, 1, 30_720, not_other, "[^\\p{C}]")?;
    }
    Ok(())
}

/// `jobTemplateArn`: an ARN (`^arn:[!-~]+$`, at most 1600 characters).
pub fn job_template_arn(a: &str) -> Result<(), ApiError> {
    arn("jobTemplateArn", a)
}

/// `documentSource`: 1 to 1350 characters.
pub fn document_source(d: &str) -> Result<(), ApiError> {
    text("documentSource", d, 1, 1350, |_| true, "any character")
}

/// The members of CreateJob that the emulator reads but does not keep.
pub fn create_job(input: &CreateJobIn) -> Result<(), ApiError> {
    job_configs(&input.configs)?;
    tags(input.tags.as_deref())?;
    input.document_parameters.as_ref().map_or(Ok(()), document_parameters)?;
    destination_package_versions(input.destination_package_versions.as_deref())?;
    input.job_template_arn.as_deref().map_or(Ok(()), job_template_arn)?;
    input.document_source.as_deref().map_or(Ok(()), document_source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(check_depth(deep(MAX_DEPTH).as_bytes(), MAX_DEPTH, "the request body").is_ok());
        assert!(check_depth(deep(MAX_DEPTH + 1).as_bytes(), MAX_DEPTH, "the request body").is_err());
        let quoted = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(check_depth(quoted.as_bytes(), MAX_DEPTH, "the request body").is_ok());
    }

    #[test]
    fn tag_bounds_are_the_models_and_aws_keeps_its_prefix() {
        let t = |k: &str, v: Option<&str>| Tag { key: k.to_owned(), value: v.map(str::to_owned) };
        assert!(
            tags(Some(&[t("env", Some("")), t("a b:c/d=e+f-g@h_.", None), t(&"é".repeat(128), None)]))
                .is_ok()
        );
        for bad in [t("", None), t(&"k".repeat(129), None), t("k", Some(&"v".repeat(257))), t("a#b", None)] {
            assert!(tags(Some(std::slice::from_ref(&bad))).is_err(), "{bad:?}");
        }
        for reserved in ["aws:x", "AWS:x", "Aws:"] {
            assert!(tag_key("k", reserved).is_err(), "{reserved}");
        }
        assert!(tag_key("k", "awsx").is_ok() && tag_key("k", "x-aws:").is_ok());
        assert!(tags(Some(&[t("d", Some("1")), t("d", Some("2"))])).is_err(), "a key twice");
        let many: Vec<Tag> = (0..=MAX_TAGS).map(|i| t(&format!("k{i}"), None)).collect();
        assert!(tags(Some(&many)).is_err());
        assert!(tags(many.get(..MAX_TAGS)).is_ok());
    }

    #[test]
    fn attribute_bounds_are_the_models() {
        let one = |k: &str, v: &str| attributes(&[(k.to_owned(), v.to_owned())].into_iter().collect());
        assert!(one("a", "").is_ok());
        assert!(one(&"k".repeat(128), &"v".repeat(800)).is_ok());
        assert!(one("", "v").is_err());
        assert!(one(&"k".repeat(129), "v").is_err());
        assert!(one("k", &"v".repeat(801)).is_err());
        assert!(one("k", "a\0b").is_err());
        assert!(one("k=", "v").is_err(), "= is allowed in values only");
        let many: StringMap = (0..=MAX_ATTRIBUTES).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(attributes(&many).is_err());
    }
}
