//! Strict strftime-style datetime parsing and formatting to and from int64 ns UTC.

const NS_PER_SEC: i64 = 1_000_000_000;
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Lit(char),
    Year4,
    Year2,
    Month,
    Day,
    Hour24,
    Hour12,
    Minute,
    Second,
    Fraction,
    AmPm,
    MonthAbbr,
    MonthName,
    Offset,
}

/// A compiled strftime-style format: `%Y %y %m %d %H %I %M %S %f %p %b %B %z %%`, `%T`
/// (`%H:%M:%S`), `%D` (`%m/%d/%y`), `%F` (`%Y-%m-%d`) and literal characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatetimeFormat {
    items: Vec<Item>,
}

/// A value that does not match its datetime format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("value does not match the datetime format")]
pub struct DatetimeMismatch;

impl DatetimeFormat {
    /// Compile a format; unknown directives are an error.
    pub fn parse(format: &str) -> Result<Self, DatetimeMismatch> {
        let mut items = Vec::new();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                items.push(Item::Lit(c));
                continue;
            }
            match chars.next().ok_or(DatetimeMismatch)? {
                'Y' => items.push(Item::Year4),
                'y' => items.push(Item::Year2),
                'm' => items.push(Item::Month),
                'd' => items.push(Item::Day),
                'H' => items.push(Item::Hour24),
                'I' => items.push(Item::Hour12),
                'M' => items.push(Item::Minute),
                'S' => items.push(Item::Second),
                'f' => items.push(Item::Fraction),
                'p' => items.push(Item::AmPm),
                'b' => items.push(Item::MonthAbbr),
                'B' => items.push(Item::MonthName),
                'z' => items.push(Item::Offset),
                '%' => items.push(Item::Lit('%')),
                'T' => items.extend([
                    Item::Hour24,
                    Item::Lit(':'),
                    Item::Minute,
                    Item::Lit(':'),
                    Item::Second,
                ]),
                'D' => items.extend([
                    Item::Month,
                    Item::Lit('/'),
                    Item::Day,
                    Item::Lit('/'),
                    Item::Year2,
                ]),
                'F' => items.extend([
                    Item::Year4,
                    Item::Lit('-'),
                    Item::Month,
                    Item::Lit('-'),
                    Item::Day,
                ]),
                _ => return Err(DatetimeMismatch),
            }
        }
        Ok(Self { items })
    }

    /// Parse a whole string into ns since the Unix epoch, UTC.
    pub fn parse_ns(&self, s: &str) -> Result<i64, DatetimeMismatch> {
        let b = s.as_bytes();
        let mut i = 0usize;
        let (mut year, mut month, mut day) = (1970i64, 1i64, 1i64);
        let (mut hour, mut minute, mut second, mut nanos) = (0i64, 0i64, 0i64, 0i64);
        let mut pm: Option<bool> = None;
        let mut offset_s = 0i64;
        let num = |i: &mut usize, min: usize, max: usize| -> Result<i64, DatetimeMismatch> {
            let start = *i;
            while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
                *i += 1;
            }
            if *i - start < min {
                return Err(DatetimeMismatch);
            }
            let mut v = 0i64;
            for &d in &b[start..*i] {
                v = v * 10 + i64::from(d - b'0');
            }
            Ok(v)
        };
        for item in &self.items {
            match *item {
                Item::Lit(c) => {
                    let mut buf = [0u8; 4];
                    let lit = c.encode_utf8(&mut buf).as_bytes();
                    if b.get(i..i + lit.len()) != Some(lit) {
                        return Err(DatetimeMismatch);
                    }
                    i += lit.len();
                }
                Item::Year4 => year = num(&mut i, 4, 4)?,
                Item::Year2 => {
                    let y = num(&mut i, 2, 2)?;
                    year = if y < 69 { 2000 + y } else { 1900 + y };
                }
                Item::Month => month = num(&mut i, 1, 2)?,
                Item::Day => day = num(&mut i, 1, 2)?,
                Item::Hour24 | Item::Hour12 => hour = num(&mut i, 1, 2)?,
                Item::Minute => minute = num(&mut i, 1, 2)?,
                Item::Second => second = num(&mut i, 1, 2)?,
                Item::Fraction => {
                    let start = i;
                    let v = num(&mut i, 1, 9)?;
                    let digits = u32::try_from(i - start).map_err(|_| DatetimeMismatch)?;
                    nanos = v * 10i64.pow(9 - digits);
                }
                Item::AmPm => {
                    let w = b.get(i..i + 2).ok_or(DatetimeMismatch)?;
                    pm = Some(match w.to_ascii_lowercase().as_slice() {
                        b"am" => false,
                        b"pm" => true,
                        _ => return Err(DatetimeMismatch),
                    });
                    i += 2;
                }
                Item::MonthAbbr | Item::MonthName => {
                    let rest = s.get(i..).ok_or(DatetimeMismatch)?.to_ascii_lowercase();
                    let full = matches!(item, Item::MonthName);
                    let (m, len) = MONTHS
                        .iter()
                        .enumerate()
                        .find_map(|(k, name)| {
                            let n = if full { *name } else { &name[..3] };
                            rest.starts_with(n).then_some((k as i64 + 1, n.len()))
                        })
                        .ok_or(DatetimeMismatch)?;
                    month = m;
                    i += len;
                }
                Item::Offset => {
                    if b.get(i) == Some(&b'Z') {
                        i += 1;
                        continue;
                    }
                    let sign = match b.get(i) {
                        Some(b'+') => 1,
                        Some(b'-') => -1,
                        _ => return Err(DatetimeMismatch),
                    };
                    i += 1;
                    let hh = num(&mut i, 2, 2)?;
                    if b.get(i) == Some(&b':') {
                        i += 1;
                    }
                    let mm = num(&mut i, 2, 2)?;
                    offset_s = sign * (hh * 3600 + mm * 60);
                }
            }
        }
        if i != b.len() {
            return Err(DatetimeMismatch);
        }
        if let Some(pm) = pm {
            if !(1..=12).contains(&hour) {
                return Err(DatetimeMismatch);
            }
            hour = hour % 12 + if pm { 12 } else { 0 };
        }
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(DatetimeMismatch);
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
        secs.checked_mul(NS_PER_SEC)
            .and_then(|v| v.checked_add(nanos))
            .ok_or(DatetimeMismatch)
    }

    /// Format ns since the Unix epoch (UTC) with this format.
    pub fn format_ns(&self, ns: i64) -> String {
        let secs = ns.div_euclid(NS_PER_SEC);
        let nanos = ns.rem_euclid(NS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (sod / 3600, sod % 3600 / 60, sod % 60);
        let mut out = String::new();
        for item in &self.items {
            match *item {
                Item::Lit(c) => out.push(c),
                Item::Year4 => out.push_str(&format!("{y:04}")),
                Item::Year2 => out.push_str(&format!("{:02}", y.rem_euclid(100))),
                Item::Month => out.push_str(&format!("{m:02}")),
                Item::Day => out.push_str(&format!("{d:02}")),
                Item::Hour24 => out.push_str(&format!("{hh:02}")),
                Item::Hour12 => out.push_str(&format!("{:02}", (hh + 11) % 12 + 1)),
                Item::Minute => out.push_str(&format!("{mm:02}")),
                Item::Second => out.push_str(&format!("{ss:02}")),
                Item::Fraction => out.push_str(&format!("{:06}", nanos / 1000)),
                Item::AmPm => out.push_str(if hh < 12 { "AM" } else { "PM" }),
                Item::MonthAbbr | Item::MonthName => {
                    let name = MONTHS[usize::try_from(m - 1).unwrap_or(0) % 12];
                    let name = if matches!(item, Item::MonthAbbr) {
                        &name[..3]
                    } else {
                        name
                    };
                    let mut cs = name.chars();
                    if let Some(f) = cs.next() {
                        out.push(f.to_ascii_uppercase());
                        out.push_str(cs.as_str());
                    }
                }
                Item::Offset => out.push_str("+0000"),
            }
        }
        out
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_dates_and_times() {
        let f = DatetimeFormat::parse("%Y-%m-%d").unwrap();
        assert_eq!(f.parse_ns("1970-01-02").unwrap(), 86_400 * NS_PER_SEC);
        assert_eq!(
            f.parse_ns("2020-07-23").unwrap(),
            1_595_462_400 * NS_PER_SEC
        );
        assert_eq!(f.format_ns(1_595_462_400 * NS_PER_SEC), "2020-07-23");
        assert!(f.parse_ns("2020-02-30").is_err());
        assert!(f.parse_ns("2020-07-23x").is_err());
        assert!(f.parse_ns("20-07-23").is_err());
        let g = DatetimeFormat::parse("%d %b %Y %I:%M:%S.%f %p").unwrap();
        let ns = g.parse_ns("05 Mar 1969 01:02:03.5 PM").unwrap();
        assert_eq!(g.format_ns(ns), "05 Mar 1969 01:02:03.500000 PM");
        assert!(DatetimeFormat::parse("%Q").is_err());
    }
}
