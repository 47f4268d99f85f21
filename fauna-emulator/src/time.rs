//! Timestamps: nanoseconds since the Unix epoch, rendered like Java's `Instant.toString`
//! (RFC 3339, always `Z`, a fraction of 0, 3, 6 or 9 digits) as the engine does.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since 1970-01-01T00:00:00Z.
pub(crate) type Nanos = i64;

/// The current wall-clock time in microseconds (the engine's transaction-time precision).
pub(crate) fn now_micros() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats a timestamp as `2023-04-06T03:33:32.226Z`.
pub(crate) fn format(t: Nanos) -> String {
    let secs = t.div_euclid(1_000_000_000);
    let frac = t.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let mut out = format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    if frac != 0 {
        if frac % 1_000_000 == 0 {
            out.push_str(&format!(".{:03}", frac / 1_000_000));
        } else if frac % 1_000 == 0 {
            out.push_str(&format!(".{:06}", frac / 1_000));
        } else {
            out.push_str(&format!(".{frac:09}"));
        }
    }
    out.push('Z');
    out
}

/// Parses an RFC 3339 timestamp with a `Z`, `+HH:MM` or `+HHMM` offset.
pub(crate) fn parse(s: &str) -> Option<Nanos> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        frac = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
    }
    let offset_secs = match s.get(i..)? {
        "Z" | "z" => 0,
        rest if rest.len() == 6 || rest.len() == 5 => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || (rest.len() == 6 && rest.as_bytes()[3] != b':') {
                return None;
            }
            let oh: i64 = digits[..2].parse().ok()?;
            let om: i64 = digits[2..].parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset_secs;
    secs.checked_mul(1_000_000_000)?.checked_add(frac)
}

/// The engine's time units for `Time.add`/`Time.subtract`, in nanoseconds.
pub(crate) fn unit_nanos(unit: &str) -> Option<i64> {
    Some(match unit {
        "day" | "days" => 86_400_000_000_000,
        "half day" | "half days" => 43_200_000_000_000,
        "hour" | "hours" => 3_600_000_000_000,
        "minute" | "minutes" => 60_000_000_000,
        "second" | "seconds" => 1_000_000_000,
        "millisecond" | "milliseconds" => 1_000_000,
        "microsecond" | "microseconds" => 1_000,
        "nanosecond" | "nanoseconds" => 1,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "2023-04-06T03:33:32.226Z",
            "1970-01-01T00:00:00Z",
            "2024-10-08T12:00:00.123456Z",
            "2000-02-29T23:59:59.000000001Z",
        ] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
        assert_eq!(
            parse("2023-04-06T05:33:32.226+02:00"),
            parse("2023-04-06T03:33:32.226Z")
        );
        assert_eq!(
            parse("2023-04-06T05:33:32.226+0200"),
            parse("2023-04-06T03:33:32.226Z")
        );
        assert_eq!(parse("2023-04-06"), None);
        assert_eq!(parse("2023-13-06T00:00:00Z"), None);
    }
}
