//! Flask-Moment (chapter 12): every date is written twice, for machines (ISO 8601 in UTC, the
//! `datetime` attribute of a `<time>` element) and for people without JavaScript (a readable UTC
//! date, its text). `static/js/microblog.js` turns the text into "3 minutes ago", or a full date,
//! in the reader's own language and time zone.

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::Serialize;

/// A date as templates show it: `<time datetime="{{ t.iso }}">{{ t.utc }}</time>`.
#[derive(Debug, Serialize)]
pub struct Moment {
    /// `2026-11-22T13:05:00Z`
    pub iso: String,
    /// `2026-11-22 13:05 UTC`
    pub utc: String,
}

impl From<NaiveDateTime> for Moment {
    /// Digits are written one by one rather than with `format!` or chrono's `format`, which
    /// interpret a pattern and pad each number every time: a page shows 50 of these
    /// (`docs/performance.md`).
    fn from(t: NaiveDateTime) -> Self {
        let (date, time) = (t.date(), t.time());
        // `2026-11-22`; years outside 0..=9999 (which we never store) still come out right.
        let mut day = String::with_capacity(10);
        match u32::try_from(date.year()) {
            Ok(y) if y <= 9999 => push_digits(&mut day, y, 4),
            _ => day.push_str(&date.year().to_string()),
        }
        for (sep, n) in [('-', date.month()), ('-', date.day())] {
            day.push(sep);
            push_digits(&mut day, n, 2);
        }
        let mut iso = String::with_capacity(day.len() + 10);
        let mut utc = String::with_capacity(day.len() + 10);
        iso.push_str(&day);
        utc.push_str(&day);
        for (sep, n) in [('T', time.hour()), (':', time.minute())] {
            iso.push(sep);
            utc.push(if sep == 'T' { ' ' } else { sep });
            push_digits(&mut iso, n, 2);
            push_digits(&mut utc, n, 2);
        }
        iso.push(':');
        push_digits(&mut iso, time.second(), 2);
        iso.push('Z');
        utc.push_str(" UTC");
        Self { iso, utc }
    }
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = n / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::Moment;

    /// The hand-written digits say what chrono's formatting says, padding included.
    #[test]
    fn moments_read_like_chronos_own_formatting() {
        let times = [
            (2026, 11, 22, 5, 5, 23),
            (2001, 1, 2, 0, 0, 0),
            (1999, 12, 31, 23, 59, 59),
            (987, 6, 7, 8, 9, 10),
        ];
        for (y, mo, d, h, mi, s) in times {
            let t = NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|d| d.and_hms_opt(h, mi, s))
                .expect("a valid time");
            let moment = Moment::from(t);
            assert_eq!(moment.iso, t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            assert_eq!(moment.utc, t.format("%Y-%m-%d %H:%M UTC").to_string());
        }
    }
}
