//! Job templates: CreateJobTemplate, DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate,
//! ListManagedJobTemplates, DescribeManagedJobTemplate. A custom template lives only in the
//! emulator; a job created from it takes its document and configuration as the core's
//! `rules::job_config_from_template` says (SPEC R22), in [`super::jobs`].

use super::*;
use crate::managed::{self, ManagedTemplate};
use crate::state::{TagStore, TemplateMeta};

/// Most job templates the emulator keeps (its own bound on memory; CreateJobTemplate's model has
/// `LimitExceededException` for the service's quota).
pub const MAX_TEMPLATES: usize = 10_000;

/// 404 for a template id this account does not have.
fn no_template(id: &str) -> ApiError {
    ApiError::not_found(format!("job template {id} does not exist"))
}

/// 409 `ConflictException`: the model's only 409 for CreateJobTemplate (SPEC AMBIG-30).
fn template_exists(id: &str) -> ApiError {
    ApiError::new(
        409,
        "ConflictException",
        format!("a job template with id {id} already exists"),
        iot_jobs_core::ErrorCode::InvalidRequest,
    )
}

pub(super) fn create_template(st: &mut State, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    limits::job_template_id(id)?;
    let input: wire::CreateJobTemplateIn = wire::parse_body(body)?;
    limits::create_job_template(&input)?;
    let description =
        input.description.ok_or_else(|| ApiError::invalid("description is required for a job template"))?;
    check_text("description", &description, 2028)?;
    if let Some(d) = &input.document {
        check_document(d)?;
    }
    let sources = [input.job_arn.is_some(), input.document.is_some(), input.document_source.is_some()];
    match sources.iter().filter(|s| **s).count() {
        0 => return Err(ApiError::invalid("one of document, documentSource or jobArn is required")),
        1 => {}
        _ => {
            return Err(ApiError::invalid(
                "give only one of document, documentSource or jobArn: each is the template's document",
            ));
        }
    }
    // The lifecycle members are validated as CreateJob's (SPEC §6).
    let now = st.now();
    let read = job_config(&input.configs.job_configs(), now)?;
    // From a job: its document and configuration, the members given here replacing its own
    // (SPEC R22, AMBIG-30).
    let (document, document_source, configs) = match &input.job_arn {
        // AWS reads the object a documentSource names when the template is created, and keeps
        // its content as the template's document.
        None => {
            let fetched = input.document_source.as_deref().map(|url| super::objects::read_source(st, url));
            (input.document.or(fetched.transpose()?), input.document_source, input.configs)
        }
        Some(arn) => {
            let job = arn
                .strip_prefix("arn:")
                .and_then(|a| a.rsplit_once(":job/"))
                .map(|(_, j)| j)
                .ok_or_else(|| ApiError::invalid(format!("jobArn {arn:?} is not a job ARN")))?;
            st.registry.job(&job_id(job, C)?).on(C)?;
            let m = st.meta.jobs.get(job).cloned().unwrap_or_default();
            let from_job = wire::TemplateConfigs::of_job(&m.configs, m.destination_package_versions);
            (m.document, m.document_source, overlay_template(&from_job, &input.configs, &read))
        }
    };
    if st.meta.templates.contains_key(id) {
        return Err(template_exists(id));
    }
    if st.meta.templates.len() >= MAX_TEMPLATES {
        return Err(ApiError::limit_exceeded(format!(
            "at most {MAX_TEMPLATES} job templates are kept: delete one first"
        )));
    }
    st.meta.templates.insert(
        id.to_owned(),
        TemplateMeta { description, document, document_source, created_at: now.secs(), configs },
    );
    let tags = super::tags::tag_map(input.tags.unwrap_or_default());
    st.meta.tags.set(TagStore::JOB_TEMPLATE, id, tags);
    reply(
        &wire::JobTemplateRef { job_template_arn: st.arns.job_template(id), job_template_id: id.to_owned() },
        true,
    )
}

/// `base` (a job's) with each member `over` gives replacing `base`'s, as the core takes a job's
/// members from a template (SPEC R22, AMBIG-30); `read` is `over` as the core read it.
fn overlay_template(
    base: &wire::TemplateConfigs,
    over: &wire::TemplateConfigs,
    read: &JobConfig,
) -> wire::TemplateConfigs {
    let versions = over.destination_package_versions.as_ref().or(base.destination_package_versions.as_ref());
    let over = over.job_configs();
    let from = rules::template_sources(&given_members(&over, read), read.windows.is_some());
    wire::TemplateConfigs::of_job(&overlay_configs(&base.job_configs(), &over, &from), versions.cloned())
}

pub(super) fn describe_template(st: &mut State, id: &str) -> Result<Reply, ApiError> {
    limits::job_template_id(id)?;
    let t = st.meta.templates.get(id).ok_or_else(|| no_template(id))?;
    reply(
        &wire::DescribeJobTemplateOut {
            job_template_arn: st.arns.job_template(id),
            job_template_id: id.to_owned(),
            description: t.description.clone(),
            document_source: t.document_source.clone(),
            // What the template was given: the source alone, not the document read from it.
            document: t.document.clone().filter(|_| t.document_source.is_none()),
            created_at: t.created_at,
            configs: t.configs.clone(),
        },
        false,
    )
}

/// ListJobTemplates, in creation order (then template id), paged by key as ListJobs is.
pub(super) fn list_templates(st: &mut State, q: &Query<'_>) -> Result<Reply, ApiError> {
    let max = q.max_results()?;
    let after = q.after("ListJobTemplates")?;
    let after = after
        .as_deref()
        .map(|k| created_key(k).ok_or_else(|| token::not_for("ListJobTemplates")))
        .transpose()?;
    let all = st.meta.templates.iter().map(|(id, t)| ((t.created_at, id.as_str()), t));
    let (page, more) = token::smallest(all, after.as_ref(), max);
    let next_token =
        more.then(|| page.last().map(|(k, _)| Token::After(created_token(*k)).encode())).flatten();
    let job_templates = page
        .into_iter()
        .map(|((_, id), t)| wire::JobTemplateSummary {
            job_template_arn: st.arns.job_template(id),
            job_template_id: id.to_owned(),
            description: t.description.clone(),
            created_at: t.created_at,
        })
        .collect();
    reply(&wire::ListJobTemplatesOut { job_templates, next_token: q.bind(next_token) }, false)
}

/// Jobs created from the template keep their document and configuration (they were copied).
pub(super) fn delete_template(st: &mut State, id: &str) -> Result<Reply, ApiError> {
    limits::job_template_id(id)?;
    st.meta.templates.remove(id).ok_or_else(|| no_template(id))?;
    st.meta.tags.forget(TagStore::JOB_TEMPLATE, id);
    empty(true)
}

fn managed_summary(st: &State, t: &ManagedTemplate) -> wire::ManagedJobTemplateSummary {
    wire::ManagedJobTemplateSummary {
        template_arn: st.arns.managed_template(t.name, t.version),
        template_name: t.name,
        description: t.description,
        environments: t.environments.to_vec(),
        template_version: t.version,
    }
}

pub(super) fn list_managed(st: &mut State, q: &Query<'_>) -> Result<Reply, ApiError> {
    let max = q.max_results()?;
    let skip = q.offset("ListManagedJobTemplates")?;
    let name = q.get("templateName");
    if let Some(n) = name {
        limits::managed_template_name(n)?;
    }
    let all: Vec<_> = managed::CATALOGUE
        .iter()
        .filter(|t| name.is_none_or(|n| n == t.name))
        .map(|t| managed_summary(st, t))
        .collect();
    let (managed_job_templates, next_token) = token::page(all, skip, max);
    reply(&wire::ListManagedJobTemplatesOut { managed_job_templates, next_token: q.bind(next_token) }, false)
}

pub(super) fn describe_managed(st: &mut State, name: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    limits::managed_template_name(name)?;
    let version = q.get("templateVersion");
    if let Some(v) = version {
        limits::managed_template_version(v)?;
    }
    let t = managed::find(name, version).ok_or_else(|| {
        ApiError::not_found(match version {
            Some(v) => format!("managed job template {name} version {v} does not exist"),
            None => format!("managed job template {name} does not exist"),
        })
    })?;
    let s = managed_summary(st, t);
    reply(
        &wire::DescribeManagedJobTemplateOut {
            template_name: t.name,
            template_arn: s.template_arn,
            description: t.description,
            template_version: t.version,
            environments: s.environments,
            document_parameters: t
                .parameters
                .iter()
                .map(|p| wire::DocumentParameterOut {
                    key: p.key,
                    description: p.description,
                    regex: p.regex,
                    example: p.example,
                    optional: p.optional,
                })
                .collect(),
            document: t.document,
        },
        false,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::{Clock, ClockMode};
    use crate::state::Caps;

    #[test]
    fn templates_are_capped_and_a_refused_one_changes_nothing() {
        let arns = wire::Arns { region: "r".into(), account: "1".into() };
        let mut st = State::new(Caps::default(), Clock::new(ClockMode::Manual, Some(0)), arns, 0);
        for i in 0..MAX_TEMPLATES.saturating_sub(1) {
            st.meta.templates.insert(format!("t{i}"), TemplateMeta::default());
        }
        let body = br#"{"description":"d","document":"{}"}"#;
        assert!(create_template(&mut st, "last", body).unwrap().changed);
        let err = create_template(&mut st, "over", body).unwrap_err();
        assert_eq!((err.status, err.name), (410, "LimitExceededException"));
        assert_eq!(st.meta.templates.len(), MAX_TEMPLATES);
        assert!(!st.meta.templates.contains_key("over"));
        // Deleting one makes room again.
        delete_template(&mut st, "t0").unwrap();
        assert!(create_template(&mut st, "over", body).is_ok());
    }
}
