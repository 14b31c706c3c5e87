//! AWS cron expressions, the start of a maintenance window (SPEC §6 Scheduling):
//! `cron(Minutes Hours Day-of-month Month Day-of-week Year)` in the EventBridge dialect the IoT
//! Jobs developer guide points to, parsed without allocation and evaluated in UTC to the minute.
//!
//! | field | values | wildcards |
//! |---|---|---|
//! | Minutes | 0-59 | `, - * /` |
//! | Hours | 0-23 | `, - * /` |
//! | Day-of-month | 1-31 | `, - * ? / L W` |
//! | Month | 1-12 or JAN-DEC | `, - * /` |
//! | Day-of-week | 1-7 or SUN-SAT (1 is Sunday) | `, - * ? L #` |
//! | Year | 1970-2199 | `, - * /` |
//!
//! Exactly one of Day-of-month and Day-of-week is `?`. `L` in Day-of-month is the month's last
//! day, `15W` the weekday (Monday to Friday) nearest the 15th within the month, `LW` the last
//! weekday; in Day-of-week `L` alone is Saturday, `6L` the month's last Friday, `3#2` its second
//! Tuesday; these forms stand alone in their field. Where the guide is silent this follows Quartz,
//! whose syntax the dialect is: names are case-insensitive, `a-b` with `a > b` wraps around
//! (`FRI-MON`, `22-2`), `a/n` counts from `a` to the field's maximum, a step is 1 to the field's
//! span, and `15W` never fires in a month without a 15th (nor `31W` in April).

use core::fmt;

use crate::time::Timestamp;

/// A parsed cron expression.
///
/// Deserializing checks what parsing guarantees (every set non-empty and within its field, the
/// `nW`, `dL` and `d#n` values in range), so a stored `Cron` is one some expression parses to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "CronSets"))]
pub struct Cron {
    // Each set holds `value - min` of its field.
    minutes: Bits<1>,
    hours: Bits<1>,
    months: Bits<1>,
    years: Bits<4>,
    days: Days,
}

/// A [`Cron`] as read, before its check.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct CronSets {
    minutes: Bits<1>,
    hours: Bits<1>,
    months: Bits<1>,
    years: Bits<4>,
    days: Days,
}

/// Sets no cron expression parses to.
#[cfg(feature = "serde")]
#[derive(Debug)]
struct NotACron;

#[cfg(feature = "serde")]
impl fmt::Display for NotACron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cron sets that no expression parses to (an empty set, or a value outside its field)")
    }
}

#[cfg(feature = "serde")]
impl TryFrom<CronSets> for Cron {
    type Error = NotACron;

    fn try_from(c: CronSets) -> Result<Self, NotACron> {
        let cron =
            Self { minutes: c.minutes, hours: c.hours, months: c.months, years: c.years, days: c.days };
        if cron.well_formed() { Ok(cron) } else { Err(NotACron) }
    }
}

impl Cron {
    /// Every set non-empty and within its field; the single values in range: what parsing
    /// makes.
    #[cfg(feature = "serde")]
    fn well_formed(&self) -> bool {
        let days = match self.days {
            Days::Month(MonthDay::Set(d)) => fits(&d, CronField::DayOfMonth),
            Days::Month(MonthDay::Last | MonthDay::LastWeekday) => true,
            Days::Month(MonthDay::NearestWeekday(n)) => (1..=31).contains(&n),
            Days::Week(WeekDay::Set(d)) => fits(&d, CronField::DayOfWeek),
            Days::Week(WeekDay::Last(d)) => (1..=7).contains(&d),
            Days::Week(WeekDay::Nth(d, n)) => (1..=7).contains(&d) && (1..=5).contains(&n),
        };
        days && fits(&self.minutes, CronField::Minutes)
            && fits(&self.hours, CronField::Hours)
            && fits(&self.months, CronField::Month)
            && fits(&self.years, CronField::Year)
    }
}

/// A set with a member, and none past its field's range.
#[cfg(feature = "serde")]
fn fits<const W: usize>(bits: &Bits<W>, field: CronField) -> bool {
    let (lo, hi) = field.range();
    bits.next_from(0).is_some() && bits.next_from(hi.saturating_sub(lo).saturating_add(1)).is_none()
}

/// Which days match: by day of the month (Day-of-week is `?`) or of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum Days {
    Month(MonthDay),
    Week(WeekDay),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum MonthDay {
    /// Days `d` (bit `d - 1`).
    Set(Bits<1>),
    /// `L`.
    Last,
    /// `LW`.
    LastWeekday,
    /// `nW`.
    NearestWeekday(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum WeekDay {
    /// Weekdays `d`, 1 = Sunday (bit `d - 1`).
    Set(Bits<1>),
    /// `dL`: the month's last `d`.
    Last(u8),
    /// `d#n`: the month's `n`th `d`.
    Nth(u8, u8),
}

/// The six fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CronField {
    /// Minutes (0-59).
    Minutes,
    /// Hours (0-23).
    Hours,
    /// Day-of-month (1-31).
    DayOfMonth,
    /// Month (1-12, JAN-DEC).
    Month,
    /// Day-of-week (1-7, SUN-SAT).
    DayOfWeek,
    /// Year (1970-2199).
    Year,
}

impl CronField {
    /// The name the developer guide gives the field.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Minutes => "Minutes",
            Self::Hours => "Hours",
            Self::DayOfMonth => "Day-of-month",
            Self::Month => "Month",
            Self::DayOfWeek => "Day-of-week",
            Self::Year => "Year",
        }
    }

    /// The smallest and largest value.
    #[must_use]
    pub const fn range(self) -> (u16, u16) {
        match self {
            Self::Minutes => (0, 59),
            Self::Hours => (0, 23),
            Self::DayOfMonth => (1, 31),
            Self::Month => (1, 12),
            Self::DayOfWeek => (1, 7),
            Self::Year => (FIRST_YEAR, LAST_YEAR),
        }
    }

    const fn names(self) -> &'static [&'static str] {
        match self {
            Self::Month => {
                &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            }
            Self::DayOfWeek => &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
            Self::Minutes | Self::Hours | Self::DayOfMonth | Self::Year => &[],
        }
    }
}

const FIRST_YEAR: u16 = 1970;
const LAST_YEAR: u16 = 2199;

/// Why an expression was refused, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CronError {
    /// Byte offset in the expression (from the `c` of `cron(`).
    pub position: usize,
    /// What is wrong there.
    pub reason: CronReason,
}

/// What is wrong with a cron expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CronReason {
    /// Not of the form `cron(...)`.
    NotCron,
    /// Not six fields separated by spaces.
    FieldCount {
        /// How many there are.
        found: usize,
    },
    /// Something the field does not allow here.
    Syntax(CronField),
    /// A value outside the field's range.
    OutOfRange(CronField),
    /// A step of 0 or beyond the field's span.
    Step(CronField),
    /// Day-of-month and Day-of-week must be one a value and the other `?`.
    DayFields,
    /// `L`, `W` and `#` forms stand alone in their field.
    NotAlone(CronField),
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at position {}: ", self.position)?;
        let range = |f: &mut fmt::Formatter<'_>, field: CronField| {
            let (lo, hi) = field.range();
            write!(f, "{} takes {lo}-{hi}", field.as_str())
        };
        match self.reason {
            CronReason::NotCron => {
                f.write_str("expected cron(Minutes Hours Day-of-month Month Day-of-week Year)")
            }
            CronReason::FieldCount { found } => write!(f, "{found} fields; a cron expression has 6"),
            CronReason::Syntax(field) => write!(f, "{} does not allow this here", field.as_str()),
            CronReason::OutOfRange(field) => range(f, field),
            CronReason::Step(field) => {
                f.write_str("the step must be at least 1 and at most the field's span; ")?;
                range(f, field)
            }
            CronReason::DayFields => {
                f.write_str("one of Day-of-month and Day-of-week must be ?, and only one")
            }
            CronReason::NotAlone(field) => {
                write!(f, "an L, W or # form must be the only item of {}", field.as_str())
            }
        }
    }
}

impl core::error::Error for CronError {}

impl Cron {
    /// Parses `cron(Minutes Hours Day-of-month Month Day-of-week Year)`; fields are separated by
    /// one or more spaces.
    ///
    /// # Errors
    /// [`CronError`] with the byte offset of the first problem.
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let not_cron = |position| CronError { position, reason: CronReason::NotCron };
        let inner =
            expr.strip_prefix("cron(").ok_or(not_cron(0))?.strip_suffix(")").ok_or(not_cron(expr.len()))?;
        let mut fields = [("", 0usize); 6];
        let mut found = 0usize;
        let mut rest = inner;
        let mut at = "cron(".len();
        loop {
            let spaces = rest.bytes().take_while(|b| *b == b' ').count();
            let trimmed = rest.get(spaces..).unwrap_or_default();
            at = at.saturating_add(spaces);
            if trimmed.is_empty() {
                break;
            }
            let (text, tail) = split_at_byte(trimmed, b' ').map_or((trimmed, ""), |(t, r)| (t, r));
            if let Some(slot) = fields.get_mut(found) {
                *slot = (text, at);
            }
            found = found.saturating_add(1);
            at = at.saturating_add(trimmed.len().saturating_sub(tail.len()));
            rest = tail;
        }
        if found != 6 {
            return Err(CronError { position: at, reason: CronReason::FieldCount { found } });
        }
        let [
            (min, min_at),
            (hour, hour_at),
            (dom, dom_at),
            (month, month_at),
            (dow, dow_at),
            (year, year_at),
        ] = fields;
        let days = match (dom, dow) {
            ("?", "?") => return Err(CronError { position: dow_at, reason: CronReason::DayFields }),
            ("?", _) => Days::Week(week_day(dow, dow_at)?),
            (_, "?") => Days::Month(month_day(dom, dom_at)?),
            (_, _) => return Err(CronError { position: dow_at, reason: CronReason::DayFields }),
        };
        Ok(Self {
            minutes: list(CronField::Minutes, min, min_at)?,
            hours: list(CronField::Hours, hour, hour_at)?,
            months: list(CronField::Month, month, month_at)?,
            years: list(CronField::Year, year, year_at)?,
            days,
        })
    }

    /// Whether the minute that holds `t` matches.
    #[must_use]
    pub fn matches(&self, t: Timestamp) -> bool {
        let day = t.secs() / 86_400;
        let minute = u16::try_from(t.secs() % 86_400 / 60).unwrap_or(0);
        civil(day).is_some_and(|(y, m, d)| {
            y.checked_sub(FIRST_YEAR).is_some_and(|i| self.years.has(i))
                && self.months.has(below(m))
                && self.day_matches(y, m, d, day)
                && self.hours.has(minute / 60)
                && self.minutes.has(minute % 60)
        })
    }

    /// The first matching minute that starts at or after `t`; `None` after 2199.
    #[must_use]
    pub fn next_at_or_after(&self, t: Timestamp) -> Option<Timestamp> {
        let minute = t.secs().div_ceil(60);
        let mut day = minute / MINUTES_PER_DAY;
        let mut from = u16::try_from(minute % MINUTES_PER_DAY).ok()?;
        loop {
            let (y, m, d) = civil(day)?;
            let next_year = |y: u16| days_from_civil(y.checked_add(1)?, 1, 1);
            let index = y.checked_sub(FIRST_YEAR)?;
            if !self.years.has(index) {
                let next = self.years.next_from(index.checked_add(1)?)?;
                day = days_from_civil(FIRST_YEAR.checked_add(next)?, 1, 1)?;
            } else if !self.months.has(below(m)) {
                day = if m >= 12 { next_year(y)? } else { days_from_civil(y, m.checked_add(1)?, 1)? };
            } else {
                if self.day_matches(y, m, d, day)
                    && let Some(at) = self.first_time_from(from)
                {
                    return day
                        .checked_mul(MINUTES_PER_DAY)?
                        .checked_add(at.into())?
                        .checked_mul(60)
                        .map(Timestamp);
                }
                day = day.checked_add(1)?;
            }
            from = 0;
        }
    }

    /// The first (hour, minute) at or after minute-of-day `from`, as a minute of the day.
    fn first_time_from(&self, from: u16) -> Option<u16> {
        let (h0, m0) = (from / 60, from % 60);
        let mut h = self.hours.next_from(h0)?;
        loop {
            let start = if h == h0 { m0 } else { 0 };
            if let Some(m) = self.minutes.next_from(start) {
                return h.checked_mul(60)?.checked_add(m);
            }
            h = self.hours.next_from(h.checked_add(1)?)?;
        }
    }

    fn day_matches(&self, y: u16, m: u8, d: u8, day: u64) -> bool {
        let len = month_len(y, m);
        match self.days {
            Days::Month(MonthDay::Set(set)) => set.has(below(d)),
            Days::Month(MonthDay::Last) => d == len,
            Days::Month(MonthDay::LastWeekday) => Some(d) == nearest_weekday(len, len, weekday(day, d, len)),
            Days::Month(MonthDay::NearestWeekday(n)) => {
                n <= len && Some(d) == nearest_weekday(n, len, weekday(day, d, n))
            }
            Days::Week(WeekDay::Set(set)) => set.has(below(weekday(day, d, d))),
            Days::Week(WeekDay::Last(w)) => weekday(day, d, d) == w && d > len.saturating_sub(7),
            Days::Week(WeekDay::Nth(w, n)) => {
                weekday(day, d, d) == w && (d.saturating_sub(1) / 7).saturating_add(1) == n
            }
        }
    }
}

const MINUTES_PER_DAY: u64 = 24 * 60;

/// The set index of a value of a field that starts at 1.
fn below(v: u8) -> u16 {
    u16::from(v).saturating_sub(1)
}

/// The weekday (1 = Sunday) of day-of-month `target` in the month where day number `day` (days
/// since 1970-01-01, a Thursday) is day-of-month `d`.
fn weekday(day: u64, d: u8, target: u8) -> u8 {
    // Shift to `target` within the same month: `day - d + target`, kept non-negative by +28.
    let shifted = day.saturating_add(28).saturating_add(target.into()).saturating_sub(d.into());
    // 1970-01-01 + 28 days is a Thursday too: weekday 5.
    u8::try_from((shifted.saturating_add(4)) % 7).map_or(1, |w| w.saturating_add(1))
}

/// The weekday nearest day `n` (weekday of day `n` is `w`) within a month of `len` days.
fn nearest_weekday(n: u8, len: u8, w: u8) -> Option<u8> {
    match w {
        // Saturday: the Friday before, or the Monday after when `n` is the 1st.
        7 if n == 1 => Some(3),
        7 => n.checked_sub(1),
        // Sunday: the Monday after, or the Friday before when `n` is the last day.
        1 if n == len => n.checked_sub(2),
        1 => n.checked_add(1),
        _ => Some(n),
    }
}

fn is_leap(y: u16) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn month_len(y: u16, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) of day number `z` (days since 1970-01-01), for years up to 65535.
fn civil(z: u64) -> Option<(u16, u8, u8)> {
    // H. Hinnant's civil_from_days, on unsigned days since 0000-03-01.
    let z = z.checked_add(719_468)?;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe.checked_sub(doe / 1460)?.checked_add(doe / 36_524)?.checked_sub(doe / 146_096)?) / 365;
    let doy = doe.checked_sub(yoe.checked_mul(365)?.checked_add(yoe / 4)?.checked_sub(yoe / 100)?)?;
    let mp = doy.checked_mul(5)?.checked_add(2)? / 153;
    let d = doy.checked_sub(mp.checked_mul(153)?.checked_add(2)? / 5)?.checked_add(1)?;
    let m = if mp < 10 { mp.checked_add(3)? } else { mp.checked_sub(9)? };
    let y = era.checked_mul(400)?.checked_add(yoe)?.checked_add(u64::from(m <= 2))?;
    Some((u16::try_from(y).ok()?, u8::try_from(m).ok()?, u8::try_from(d).ok()?))
}

/// Day number (days since 1970-01-01) of a date from 1970 on.
fn days_from_civil(y: u16, m: u8, d: u8) -> Option<u64> {
    let y = u64::from(y).checked_sub(u64::from(m <= 2))?;
    let (era, yoe) = (y / 400, y % 400);
    let mp = if m > 2 { u64::from(m).checked_sub(3)? } else { u64::from(m).checked_add(9)? };
    let doy = (mp.checked_mul(153)?.checked_add(2)? / 5).checked_add(u64::from(d))?.checked_sub(1)?;
    let doe = yoe.checked_mul(365)?.checked_add(yoe / 4)?.checked_sub(yoe / 100)?.checked_add(doy)?;
    era.checked_mul(146_097)?.checked_add(doe)?.checked_sub(719_468)
}

/// A set of small numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Bits<const W: usize>([u64; W]);

/// A set is its `W` words, as a sequence.
#[cfg(feature = "serde")]
impl<const W: usize> serde::Serialize for Bits<W> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

#[cfg(feature = "serde")]
impl<'de, const W: usize> serde::Deserialize<'de> for Bits<W> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Words<const W: usize>;
        impl<'de, const W: usize> serde::de::Visitor<'de> for Words<W> {
            type Value = Bits<W>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{W} words of a cron field's set")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Bits<W>, A::Error> {
                let mut out = [0u64; W];
                for (i, word) in out.iter_mut().enumerate() {
                    *word = seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
                }
                if seq.next_element::<u64>()?.is_some() {
                    return Err(serde::de::Error::invalid_length(W.saturating_add(1), &self));
                }
                Ok(Bits(out))
            }
        }
        d.deserialize_seq(Words::<W>)
    }
}

impl<const W: usize> Bits<W> {
    const EMPTY: Self = Self([0; W]);

    fn has(&self, i: u16) -> bool {
        self.0.get(usize::from(i / 64)).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn set(&mut self, i: u16) {
        if let Some(w) = self.0.get_mut(usize::from(i / 64)) {
            *w |= 1 << (i % 64);
        }
    }

    /// The least member at or above `i`.
    fn next_from(&self, i: u16) -> Option<u16> {
        let mut word = usize::from(i / 64);
        let mut mask = u64::MAX << (i % 64);
        loop {
            let w = self.0.get(word)? & mask;
            if w != 0 {
                let base = u16::try_from(word).ok()?.checked_mul(64)?;
                return base.checked_add(u16::try_from(w.trailing_zeros()).ok()?);
            }
            word = word.checked_add(1)?;
            mask = u64::MAX;
        }
    }
}

/// A comma-separated list of `*`, `v`, `a-b`, each with an optional `/step`, as a set of
/// `value - min` bits.
fn list<const W: usize>(field: CronField, text: &str, at: usize) -> Result<Bits<W>, CronError> {
    let (lo, hi) = field.range();
    let span = hi.saturating_sub(lo).saturating_add(1);
    let mut bits = Bits::<W>::EMPTY;
    let mut pos = at;
    let mut rest = Some(text);
    while let Some(items) = rest {
        let (item, tail) = split_at_byte(items, b',').map_or((items, None), |(i, t)| (i, Some(t)));
        rest = tail;
        let err = |reason| CronError { position: pos, reason };
        let (base, step) = match split_at_byte(item, b'/') {
            Some((base, step)) => {
                let step_at = pos.saturating_add(base.len()).saturating_add(1);
                let n =
                    number(step).ok_or(CronError { position: step_at, reason: CronReason::Syntax(field) })?;
                if n == 0 || n > span {
                    return Err(CronError { position: step_at, reason: CronReason::Step(field) });
                }
                (base, Some(n))
            }
            None => (item, None),
        };
        let (first, last) = match split_at_byte(base, b'-') {
            _ if base == "*" => (lo, hi),
            Some((a, b)) => {
                let b_at = pos.saturating_add(a.len()).saturating_add(1);
                (value(field, a, pos)?, value(field, b, b_at)?)
            }
            // `a/n` runs to the maximum; a lone `a` is itself.
            None => {
                let a = value(field, base, pos)?;
                (a, if step.is_some() { hi } else { a })
            }
        };
        // Members: first, first + step, ... through last, wrapping past the maximum.
        let (first, last) = (first.saturating_sub(lo), last.saturating_sub(lo));
        let count = if first <= last {
            last.saturating_sub(first)
        } else {
            span.saturating_sub(first).saturating_add(last)
        };
        let step = step.unwrap_or(1);
        let mut k = 0u16;
        while k <= count {
            let v = first.saturating_add(k);
            bits.set(v.checked_sub(span).unwrap_or(v));
            k = k.checked_add(step).ok_or(err(CronReason::Step(field)))?;
        }
        pos = pos.saturating_add(item.len()).saturating_add(1);
    }
    Ok(bits)
}

/// A decimal number of at most 4 digits.
fn number(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A value of `field`: a number in range or, for months and weekdays, a name.
fn value(field: CronField, text: &str, at: usize) -> Result<u16, CronError> {
    let (lo, hi) = field.range();
    let named = field.names().iter().zip(lo..=hi).find(|(n, _)| n.eq_ignore_ascii_case(text)).map(|(_, v)| v);
    let v = named
        .or_else(|| number(text))
        .ok_or(CronError { position: at, reason: CronReason::Syntax(field) })?;
    if v < lo || v > hi {
        return Err(CronError { position: at, reason: CronReason::OutOfRange(field) });
    }
    Ok(v)
}

/// A value that fits `u8` (days and weekdays).
fn small(field: CronField, text: &str, at: usize) -> Result<u8, CronError> {
    u8::try_from(value(field, text, at)?)
        .map_err(|_| CronError { position: at, reason: CronReason::OutOfRange(field) })
}

/// `text` split around the first `b`.
fn split_at_byte(text: &str, b: u8) -> Option<(&str, &str)> {
    let i = text.bytes().position(|c| c == b)?;
    let (head, tail) = text.split_at_checked(i)?;
    Some((head, tail.get(1..)?))
}

/// Whether `text` has any of `set` (list and range syntax, next to an `L`, `W` or `#` form).
fn has_any(text: &str, set: &[u8]) -> bool {
    text.bytes().any(|b| set.contains(&b))
}

const LIST_SYNTAX: &[u8] = b",-/*";

fn month_day(text: &str, at: usize) -> Result<MonthDay, CronError> {
    let f = CronField::DayOfMonth;
    if has_any(text, b"LW") && has_any(text, LIST_SYNTAX) {
        return Err(CronError { position: at, reason: CronReason::NotAlone(f) });
    }
    Ok(match text {
        "L" => MonthDay::Last,
        "LW" => MonthDay::LastWeekday,
        _ => match text.strip_suffix("W") {
            Some(n) => MonthDay::NearestWeekday(small(f, n, at)?),
            None => MonthDay::Set(list(f, text, at)?),
        },
    })
}

fn week_day(text: &str, at: usize) -> Result<WeekDay, CronError> {
    let f = CronField::DayOfWeek;
    if has_any(text, b"#L") && has_any(text, LIST_SYNTAX) {
        return Err(CronError { position: at, reason: CronReason::NotAlone(f) });
    }
    if text == "L" {
        let mut saturday = Bits::EMPTY;
        saturday.set(below(7));
        return Ok(WeekDay::Set(saturday));
    }
    if let Some(d) = text.strip_suffix("L") {
        return Ok(WeekDay::Last(small(f, d, at)?));
    }
    if let Some((d, n)) = split_at_byte(text, b'#') {
        let n_at = at.saturating_add(d.len()).saturating_add(1);
        let nth = number(n)
            .filter(|n| (1..=5).contains(n))
            .and_then(|n| u8::try_from(n).ok())
            .ok_or(CronError { position: n_at, reason: CronReason::OutOfRange(f) })?;
        return Ok(WeekDay::Nth(small(f, d, at)?, nth));
    }
    Ok(WeekDay::Set(list(f, text, at)?))
}

#[cfg(test)]
mod tests;
