//! Alerts, severity tiers and SIEM formatting (syslog RFC 5424 and JSON lines).
//! Formatting only: transport is in `forward`.

use serde::{Deserialize, Serialize};

use crate::time::{iso_date, DAY_MS};

/// Alert severity tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Score below 70.
    Low,
    /// Score 70 to below 85.
    Medium,
    /// Score 85 and above.
    High,
}

impl Severity {
    /// Tier of a 0–100 score.
    pub fn from_score(score: f32) -> Self {
        if score >= 85.0 {
            Severity::High
        } else if score >= 70.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// RFC 5424 severity number (2 critical, 4 warning, 5 notice).
    pub fn syslog_severity(self) -> u8 {
        match self {
            Severity::High => 2,
            Severity::Medium => 4,
            Severity::Low => 5,
        }
    }
}

/// One alert about one person (at most one open per person).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// User id.
    pub user: String,
    /// Day it fired (days since 1970-01-01).
    pub day: i32,
    /// Highest score while open, 0–100.
    pub score: f32,
    /// Tier of that score.
    pub severity: Severity,
    /// Plain-language reasons.
    pub reasons: Vec<String>,
}

/// Syslog facility used for alerts: local4 (20), a common choice for security tools.
const FACILITY_LOCAL4: u8 = 20;

impl Alert {
    /// An RFC 5424 message:
    /// `<PRI>1 TIMESTAMP HOST custodia-risk - risk-alert [risk@32473 …] BOM reasons`.
    ///
    /// PRI is facility local4 (20) × 8 + the severity's syslog severity; TIMESTAMP is
    /// `now_ms` (when the message is sent) in RFC 3339 UTC with milliseconds; the
    /// structured data carries the person, score, severity, the day the alert fired and
    /// the reasons, with `"`, `\` and `]` escaped as §6.3.3 requires; the message repeats
    /// the reasons as UTF-8 text, which §6.4 says must start with a byte-order mark.
    pub fn to_syslog(&self, hostname: &str, now_ms: i64) -> String {
        let pri = u16::from(FACILITY_LOCAL4) * 8 + u16::from(self.severity.syslog_severity());
        let host = sanitize_header(hostname);
        let message = one_line(&self.reasons.join("; "));
        format!(
            "<{pri}>1 {} {host} custodia-risk - risk-alert [risk@32473 person=\"{}\" score=\"{:.0}\" \
             severity=\"{}\" alert_date=\"{}\" reasons=\"{}\"] \u{feff}{message}",
            rfc3339_millis(now_ms),
            escape_sd(&self.user),
            self.score,
            severity_name(self.severity),
            iso_date(self.day),
            escape_sd(&message),
        )
    }

    /// One JSON object on one line, for JSON-lines forwarding.
    pub fn to_json_line(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            ts_ms: i64,
            date: String,
            user: &'a str,
            score: f32,
            severity: Severity,
            reasons: &'a [String],
        }
        let line = Line {
            ts_ms: i64::from(self.day) * DAY_MS,
            date: iso_date(self.day),
            user: &self.user,
            score: (self.score * 10.0).round() / 10.0,
            severity: self.severity,
            reasons: &self.reasons,
        };
        // Serializing plain strings and numbers cannot fail; fall back to an empty object.
        serde_json::to_string(&line).unwrap_or_else(|_| "{}".to_string())
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}

/// RFC 5424 header fields are printable US-ASCII without spaces, at most 255 chars.
fn sanitize_header(s: &str) -> String {
    let cleaned: String = s.chars().filter(|c| c.is_ascii_graphic()).take(255).collect();
    if cleaned.is_empty() {
        "-".to_string()
    } else {
        cleaned
    }
}

/// RFC 3339 UTC with milliseconds, as RFC 5424 §6.2.3 allows: `2026-12-04T09:30:00.125Z`.
fn rfc3339_millis(ms: i64) -> String {
    let day = ms.div_euclid(DAY_MS);
    let in_day = ms.rem_euclid(DAY_MS);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let day = i32::try_from(day).unwrap_or(0);
    format!("{}T{h:02}:{m:02}:{s:02}.{milli:03}Z", iso_date(day))
}

/// Control characters (line breaks above all) would split a syslog line: spaces instead.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// RFC 5424 §6.3.3: in an SD-PARAM value, `"`, `\` and `]` are escaped with `\`.
fn escape_sd(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::time::days_from_civil;

    fn alert(user: &str, score: f32) -> Alert {
        Alert {
            user: user.to_string(),
            day: days_from_civil(2010, 3, 12),
            score,
            severity: Severity::from_score(score),
            reasons: vec!["copied 212 files".to_string(), "left on 19 Mar 2010".to_string()],
        }
    }

    #[test]
    fn severity_tiers() {
        for (score, want) in [
            (60.0, Severity::Low),
            (69.9, Severity::Low),
            (70.0, Severity::Medium),
            (85.0, Severity::High),
        ] {
            assert_eq!(Severity::from_score(score), want, "score {score}");
        }
    }

    #[test]
    fn syslog_line_is_rfc5424_shaped() {
        let now = i64::from(days_from_civil(2010, 3, 12)) * DAY_MS + 9 * 3_600_000 + 30 * 60_000 + 125;
        let line = alert("ACM2278", 91.0).to_syslog("risk host", now);
        assert_eq!(
            line,
            "<162>1 2010-03-12T09:30:00.125Z riskhost custodia-risk - risk-alert \
             [risk@32473 person=\"ACM2278\" score=\"91\" severity=\"high\" alert_date=\"2010-03-12\" \
             reasons=\"copied 212 files; left on 19 Mar 2010\"] \u{feff}copied 212 files; left on 19 Mar 2010"
        );
        let mut odd = alert("a\"]b\\c", 61.0);
        odd.reasons = vec!["x]y\"z\nnext".to_string()];
        let escaped = odd.to_syslog("", 0);
        assert!(escaped.contains("person=\"a\\\"\\]b\\\\c\""), "{escaped}");
        assert!(escaped.contains("reasons=\"x\\]y\\\"z next\"]"), "{escaped}");
        assert!(escaped.starts_with("<165>1 1970-01-01T00:00:00.000Z - "), "{escaped}");
        assert!(!escaped.contains('\n'));
    }

    #[test]
    fn json_line_round_trips() {
        let line = alert("ACM2278", 72.25).to_json_line();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["user"], "ACM2278");
        assert_eq!(v["severity"], "medium");
        assert_eq!(v["date"], "2010-03-12");
        assert_eq!(v["reasons"][1], "left on 19 Mar 2010");
        assert!(!line.contains('\n'));
    }
}
