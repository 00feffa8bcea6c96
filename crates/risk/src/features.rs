//! Daily per-user feature vectors, aggregated from events in any order.

use rustc_hash::FxHashMap;

use crate::event::{CopyDirection, Event, EventKind, HrEvent, WebCategory};
use crate::time::DAY_MS;

/// One daily per-user measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// Logons.
    Logons,
    /// Logons, device connections and uploads outside 07:00–19:00.
    AfterHoursActivity,
    /// Distinct computers dedicated to someone else that the person logged on to.
    OtherPcLogons,
    /// Removable device connections.
    DeviceConnects,
    /// Files copied to removable media.
    FilesToRemovable,
    /// Files copied from removable media.
    FilesFromRemovable,
    /// Files deleted.
    FilesDeleted,
    /// Emails sent.
    EmailsSent,
    /// Emails with attachments to external recipients.
    ExternalAttachmentEmails,
    /// Emails with attachments to (or from) personal webmail.
    PersonalAttachmentEmails,
    /// Emails with 20 or more recipients.
    MassEmails,
    /// Job-site visits.
    JobSiteVisits,
    /// Competitor site visits.
    CompetitorVisits,
    /// Uploads to cloud storage, file sharing or leak sites.
    CloudUploads,
    /// Vault record reads.
    VaultReads,
    /// Vault searches.
    VaultSearches,
    /// Records exported from the vault.
    RecordsExported,
    /// Documents downloaded from the vault.
    DocumentsDownloaded,
    /// Distinct customers touched in the vault.
    CustomersTouched,
    /// Vault accesses to customers outside the person's own accounts.
    OutsideOwnAccounts,
    /// DLP policy matches.
    DlpHits,
    /// Exfiltration-channel use outside 07:00–19:00: removable drive connections, cloud
    /// uploads, attachments to personal addresses.
    AfterHoursExfil,
}

/// Number of [`Feature`]s.
pub const FEATURE_COUNT: usize = 22;

impl Feature {
    /// All features, in index order.
    pub const ALL: [Feature; FEATURE_COUNT] = [
        Feature::Logons,
        Feature::AfterHoursActivity,
        Feature::OtherPcLogons,
        Feature::DeviceConnects,
        Feature::FilesToRemovable,
        Feature::FilesFromRemovable,
        Feature::FilesDeleted,
        Feature::EmailsSent,
        Feature::ExternalAttachmentEmails,
        Feature::PersonalAttachmentEmails,
        Feature::MassEmails,
        Feature::JobSiteVisits,
        Feature::CompetitorVisits,
        Feature::CloudUploads,
        Feature::VaultReads,
        Feature::VaultSearches,
        Feature::RecordsExported,
        Feature::DocumentsDownloaded,
        Feature::CustomersTouched,
        Feature::OutsideOwnAccounts,
        Feature::DlpHits,
        Feature::AfterHoursExfil,
    ];

    /// Index into a feature vector.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Mass-email threshold: recipients per message.
pub const MASS_EMAIL_RECIPIENTS: u32 = 20;

/// A compact observation, shared by the JSON and CERT ingest paths.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Obs {
    Logon {
        pc: u32,
    },
    Logoff,
    DeviceConnect,
    DeviceDisconnect,
    FileCopy {
        to_removable: bool,
        files: u64,
    },
    FileDelete {
        files: u64,
    },
    Email {
        external: u32,
        personal: u32,
        total: u32,
        attachments: u32,
    },
    Web {
        category: WebCategory,
        upload: bool,
    },
    VaultRead {
        customer: Option<u64>,
        own: bool,
    },
    VaultSearch,
    VaultExport {
        records: u64,
        customers: u64,
        own: bool,
    },
    DocDownload {
        customer: Option<u64>,
        own: bool,
    },
    Dlp {
        matches: u32,
    },
    /// Activity that feeds no feature (counts as presence only).
    Other,
}

/// Aggregated activity of one person on one day.
#[derive(Debug, Clone)]
pub(crate) struct DayAgg {
    pub day: i32,
    pub f: [f32; FEATURE_COUNT],
    pub(crate) pcs: Vec<u32>,
    pub(crate) customers: Vec<u64>,
    pub events: u32,
}

/// Who a person is: peer-group attributes and HR context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Job role (primary peer group).
    pub role: Option<String>,
    /// Department (fallback peer group).
    pub department: Option<String>,
    /// Functional unit.
    pub functional_unit: Option<String>,
    /// Day the person gave notice (online departure context).
    pub notice_day: Option<i32>,
    /// Announced or observed last working day.
    pub last_day: Option<i32>,
    /// Whether the person left (HR last day, or vanished from the LDAP snapshots).
    pub departed: bool,
}

#[derive(Debug, Default)]
pub(crate) struct UserDays {
    pub(crate) index: FxHashMap<i32, u32>,
    pub(crate) days: Vec<DayAgg>,
    pub(crate) last: Option<(i32, u32)>,
}

/// Maps identifiers to dense indices.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    map: FxHashMap<Box<[u8]>, u32>,
    pub(crate) names: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, key: &[u8]) -> u32 {
        if let Some(&id) = self.map.get(key) {
            return id;
        }
        let id = self.names.len() as u32;
        self.map.insert(key.into(), id);
        self.names.push(String::from_utf8_lossy(key).into_owned());
        id
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Rebuilds an interner from its names in id order (ids stay aligned even if two
    /// names collide, which only lossy UTF-8 conversion could cause).
    pub fn from_names(names: Vec<String>) -> Self {
        let map = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_bytes().into(), i as u32))
            .collect();
        Self { map, names }
    }
}

/// Accumulates events (in any order) into daily per-user feature vectors.
#[derive(Debug, Default)]
pub struct Aggregator {
    pub(crate) users: Interner,
    pub(crate) pcs: Interner,
    pub(crate) per_user: Vec<UserDays>,
    pub(crate) profiles: Vec<Profile>,
    pub(crate) pc_logons: Vec<Vec<(u32, u32)>>,
    pub(crate) utc_offset_ms: i64,
    pub(crate) events: u64,
    pub(crate) rejected: u64,
    /// The index of the first audit-ledger entry not yet read into this aggregation
    /// (see [`Aggregator::ledger_next`]); `None` for one that never followed a ledger.
    pub(crate) ledger_next: Option<u64>,
    /// Read from a state of format version 1, saved before positions were kept.
    pub(crate) predates_ledger_positions: bool,
}

/// 1900-01-01 and 2200-01-01 as day numbers: the accepted date range.
const EARLIEST_DAY: i64 = -25_567;
const LATEST_DAY: i64 = 84_006;

impl Aggregator {
    /// An empty aggregator; `utc_offset_minutes` shifts UTC event times to the site's local
    /// time for the after-hours indicator (CERT times are already local: use 0).
    pub fn new(utc_offset_minutes: i32) -> Self {
        Self {
            utc_offset_ms: i64::from(utc_offset_minutes) * 60_000,
            ..Self::default()
        }
    }

    /// Number of events aggregated.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// Events ignored because their timestamp was out of range.
    pub fn rejected_events(&self) -> u64 {
        self.rejected
    }

    /// Where reading the audit ledger resumes: the index of the first entry whose
    /// activity is not in this aggregation yet. Kept in the saved state with the
    /// counts, so a restart neither reads an entry twice nor skips one.
    pub fn ledger_next(&self) -> Option<u64> {
        self.ledger_next
    }

    /// Records that the ledger's entries before `next` are read.
    pub fn set_ledger_next(&mut self, next: u64) {
        self.ledger_next = Some(next);
    }

    /// Whether this state was saved before states kept a ledger position (format
    /// version 1): the server handed the engine its own accesses then, so the ledger's
    /// entries up to now are counted, unlike those of a state that never read it.
    pub fn predates_ledger_positions(&self) -> bool {
        self.predates_ledger_positions
    }

    /// The feature vector of `user` on `day` (days since 1970-01-01) as aggregated so far,
    /// indexed by [`Feature::index`]. `OtherPcLogons` and vault `CustomersTouched` from
    /// reads are filled in only when scoring.
    pub fn day_features(&self, user: &str, day: i32) -> Option<[f32; FEATURE_COUNT]> {
        let id = *self.users.map.get(user.as_bytes())?;
        let ud = self.per_user.get(id as usize)?;
        let slot = *ud.index.get(&day)?;
        ud.days.get(slot as usize).map(|d| d.f)
    }

    /// Number of distinct people seen.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// Sets (or replaces) a person's profile attributes, keeping HR context already known.
    pub fn set_profile(&mut self, user: &str, role: Option<String>, department: Option<String>) {
        let id = self.user_id(user.as_bytes());
        if let Some(p) = self.profiles.get_mut(id as usize) {
            p.role = role;
            p.department = department;
        }
    }

    pub(crate) fn profile_mut(&mut self, id: u32) -> Option<&mut Profile> {
        self.profiles.get_mut(id as usize)
    }

    /// Adds one JSON-model event.
    ///
    /// Events dated before 1900 or after 2200 are counted in
    /// [`Aggregator::rejected_events`] and otherwise ignored.
    pub fn add_event(&mut self, event: &Event) {
        let local = event.ts_ms.saturating_add(self.utc_offset_ms);
        let day = local.div_euclid(DAY_MS);
        if !(EARLIEST_DAY..=LATEST_DAY).contains(&day) {
            self.rejected += 1;
            return;
        }
        let day = day as i32;
        let second = (local.rem_euclid(DAY_MS) / 1000) as u32;
        let user = self.user_id(event.user.as_bytes());
        let obs = match &event.kind {
            EventKind::Hr(hr) => {
                self.add_hr(user, day, hr);
                return;
            }
            EventKind::VaultRead { customer, own_account } => Obs::VaultRead {
                customer: customer.as_deref().map(hash_id),
                own: *own_account,
            },
            EventKind::VaultSearch { .. } => Obs::VaultSearch,
            EventKind::VaultExport {
                records,
                customers,
                own_account,
            } => Obs::VaultExport {
                records: *records,
                customers: *customers,
                own: *own_account,
            },
            EventKind::DocumentDownload { customer, own_account } => Obs::DocDownload {
                customer: customer.as_deref().map(hash_id),
                own: *own_account,
            },
            EventKind::DlpScan { matches, .. } => Obs::Dlp { matches: *matches },
            EventKind::Logon { pc } => Obs::Logon {
                pc: self.pcs.intern(pc.as_bytes()),
            },
            EventKind::Logoff { .. } => Obs::Logoff,
            EventKind::DeviceConnect { .. } => Obs::DeviceConnect,
            EventKind::DeviceDisconnect { .. } => Obs::DeviceDisconnect,
            EventKind::FileCopy { direction, files, .. } => Obs::FileCopy {
                to_removable: *direction == CopyDirection::ToRemovable,
                files: *files,
            },
            EventKind::FileDelete { files, .. } => Obs::FileDelete { files: *files },
            EventKind::Email {
                internal,
                external,
                personal,
                attachments,
                ..
            } => Obs::Email {
                external: *external,
                personal: *personal,
                total: internal.saturating_add(*external).saturating_add(*personal),
                attachments: *attachments,
            },
            EventKind::WebVisit { category, upload } => Obs::Web {
                category: *category,
                upload: *upload,
            },
        };
        self.record(user, day, second, obs);
    }

    fn add_hr(&mut self, user: u32, day: i32, hr: &HrEvent) {
        let offset = self.utc_offset_ms;
        let Some(profile) = self.profiles.get_mut(user as usize) else {
            return;
        };
        match hr {
            HrEvent::ResignationNotice { last_day_ms } => {
                profile.notice_day = Some(profile.notice_day.map_or(day, |d| d.min(day)));
                if let Some(ms) = last_day_ms {
                    let last = ms.saturating_add(offset).div_euclid(DAY_MS);
                    if (EARLIEST_DAY..=LATEST_DAY).contains(&last) {
                        profile.last_day = Some(last as i32);
                    }
                }
            }
            HrEvent::LastDay => {
                profile.last_day = Some(day);
                profile.departed = true;
            }
            HrEvent::RoleChange { role, department } => {
                profile.role = Some(role.clone());
                if department.is_some() {
                    profile.department = department.clone();
                }
            }
            HrEvent::PoorPerformanceReview => {}
        }
    }

    pub(crate) fn user_id(&mut self, name: &[u8]) -> u32 {
        let id = self.users.intern(name);
        while self.per_user.len() <= id as usize {
            self.per_user.push(UserDays::default());
            self.profiles.push(Profile::default());
        }
        id
    }

    pub(crate) fn pc_id(&mut self, name: &[u8]) -> u32 {
        self.pcs.intern(name)
    }

    /// Records one observation for `user` on `day` at `second` of the (local) day.
    pub(crate) fn record(&mut self, user: u32, day: i32, second: u32, obs: Obs) {
        let Some(ud) = self.per_user.get_mut(user as usize) else {
            return;
        };
        let slot = match ud.last {
            Some((d, slot)) if d == day => slot,
            _ => {
                let next = ud.days.len() as u32;
                let slot = *ud.index.entry(day).or_insert(next);
                if slot == next {
                    ud.days.push(DayAgg {
                        day,
                        f: [0.0; FEATURE_COUNT],
                        pcs: Vec::new(),
                        customers: Vec::new(),
                        events: 0,
                    });
                }
                ud.last = Some((day, slot));
                slot
            }
        };
        let Some(agg) = ud.days.get_mut(slot as usize) else {
            return;
        };
        self.events += 1;
        agg.events += 1;
        // Clock hours only: weekend work is common and legitimate in most places.
        let after_hours = !(7 * 3600..19 * 3600).contains(&second);
        let f = &mut agg.f;
        let mut add = |feature: Feature, v: f32| {
            if let Some(x) = f.get_mut(feature.index()) {
                *x += v;
            }
        };
        match obs {
            Obs::Logon { pc } => {
                add(Feature::Logons, 1.0);
                if after_hours {
                    add(Feature::AfterHoursActivity, 1.0);
                }
                if !agg.pcs.contains(&pc) {
                    agg.pcs.push(pc);
                }
                while self.pc_logons.len() <= pc as usize {
                    self.pc_logons.push(Vec::new());
                }
                if let Some(counts) = self.pc_logons.get_mut(pc as usize) {
                    match counts.iter_mut().find(|(u, _)| *u == user) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((user, 1)),
                    }
                }
            }
            Obs::Logoff | Obs::DeviceDisconnect | Obs::Other | Obs::VaultSearch => {
                if matches!(obs, Obs::VaultSearch) {
                    add(Feature::VaultSearches, 1.0);
                }
            }
            Obs::DeviceConnect => {
                add(Feature::DeviceConnects, 1.0);
                if after_hours {
                    add(Feature::AfterHoursActivity, 1.0);
                    add(Feature::AfterHoursExfil, 1.0);
                }
            }
            Obs::FileCopy { to_removable, files } => {
                if to_removable {
                    add(Feature::FilesToRemovable, files as f32);
                } else {
                    add(Feature::FilesFromRemovable, files as f32);
                }
            }
            Obs::FileDelete { files } => add(Feature::FilesDeleted, files as f32),
            Obs::Email {
                external,
                personal,
                total,
                attachments,
            } => {
                add(Feature::EmailsSent, 1.0);
                if attachments > 0 && external > 0 {
                    add(Feature::ExternalAttachmentEmails, 1.0);
                }
                if attachments > 0 && personal > 0 {
                    add(Feature::PersonalAttachmentEmails, 1.0);
                    if after_hours {
                        add(Feature::AfterHoursExfil, 1.0);
                    }
                }
                if total >= MASS_EMAIL_RECIPIENTS {
                    add(Feature::MassEmails, 1.0);
                }
            }
            Obs::Web { category, upload } => match category {
                WebCategory::JobSite => add(Feature::JobSiteVisits, 1.0),
                WebCategory::Competitor => add(Feature::CompetitorVisits, 1.0),
                WebCategory::CloudStorage if upload => {
                    add(Feature::CloudUploads, 1.0);
                    if after_hours {
                        add(Feature::AfterHoursActivity, 1.0);
                        add(Feature::AfterHoursExfil, 1.0);
                    }
                }
                _ => {}
            },
            Obs::VaultRead { customer, own } => {
                add(Feature::VaultReads, 1.0);
                if !own {
                    add(Feature::OutsideOwnAccounts, 1.0);
                }
                if let Some(c) = customer {
                    agg.customers.push(c);
                }
            }
            Obs::VaultExport {
                records,
                customers,
                own,
            } => {
                add(Feature::RecordsExported, records as f32);
                add(Feature::CustomersTouched, customers as f32);
                if !own {
                    add(Feature::OutsideOwnAccounts, 1.0);
                }
            }
            Obs::DocDownload { customer, own } => {
                add(Feature::DocumentsDownloaded, 1.0);
                if !own {
                    add(Feature::OutsideOwnAccounts, 1.0);
                }
                if let Some(c) = customer {
                    agg.customers.push(c);
                }
            }
            Obs::Dlp { matches } => add(Feature::DlpHits, matches as f32),
        }
    }

    /// Finishes aggregation: sorts days, counts distinct customers and logons on
    /// computers dedicated to someone else.
    pub(crate) fn finish(self) -> Aggregated {
        // A computer is someone's dedicated machine when one person made most of its logons.
        let owners: Vec<Option<u32>> = self
            .pc_logons
            .iter()
            .map(|counts| {
                let total: u32 = counts.iter().map(|(_, n)| n).sum();
                let (user, top) = counts.iter().max_by_key(|(_, n)| *n).copied()?;
                (total >= 5 && top * 2 > total).then_some(user)
            })
            .collect();
        let mut users = Vec::with_capacity(self.per_user.len());
        for (uid, mut ud) in self.per_user.into_iter().enumerate() {
            ud.days.sort_by_key(|d| d.day);
            for agg in &mut ud.days {
                let others = agg
                    .pcs
                    .iter()
                    .filter(|&&pc| matches!(owners.get(pc as usize), Some(Some(o)) if *o != uid as u32))
                    .count();
                if let Some(x) = agg.f.get_mut(Feature::OtherPcLogons.index()) {
                    *x = others as f32;
                }
                if !agg.customers.is_empty() {
                    agg.customers.sort_unstable();
                    agg.customers.dedup();
                    if let Some(x) = agg.f.get_mut(Feature::CustomersTouched.index()) {
                        *x += agg.customers.len() as f32;
                    }
                }
                agg.pcs = Vec::new();
                agg.customers = Vec::new();
            }
            users.push(ud.days);
        }
        Aggregated {
            names: self.users.names,
            profiles: self.profiles,
            days: users,
            events: self.events,
        }
    }
}

/// Finished aggregation, ready for scoring.
#[derive(Debug)]
pub(crate) struct Aggregated {
    pub names: Vec<String>,
    pub profiles: Vec<Profile>,
    pub days: Vec<Vec<DayAgg>>,
    pub events: u64,
}

/// Stable 64-bit FNV-1a hash of an identifier (customer ids are kept as hashes only).
pub(crate) fn hash_id(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
