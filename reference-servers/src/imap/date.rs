//! Dates as IMAP writes and reads them: `date-time` ("17-Jul-1996 02:44:25
//! -0700", RFC 3501 §9) for INTERNALDATE, `date` ("1-Feb-1994") in SEARCH.
//! All times are UTC; the civil calendar arithmetic is Howard Hinnant's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::calendar::{civil_from_days as civil, days_from_civil, MONTHS};

fn secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// `"17-Jul-1996 02:44:25 +0000"`.
pub fn date_time(t: SystemTime) -> String {
    let s = secs(t);
    let (y, m, d) = civil(s.div_euclid(86_400));
    let r = s.rem_euclid(86_400);
    format!(
        "{d:02}-{}-{y:04} {:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        r / 3600,
        r / 60 % 60,
        r % 60
    )
}

/// The day (days since 1970-01-01) of a time.
pub fn day(t: SystemTime) -> i64 {
    secs(t).div_euclid(86_400)
}

/// Parses `date` = `1-Feb-1994` into days since the epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let d: u32 = it.next()?.parse().ok()?;
    let mon = it.next()?;
    let y: i64 = it.next()?.parse().ok()?;
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(mon))? as u32 + 1;
    if it.next().is_some() || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Parses `date-time` = `"17-Jul-1996 02:44:25 -0700"`.
pub fn parse_date_time(s: &str) -> Option<SystemTime> {
    let mut it = s.trim().split(' ').filter(|p| !p.is_empty());
    let days = parse_date(it.next()?)?;
    let mut hms = it.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let mi: i64 = hms.next()?.parse().ok()?;
    let se: i64 = hms.next()?.parse().ok()?;
    let zone = it.next()?;
    if zone.len() != 5 || !zone.is_ascii() || !(h < 24 && mi < 60 && se < 61) {
        return None;
    }
    let sign = match &zone[..1] {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let zh: i64 = zone[1..3].parse().ok()?;
    let zm: i64 = zone[3..5].parse().ok()?;
    let total = days * 86_400 + h * 3600 + mi * 60 + se - sign * (zh * 3600 + zm * 60);
    if total < 0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::from_secs(total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = parse_date_time("17-Jul-1996 02:44:25 -0700").unwrap();
        assert_eq!(date_time(t), "17-Jul-1996 09:44:25 +0000");
        assert_eq!(parse_date("1-Jan-1970"), Some(0));
        assert!(parse_date("1-Foo-1970").is_none());
        assert!(parse_date_time("1-Jan-2000 00:00:00 +0\u{e9}0").is_none());
        assert!(parse_date_time("1-Jan-2000 00:00:00 x").is_none());
    }
}
