//! Job-template shapes of botocore's `iot` model: CreateJobTemplate, DescribeJobTemplate,
//! ListJobTemplates, ListManagedJobTemplates and DescribeManagedJobTemplate. Timestamps are
//! epoch seconds.

use serde::{Deserialize, Serialize};

use super::control::{
    AbortConfig, JobConfigs, MaintenanceWindow, PresignedUrlConfig, RetryConfig, RolloutConfig,
    SchedulingConfig, Tag, TimeoutConfig,
};

/// The configuration members a job template keeps (CreateJobTemplate's, DescribeJobTemplate's):
/// CreateJob's less `schedulingConfig`, whose `maintenanceWindows` stand on their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateConfigs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presigned_url_config: Option<PresignedUrlConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_executions_rollout_config: Option<RolloutConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_config: Option<AbortConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_config: Option<TimeoutConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_executions_retry_config: Option<RetryConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_windows: Option<Vec<MaintenanceWindow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_package_versions: Option<Vec<String>>,
}

impl TemplateConfigs {
    /// The members as a job's (`maintenanceWindows` inside `schedulingConfig`).
    pub fn job_configs(&self) -> JobConfigs {
        JobConfigs {
            presigned_url_config: self.presigned_url_config.clone(),
            job_executions_rollout_config: self.job_executions_rollout_config.clone(),
            abort_config: self.abort_config.clone(),
            timeout_config: self.timeout_config.clone(),
            job_executions_retry_config: self.job_executions_retry_config.clone(),
            scheduling_config: self
                .maintenance_windows
                .clone()
                .map(|w| SchedulingConfig { maintenance_windows: Some(w), ..SchedulingConfig::default() }),
        }
    }

    /// A job's members as a template's (a schedule's times are the job's own and are dropped).
    pub fn of_job(c: &JobConfigs, destination_package_versions: Option<Vec<String>>) -> Self {
        TemplateConfigs {
            presigned_url_config: c.presigned_url_config.clone(),
            job_executions_rollout_config: c.job_executions_rollout_config.clone(),
            abort_config: c.abort_config.clone(),
            timeout_config: c.timeout_config.clone(),
            job_executions_retry_config: c.job_executions_retry_config.clone(),
            maintenance_windows: c.scheduling_config.as_ref().and_then(|s| s.maintenance_windows.clone()),
            destination_package_versions,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateJobTemplateIn {
    pub job_arn: Option<String>,
    pub document_source: Option<String>,
    pub document: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<Tag>>,
    #[serde(flatten)]
    pub configs: TemplateConfigs,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplateRef {
    pub job_template_arn: String,
    pub job_template_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeJobTemplateOut {
    pub job_template_arn: String,
    pub job_template_id: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    pub created_at: u64,
    #[serde(flatten)]
    pub configs: TemplateConfigs,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplateSummary {
    pub job_template_arn: String,
    pub job_template_id: String,
    pub description: String,
    pub created_at: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListJobTemplatesOut {
    pub job_templates: Vec<JobTemplateSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `DocumentParameter`.
#[derive(Debug, Serialize)]
pub struct DocumentParameterOut {
    pub key: &'static str,
    pub description: &'static str,
    pub regex: &'static str,
    pub example: &'static str,
    pub optional: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedJobTemplateSummary {
    pub template_arn: String,
    pub template_name: &'static str,
    pub description: &'static str,
    pub environments: Vec<&'static str>,
    pub template_version: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListManagedJobTemplatesOut {
    pub managed_job_templates: Vec<ManagedJobTemplateSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeManagedJobTemplateOut {
    pub template_name: &'static str,
    pub template_arn: String,
    pub description: &'static str,
    pub template_version: &'static str,
    pub environments: Vec<&'static str>,
    pub document_parameters: Vec<DocumentParameterOut>,
    pub document: &'static str,
}
