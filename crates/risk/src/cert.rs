//! Streaming reader for the CMU CERT Insider Threat r4.2 layout.
//!
//! Files (header row optional, detected by a first field named `id`):
//! `logon.csv` id,date,user,pc,activity · `device.csv` id,date,user,pc,activity ·
//! `file.csv` id,date,user,pc,filename,content (r6 adds activity,to_removable_media,
//! from_removable_media) · `email.csv` id,date,user,pc,to,cc,bcc,from,size,attachments,content ·
//! `http.csv` id,date,user,pc,url,content (r6 adds activity) · `psychometric.csv`
//! employee_name,user_id,O,C,E,A,N · `LDAP/YYYY-MM.csv`
//! employee_name,user_id,email,role,business_unit,functional_unit,department,team,supervisor.
//! Dates are `MM/DD/YYYY HH:MM:SS`. Rows are streamed one at a time; nothing holds a file.

use std::collections::{HashMap, HashSet};

use aho_corasick::AhoCorasick;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::error::RiskError;
use crate::event::WebCategory;
use crate::features::{Aggregator, Obs};
use crate::time::{days_from_civil, parse_any_datetime};

/// Options of the CERT reader.
#[derive(Debug, Clone)]
pub struct CertOptions {
    /// Host substrings of competitors' sites (CERT data names none; empty by default).
    pub competitor_hosts: Vec<String>,
    /// How many recent row ids per file are remembered to drop duplicates (rounded up to a
    /// power of two; older ids may be forgotten sooner when their hashes collide).
    pub duplicate_window: usize,
}

impl Default for CertOptions {
    fn default() -> Self {
        Self {
            competitor_hosts: Vec::new(),
            duplicate_window: 4096,
        }
    }
}

/// One skipped row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedRow {
    /// File name, e.g. `logon.csv`.
    pub file: String,
    /// 1-based line number in that file.
    pub line: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// What reading a CERT directory found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CertReport {
    /// Rows read per file (header and skipped rows included).
    pub rows: Vec<(String, u64)>,
    /// Rows turned into events.
    pub events: u64,
    /// Malformed rows kept for the report (first 100).
    pub malformed: Vec<MalformedRow>,
    /// Number of malformed rows in total.
    pub malformed_count: u64,
    /// Duplicate rows dropped.
    pub duplicates: u64,
    /// Rows whose timestamp was earlier than the previous row of the same file.
    pub out_of_order: u64,
    /// Users seen in activity files but in no LDAP snapshot.
    pub unknown_users: u64,
    /// LDAP snapshot months read (`YYYY-MM`).
    pub ldap_months: Vec<String>,
    /// Months missing between the first and last snapshot.
    pub missing_ldap_months: Vec<String>,
    /// Users who disappeared from the snapshots (departed).
    pub departed_users: u64,
    /// Psychometric rows read (kept out of scoring on purpose: latent and unfair).
    pub psychometric_rows: u64,
}

const MAX_MALFORMED_KEPT: usize = 100;

#[derive(Clone, Copy)]
enum Kind {
    Logon,
    Device,
    File,
    Email,
    Http,
}

struct Columns {
    date: usize,
    user: usize,
    pc: usize,
    activity: Option<usize>,
    url: usize,
    to: usize,
    cc: usize,
    bcc: usize,
    from: usize,
    attachments: usize,
    to_removable: Option<usize>,
    from_removable: Option<usize>,
    min_fields: usize,
}

impl Columns {
    fn default_for(kind: Kind) -> Self {
        let mut c = Columns {
            date: 1,
            user: 2,
            pc: 3,
            activity: None,
            url: 4,
            to: 4,
            cc: 5,
            bcc: 6,
            from: 7,
            attachments: 9,
            to_removable: None,
            from_removable: None,
            min_fields: 4,
        };
        match kind {
            Kind::Logon | Kind::Device => {
                c.activity = Some(4);
                c.min_fields = 5;
            }
            Kind::File => c.min_fields = 4,
            Kind::Email => c.min_fields = 10,
            Kind::Http => c.min_fields = 5,
        }
        c
    }

    fn from_header(kind: Kind, header: &csv::ByteRecord) -> Self {
        let mut c = Self::default_for(kind);
        let find = |name: &str| {
            header
                .iter()
                .position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
        };
        let mut required = Vec::new();
        // Named columns missing from a header read as empty (an index past the row's end).
        let mut set = |slot: &mut usize, names: &[&str]| match names.iter().find_map(|n| find(n)) {
            Some(i) => {
                *slot = i;
                required.push(i);
            }
            None => *slot = usize::MAX,
        };
        set(&mut c.date, &["date", "timestamp", "time"]);
        set(&mut c.user, &["user", "user_id"]);
        set(&mut c.pc, &["pc", "host"]);
        match kind {
            Kind::Http => set(&mut c.url, &["url"]),
            Kind::Email => {
                set(&mut c.to, &["to"]);
                set(&mut c.cc, &["cc"]);
                set(&mut c.bcc, &["bcc"]);
                set(&mut c.from, &["from"]);
                set(&mut c.attachments, &["attachments", "attachment_count"]);
            }
            _ => {}
        }
        c.activity = find("activity").or(c.activity);
        c.to_removable = find("to_removable_media");
        c.from_removable = find("from_removable_media");
        if let Some(a) = c.activity {
            required.push(a);
        }
        c.min_fields = required.iter().max().map_or(1, |m| m + 1);
        c
    }
}

/// Reads a CERT r4.2 directory into `agg`, streaming every file.
///
/// LDAP snapshots are read first (peer groups, departures); activity files follow. Missing
/// optional files are reported, not fatal; a directory with no activity file is an error.
pub fn read_cert_dir(dir: &Path, options: &CertOptions, agg: &mut Aggregator) -> Result<CertReport, RiskError> {
    let mut report = CertReport::default();
    let ldap = read_ldap(dir, agg, &mut report)?;
    let internal_domain = ldap.domain.clone();
    let mut found = false;
    for (name, kind) in [
        ("logon.csv", Kind::Logon),
        ("device.csv", Kind::Device),
        ("file.csv", Kind::File),
        ("email.csv", Kind::Email),
        ("http.csv", Kind::Http),
    ] {
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        found = true;
        let mut reader = ActivityReader {
            kind,
            name,
            options,
            internal_domain: &internal_domain,
            report: &mut report,
            agg,
            categorizer: UrlCategorizer::new(&options.competitor_hosts),
        };
        reader.read(&path)?;
    }
    if !found {
        return Err(RiskError::NoData {
            path: dir.display().to_string(),
        });
    }
    let psych = dir.join("psychometric.csv");
    if psych.is_file() {
        let mut rows = 0u64;
        let mut r = open_csv(&psych)?;
        let mut rec = csv::ByteRecord::new();
        while read_row(&mut r, &mut rec, "psychometric.csv", &mut report)? {
            rows += 1;
        }
        report.psychometric_rows = rows.saturating_sub(1);
    }
    // Unknown users: seen in activity but in no snapshot.
    if !ldap.known.is_empty() {
        report.unknown_users = (0..agg.user_count() as u32)
            .filter(|id| !ldap.known.contains(id))
            .count() as u64;
    }
    Ok(report)
}

struct Ldap {
    domain: Vec<u8>,
    known: HashSet<u32>,
}

fn read_ldap(dir: &Path, agg: &mut Aggregator, report: &mut CertReport) -> Result<Ldap, RiskError> {
    let ldap_dir = ["LDAP", "ldap"].iter().map(|n| dir.join(n)).find(|p| p.is_dir());
    let mut known = HashSet::new();
    let mut domains: HashMap<Vec<u8>, u64> = HashMap::new();
    let Some(ldap_dir) = ldap_dir else {
        return Ok(Ldap {
            domain: b"dtaa.com".to_vec(),
            known,
        });
    };
    let entries = std::fs::read_dir(&ldap_dir).map_err(|source| RiskError::Io {
        path: ldap_dir.display().to_string(),
        source,
    })?;
    let mut months: Vec<(i32, u32, std::path::PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let mut parts = stem.split('-');
        if let (Some(Ok(y)), Some(Ok(m))) = (parts.next().map(str::parse::<i32>), parts.next().map(str::parse::<u32>)) {
            if (1..=12).contains(&m) {
                months.push((y, m, path));
            }
        }
    }
    months.sort();
    let mut present_in: Vec<Vec<u32>> = Vec::new();
    for (y, m, path) in &months {
        let name = format!("LDAP/{y:04}-{m:02}.csv");
        let mut r = open_csv(path)?;
        let mut rec = csv::ByteRecord::new();
        let mut cols = (1usize, 2usize, 3usize, 5usize, 6usize);
        let mut first = true;
        let mut present = Vec::new();
        while read_row(&mut r, &mut rec, &name, report)? {
            if first {
                first = false;
                if rec.iter().any(|f| f.eq_ignore_ascii_case(b"user_id")) {
                    let find = |n: &str, d: usize| {
                        rec.iter()
                            .position(|f| f.trim_ascii().eq_ignore_ascii_case(n.as_bytes()))
                            .unwrap_or(d)
                    };
                    cols = (
                        find("user_id", 1),
                        find("email", 2),
                        find("role", 3),
                        find("functional_unit", 5),
                        find("department", 6),
                    );
                    continue;
                }
            }
            let Some(user) = rec.get(cols.0).map(<[u8]>::trim_ascii).filter(|u| !u.is_empty()) else {
                malformed(report, &name, &rec, "missing user_id");
                continue;
            };
            let id = agg.user_id(user);
            known.insert(id);
            present.push(id);
            if let Some(email) = rec.get(cols.1) {
                if let Some(at) = email.iter().position(|&b| b == b'@') {
                    if let Some(d) = email.get(at + 1..) {
                        *domains.entry(d.to_ascii_lowercase()).or_default() += 1;
                    }
                }
            }
            let text = |i: usize| {
                rec.get(i)
                    .map(|b| String::from_utf8_lossy(b.trim_ascii()).into_owned())
                    .filter(|s| !s.is_empty())
            };
            let (role, fu, dept) = (text(cols.2), text(cols.3), text(cols.4));
            if let Some(p) = agg.profile_mut(id) {
                p.role = role.or(p.role.take());
                p.functional_unit = fu.or(p.functional_unit.take());
                p.department = dept.or(p.department.take());
            }
        }
        report.ldap_months.push(format!("{y:04}-{m:02}"));
        present_in.push(present);
    }
    // Missing months between first and last snapshot.
    if let (Some(first), Some(last)) = (months.first(), months.last()) {
        let (mut y, mut m) = (first.0, first.1);
        let have: HashSet<(i32, u32)> = months.iter().map(|(y, m, _)| (*y, *m)).collect();
        while (y, m) < (last.0, last.1) {
            if !have.contains(&(y, m)) {
                report.missing_ldap_months.push(format!("{y:04}-{m:02}"));
            }
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        }
    }
    // Departed: present in some snapshot but not in the last one. The departure month is
    // the first snapshot after their last presence; the last day is refined from activity.
    if let Some(last_present) = present_in.last() {
        let last_set: HashSet<u32> = last_present.iter().copied().collect();
        let mut last_seen: HashMap<u32, usize> = HashMap::new();
        for (i, present) in present_in.iter().enumerate() {
            for &id in present {
                last_seen.insert(id, i);
            }
        }
        for (&id, &i) in &last_seen {
            if last_set.contains(&id) {
                continue;
            }
            let bound = months.get(i + 1).map(|(y, m, _)| {
                let (ny, nm) = if *m == 12 { (y + 1, 1) } else { (*y, m + 1) };
                days_from_civil(ny, nm, 1) - 1
            });
            if let Some(p) = agg.profile_mut(id) {
                p.departed = true;
                p.last_day = bound;
            }
            report.departed_users += 1;
        }
    }
    let domain = domains
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d)
        .unwrap_or_else(|| b"dtaa.com".to_vec());
    Ok(Ldap { domain, known })
}

fn open_csv(path: &Path) -> Result<csv::Reader<BufReader<File>>, RiskError> {
    let file = File::open(path).map_err(|source| RiskError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(BufReader::with_capacity(1 << 16, file)))
}

/// Reads the next row; a row the csv parser rejects is reported and skipped.
fn read_row(
    r: &mut csv::Reader<BufReader<File>>,
    rec: &mut csv::ByteRecord,
    name: &str,
    report: &mut CertReport,
) -> Result<bool, RiskError> {
    loop {
        match r.read_byte_record(rec) {
            Ok(more) => return Ok(more),
            Err(e) => {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    return Err(RiskError::Csv {
                        path: name.to_string(),
                        reason: e.to_string(),
                    });
                }
                let line = e.position().map_or(0, |p| p.line());
                push_malformed(report, name, line, e.to_string());
            }
        }
    }
}

fn malformed(report: &mut CertReport, name: &str, rec: &csv::ByteRecord, reason: &str) {
    let line = rec.position().map_or(0, |p| p.line());
    push_malformed(report, name, line, reason.to_string());
}

fn push_malformed(report: &mut CertReport, name: &str, line: u64, reason: String) {
    report.malformed_count += 1;
    if report.malformed.len() < MAX_MALFORMED_KEPT {
        report.malformed.push(MalformedRow {
            file: name.to_string(),
            line,
            reason,
        });
    }
}

struct ActivityReader<'a> {
    kind: Kind,
    name: &'a str,
    options: &'a CertOptions,
    internal_domain: &'a [u8],
    report: &'a mut CertReport,
    agg: &'a mut Aggregator,
    categorizer: UrlCategorizer,
}

impl ActivityReader<'_> {
    fn read(&mut self, path: &Path) -> Result<(), RiskError> {
        let mut r = open_csv(path)?;
        let mut rec = csv::ByteRecord::new();
        let mut cols = Columns::default_for(self.kind);
        let mut rows = 0u64;
        let mut first = true;
        let mut last_stamp = (i32::MIN, 0u32);
        // Recently seen row ids: a direct-mapped table of 64-bit id hashes (a hash set with
        // eviction would cost a probe, an insert and a remove per row).
        let slots = self.options.duplicate_window.max(1).next_power_of_two();
        let mut recent: Vec<u64> = vec![0; slots];
        while read_row(&mut r, &mut rec, self.name, self.report)? {
            rows += 1;
            if first {
                first = false;
                if rec.get(0).is_some_and(|f| f.trim_ascii().eq_ignore_ascii_case(b"id")) {
                    cols = Columns::from_header(self.kind, &rec);
                    continue;
                }
            }
            if rec.len() < cols.min_fields {
                let reason = format!("expected at least {} fields, found {}", cols.min_fields, rec.len());
                malformed(self.report, self.name, &rec, &reason);
                continue;
            }
            let Some((day, second)) = rec.get(cols.date).and_then(parse_any_datetime) else {
                malformed(self.report, self.name, &rec, "date is not MM/DD/YYYY HH:MM:SS");
                continue;
            };
            let user = rec.get(cols.user).unwrap_or_default().trim_ascii();
            if user.is_empty() {
                malformed(self.report, self.name, &rec, "user is empty");
                continue;
            }
            // Duplicates: the same row id seen among the recent rows of this file.
            let id_hash = hash_bytes(rec.get(0).unwrap_or_default());
            let slot = (id_hash as usize) & (slots - 1);
            if recent.get(slot) == Some(&id_hash) {
                self.report.duplicates += 1;
                continue;
            }
            if let Some(entry) = recent.get_mut(slot) {
                *entry = id_hash;
            }
            if (day, second) < last_stamp {
                self.report.out_of_order += 1;
            }
            last_stamp = (day, second);
            let obs = match self.observation(&rec, &cols) {
                Ok(obs) => obs,
                Err(reason) => {
                    malformed(self.report, self.name, &rec, &reason);
                    continue;
                }
            };
            let uid = self.agg.user_id(user);
            self.agg.record(uid, day, second, obs);
            self.report.events += 1;
        }
        self.report.rows.push((self.name.to_string(), rows));
        Ok(())
    }

    fn observation(&mut self, rec: &csv::ByteRecord, cols: &Columns) -> Result<Obs, String> {
        let field = |i: usize| rec.get(i).unwrap_or_default();
        match self.kind {
            Kind::Logon => {
                let activity = cols.activity.map(field).unwrap_or_default();
                let pc = self.agg.pc_id(field(cols.pc).trim_ascii());
                if activity.eq_ignore_ascii_case(b"logon") {
                    Ok(Obs::Logon { pc })
                } else if activity.eq_ignore_ascii_case(b"logoff") {
                    Ok(Obs::Logoff)
                } else {
                    Err(format!(
                        "activity {:?} is not Logon or Logoff",
                        String::from_utf8_lossy(activity)
                    ))
                }
            }
            Kind::Device => {
                let activity = cols.activity.map(field).unwrap_or_default();
                if activity.eq_ignore_ascii_case(b"connect") {
                    Ok(Obs::DeviceConnect)
                } else if activity.eq_ignore_ascii_case(b"disconnect") {
                    Ok(Obs::DeviceDisconnect)
                } else {
                    Err(format!(
                        "activity {:?} is not Connect or Disconnect",
                        String::from_utf8_lossy(activity)
                    ))
                }
            }
            Kind::File => {
                // r4.2: every row is a copy to removable media; r6 says so per row.
                let flag = |i: Option<usize>| i.map(|i| field(i).eq_ignore_ascii_case(b"true"));
                let activity = cols.activity.map(field).unwrap_or_default();
                if contains_ci(activity, b"delete") {
                    return Ok(Obs::FileDelete { files: 1 });
                }
                match (flag(cols.to_removable), flag(cols.from_removable)) {
                    (Some(false), Some(true)) => Ok(Obs::FileCopy {
                        to_removable: false,
                        files: 1,
                    }),
                    // r6 open/write rows on local disks: activity, but no exfiltration.
                    (Some(false), _) if cols.activity.is_some() => Ok(Obs::Other),
                    _ => Ok(Obs::FileCopy {
                        to_removable: true,
                        files: 1,
                    }),
                }
            }
            Kind::Email => {
                // r6 logs received mail too ("View"): only sent mail counts.
                if cols.activity.is_some_and(|i| contains_ci(field(i), b"view")) {
                    return Ok(Obs::Other);
                }
                let mut external = 0u32;
                let mut personal = 0u32;
                let mut total = 0u32;
                for i in [cols.to, cols.cc, cols.bcc] {
                    for addr in field(i).split(|&b| b == b';') {
                        let addr = addr.trim_ascii();
                        if addr.is_empty() {
                            continue;
                        }
                        total += 1;
                        let domain = addr
                            .iter()
                            .position(|&b| b == b'@')
                            .and_then(|at| addr.get(at + 1..))
                            .unwrap_or_default();
                        if domain.eq_ignore_ascii_case(self.internal_domain) {
                            continue;
                        }
                        if is_personal_domain(domain) {
                            personal += 1;
                        } else {
                            external += 1;
                        }
                    }
                }
                let from = field(cols.from);
                let from_domain = from
                    .iter()
                    .position(|&b| b == b'@')
                    .and_then(|at| from.get(at + 1..))
                    .unwrap_or_default();
                if !from_domain.is_empty()
                    && !from_domain.eq_ignore_ascii_case(self.internal_domain)
                    && (external > 0 || personal > 0)
                {
                    // Sent from a personal account: the whole message leaves the company.
                    personal = personal.max(1);
                }
                let raw = field(cols.attachments).trim_ascii();
                let attachments = match std::str::from_utf8(raw).ok().and_then(|s| s.parse().ok()) {
                    Some(n) => n,
                    None => raw.split(|&b| b == b';').filter(|a| !a.trim_ascii().is_empty()).count() as u32,
                };
                Ok(Obs::Email {
                    external,
                    personal,
                    total,
                    attachments,
                })
            }
            Kind::Http => {
                let category = self.categorizer.categorize(field(cols.url));
                let upload = match cols.activity {
                    // r6: explicit upload activity.
                    Some(i) => contains_ci(field(i), b"upload"),
                    // r4.2 has no activity: a visit to a cloud or leak site is the upload.
                    None => category == WebCategory::CloudStorage,
                };
                Ok(Obs::Web { category, upload })
            }
        }
    }
}

fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(b)
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

const PERSONAL_DOMAINS: &[&[u8]] = &[
    b"gmail.com",
    b"yahoo.com",
    b"hotmail.com",
    b"aol.com",
    b"msn.com",
    b"comcast.net",
    b"verizon.net",
    b"juno.com",
    b"cox.net",
    b"earthlink.net",
    b"outlook.com",
    b"live.com",
    b"icloud.com",
    b"protonmail.com",
    b"gmx.com",
    b"mail.com",
    b"yandex.com",
    b"att.net",
    b"sbcglobal.net",
    b"charter.net",
    b"optonline.net",
    b"netzero.net",
    b"bellsouth.net",
];

fn is_personal_domain(domain: &[u8]) -> bool {
    PERSONAL_DOMAINS.iter().any(|d| domain.eq_ignore_ascii_case(d))
}

const JOB_HOSTS: &[&[u8]] = &[
    b"job",
    b"career",
    b"monster",
    b"indeed",
    b"linkedin",
    b"simplyhired",
    b"glassdoor",
    b"hire",
    b"recruit",
    b"craigslist",
    b"ziprecruiter",
    b"dice.com",
    b"headhunter",
    b"resume",
    b"jobs",
    b"employ",
    b"staffing",
    b"vacanc",
    b"talent",
];

const CLOUD_HOSTS: &[&[u8]] = &[
    b"wikileaks",
    b"dropbox",
    b"drive.google",
    b"www.box.com",
    b"app.box.com",
    b"onedrive",
    b"mega.nz",
    b"mega.io",
    b"pastebin",
    b"mediafire",
    b"wetransfer",
    b"sendspace",
    b"rapidshare",
    b"4shared",
    b"icloud",
    b"filedropper",
    b"upload",
    b"leak",
    b"cloud",
    b"fileshar",
    b"file-shar",
    b"sendfile",
    b"filesend",
    b"transfer",
    b"paste",
    b"storage",
];

const WEBMAIL_HOSTS: &[&[u8]] = &[b"mail.", b"gmail", b"hotmail", b"outlook.live"];

/// Categorizes a URL by its host name (competitor, cloud/leak, job site, webmail, other).
pub fn categorize_url(url: &[u8], competitor_hosts: &[String]) -> WebCategory {
    UrlCategorizer::new(competitor_hosts).categorize(url)
}

/// Host-name keyword matcher: one Aho-Corasick pass over the host per URL.
struct UrlCategorizer {
    matcher: Option<AhoCorasick>,
    categories: Vec<WebCategory>,
}

impl UrlCategorizer {
    fn new(competitor_hosts: &[String]) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut categories = Vec::new();
        let competitors = competitor_hosts.iter().filter(|c| !c.is_empty()).map(|c| c.as_bytes());
        let lists: [(WebCategory, Vec<&[u8]>); 4] = [
            (WebCategory::Competitor, competitors.collect()),
            (WebCategory::CloudStorage, CLOUD_HOSTS.to_vec()),
            (WebCategory::JobSite, JOB_HOSTS.to_vec()),
            (WebCategory::Webmail, WEBMAIL_HOSTS.to_vec()),
        ];
        for (category, list) in lists {
            for p in list {
                patterns.push(p.to_vec());
                categories.push(category);
            }
        }
        let matcher = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .ok();
        Self { matcher, categories }
    }

    fn categorize(&self, url: &[u8]) -> WebCategory {
        let host = host_of(url);
        let Some(matcher) = &self.matcher else {
            return WebCategory::Other;
        };
        // Patterns are ordered by priority: the lowest matching pattern index wins.
        matcher
            .find_overlapping_iter(host)
            .map(|m| m.pattern().as_usize())
            .min()
            .and_then(|i| self.categories.get(i).copied())
            .unwrap_or(WebCategory::Other)
    }
}

fn host_of(url: &[u8]) -> &[u8] {
    // Byte scan for "://" (a windowed slice compare costs a memcmp call per byte).
    let scheme_end = url
        .iter()
        .position(|&b| b == b':')
        .filter(|&i| url.get(i + 1..i + 3) == Some(b"//"));
    let rest = scheme_end.and_then(|i| url.get(i + 3..)).unwrap_or(url);
    let end = rest
        .iter()
        .position(|&b| b == b'/' || b == b'?' || b == b':')
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or(rest)
}
