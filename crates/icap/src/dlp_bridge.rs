//! The DLP engine behind the ICAP server: every part of an upload the proxy
//! hands over is inspected by a [`dlp::Inspector`] (exact data match on the
//! vault's customers, sensitive patterns, classified-document fingerprints),
//! the verdict is recorded, and only then is the upload let through or
//! stopped.

use std::sync::Arc;

use crate::{InspectionOutcome, Inspector, Upload};

/// Records one upload's verdict (in custodia: the audit ledger, through the
/// gateway). An `Err` stops the upload: recorded before released.
pub type RecordVerdict = dyn Fn(&Upload, &dlp::ScanResult) -> Result<(), String> + Send + Sync;

/// What inspects one body part: a [`dlp::Inspector`], or an engine that first
/// brings its index up to date (an `Err` stops the upload: fail closed).
pub trait ContentScanner: Send + Sync {
    /// The verdict on `bytes`.
    fn scan(&self, bytes: &[u8], context: &dlp::ScanContext) -> Result<dlp::ScanResult, String>;
}

impl ContentScanner for dlp::Inspector {
    fn scan(&self, bytes: &[u8], context: &dlp::ScanContext) -> Result<dlp::ScanResult, String> {
        Ok(self.inspect(bytes, context))
    }
}

/// An [`Inspector`] that asks the DLP engine about each body part.
pub struct DlpInspector {
    engine: Arc<dyn ContentScanner>,
    employment: dlp::Employment,
    record: Box<RecordVerdict>,
}

impl DlpInspector {
    /// Inspects uploads with `engine`, recording every verdict with `record`.
    pub fn new(
        engine: Arc<dyn ContentScanner>,
        record: impl Fn(&Upload, &dlp::ScanResult) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        DlpInspector {
            engine,
            employment: dlp::Employment::Active,
            record: Box::new(record),
        }
    }
}

impl Inspector for DlpInspector {
    fn inspect(&self, upload: &Upload) -> InspectionOutcome {
        let context = dlp::ScanContext {
            channel: dlp::Channel::Upload,
            employment: self.employment,
        };
        // Each part is a file or a form field of its own; the upload is as
        // bad as its worst part.
        let mut worst: Option<dlp::ScanResult> = None;
        for part in &upload.parts {
            match self.engine.scan(&part.data, &context) {
                Ok(result) if worst.as_ref().is_none_or(|w| result.verdict >= w.verdict) => worst = Some(result),
                Ok(_) => {}
                Err(_) => {
                    return InspectionOutcome::Block {
                        reason: "this upload was stopped because custodia could not bring its data protection \
                                 index up to date; try again later or contact your security team"
                            .into(),
                    }
                }
            }
        }
        let Some(result) = worst else {
            return InspectionOutcome::Allow;
        };
        if (self.record)(upload, &result).is_err() {
            return InspectionOutcome::Block {
                reason: "this upload was stopped because custodia could not record it in its audit ledger; \
                         try again later or contact your security team"
                    .into(),
            };
        }
        match result.verdict {
            dlp::Verdict::Allow | dlp::Verdict::Alert => InspectionOutcome::Allow,
            dlp::Verdict::Block => InspectionOutcome::Block {
                reason: block_reason(&result),
            },
            // A proxied upload has no way to ask the user for a reason.
            dlp::Verdict::RequireJustification => InspectionOutcome::Block {
                reason: format!(
                    "{} Uploads like this need a business justification, which a web upload cannot carry; \
                     use the company's approved channel or ask your security team.",
                    block_reason(&result)
                ),
            },
        }
    }
}

/// What the user is told: counts and kinds, never the matched values.
fn block_reason(result: &dlp::ScanResult) -> String {
    let mut what = Vec::new();
    if result.customer_records > 0 {
        what.push(format!(
            "{} customer record{} from the company's vault",
            result.customer_records,
            if result.customer_records == 1 { "" } else { "s" }
        ));
    }
    if !result.fingerprint_hits.is_empty() {
        what.push(format!(
            "content of {} classified document{}",
            result.fingerprint_hits.len(),
            if result.fingerprint_hits.len() == 1 { "" } else { "s" }
        ));
    }
    if !result.findings.is_empty() {
        what.push("sensitive data such as account or identity numbers".into());
    }
    if result.uninspectable.is_some() {
        what.push("content that cannot be inspected (for example an encrypted archive)".into());
    }
    if what.is_empty() {
        "This upload was stopped by the company's data protection policy.".into()
    } else {
        format!("This upload contains {}.", what.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::UploadPart;

    fn engine() -> Arc<dlp::Inspector> {
        let mut edm = dlp::EdmIndex::new(&dlp::EdmKey::from_bytes([1; 32]), dlp::EdmConfig::default());
        edm.add("C-1", &[(dlp::FieldKind::Email, "an.tran@khach.vn")], Some("VN"));
        let fingerprints = dlp::FingerprintIndex::new(
            &dlp::FingerprintKey::from_bytes([2; 32]),
            dlp::FingerprintConfig::default(),
        );
        Arc::new(dlp::Inspector::new(edm, fingerprints, dlp::Policy::default(), dlp::Limits::default()).unwrap())
    }

    fn upload(body: &str) -> Upload {
        Upload {
            method: "POST".into(),
            url: "http://files.example/upload".into(),
            headers: vec![],
            parts: vec![UploadPart {
                field_name: None,
                filename: None,
                content_type: Some("text/plain".into()),
                data: bytes::Bytes::from(body.to_owned()),
            }],
        }
    }

    #[test]
    fn a_verdict_that_cannot_be_recorded_stops_the_upload() {
        let failing = DlpInspector::new(engine(), |_, _| Err("ledger unavailable".into()));
        match failing.inspect(&upload("lunch menu")) {
            InspectionOutcome::Block { reason } => {
                assert!(reason.contains("could not record"), "{reason}");
                assert!(!reason.contains("ledger unavailable"), "internal errors stay internal");
            }
            InspectionOutcome::Allow => panic!("an unrecorded upload was released"),
        }
        let recording = DlpInspector::new(engine(), |_, _| Ok(()));
        assert_eq!(recording.inspect(&upload("lunch menu")), InspectionOutcome::Allow);
        // One customer record is an alert, not a block: it passes, recorded.
        assert_eq!(
            recording.inspect(&upload("write to an.tran@khach.vn")),
            InspectionOutcome::Allow
        );
    }
}
