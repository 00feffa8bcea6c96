//! Alerts, severity tiers and SIEM formatting (syslog RFC 5424 and JSON lines).
//! Formatting only: transport belongs to the server.

use serde::Serialize;

use crate::time::{iso_date, DAY_MS};

/// Alert severity tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
    /// RFC 5424 line: `<PRI>1 TIMESTAMP HOST custodia-risk - risk-alert [SD] MSG`.
    ///
    /// The timestamp is the alert day at 00:00:00Z; `hostname` is the sender's name.
    pub fn to_syslog(&self, hostname: &str) -> String {
        let pri = u16::from(FACILITY_LOCAL4) * 8 + u16::from(self.severity.syslog_severity());
        let host = sanitize_header(hostname);
        let user = escape_sd(&self.user);
        let message = self.reasons.join("; ");
        format!(
            "<{pri}>1 {}T00:00:00Z {host} custodia-risk - risk-alert [risk@32473 user=\"{user}\" score=\"{:.0}\" severity=\"{}\"] {}",
            iso_date(self.day),
            self.score,
            severity_name(self.severity),
            message.replace(['\n', '\r'], " ")
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

/// RFC 5424 structured-data values escape `"`, `\` and `]`.
fn escape_sd(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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
        let line = alert("ACM2278", 91.0).to_syslog("risk host");
        assert_eq!(
            line,
            "<162>1 2010-03-12T00:00:00Z riskhost custodia-risk - risk-alert \
             [risk@32473 user=\"ACM2278\" score=\"91\" severity=\"high\"] \
             copied 212 files; left on 19 Mar 2010"
        );
        let escaped = alert("a\"]b", 61.0).to_syslog("");
        assert!(escaped.contains("user=\"a\\\"\\]b\""), "{escaped}");
        assert!(escaped.starts_with("<165>1 2010-03-12T00:00:00Z - "), "{escaped}");
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
