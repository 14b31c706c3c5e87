//! The emulator's wire: what goes over HTTP besides the lifecycle the core decides.
//!
//! * [`control`]: serde shapes of botocore's `iot` model (things, groups, jobs, executions) and
//!   the admin API;
//! * [`data`]: the `iot-jobs-data` bodies, parsed and rendered by the core's
//!   `iot_jobs_core::wire` in its HTTP flavour (the MQTT device API's parser and renderer);
//! * [`templates`]: the job-template shapes (custom and AWS managed);
//! * [`limits`]: the model's field bounds for the members the core does not check;
//! * [`summaries`]: the execution-summary lists, written without per-summary allocation;
//! * [`strict`]: the bodies' structures read from JSON objects only, as the model has them;
//! * [`error`]: error answers; [`arn`]: ARNs; [`token`]: `nextToken` paging; [`s3`]: the S3
//!   object URLs of `documentSource`.

use std::collections::BTreeMap;

pub mod arn;
pub mod control;
pub mod data;
pub mod error;
pub mod limits;
pub mod s3;
pub mod strict;
pub mod summaries;
pub mod templates;
pub mod things;
pub mod token;

pub use arn::{Arns, Target, TemplateArn, check_account, check_region, parse_target, parse_template_arn};
pub use control::*;
pub use error::ApiError;
pub use summaries::Summaries;
pub use templates::*;
pub use things::*;
pub use token::Token;

/// `statusDetails` / thing attributes: string to string.
pub type StringMap = BTreeMap<String, String>;
