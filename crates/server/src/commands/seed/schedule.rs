//! simpledb's schedule: `ADD timestamp data` files a value under a time, `READ timestamp`
//! takes every value filed at or before it (earliest first), FLUSH_SCHEDULE empties it,
//! LENGTH_SCHEDULE counts it. Times are `Y-m-d H:M:S` with an optional fraction, as
//! Python's `strptime` reads them (one- or two-digit fields, a real calendar date); anything
//! else is `-Timestamp must be formatted Y-m-d H:M:S`.
//!
//! Two departures from simpledb, both its bugs: values filed under the same time come out in
//! the order they were filed (simpledb's heap compares the values themselves next, and two
//! dicts make that an unhandled error), and `READ` without a time reads what is due now
//! (simpledb's `schedule_read(timestamp=None)` means that, but formats `None` and fails).

use std::collections::BTreeMap;
use std::sync::Mutex;

use respect_resp::Frame;

use super::{stored, text_of, unhandled, Seed};
use crate::clients::lock;

const BAD_TIMESTAMP: &str = "Timestamp must be formatted Y-m-d H:M:S";

/// A calendar time, comparable: (year, month, day, hour, minute, second, microsecond).
pub(crate) type Time = (u16, u8, u8, u8, u8, u8, u32);

/// The filed values, by time and then by the order they were filed.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_time: BTreeMap<(Time, u64), Frame>,
    filed: u64,
}

impl Schedule {
    /// Files `value` under `at`.
    pub(crate) fn add(&self, at: Time, value: Frame) {
        let mut entries = lock(&self.entries);
        let n = entries.filed;
        entries.filed = n.wrapping_add(1);
        entries.by_time.insert((at, n), value);
    }

    /// Takes every value filed at or before `until`, earliest first.
    pub(crate) fn take_until(&self, until: Time) -> Vec<Frame> {
        let mut entries = lock(&self.entries);
        let later = entries.by_time.split_off(&(until, u64::MAX));
        let due = std::mem::replace(&mut entries.by_time, later);
        due.into_values().collect()
    }

    /// Empties the schedule; how many values it held.
    pub(crate) fn flush(&self) -> usize {
        let mut entries = lock(&self.entries);
        let n = entries.by_time.len();
        entries.by_time.clear();
        n
    }

    /// How many values are filed.
    pub(crate) fn len(&self) -> usize {
        lock(&self.entries).by_time.len()
    }

    /// Every filed value with its time, earliest first (SAVE).
    pub(crate) fn entries(&self) -> Vec<(Time, Frame)> {
        lock(&self.entries)
            .by_time
            .iter()
            .map(|((at, _), v)| (*at, v.clone()))
            .collect()
    }

    /// Replaces the schedule with `entries` (RESTORE and MERGE: simpledb takes the file's
    /// schedule in both).
    pub(crate) fn replace(&self, entries: Vec<(Time, Frame)>) {
        let mut current = lock(&self.entries);
        *current = Entries::default();
        for (n, (at, value)) in entries.into_iter().enumerate() {
            current.by_time.insert((at, n as u64), value);
        }
        current.filed = current.by_time.len() as u64;
    }
}

/// `ADD timestamp data`: `:1`.
pub(super) fn add(seed: &Seed<'_>, args: &[Frame]) -> Frame {
    let [timestamp, data] = args else {
        return unhandled();
    };
    match parse(timestamp) {
        Some(at) => {
            seed.server.seed_schedule.add(at, stored(data.clone()));
            Frame::Integer(1)
        }
        None => Frame::error(BAD_TIMESTAMP),
    }
}

/// `READ [timestamp]`: the values due by then (by now without one), taken off the schedule.
pub(super) fn read(seed: &Seed<'_>, args: &[Frame]) -> Frame {
    let until = match args {
        [] => civil(seed.now),
        [timestamp] => match parse(timestamp) {
            Some(at) => at,
            None => return Frame::error(BAD_TIMESTAMP),
        },
        _ => return unhandled(),
    };
    Frame::Array(seed.server.seed_schedule.take_until(until))
}

/// A time as simpledb's `strptime('%Y-%m-%d %H:%M:%S[.%f]')` reads it; `None` otherwise.
pub(crate) fn parse(frame: &Frame) -> Option<Time> {
    let text = std::str::from_utf8(text_of(frame)?).ok()?;
    let (date, time) = text.split_once(' ')?;
    let mut date = date.split('-');
    let year = field(date.next()?, 4, 4)?;
    let month = field(date.next()?, 1, 2)?;
    let day = field(date.next()?, 1, 2)?;
    if date.next().is_some() {
        return None;
    }
    // The fraction is read only when the text has a dot, as simpledb picks its format.
    let (clock, micros) = match time.split_once('.') {
        Some((clock, fraction)) => (clock, fraction_micros(fraction)?),
        None => (time, 0),
    };
    let mut clock = clock.split(':');
    let hour = field(clock.next()?, 1, 2)?;
    let minute = field(clock.next()?, 1, 2)?;
    let second = field(clock.next()?, 1, 2)?;
    if clock.next().is_some() {
        return None;
    }
    let valid = (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then_some((
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        micros,
    ))
}

/// The canonical text of `at` (SAVE writes it; [`parse`] reads it back).
pub(crate) fn format(at: Time) -> String {
    let (y, mo, d, h, mi, s, us) = at;
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
}

/// A field of `min..=max` ASCII digits.
fn field(text: &str, min: usize, max: usize) -> Option<u32> {
    let ok = (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}

/// `%f`: one to six digits, as microseconds (`.5` is 500000).
fn fraction_micros(text: &str) -> Option<u32> {
    let digits = field(text, 1, 6)?;
    let scale = 10u32.checked_pow(6 - u32::try_from(text.len()).ok()?)?;
    digits.checked_mul(scale)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix milliseconds as a UTC calendar time (Howard Hinnant's `civil_from_days`).
fn civil(unix_ms: u64) -> Time {
    let secs = unix_ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        u16::try_from(year).unwrap_or(u16::MAX),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
        (rem / 3600) as u8,
        (rem % 3600 / 60) as u8,
        (rem % 60) as u8,
        ((unix_ms % 1000) * 1000) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn text(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn reads_times_as_python_strptime_does() {
        assert_eq!(
            parse(&text("2024-02-29 23:59:59")),
            Some((2024, 2, 29, 23, 59, 59, 0))
        );
        assert_eq!(
            parse(&text("2024-1-5 3:4:5.25")),
            Some((2024, 1, 5, 3, 4, 5, 250_000))
        );
        for bad in [
            "2023-02-29 00:00:00",
            "2024-13-01 00:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 00:60:00",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "24-01-01 00:00:00",
            "2024-01-01 00:00:00.1234567",
            "2024-01-01 00:00:00.",
            "2024-01-01 0:0:0:0",
            "",
        ] {
            assert_eq!(parse(&text(bad)), None, "{bad}");
        }
        assert_eq!(parse(&Frame::Integer(5)), None);
        let at = (2024, 3, 1, 4, 5, 6, 7);
        assert_eq!(parse(&text(&format(at))), Some(at));
    }

    #[test]
    fn unix_time_as_a_calendar_time() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0, 0));
        // 2024-02-29 12:34:56.789 UTC
        assert_eq!(civil(1_709_210_096_789), (2024, 2, 29, 12, 34, 56, 789_000));
    }

    #[test]
    fn due_values_come_out_earliest_first_ties_in_filing_order() {
        let schedule = Schedule::default();
        let t = |s: u8| (2024, 1, 1, 0, 0, s, 0);
        schedule.add(t(5), Frame::Integer(5));
        schedule.add(t(1), Frame::Integer(1));
        schedule.add(t(5), Frame::Integer(55));
        schedule.add(t(9), Frame::Integer(9));
        assert_eq!(
            schedule.take_until(t(5)),
            vec![Frame::Integer(1), Frame::Integer(5), Frame::Integer(55)]
        );
        assert_eq!(schedule.len(), 1);
        assert_eq!(schedule.flush(), 1);
        assert_eq!(schedule.len(), 0);
    }
}
