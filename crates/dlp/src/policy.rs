//! Verdicts from a small rule table keyed by channel, employment status and thresholds.
//! Every rule whose scope and condition hold applies; the strictest verdict wins.

use serde::{Deserialize, Serialize};

use crate::detect::{self, Detection, DetectorKind};
use crate::fingerprint::FingerprintHit;

/// What to do with the content. Ordered from most to least permissive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Let it through.
    Allow,
    /// Let it through and raise an alert.
    Alert,
    /// Hold until the user gives a business justification.
    RequireJustification,
    /// Stop it.
    Block,
}

/// What was done with content after its verdict. Where the sender can give a business
/// justification, only [`Verdict::Block`] stops content; a proxied upload cannot carry
/// one, so there everything stricter than [`Verdict::Alert`] is stopped too, and the
/// ledger records what was done, not the verdict alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// The content went on.
    Released,
    /// The content was stopped.
    Stopped,
}

impl Enforcement {
    /// What a channel that can ask for a justification does on `verdict`.
    pub fn with_justification(verdict: Verdict) -> Self {
        if verdict == Verdict::Block {
            Enforcement::Stopped
        } else {
            Enforcement::Released
        }
    }

    /// What a channel that cannot ask for a justification (a proxied upload) does on
    /// `verdict`.
    pub fn without_justification(verdict: Verdict) -> Self {
        if verdict <= Verdict::Alert {
            Enforcement::Released
        } else {
            Enforcement::Stopped
        }
    }
}

/// Where the content is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Saved or shared as a file inside the company.
    File,
    /// Uploaded to a web service.
    Upload,
    /// Sent by email.
    Email,
    /// Copied to removable media.
    Usb,
    /// Printed.
    Print,
    /// Posted to a chat (Slack, Teams): it leaves the company as an upload does.
    Chat,
}

/// Employment status of the person moving the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Employment {
    /// Regular employee.
    Active,
    /// Resigned or under notice: treated more strictly.
    Departing,
    /// Contractor or other external worker.
    Contractor,
}

/// Facts about one transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanContext {
    /// Channel.
    pub channel: Channel,
    /// Employment status.
    pub employment: Employment,
}

/// Condition of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum Condition {
    /// At least this many distinct customers matched.
    CustomersAtLeast {
        /// Threshold.
        count: usize,
    },
    /// At least this many customers found by an email address or phone number
    /// alone, with no second field of theirs near ([`Evidence::contacts`]).
    ContactsAtLeast {
        /// Threshold.
        count: usize,
    },
    /// At least `count` distinct values found by one of `detectors`, each with at least
    /// `min_confidence`: a card number repeated on a receipt is one card, and a weak
    /// detection does not count because a strong one of another value was made.
    DetectorsAtLeast {
        /// Detectors counted together.
        detectors: Vec<DetectorKind>,
        /// Threshold: distinct values, compared without separators or case.
        count: usize,
        /// Confidence floor, met by each value counted.
        min_confidence: f32,
    },
    /// A registered document was found.
    DocumentMatched,
    /// Some content could not be inspected.
    Uninspectable,
}

/// One row of the rule table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Shown in results to explain a verdict.
    pub name: String,
    /// Channels the rule applies to; empty means all.
    pub channels: Vec<Channel>,
    /// Employment statuses the rule applies to; empty means all.
    pub employment: Vec<Employment>,
    /// When it fires.
    pub condition: Condition,
    /// What it decides.
    pub verdict: Verdict,
}

/// Facts a policy decides on.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// Distinct customers matched.
    pub customers: usize,
    /// Other customers whose email address or phone number was found alone.
    pub contacts: usize,
    /// Detections, each with its confidence and its value's key.
    pub detections: &'a [Detection],
    /// Document fingerprint hits.
    pub fingerprint_hits: &'a [FingerprintHit],
    /// Whether anything was uninspectable.
    pub uninspectable: bool,
}

/// The rule table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Rules; order does not matter.
    pub rules: Vec<Rule>,
}

/// Channels by which content leaves the company; `File` stays inside.
const OUTBOUND: [Channel; 5] = [
    Channel::Upload,
    Channel::Email,
    Channel::Usb,
    Channel::Print,
    Channel::Chat,
];
const SECRETS: [DetectorKind; 5] = [
    DetectorKind::PrivateKey,
    DetectorKind::AwsAccessKey,
    DetectorKind::GithubToken,
    DetectorKind::SlackToken,
    DetectorKind::GenericSecret,
];
const NATIONAL_IDS: [DetectorKind; 3] = [
    DetectorKind::PaymentCard,
    DetectorKind::UsSsn,
    DetectorKind::VnCitizenId,
];

fn rule(name: &str, channels: &[Channel], employment: &[Employment], condition: Condition, verdict: Verdict) -> Rule {
    Rule {
        name: name.to_string(),
        channels: channels.to_vec(),
        employment: employment.to_vec(),
        condition,
        verdict,
    }
}

impl Default for Policy {
    fn default() -> Self {
        use Condition::*;
        use Verdict::*;
        let departing = [Employment::Departing];
        let customers = |count| CustomersAtLeast { count };
        let contacts = |count| ContactsAtLeast { count };
        let detectors = |list: &[DetectorKind], count, min_confidence| DetectorsAtLeast {
            detectors: list.to_vec(),
            count,
            min_confidence,
        };
        Self {
            rules: vec![
                rule("customer record seen", &[], &[], customers(1), Alert),
                rule(
                    "customer record leaving",
                    &OUTBOUND,
                    &[],
                    customers(1),
                    RequireJustification,
                ),
                rule("bulk customer records", &[], &[], customers(5), Block),
                rule("departing with customer records", &[], &departing, customers(1), Block),
                // A customer's email or phone alone is in every reply to them; ten
                // customers' are a list. Most mail leaves without its recipients
                // counted (a sent message's own envelope is not content).
                rule("customer contact list", &[], &[], contacts(10), Alert),
                rule(
                    "customer contact list leaving",
                    &OUTBOUND,
                    &[],
                    contacts(50),
                    RequireJustification,
                ),
                rule("departing with customer contacts", &[], &departing, contacts(10), Block),
                rule("classified document", &[], &[], DocumentMatched, RequireJustification),
                rule(
                    "classified document to usb",
                    &[Channel::Usb],
                    &[],
                    DocumentMatched,
                    Block,
                ),
                rule(
                    "departing with classified document",
                    &[],
                    &departing,
                    DocumentMatched,
                    Block,
                ),
                rule("secret seen", &[], &[], detectors(&SECRETS, 1, 0.7), Alert),
                rule("secret leaving", &OUTBOUND, &[], detectors(&SECRETS, 1, 0.7), Block),
                rule(
                    "card or national id seen",
                    &[],
                    &[],
                    detectors(&NATIONAL_IDS, 1, 0.8),
                    Alert,
                ),
                rule(
                    "bulk cards or national ids",
                    &[],
                    &[],
                    detectors(&NATIONAL_IDS, 5, 0.8),
                    Block,
                ),
                rule("uninspectable content", &[], &[], Uninspectable, Alert),
                rule(
                    "uninspectable content leaving",
                    &OUTBOUND,
                    &[],
                    Uninspectable,
                    RequireJustification,
                ),
                rule(
                    "departing with uninspectable content",
                    &[],
                    &departing,
                    Uninspectable,
                    Block,
                ),
            ],
        }
    }
}

impl Policy {
    /// The strictest verdict of all applicable rules, and the names of those that set it.
    pub fn decide(&self, context: &ScanContext, evidence: &Evidence<'_>) -> (Verdict, Vec<String>) {
        let fired: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.channels.is_empty() || r.channels.contains(&context.channel))
            .filter(|r| r.employment.is_empty() || r.employment.contains(&context.employment))
            .filter(|r| holds(&r.condition, evidence))
            .collect();
        let verdict = fired.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Allow);
        let names = fired
            .iter()
            .filter(|r| r.verdict == verdict)
            .map(|r| r.name.clone())
            .collect();
        (verdict, names)
    }
}

fn holds(condition: &Condition, evidence: &Evidence<'_>) -> bool {
    match condition {
        Condition::CustomersAtLeast { count } => evidence.customers >= *count,
        Condition::ContactsAtLeast { count } => evidence.contacts >= *count,
        Condition::DetectorsAtLeast {
            detectors,
            count,
            min_confidence,
        } => {
            let values = evidence
                .detections
                .iter()
                .filter(|d| detectors.contains(&d.detector) && d.confidence >= *min_confidence)
                .map(|d| d.value);
            *count > 0 && detect::distinct_values(values) >= *count
        }
        Condition::DocumentMatched => !evidence.fingerprint_hits.is_empty(),
        Condition::Uninspectable => evidence.uninspectable,
    }
}
