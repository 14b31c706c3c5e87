//! The data types shared by several messages (DG-DT: JobExecution, JobExecutionState,
//! JobExecutionSummary), the statusDetails map and the job document.

use crate::error::ExecutionState;
use crate::id::{ExecutionNumber, Field, FieldError, StatusDetails, Timestamp, VersionNumber, Violation};
use crate::json::{self, Kind, Reader, Writer};
use crate::status::ExecutionStatus;

use super::{
    Flavor, PAIRS, Parser, WireError, check_job_id, check_thing_name, put, put_opt_u64, put_str, put_u64,
    required,
};

fn too_many_pairs(len: usize) -> FieldError {
    FieldError { field: Field::StatusDetails, violation: Violation::TooManyPairs { max: PAIRS, len } }
}

/// A job document: one JSON object (MQTT) or JSON string (HTTPS data plane), kept as the exact
/// raw bytes and written back unchanged in the MQTT form; the HTTP form writes an object as a
/// JSON string of these bytes (see [`Flavor`]; SPEC AMBIG-22: the document is opaque).
///
/// Its nesting is at most [`MAX_DEPTH`](Self::MAX_DEPTH), so that it can be embedded in every
/// message and read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobDocument<'a>(&'a [u8]);

impl<'a> JobDocument<'a> {
    /// Deepest nesting of arrays and objects, counting the document's own braces: the JSON
    /// reader's limit less the two levels of the deepest message that embeds it
    /// (`{"execution":{"jobDocument":…}}`).
    pub const MAX_DEPTH: usize = json::MAX_DEPTH - 2;

    /// Validates `json` as exactly one JSON object or string (surrounding whitespace allowed and
    /// dropped).
    pub fn new(json: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(json);
        let document = read_document(&mut r)?;
        r.finish()?;
        Ok(document)
    }

    /// The raw JSON bytes.
    #[must_use]
    pub const fn as_bytes(self) -> &'a [u8] {
        self.0
    }

    /// Whether the document is a JSON string (the HTTPS data-plane form) rather than an object.
    #[must_use]
    pub fn is_string(self) -> bool {
        self.0.first() == Some(&b'"')
    }

    /// Most bytes the document takes in a message of `flavor`: its raw length, or over HTTP,
    /// where an object is written as a JSON string, twice that plus the quotes (`"`, `\` and
    /// the whitespace `\t`, `\n`, `\r` of JSON text are the only bytes of a valid document
    /// that a string escapes, each into two; see [`Flavor`]).
    #[must_use]
    pub fn max_len(self, flavor: Flavor) -> usize {
        match flavor {
            Flavor::Http if !self.is_string() => self.0.len().saturating_mul(2).saturating_add(2),
            Flavor::Http | Flavor::Mqtt => self.0.len(),
        }
    }

    /// The JSON text of an object document, which the HTTP form writes as a string; `None` for a
    /// document that already is a string.
    fn as_text(self) -> Result<Option<&'a str>, WireError> {
        if self.is_string() {
            return Ok(None);
        }
        // Cannot fail (the reader accepted the bytes), but avoids `unsafe`.
        core::str::from_utf8(self.0)
            .map(Some)
            .map_err(|e| WireError::Json(json::Error::InvalidUtf8 { offset: e.valid_up_to() }))
    }
}

/// Reads a job document at the reader's position.
fn read_document<'a>(r: &mut Reader<'a>) -> Result<JobDocument<'a>, WireError> {
    let kind = r.peek_kind()?;
    let offset = r.offset();
    match kind {
        Kind::Object | Kind::String => {}
        Kind::Array | Kind::Number | Kind::Bool | Kind::Null => {
            return Err(WireError::Json(json::Error::ExpectedObject { offset }));
        }
    }
    let raw = r.raw_value()?;
    if nesting(raw) > JobDocument::MAX_DEPTH {
        return Err(WireError::Json(json::Error::TooDeep { offset }));
    }
    Ok(JobDocument(raw))
}

/// The deepest nesting of arrays and objects in valid JSON `raw`.
fn nesting(raw: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0_usize, 0_usize);
    for (_, opening) in json::brackets(raw) {
        depth = if opening { depth.saturating_add(1) } else { depth.saturating_sub(1) };
        deepest = deepest.max(depth);
    }
    deepest
}

/// One pending execution in a list (BC-JD `JobExecutionSummary`; SPEC §7.1 GetPending, §7.2
/// `notify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobExecutionSummary<'a> {
    /// `jobId` (SPEC §5).
    pub job_id: &'a str,
    /// `queuedAt`.
    pub queued_at: Timestamp,
    /// `startedAt`: absent while QUEUED.
    pub started_at: Option<Timestamp>,
    /// `lastUpdatedAt`.
    pub last_updated_at: Timestamp,
    /// `versionNumber`.
    pub version_number: VersionNumber,
    /// `executionNumber`.
    pub execution_number: ExecutionNumber,
}

impl<'a> JobExecutionSummary<'a> {
    pub(super) fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut job_id, mut queued_at, mut started_at, mut last_updated_at) = (None, None, None, None);
        let (mut version_number, mut execution_number) = (None, None);
        p.object(|p, key| {
            if key.eq_str("jobId") {
                put(&mut job_id, key, p.job_id()?)
            } else if key.eq_str("queuedAt") {
                put(&mut queued_at, key, p.timestamp()?)
            } else if key.eq_str("startedAt") {
                put(&mut started_at, key, p.timestamp()?)
            } else if key.eq_str("lastUpdatedAt") {
                put(&mut last_updated_at, key, p.timestamp()?)
            } else if key.eq_str("versionNumber") {
                put(&mut version_number, key, p.version(false)?)
            } else if key.eq_str("executionNumber") {
                put(&mut execution_number, key, p.execution_number(false)?)
            } else {
                Ok(())
            }
        })?;
        Ok(Self {
            job_id: required(job_id, "jobId")?,
            queued_at: required(queued_at, "queuedAt")?,
            started_at,
            last_updated_at: required(last_updated_at, "lastUpdatedAt")?,
            version_number: required(version_number, "versionNumber")?,
            execution_number: required(execution_number, "executionNumber")?,
        })
    }

    pub(super) fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        check_job_id(self.job_id)?;
        w.begin_object()?;
        put_str(w, "jobId", self.job_id)?;
        put_u64(w, "queuedAt", self.queued_at.secs())?;
        put_opt_u64(w, "startedAt", self.started_at.map(Timestamp::secs))?;
        put_u64(w, "lastUpdatedAt", self.last_updated_at.secs())?;
        put_u64(w, "versionNumber", self.version_number.get())?;
        put_u64(w, "executionNumber", self.execution_number.get())?;
        Ok(w.end_object()?)
    }
}

/// An execution's status, details and version (BC-JD `JobExecutionState`): the `executionState`
/// of an Update response and of an ErrorResponse (SPEC §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobExecutionState<'a> {
    /// `status`.
    pub status: ExecutionStatus,
    /// `statusDetails`.
    pub status_details: Option<StatusDetails<'a>>,
    /// `versionNumber`.
    pub version_number: VersionNumber,
}

impl From<ExecutionState> for JobExecutionState<'_> {
    /// The state a [`Rejection`](crate::error::Rejection) carries, without statusDetails (the
    /// host adds them from its store).
    fn from(s: ExecutionState) -> Self {
        Self { status: s.status, status_details: None, version_number: s.version }
    }
}

impl<'a> JobExecutionState<'a> {
    pub(super) fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut status, mut status_details, mut version_number) = (None, None, None);
        p.object(|p, key| {
            if key.eq_str("status") {
                put(&mut status, key, p.status()?)
            } else if key.eq_str("statusDetails") {
                put(&mut status_details, key, p.details()?)
            } else if key.eq_str("versionNumber") {
                put(&mut version_number, key, p.version(false)?)
            } else {
                Ok(())
            }
        })?;
        Ok(Self {
            status: required(status, "status")?,
            status_details,
            version_number: required(version_number, "versionNumber")?,
        })
    }

    pub(super) fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        w.begin_object()?;
        put_str(w, "status", self.status.as_str())?;
        write_details(w, self.status_details.as_ref())?;
        put_u64(w, "versionNumber", self.version_number.get())?;
        Ok(w.end_object()?)
    }
}

/// One execution in full (BC-JD `JobExecution`): the `execution` of StartNext and Describe
/// responses and of `notify-next` (SPEC §7.1, §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobExecution<'a> {
    /// `jobId` (SPEC §5).
    pub job_id: &'a str,
    /// `thingName` (SPEC §5); the `notify-next` examples of DG-NOTIF omit it.
    pub thing_name: Option<&'a str>,
    /// `jobDocument`: absent when the request asked for no document.
    pub job_document: Option<JobDocument<'a>>,
    /// `status`: any of the eight statuses.
    pub status: ExecutionStatus,
    /// `statusDetails`.
    pub status_details: Option<StatusDetails<'a>>,
    /// `queuedAt`.
    pub queued_at: Timestamp,
    /// `startedAt`: absent while QUEUED.
    pub started_at: Option<Timestamp>,
    /// `lastUpdatedAt`.
    pub last_updated_at: Timestamp,
    /// `versionNumber`.
    pub version_number: VersionNumber,
    /// `executionNumber`.
    pub execution_number: ExecutionNumber,
    /// `approximateSecondsBeforeTimedOut`: absent when no timer runs or the execution is
    /// terminal (SPEC §3 timer facts).
    pub approximate_seconds_before_timed_out: Option<u64>,
}

impl<'a> JobExecution<'a> {
    pub(super) fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut job_id, mut thing_name, mut job_document, mut status) = (None, None, None, None);
        let (mut status_details, mut queued_at, mut started_at, mut last_updated_at) =
            (None, None, None, None);
        let (mut version_number, mut execution_number, mut approximate) = (None, None, None);
        p.object(|p, key| {
            if key.eq_str("jobId") {
                put(&mut job_id, key, p.job_id()?)
            } else if key.eq_str("thingName") {
                let name = p.string()?;
                check_thing_name(name)?;
                put(&mut thing_name, key, name)
            } else if key.eq_str("jobDocument") {
                put(&mut job_document, key, p.document()?)
            } else if key.eq_str("status") {
                put(&mut status, key, p.status()?)
            } else if key.eq_str("statusDetails") {
                put(&mut status_details, key, p.details()?)
            } else if key.eq_str("queuedAt") {
                put(&mut queued_at, key, p.timestamp()?)
            } else if key.eq_str("startedAt") {
                put(&mut started_at, key, p.timestamp()?)
            } else if key.eq_str("lastUpdatedAt") {
                put(&mut last_updated_at, key, p.timestamp()?)
            } else if key.eq_str("versionNumber") {
                put(&mut version_number, key, p.version(false)?)
            } else if key.eq_str("executionNumber") {
                put(&mut execution_number, key, p.execution_number(false)?)
            } else if key.eq_str("approximateSecondsBeforeTimedOut") {
                put(&mut approximate, key, p.r.read_u64()?)
            } else {
                Ok(())
            }
        })?;
        Ok(Self {
            job_id: required(job_id, "jobId")?,
            thing_name,
            job_document,
            status: required(status, "status")?,
            status_details,
            queued_at: required(queued_at, "queuedAt")?,
            started_at,
            last_updated_at: required(last_updated_at, "lastUpdatedAt")?,
            version_number: required(version_number, "versionNumber")?,
            execution_number: required(execution_number, "executionNumber")?,
            approximate_seconds_before_timed_out: approximate,
        })
    }

    pub(super) fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        check_job_id(self.job_id)?;
        w.begin_object()?;
        put_str(w, "jobId", self.job_id)?;
        if let Some(name) = self.thing_name {
            check_thing_name(name)?;
            put_str(w, "thingName", name)?;
        }
        write_document(w, self.job_document, flavor)?;
        put_str(w, "status", self.status.as_str())?;
        write_details(w, self.status_details.as_ref())?;
        put_u64(w, "queuedAt", self.queued_at.secs())?;
        put_opt_u64(w, "startedAt", self.started_at.map(Timestamp::secs))?;
        put_u64(w, "lastUpdatedAt", self.last_updated_at.secs())?;
        put_u64(w, "versionNumber", self.version_number.get())?;
        put_u64(w, "executionNumber", self.execution_number.get())?;
        put_opt_u64(w, "approximateSecondsBeforeTimedOut", self.approximate_seconds_before_timed_out)?;
        Ok(w.end_object()?)
    }
}

/// The identity of a [`JobExecutionSummary`] (see [`PendingHead`](super::PendingHead)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SummaryIdentity<'a> {
    /// `jobId`.
    pub(crate) job_id: &'a str,
    /// `versionNumber`.
    pub(crate) version_number: VersionNumber,
    /// `executionNumber`.
    pub(crate) execution_number: ExecutionNumber,
}

/// What a device can still act on in a message that carries an execution (an
/// [`ExecutionResponse`](super::ExecutionResponse) or a
/// [`NextJobExecutionChanged`](super::NextJobExecutionChanged)) that the message's own parser
/// refuses: its `clientToken`, the identity of its `execution`, and its document read as the
/// parser reads it, or why it cannot be. Every other member is skipped, which still checks
/// that it is JSON, so a document the device cannot hold or read, or statusDetails outside
/// SPEC R14 (or too long to unescape into the device's scratch), do not hide which execution
/// the message names and what it is to do. A document nested deeper than the JSON reader reads
/// ([`json::MAX_DEPTH`]) is skipped by its brackets past that depth, unchecked there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionIdentity<'a> {
    /// `clientToken`.
    pub client_token: Option<&'a str>,
    /// The execution's `jobId`.
    pub job_id: &'a str,
    /// The execution's `status`.
    pub status: ExecutionStatus,
    /// The execution's `versionNumber`.
    pub version_number: VersionNumber,
    /// The execution's `executionNumber`.
    pub execution_number: ExecutionNumber,
    /// The execution's `jobDocument` as [`JobDocument::new`] reads it (`None`: the message
    /// has none), or the error that refuses it: not a JSON object or string, or too deep.
    pub job_document: Option<Result<JobDocument<'a>, WireError>>,
}

/// An execution's `jobId`, `status`, `versionNumber`, `executionNumber` and document, as
/// [`ExecutionIdentity`] reads them.
type Identity<'a> =
    (&'a str, ExecutionStatus, VersionNumber, ExecutionNumber, Option<Result<JobDocument<'a>, WireError>>);

impl<'a> ExecutionIdentity<'a> {
    /// Reads the identity from a message in its MQTT form, as the message's parser reads those
    /// members; [`WireError::Missing`] when the message names no execution. Strings with JSON
    /// escapes are unescaped into `scratch`; `input.len()` bytes of scratch always suffice.
    pub fn parse(input: &'a [u8], scratch: &'a mut [u8]) -> Result<Self, WireError> {
        super::parse(input, scratch, Flavor::Mqtt, false, Self::read)
    }

    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut client_token, mut execution) = (None, None);
        read_members!(p, key {
            key.eq_str("execution") => execution = Self::read_execution(p)?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        let (job_id, status, version_number, execution_number, job_document) =
            required(execution, "execution")?;
        Ok(Self { client_token, job_id, status, version_number, execution_number, job_document })
    }

    /// The execution's identity and document.
    fn read_execution(p: &mut Parser<'a>) -> Result<Identity<'a>, WireError> {
        let (mut job_id, mut status, mut version_number, mut execution_number) = (None, None, None, None);
        let mut document = None;
        read_members!(p, key {
            key.eq_str("jobDocument") => document = Self::document(p)?,
            key.eq_str("jobId") => job_id = p.job_id()?,
            key.eq_str("status") => status = p.status()?,
            key.eq_str("versionNumber") => version_number = p.version(false)?,
            key.eq_str("executionNumber") => execution_number = p.execution_number(false)?,
        })?;
        Ok((
            required(job_id, "jobId")?,
            required(status, "status")?,
            required(version_number, "versionNumber")?,
            required(execution_number, "executionNumber")?,
            document,
        ))
    }

    /// The document at the reader's position, or why it is none; either way the value is
    /// passed (past the reader's depth by its brackets).
    fn document(p: &mut Parser<'a>) -> Result<Result<JobDocument<'a>, WireError>, WireError> {
        let before = p.r.clone();
        match read_document(&mut p.r) {
            Ok(document) => Ok(Ok(document)),
            Err(refused) => {
                p.r = before;
                p.r.skip_value_any_depth()?;
                Ok(Err(refused))
            }
        }
    }
}

/// Writes `"statusDetails":{…}` if present.
pub(super) fn write_details(
    w: &mut Writer<'_>,
    details: Option<&StatusDetails<'_>>,
) -> Result<(), WireError> {
    if let Some(details) = details {
        w.key("statusDetails")?;
        w.begin_object()?;
        for (k, v) in details.pairs() {
            put_str(w, k, v)?;
        }
        w.end_object()?;
    }
    Ok(())
}

/// Writes `"jobDocument":…` if present (SPEC AMBIG-22): raw over MQTT; over HTTP an object
/// document as a JSON string of its text.
pub(super) fn write_document(
    w: &mut Writer<'_>,
    document: Option<JobDocument<'_>>,
    flavor: Flavor,
) -> Result<(), WireError> {
    let Some(document) = document else {
        return Ok(());
    };
    w.key("jobDocument")?;
    match (flavor, document.as_text()?) {
        (Flavor::Http, Some(text)) => w.string(text)?,
        (Flavor::Http, None) | (Flavor::Mqtt, _) => w.raw(document.as_bytes())?,
    }
    Ok(())
}

impl<'a> Parser<'a> {
    /// `jobId`, validated (SPEC §5, R17).
    fn job_id(&mut self) -> Result<&'a str, WireError> {
        let id = self.string()?;
        check_job_id(id)?;
        Ok(id)
    }

    /// `versionNumber` / `expectedVersion`: 0..=i64::MAX; `string_ok` also accepts a string of
    /// digits (SPEC §5 `expectedVersion`: the AWS C library and Greengrass send one).
    pub(super) fn version(&mut self, string_ok: bool) -> Result<VersionNumber, WireError> {
        Ok(VersionNumber::new(self.long(string_ok, Field::Version)?)?)
    }

    /// `executionNumber`: 0..=i64::MAX; `string_ok` also accepts a string of digits (SPEC §5: the
    /// docs call it a digit string).
    pub(super) fn execution_number(&mut self, string_ok: bool) -> Result<ExecutionNumber, WireError> {
        Ok(ExecutionNumber::new(self.long(string_ok, Field::ExecutionNumber)?)?)
    }

    /// A request's number (`string_ok`) that is neither a number nor a string of digits, or is
    /// negative, is the field's error, which names it (`expectedVersion must be a decimal
    /// integer`, `... between 0 and 9223372036854775807`), since either form is accepted; a
    /// response's is the reader's.
    fn long(&mut self, string_ok: bool, field: Field) -> Result<u64, WireError> {
        if !string_ok {
            return Ok(self.r.read_u64()?);
        }
        self.r.read_u64_or_string().map_err(|e| {
            if matches!(e, json::Error::ExpectedNumber { .. } | json::Error::ExpectedInteger { .. }) {
                FieldError::new(field, Violation::NotANumber).into()
            } else if matches!(e, json::Error::NumberOutOfRange { .. }) {
                FieldError::new(field, Violation::OutOfRange { min: 0, max: i64::MAX }).into()
            } else {
                e.into()
            }
        })
    }

    /// `statusDetails`: an object of string values, validated as a whole (SPEC R14). Pairs past
    /// the tenth are counted, not stored, so the error reports the real count.
    pub(super) fn details(&mut self) -> Result<StatusDetails<'a>, WireError> {
        let mut pairs: heapless::Vec<(&str, &str), PAIRS> = heapless::Vec::new();
        let mut extra = 0_usize;
        self.r.begin_object()?;
        while let Some(key) = self.r.next_member()? {
            if pairs.is_full() {
                extra = extra.saturating_add(1);
                continue;
            }
            let pair = (self.text(key)?, self.string()?);
            pairs.push(pair).map_err(|_| too_many_pairs(PAIRS.saturating_add(1)))?;
        }
        if extra > 0 {
            return Err(too_many_pairs(PAIRS.saturating_add(extra)).into());
        }
        Ok(StatusDetails::new(&pairs)?)
    }

    /// An array of summaries: at most [`MAX_PENDING_JOBS`](super::MAX_PENDING_JOBS); more is an
    /// error that reports the real count.
    pub(super) fn summaries<const N: usize>(
        &mut self,
        member: &'static str,
    ) -> Result<heapless::Vec<JobExecutionSummary<'a>, N>, WireError> {
        let mut list = heapless::Vec::new();
        let mut len = 0_usize;
        self.r.begin_array()?;
        while self.r.next_element()? {
            len = len.saturating_add(1);
            if !list.is_full() {
                let summary = JobExecutionSummary::read(self)?;
                list.push(summary).map_err(|_| WireError::TooLong { member, max: N, len })?;
            }
        }
        if len > N {
            return Err(WireError::TooLong { member, max: N, len });
        }
        Ok(list)
    }

    /// The `jobId`, `versionNumber` and `executionNumber` of an array's first summary, read as
    /// [`JobExecutionSummary`] reads them. The summary's other members and the other summaries
    /// are skipped, which still checks that they are JSON (as [`ExecutionIdentity`] reads an
    /// execution).
    pub(super) fn first_summary_identity(&mut self) -> Result<Option<SummaryIdentity<'a>>, WireError> {
        let mut first = None;
        self.r.begin_array()?;
        while self.r.next_element()? {
            if first.is_some() {
                self.r.skip_value()?;
                continue;
            }
            let p = &mut *self;
            let (mut job_id, mut version_number, mut execution_number) = (None, None, None);
            read_members!(p, key {
                key.eq_str("jobId") => job_id = p.job_id()?,
                key.eq_str("versionNumber") => version_number = p.version(false)?,
                key.eq_str("executionNumber") => execution_number = p.execution_number(false)?,
            })?;
            first = Some(SummaryIdentity {
                job_id: required(job_id, "jobId")?,
                version_number: required(version_number, "versionNumber")?,
                execution_number: required(execution_number, "executionNumber")?,
            });
        }
        Ok(first)
    }

    /// `jobDocument` (SPEC AMBIG-22).
    pub(super) fn document(&mut self) -> Result<JobDocument<'a>, WireError> {
        read_document(&mut self.r)
    }
}
