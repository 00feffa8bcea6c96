//! The DLP engine behind the ICAP server: every part of an upload the proxy
//! hands over is inspected by a [`dlp::Inspector`] (exact data match on the
//! vault's customers, sensitive patterns, classified-document fingerprints),
//! the verdict is recorded, and only then is the upload let through or
//! stopped.

use std::sync::Arc;

use crate::{InspectionOutcome, Inspector, PartOrigin, Upload};

/// Records one upload's verdict and what is done with it (in custodia: the audit
/// ledger, through the gateway), with who sent it. An `Err` stops the upload:
/// recorded before released.
pub type RecordVerdict =
    dyn Fn(&Upload, &Sender, &dlp::ScanResult, dlp::Enforcement) -> Result<(), String> + Send + Sync;

/// Finds who sent an upload from what the proxy said ([`Upload::user`]). An `Err`
/// (the directory cannot be read) stops the upload: fail closed.
pub type IdentifySender = dyn Fn(&Upload) -> Result<Sender, String> + Send + Sync;

/// Who sent an upload, as the deployment's directory of people knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// Their id in the directory, when the proxy's user name is one person's.
    pub person: Option<String>,
    /// How strictly what they send is judged.
    pub employment: dlp::Employment,
    /// A fixed word for the ledger on how they were found (no input text), if any.
    pub note: Option<&'static str>,
}

impl Sender {
    /// Whether the upload was stopped without being inspected (the directory of people
    /// or the DLP index could not be read): nothing of it, not even a tunnel's host,
    /// is known to hold no customer data.
    pub fn stopped_uninspected(&self) -> bool {
        matches!(self.note, Some(DIRECTORY_UNREADABLE | INDEX_NOT_CURRENT))
    }

    /// Someone nobody identified, judged as an active employee.
    pub fn unidentified() -> Sender {
        Sender {
            person: None,
            employment: dlp::Employment::Active,
            note: None,
        }
    }
}

/// What inspects an upload's parts: a [`dlp::Inspector`], or an engine that first
/// brings its index up to date (an `Err` stops the upload: fail closed).
pub trait ContentScanner: Send + Sync {
    /// The verdict on the parts of one upload and its credentials, taken together
    /// (see [`dlp::Inspector::inspect_parts_and_credentials`]).
    fn scan(
        &self,
        parts: &[&[u8]],
        credentials: &[&str],
        context: &dlp::ScanContext,
    ) -> Result<dlp::ScanResult, String>;
}

impl ContentScanner for dlp::Inspector {
    fn scan(
        &self,
        parts: &[&[u8]],
        credentials: &[&str],
        context: &dlp::ScanContext,
    ) -> Result<dlp::ScanResult, String> {
        Ok(self.inspect_parts_and_credentials(parts, credentials, context))
    }
}

/// An [`Inspector`] that asks the DLP engine about each body part.
pub struct DlpInspector {
    engine: Arc<dyn ContentScanner>,
    identify: Box<IdentifySender>,
    record: Box<RecordVerdict>,
}

impl DlpInspector {
    /// Inspects uploads with `engine`, recording every verdict with `record`; every
    /// sender is [`Sender::unidentified`] until [`DlpInspector::identifying`] says how
    /// to find them.
    pub fn new(
        engine: Arc<dyn ContentScanner>,
        record: impl Fn(&Upload, &Sender, &dlp::ScanResult, dlp::Enforcement) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        DlpInspector {
            engine,
            identify: Box::new(|_| Ok(Sender::unidentified())),
            record: Box::new(record),
        }
    }

    /// Judges each upload by its sender, found by `identify`: a departing person's
    /// uploads by the stricter rules.
    pub fn identifying(mut self, identify: impl Fn(&Upload) -> Result<Sender, String> + Send + Sync + 'static) -> Self {
        self.identify = Box::new(identify);
        self
    }
}

impl Inspector for DlpInspector {
    fn inspect(&self, upload: &Upload) -> InspectionOutcome {
        let sender = match (self.identify)(upload) {
            Ok(sender) => sender,
            Err(error) => {
                let nobody = Sender {
                    person: None,
                    employment: dlp::Employment::Contractor,
                    note: Some(DIRECTORY_UNREADABLE),
                };
                return self.stop_uninspected(
                    upload,
                    &nobody,
                    &error,
                    "upload stopped: the directory of people could not be read to tell who sends it",
                    "this upload was stopped because custodia could not tell who is sending it; \
                     try again later or contact your security team",
                );
            }
        };
        let context = dlp::ScanContext {
            channel: dlp::Channel::Upload,
            employment: sender.employment,
        };
        // The parts are one upload: a customer list split over several files or
        // fields, each under the block threshold, counts whole (judged part by part,
        // ten files of four customers each passed).
        let (credentials, parts): (Vec<_>, Vec<_>) = upload
            .parts
            .iter()
            .partition(|part| part.origin == PartOrigin::Credentials);
        let parts: Vec<&[u8]> = parts.iter().map(|part| part.data.as_ref()).collect();
        let credentials: Vec<String> = credentials
            .iter()
            .map(|part| String::from_utf8_lossy(&part.data).into_owned())
            .collect();
        let credentials: Vec<&str> = credentials.iter().map(String::as_str).collect();
        let result = match self.engine.scan(&parts, &credentials, &context) {
            Ok(result) => result,
            Err(error) => {
                let sender = Sender {
                    note: Some(INDEX_NOT_CURRENT),
                    ..sender
                };
                return self.stop_uninspected(
                    upload,
                    &sender,
                    &error,
                    "upload stopped: the data protection index could not be brought up to date",
                    "this upload was stopped because custodia could not bring its data protection \
                     index up to date; try again later or contact your security team",
                );
            }
        };
        // A proxied upload has no way to ask the user for a reason, and a body the
        // server could not read is stopped whatever was found in the rest.
        let enforcement = match upload.unreadable {
            Some(_) => dlp::Enforcement::Stopped,
            None => dlp::Enforcement::without_justification(result.verdict),
        };
        if (self.record)(upload, &sender, &result, enforcement).is_err() {
            return InspectionOutcome::Block {
                reason: "this upload was stopped because custodia could not record it in its audit ledger; \
                         try again later or contact your security team"
                    .into(),
            };
        }
        match (result.verdict, &upload.unreadable) {
            (dlp::Verdict::Allow | dlp::Verdict::Alert, None) => InspectionOutcome::Allow,
            (dlp::Verdict::Allow | dlp::Verdict::Alert, Some(unreadable)) => InspectionOutcome::Block {
                reason: unreadable.to_string(),
            },
            (dlp::Verdict::Block, _) => InspectionOutcome::Block {
                reason: block_reason(&result),
            },
            (dlp::Verdict::RequireJustification, _) => InspectionOutcome::Block {
                reason: format!(
                    "{} Uploads like this need a business justification, which a web upload cannot carry; \
                     use the company's approved channel or ask your security team.",
                    block_reason(&result)
                ),
            },
        }
    }
}

impl DlpInspector {
    /// Stops an upload that could not be inspected (the directory of people or the
    /// vault could not be read), and records the stop as a deny before answering, as
    /// every decision is (found in review: neither stop was recorded nor logged).
    /// Nothing was inspected, so the record holds no counts, and `sender.note` says
    /// why; a record that fails still stops it. `logged` goes to the log with the
    /// error, `reason` to the user.
    fn stop_uninspected(
        &self,
        upload: &Upload,
        sender: &Sender,
        error: &str,
        logged: &str,
        reason: &str,
    ) -> InspectionOutcome {
        let result = dlp::ScanResult {
            verdict: dlp::Verdict::Block,
            rules: Vec::new(),
            customer_records: 0,
            customer_contacts: 0,
            customers: Vec::new(),
            findings: Vec::new(),
            fingerprint_hits: Vec::new(),
            uninspectable: None,
        };
        let recorded = (self.record)(upload, sender, &result, dlp::Enforcement::Stopped);
        tracing::warn!(client = ?upload.client_ip, %error, recorded = recorded.is_ok(), "{logged}");
        if let Err(not_recorded) = recorded {
            tracing::error!(
                client = ?upload.client_ip,
                error = %not_recorded,
                "the stop of an upload that could not be inspected is not in the ledger"
            );
        }
        InspectionOutcome::Block { reason: reason.into() }
    }
}

/// The ledger's word for an upload stopped because the directory of people could
/// not be read to find its sender ([`Sender::note`]).
const DIRECTORY_UNREADABLE: &str = "sender:directory-unreadable";

/// The ledger's word for an upload stopped because the DLP index could not be brought
/// up to date with the vault before inspecting it.
const INDEX_NOT_CURRENT: &str = "dlp:index-not-current";

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
    if result.customer_contacts > 0 {
        what.push(format!(
            "the email addresses or phone numbers of {} other customer{}",
            result.customer_contacts,
            if result.customer_contacts == 1 { "" } else { "s" }
        ));
    }
    if !result.fingerprint_hits.is_empty() {
        what.push(format!(
            "content of {} classified document{}",
            result.fingerprint_hits.len(),
            if result.fingerprint_hits.len() == 1 { "" } else { "s" }
        ));
    }
    // Named by kind; emails and phones alone are contact details, which the customer
    // counts already speak for.
    let kinds = [
        (&[dlp::DetectorKind::PaymentCard][..], "payment card numbers"),
        (&[dlp::DetectorKind::Iban][..], "bank account numbers"),
        (
            &[dlp::DetectorKind::UsSsn, dlp::DetectorKind::VnCitizenId][..],
            "national identity numbers",
        ),
        (
            &[
                dlp::DetectorKind::AwsAccessKey,
                dlp::DetectorKind::GithubToken,
                dlp::DetectorKind::SlackToken,
                dlp::DetectorKind::GenericSecret,
                dlp::DetectorKind::PrivateKey,
            ][..],
            "secrets such as access keys or private keys",
        ),
    ];
    for (detectors, words) in kinds {
        if result.findings.iter().any(|f| detectors.contains(&f.detector)) {
            what.push(words.into());
        }
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
        upload_of_parts(&[body])
    }

    fn upload_of_parts(bodies: &[&str]) -> Upload {
        Upload {
            method: "POST".into(),
            url: "http://files.example/upload".into(),
            headers: vec![],
            parts: bodies
                .iter()
                .enumerate()
                .map(|(i, body)| UploadPart {
                    origin: PartOrigin::Field,
                    field_name: Some(format!("file{i}")),
                    filename: Some(format!("part{i}.txt")),
                    content_type: Some("text/plain".into()),
                    data: bytes::Bytes::from(body.to_string()),
                })
                .collect(),
            unreadable: None,
            user: crate::ProxyUser::Anonymous,
            client_ip: None,
        }
    }

    #[test]
    fn a_customer_list_split_over_parts_counts_whole() {
        let mut edm = dlp::EdmIndex::new(&dlp::EdmKey::from_bytes([1; 32]), dlp::EdmConfig::default());
        let mut rows = Vec::new();
        for i in 0..6 {
            let (email, phone) = (format!("khach{i}@khach.vn"), format!("+84 90 555 01{i:02}"));
            edm.add(
                format!("C-{i}"),
                &[
                    (dlp::FieldKind::Email, email.as_str()),
                    (dlp::FieldKind::Phone, phone.as_str()),
                ],
                Some("VN"),
            );
            rows.push(format!("{email}, {phone}"));
        }
        let fingerprints = dlp::FingerprintIndex::new(
            &dlp::FingerprintKey::from_bytes([2; 32]),
            dlp::FingerprintConfig::default(),
        );
        // A company that lets a record or two go up with an alert, and blocks five.
        let rule = |name: &str, count, verdict| dlp::policy::Rule {
            name: name.into(),
            channels: vec![],
            employment: vec![],
            condition: dlp::policy::Condition::CustomersAtLeast { count },
            verdict,
        };
        let policy = dlp::Policy {
            rules: vec![
                rule("customer record seen", 1, dlp::Verdict::Alert),
                rule("bulk customer records", 5, dlp::Verdict::Block),
            ],
        };
        let engine = Arc::new(dlp::Inspector::new(edm, fingerprints, policy, dlp::Limits::default()).unwrap());
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&recorded);
        let inspector = DlpInspector::new(engine, move |_, _, result, _| {
            sink.lock().unwrap().push(result.customer_records);
            Ok(())
        });
        let parts: Vec<&str> = rows.iter().map(String::as_str).collect();
        // Each part alone is one customer: an alert, let through.
        for part in &parts {
            assert_eq!(inspector.inspect(&upload(part)), InspectionOutcome::Allow);
        }
        // Together, in one upload, they are six: a bulk export, stopped.
        match inspector.inspect(&upload_of_parts(&parts)) {
            InspectionOutcome::Block { reason } => assert!(reason.contains("6 customer records"), "{reason}"),
            InspectionOutcome::Allow => panic!("a list split over six parts passed"),
        }
        assert_eq!(*recorded.lock().unwrap(), vec![1, 1, 1, 1, 1, 1, 6]);
    }

    #[test]
    fn a_verdict_that_cannot_be_recorded_stops_the_upload() {
        let failing = DlpInspector::new(engine(), |_, _, _, _| Err("ledger unavailable".into()));
        match failing.inspect(&upload("lunch menu")) {
            InspectionOutcome::Block { reason } => {
                assert!(reason.contains("could not record"), "{reason}");
                assert!(!reason.contains("ledger unavailable"), "internal errors stay internal");
            }
            InspectionOutcome::Allow => panic!("an unrecorded upload was released"),
        }
        let recording = DlpInspector::new(engine(), |_, _, _, _| Ok(()));
        assert_eq!(recording.inspect(&upload("lunch menu")), InspectionOutcome::Allow);
        // One customer record is an alert, not a block: it passes, recorded.
        assert_eq!(
            recording.inspect(&upload("write to an.tran@khach.vn")),
            InspectionOutcome::Allow
        );
    }

    /// The engine over `policy` and one customer, An Tran (email and phone).
    fn engine_over_one_customer(policy: dlp::Policy) -> Arc<dlp::Inspector> {
        let mut edm = dlp::EdmIndex::new(&dlp::EdmKey::from_bytes([1; 32]), dlp::EdmConfig::default());
        edm.add(
            "C-1",
            &[
                (dlp::FieldKind::Email, "an.tran@khach.vn"),
                (dlp::FieldKind::Phone, "+84 90 555 0101"),
            ],
            Some("VN"),
        );
        let fingerprints = dlp::FingerprintIndex::new(
            &dlp::FingerprintKey::from_bytes([2; 32]),
            dlp::FingerprintConfig::default(),
        );
        Arc::new(dlp::Inspector::new(edm, fingerprints, policy, dlp::Limits::default()).unwrap())
    }

    /// An inspector over a policy that sends every upload with one customer record to
    /// `verdict`, recording what was done with each upload.
    fn one_customer_is(verdict: dlp::Verdict) -> (DlpInspector, Arc<std::sync::Mutex<Vec<dlp::Enforcement>>>) {
        let policy = dlp::Policy {
            rules: vec![dlp::policy::Rule {
                name: "customer record".into(),
                channels: vec![],
                employment: vec![],
                condition: dlp::policy::Condition::CustomersAtLeast { count: 1 },
                verdict,
            }],
        };
        let engine = engine_over_one_customer(policy);
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&recorded);
        let inspector = DlpInspector::new(engine, move |_, _, _, enforcement| {
            sink.lock().unwrap().push(enforcement);
            Ok(())
        });
        (inspector, recorded)
    }

    #[test]
    fn what_is_recorded_is_what_the_proxy_does() {
        let row = "an.tran@khach.vn, +84 90 555 0101";
        let cases = [
            (dlp::Verdict::Alert, true, dlp::Enforcement::Released),
            // Stopped by the proxy, since a web upload cannot carry a justification:
            // recorded as stopped, not as the verdict's "allow with a reason".
            (dlp::Verdict::RequireJustification, false, dlp::Enforcement::Stopped),
            (dlp::Verdict::Block, false, dlp::Enforcement::Stopped),
        ];
        for (verdict, released, recorded_as) in cases {
            let (inspector, recorded) = one_customer_is(verdict);
            let outcome = inspector.inspect(&upload(row));
            assert_eq!(
                outcome == InspectionOutcome::Allow,
                released,
                "{verdict:?}: {outcome:?}"
            );
            assert_eq!(*recorded.lock().unwrap(), vec![recorded_as], "{verdict:?}");
        }
    }

    #[test]
    fn uploads_are_judged_by_who_sends_them() {
        // One record may go up with an alert, unless the sender is leaving.
        let rule = |name: &str, employment: Vec<dlp::Employment>, verdict| dlp::policy::Rule {
            name: name.into(),
            channels: vec![],
            employment,
            condition: dlp::policy::Condition::CustomersAtLeast { count: 1 },
            verdict,
        };
        let policy = dlp::Policy {
            rules: vec![
                rule("customer record seen", vec![], dlp::Verdict::Alert),
                rule(
                    "departing with customer records",
                    vec![dlp::Employment::Departing],
                    dlp::Verdict::Block,
                ),
            ],
        };
        let engine = engine_over_one_customer(policy);
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&recorded);
        let inspector = DlpInspector::new(engine, move |_, sender, result, _| {
            sink.lock().unwrap().push((sender.person.clone(), result.verdict));
            Ok(())
        })
        .identifying(|upload| match &upload.user {
            crate::ProxyUser::Named(name) if name == "lan.tran" => Ok(Sender {
                person: Some("p-lan".into()),
                employment: dlp::Employment::Departing,
                note: None,
            }),
            crate::ProxyUser::Named(name) if name == "broken" => Err("directory unavailable".into()),
            _ => Ok(Sender::unidentified()),
        });
        let from = |user: crate::ProxyUser| {
            let mut request = upload("an.tran@khach.vn, +84 90 555 0101");
            request.user = user;
            request
        };
        let named = |name: &str| crate::ProxyUser::Named(name.into());
        assert_eq!(inspector.inspect(&from(named("binh.le"))), InspectionOutcome::Allow);
        match inspector.inspect(&from(named("lan.tran"))) {
            InspectionOutcome::Block { reason } => assert!(reason.contains("1 customer record"), "{reason}"),
            InspectionOutcome::Allow => panic!("a departing person's customer record went up"),
        }
        assert_eq!(
            *recorded.lock().unwrap(),
            vec![
                (None, dlp::Verdict::Alert),
                (Some("p-lan".to_string()), dlp::Verdict::Block)
            ]
        );
        // A sender who cannot be looked up is stopped, and the reason does not tell the
        // user what failed inside.
        match inspector.inspect(&from(named("broken"))) {
            InspectionOutcome::Block { reason } => {
                assert!(reason.contains("who is sending"), "{reason}");
                assert!(!reason.contains("directory unavailable"), "{reason}");
            }
            InspectionOutcome::Allow => panic!("an upload from an unknown directory state went up"),
        }
        assert_eq!(recorded.lock().unwrap().len(), 3, "the stop is recorded too");
    }

    /// Keeps the level and fields of every event logged while it is the default.
    struct Logged(Arc<std::sync::Mutex<Vec<(tracing::Level, String)>>>);

    impl tracing::Subscriber for Logged {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            struct Fields(String);
            impl tracing::field::Visit for Fields {
                fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                    self.0.push_str(&format!("{}={value:?} ", field.name()));
                }
            }
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push((*event.metadata().level(), fields.0));
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn an_upload_whose_sender_cannot_be_looked_up_is_stopped_recorded_and_logged() {
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let ledger_works = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (sink, works) = (Arc::clone(&recorded), Arc::clone(&ledger_works));
        let inspector = DlpInspector::new(engine(), move |_, sender, result, enforcement| {
            if !works.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("disk I/O error".into());
            }
            sink.lock()
                .unwrap()
                .push((sender.clone(), result.verdict, result.customer_records, enforcement));
            Ok(())
        })
        .identifying(|_| Err("database error: no such table: people".into()));
        let mut request = upload("an.tran@khach.vn, +84 90 555 0101");
        request.user = crate::ProxyUser::Named("lan.tran".into());
        let logged = Arc::new(std::sync::Mutex::new(Vec::new()));
        let outcome = tracing::subscriber::with_default(Logged(Arc::clone(&logged)), || inspector.inspect(&request));
        assert!(
            matches!(&outcome, InspectionOutcome::Block { reason } if reason.contains("who is sending")),
            "{outcome:?}"
        );
        // A deny, naming why and nothing of the upload or the name.
        assert_eq!(
            *recorded.lock().unwrap(),
            vec![(
                Sender {
                    person: None,
                    employment: dlp::Employment::Contractor,
                    note: Some("sender:directory-unreadable"),
                },
                dlp::Verdict::Block,
                0,
                dlp::Enforcement::Stopped
            )]
        );
        {
            let logged = logged.lock().unwrap();
            assert_eq!(logged.len(), 1, "{logged:?}");
            assert_eq!(logged[0].0, tracing::Level::WARN);
            assert!(logged[0].1.contains("no such table: people"), "{logged:?}");
            assert!(
                !logged[0].1.contains("lan.tran") && !logged[0].1.contains("khach"),
                "{logged:?}"
            );
        }
        // A ledger that cannot take the record leaves the upload stopped, and says so.
        ledger_works.store(false, std::sync::atomic::Ordering::SeqCst);
        logged.lock().unwrap().clear();
        let outcome = tracing::subscriber::with_default(Logged(Arc::clone(&logged)), || inspector.inspect(&request));
        assert!(matches!(outcome, InspectionOutcome::Block { .. }), "{outcome:?}");
        let levels: Vec<tracing::Level> = logged.lock().unwrap().iter().map(|(level, _)| *level).collect();
        assert_eq!(levels, [tracing::Level::WARN, tracing::Level::ERROR]);
    }

    /// A scanner whose index cannot be brought up to date (the vault cannot be read).
    struct Stale;

    impl ContentScanner for Stale {
        fn scan(&self, _: &[&[u8]], _: &[&str], _: &dlp::ScanContext) -> Result<dlp::ScanResult, String> {
            Err("database is locked".into())
        }
    }

    #[test]
    fn an_upload_stopped_because_the_index_is_not_current_is_recorded_as_the_senders_and_logged() {
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&recorded);
        let inspector = DlpInspector::new(Arc::new(Stale), move |_, sender, result, enforcement| {
            sink.lock()
                .unwrap()
                .push((sender.clone(), result.verdict, result.customer_records, enforcement));
            Ok(())
        })
        .identifying(|_| {
            Ok(Sender {
                person: Some("p-lan".into()),
                employment: dlp::Employment::Departing,
                note: None,
            })
        });
        let logged = Arc::new(std::sync::Mutex::new(Vec::new()));
        let request = upload("an.tran@khach.vn, +84 90 555 0101");
        let outcome = tracing::subscriber::with_default(Logged(Arc::clone(&logged)), || inspector.inspect(&request));
        assert!(
            matches!(&outcome, InspectionOutcome::Block { reason } if reason.contains("index up to date")),
            "{outcome:?}"
        );
        assert_eq!(
            *recorded.lock().unwrap(),
            vec![(
                Sender {
                    person: Some("p-lan".into()),
                    employment: dlp::Employment::Departing,
                    note: Some("dlp:index-not-current"),
                },
                dlp::Verdict::Block,
                0,
                dlp::Enforcement::Stopped
            )]
        );
        let logged = logged.lock().unwrap();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0].0, tracing::Level::WARN);
        assert!(logged[0].1.contains("database is locked"), "{logged:?}");
        assert!(!logged[0].1.contains("khach"), "{logged:?}");
    }

    #[test]
    fn an_unreadable_upload_is_recorded_as_stopped() {
        let (inspector, recorded) = one_customer_is(dlp::Verdict::Alert);
        let mut unreadable = upload("lunch menu");
        unreadable.unreadable = Some(crate::Unreadable::MalformedMultipart);
        match inspector.inspect(&unreadable) {
            InspectionOutcome::Block { reason } => assert!(reason.contains("malformed"), "{reason}"),
            InspectionOutcome::Allow => panic!("an unreadable upload was released"),
        }
        assert_eq!(*recorded.lock().unwrap(), vec![dlp::Enforcement::Stopped]);
    }

    #[test]
    fn credentials_are_read_for_customers_but_not_for_secrets() {
        let (inspector, _) = one_customer_is(dlp::Verdict::Block);
        let with_credentials = |text: &str| {
            let mut request = upload("lunch menu");
            request.parts.push(UploadPart {
                origin: PartOrigin::Credentials,
                field_name: None,
                filename: None,
                content_type: None,
                data: bytes::Bytes::from(text.to_string()),
            });
            request
        };
        // A customer record where a cookie goes is stopped.
        assert!(matches!(
            inspector.inspect(&with_credentials("note\nan.tran@khach.vn, +84 90 555 0101\n")),
            InspectionOutcome::Block { .. }
        ));
        // A token sent as a credential is what it is for, under a policy that stops secrets.
        let engine = engine();
        let recording = DlpInspector::new(engine, |_, _, _, _| Ok(()));
        let token = "Bearer ghp_0123456789abcdefghijABCDEFGHIJ012345";
        assert_eq!(recording.inspect(&with_credentials(token)), InspectionOutcome::Allow);
        // The same token in the body is a secret leaving, and the user is told so.
        match recording.inspect(&upload(token)) {
            InspectionOutcome::Block { reason } => assert_eq!(
                reason,
                "This upload contains secrets such as access keys or private keys."
            ),
            InspectionOutcome::Allow => panic!("a token in the body went up"),
        }
        // A customer's email alone is named as the customer it is, not as a secret.
        let (strict, _) = one_customer_is(dlp::Verdict::Block);
        match strict.inspect(&upload("an.tran@khach.vn, +84 90 555 0101")) {
            InspectionOutcome::Block { reason } => assert_eq!(
                reason,
                "This upload contains 1 customer record from the company's vault."
            ),
            InspectionOutcome::Allow => panic!("a customer record went up"),
        }
    }
}
