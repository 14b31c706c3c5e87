//! The cron dialect against a table of expressions and their next occurrences, its errors, and
//! the search against a minute-by-minute scan.

extern crate std;

use proptest::prelude::*;

use super::*;

/// Starts: 2026-12-01 03:37:00, the same plus 30 s, 2026-01-01 00:00 (a Thursday), and
/// 2024-02-29 00:00 (a leap day). The developer guide's examples come first, then every wildcard.
/// The occurrences were computed by an independent calendar implementation (Python's
/// `datetime` and `calendar`, with L, W and # written out from the guide's definitions).
const STARTS: [u64; 4] = [1_796_096_220, 1_796_096_250, 1_767_225_600, 1_709_164_800];

#[rustfmt::skip]
const TABLE: &[(&str, [u64; 4])] = &[
    ("cron(0 10 * * ? *)", [1_796_119_200, 1_796_119_200, 1_767_261_600, 1_709_200_800]),
    ("cron(15 12 * * ? *)", [1_796_127_300, 1_796_127_300, 1_767_269_700, 1_709_208_900]),
    ("cron(0 18 ? * MON-FRI *)", [1_796_148_000, 1_796_148_000, 1_767_290_400, 1_709_229_600]),
    ("cron(0 8 1 * ? *)", [1_796_112_000, 1_796_112_000, 1_767_254_400, 1_709_280_000]),
    ("cron(0/15 * * * ? *)", [1_796_096_700, 1_796_096_700, 1_767_225_600, 1_709_164_800]),
    ("cron(0/10 * ? * MON-FRI *)", [1_796_096_400, 1_796_096_400, 1_767_225_600, 1_709_164_800]),
    ("cron(0/5 8-17 ? * MON-FRI *)", [1_796_112_000, 1_796_112_000, 1_767_254_400, 1_709_193_600]),
    ("cron(0 9 ? * 2#1 *)", [1_796_634_000, 1_796_634_000, 1_767_603_600, 1_709_542_800]),
    ("cron(0 0 L * ? *)", [1_798_675_200, 1_798_675_200, 1_769_817_600, 1_709_164_800]),
    ("cron(30 23 LW * ? *)", [1_798_759_800, 1_798_759_800, 1_769_815_800, 1_709_249_400]),
    ("cron(0 12 15W * ? *)", [1_797_336_000, 1_797_336_000, 1_768_478_400, 1_710_504_000]),
    ("cron(0 12 1W * ? *)", [1_796_126_400, 1_796_126_400, 1_767_268_800, 1_709_294_400]),
    ("cron(0 12 31W * ? *)", [1_798_718_400, 1_798_718_400, 1_769_774_400, 1_711_713_600]),
    ("cron(0 0 ? * 6L *)", [1_798_156_800, 1_798_156_800, 1_769_731_200, 1_711_670_400]),
    ("cron(0 0 ? * L *)", [1_796_428_800, 1_796_428_800, 1_767_398_400, 1_709_337_600]),
    ("cron(0 0 ? * FRI-MON *)", [1_796_342_400, 1_796_342_400, 1_767_312_000, 1_709_251_200]),
    ("cron(0 22-2 * * ? *)", [1_796_162_400, 1_796_162_400, 1_767_225_600, 1_709_164_800]),
    ("cron(5,35 */6 * JAN,jul ? *)", [1_798_761_900, 1_798_761_900, 1_767_225_900, 1_719_792_300]),
    ("cron(0 0 29 2 ? *)", [1_835_395_200, 1_835_395_200, 1_835_395_200, 1_709_164_800]),
    ("cron(0 0 1 1 ? 2030-2032/2)", [1_893_456_000, 1_893_456_000, 1_893_456_000, 1_893_456_000]),
    ("cron(10-20/5 3 * * ? 2026)", [1_796_181_000, 1_796_181_000, 1_767_237_000, 1_767_237_000]),
    ("cron(0 0 ? * 5#5 *)", [1_798_675_200, 1_798_675_200, 1_769_644_800, 1_709_164_800]),
    ("cron(59 23 31 12 ? 2199)", [7_258_118_340, 7_258_118_340, 7_258_118_340, 7_258_118_340]),
];

fn ts(secs: u64) -> Timestamp {
    Timestamp(secs)
}

#[test]
fn next_occurrences_agree_with_the_table() {
    for (expr, want) in TABLE {
        let cron = Cron::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        for (start, want) in STARTS.iter().zip(want) {
            assert_eq!(cron.next_at_or_after(ts(*start)), Some(ts(*want)), "{expr} from {start}");
            assert!(cron.matches(ts(*want)), "{expr} matches {want}");
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "a search to the year 2199, arithmetic only: a minute under Miri")]
fn nothing_after_2199() {
    let cron = Cron::parse("cron(59 23 31 12 ? 2199)").unwrap();
    assert_eq!(cron.next_at_or_after(ts(7_258_118_341)), None);
    let never = Cron::parse("cron(0 0 30 2 ? *)").unwrap();
    assert_eq!(never.next_at_or_after(ts(0)), None);
}

#[test]
fn errors_say_where() {
    let cases: &[(&str, usize, CronReason)] = &[
        ("0 10 * * ? *", 0, CronReason::NotCron),
        ("cron(0 10 * * ? *", 17, CronReason::NotCron),
        ("cron(0 10 * * ?)", 15, CronReason::FieldCount { found: 5 }),
        ("cron(0 10 * * ? * *)", 19, CronReason::FieldCount { found: 7 }),
        ("cron(60 10 * * ? *)", 5, CronReason::OutOfRange(CronField::Minutes)),
        ("cron(0 24 * * ? *)", 7, CronReason::OutOfRange(CronField::Hours)),
        ("cron(0 1 0 * ? *)", 9, CronReason::OutOfRange(CronField::DayOfMonth)),
        ("cron(0 1 * 13 ? *)", 11, CronReason::OutOfRange(CronField::Month)),
        ("cron(0 1 ? * 8 *)", 13, CronReason::OutOfRange(CronField::DayOfWeek)),
        ("cron(0 1 * * ? 1969)", 15, CronReason::OutOfRange(CronField::Year)),
        ("cron(0 1 * * ? 2200)", 15, CronReason::OutOfRange(CronField::Year)),
        ("cron(0 1 * * * *)", 13, CronReason::DayFields),
        ("cron(0 1 ? * ? *)", 13, CronReason::DayFields),
        ("cron(0 1 1 * MON *)", 13, CronReason::DayFields),
        ("cron(0/0 1 * * ? *)", 7, CronReason::Step(CronField::Minutes)),
        ("cron(0/61 1 * * ? *)", 7, CronReason::Step(CronField::Minutes)),
        ("cron(0 1,x * * ? *)", 9, CronReason::Syntax(CronField::Hours)),
        ("cron(0 1 * FOO ? *)", 11, CronReason::Syntax(CronField::Month)),
        ("cron(0 1 ? * 3#6 *)", 15, CronReason::OutOfRange(CronField::DayOfWeek)),
        ("cron(0 1 ? * 3#1,6#3 *)", 13, CronReason::NotAlone(CronField::DayOfWeek)),
        ("cron(0 1 L,5 * ? *)", 9, CronReason::NotAlone(CronField::DayOfMonth)),
        ("cron(0 1 32W * ? *)", 9, CronReason::OutOfRange(CronField::DayOfMonth)),
        ("cron(0 1 ? * 9L *)", 13, CronReason::OutOfRange(CronField::DayOfWeek)),
        ("cron(? 1 * * ? *)", 5, CronReason::Syntax(CronField::Minutes)),
        ("cron(0 1 * L ? *)", 11, CronReason::Syntax(CronField::Month)),
        ("cron(1-2-3 1 * * ? *)", 7, CronReason::Syntax(CronField::Minutes)),
        ("cron(99999 1 * * ? *)", 5, CronReason::Syntax(CronField::Minutes)),
    ];
    for (expr, position, reason) in cases {
        assert_eq!(Cron::parse(expr), Err(CronError { position: *position, reason: *reason }), "{expr}");
    }
    let e = Cron::parse("cron(60 10 * * ? *)").unwrap_err();
    assert_eq!(std::format!("{e}"), "at position 5: Minutes takes 0-59");
}

#[test]
fn names_are_case_insensitive_and_spaces_may_repeat() {
    let a = Cron::parse("cron(0 18 ? * MON-FRI *)").unwrap();
    assert_eq!(Cron::parse("cron(  0 18  ? *  mon-Fri * )").unwrap(), a);
    assert_eq!(Cron::parse("cron(0 18 ? * 2-6 *)").unwrap(), a);
}

proptest! {
    /// The search against a scan: the answer matches, is a whole minute at or after the start,
    /// and no minute between the start and it matches.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn the_next_occurrence_is_the_first_match(
        row in 0..TABLE.len(),
        start in 0u64..4_102_444_800,
    ) {
        let (expr, _) = TABLE[row];
        // Rows that fire at least every 200 days, in every year.
        if !expr.ends_with("*)") || expr.contains("29 2") || expr.contains("JAN") || expr.contains("5#5") {
            return Ok(());
        }
        let cron = Cron::parse(expr).unwrap();
        let got = cron.next_at_or_after(ts(start));
        let Some(got) = got else { return Err(TestCaseError::fail("an occurrence before 2199")) };
        prop_assert!(got.secs() >= start && got.secs() % 60 == 0 && cron.matches(got));
        let mut t = start.div_ceil(60) * 60;
        prop_assert!(got.secs() - t < 200 * 86_400);
        while t < got.secs() {
            prop_assert!(!cron.matches(ts(t)), "{} matches {} before {}", expr, t, got.secs());
            t += 60;
        }
    }
}

/// A set is its words in a snapshot, and anything but exactly `W` of them is refused with a
/// message that says what was expected.
#[cfg(feature = "serde")]
#[test]
fn a_set_reads_back_from_exactly_its_words() {
    let set = Bits::<2>([5, 1 << 63]);
    let json = serde_json::to_string(&set).unwrap();
    assert_eq!(json, "[5,9223372036854775808]");
    assert_eq!(serde_json::from_str::<Bits<2>>(&json).unwrap(), set);
    for bad in ["[5]", "[5,1,2]", "\"5\""] {
        let err = std::format!("{}", serde_json::from_str::<Bits<2>>(bad).unwrap_err());
        assert!(err.contains("2 words of a cron field's set"), "{bad}: {err}");
    }
}

/// What deserializing checks: every expression of the table parses to a well-formed `Cron`, and
/// breaking any one field (an empty set, a member past the field's range, a single value out of
/// range) makes it not well formed, so a snapshot cannot carry it.
#[cfg(feature = "serde")]
#[test]
fn a_cron_is_well_formed_exactly_when_some_expression_parses_to_it() {
    for (expr, _) in TABLE {
        let c = Cron::parse(expr).unwrap();
        assert!(c.well_formed(), "{expr}");
        let back: Cron = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c, "{expr}");
    }
    let base = Cron::parse("cron(0 12 1 * ? *)").unwrap();
    let past = |field: CronField| {
        let (lo, hi) = field.range();
        let mut b = Bits::<4>::EMPTY;
        b.set(hi - lo + 1);
        b
    };
    let one = |field: CronField| Bits::<1>([past(field).0[0]]);
    let broken = [
        Cron { minutes: Bits::EMPTY, ..base },
        Cron { minutes: one(CronField::Minutes), ..base },
        Cron { hours: Bits::EMPTY, ..base },
        Cron { hours: one(CronField::Hours), ..base },
        Cron { months: Bits::EMPTY, ..base },
        Cron { months: one(CronField::Month), ..base },
        Cron { years: Bits::EMPTY, ..base },
        Cron { years: past(CronField::Year), ..base },
        Cron { days: Days::Month(MonthDay::Set(Bits::EMPTY)), ..base },
        Cron { days: Days::Month(MonthDay::Set(one(CronField::DayOfMonth))), ..base },
        Cron { days: Days::Month(MonthDay::NearestWeekday(0)), ..base },
        Cron { days: Days::Month(MonthDay::NearestWeekday(32)), ..base },
        Cron { days: Days::Week(WeekDay::Set(Bits::EMPTY)), ..base },
        Cron { days: Days::Week(WeekDay::Set(one(CronField::DayOfWeek))), ..base },
        Cron { days: Days::Week(WeekDay::Last(0)), ..base },
        Cron { days: Days::Week(WeekDay::Last(8)), ..base },
        Cron { days: Days::Week(WeekDay::Nth(0, 1)), ..base },
        Cron { days: Days::Week(WeekDay::Nth(8, 1)), ..base },
        Cron { days: Days::Week(WeekDay::Nth(1, 0)), ..base },
        Cron { days: Days::Week(WeekDay::Nth(1, 6)), ..base },
    ];
    for (i, c) in broken.iter().enumerate() {
        assert!(!c.well_formed(), "case {i}: {c:?}");
        let err =
            std::format!("{}", serde_json::from_str::<Cron>(&serde_json::to_string(c).unwrap()).unwrap_err());
        assert!(err.contains("no expression parses to"), "case {i}: {err}");
    }
    for ok in [
        Cron { days: Days::Month(MonthDay::NearestWeekday(31)), ..base },
        Cron { days: Days::Week(WeekDay::Last(7)), ..base },
        Cron { days: Days::Week(WeekDay::Nth(7, 5)), ..base },
        Cron { days: Days::Month(MonthDay::LastWeekday), ..base },
    ] {
        assert!(ok.well_formed(), "{ok:?}");
    }
}
