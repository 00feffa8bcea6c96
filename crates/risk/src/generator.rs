//! Seeded synthetic CERT r4.2-layout data with labelled insiders and hard negatives.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::RiskError;
use crate::eval::{AnswerRow, Answers};
use crate::time::{cert_datetime, civil_from_days, days_from_civil, weekday};

/// Size and mix of a generated data set.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// RNG seed: the same seed gives the same files.
    pub seed: u64,
    /// People (at most 10,000).
    pub users: usize,
    /// Calendar days.
    pub days: u32,
    /// First day (days since 1970-01-01).
    pub start_day: i32,
    /// Mean web visits per person per working day (82 gives r4.2's ≈ 32.8M events).
    pub http_per_day: u32,
    /// Insiders per scenario (5 scenarios).
    pub insiders_per_scenario: usize,
    /// Hard negatives per kind (heavy USB, night admin, job browser).
    pub hard_negatives_per_kind: usize,
    /// Benign people who leave and take nothing.
    pub benign_departures: usize,
}

impl GeneratorConfig {
    /// A few thousand events: fast unit tests.
    pub fn tiny(seed: u64) -> Self {
        Self {
            seed,
            users: 60,
            days: 150,
            start_day: days_from_civil(2010, 1, 2),
            http_per_day: 4,
            insiders_per_scenario: 1,
            hard_negatives_per_kind: 2,
            benign_departures: 4,
        }
    }

    /// Roughly the size of CERT r4.2: 1,000 people × 500 days ≈ 33M events, 70 insiders.
    pub fn r42(seed: u64) -> Self {
        Self {
            seed,
            users: 1000,
            days: 500,
            start_day: days_from_civil(2010, 1, 2),
            http_per_day: 82,
            insiders_per_scenario: 14,
            hard_negatives_per_kind: 15,
            benign_departures: 85,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorSummary {
    /// Activity rows written (all five activity files).
    pub events: u64,
    /// The ground truth also written to `answers.csv`.
    pub answers: Answers,
}

const SCENARIOS: [&str; 5] = [
    "cert1_after_hours_leak",
    "cert2_job_hunt_thumb_drive",
    "cert3_admin_sabotage",
    "slow_webmail",
    "after_hours_cloud",
];

const ROLES: [(&str, &str); 8] = [
    ("Salesman", "Sales"),
    ("ProductionLineWorker", "Assembly"),
    ("ComputerProgrammer", "Software"),
    ("Engineer", "Engineering"),
    ("Accountant", "Finance"),
    ("Manager", "Management"),
    ("Technician", "Maintenance"),
    ("ITAdmin", "IT"),
];

const JOB_SITES: [&str; 6] = [
    "www.careerbuilder.com",
    "www.monster.com",
    "www.indeed.com",
    "www.simplyhired.com",
    "jobhuntersbible.com",
    "www.linkedin.com",
];
const CLOUD_SITES: [&str; 4] = ["www.dropbox.com", "wikileaks.org", "mega.nz", "wetransfer.com"];
const WEBMAIL: [&str; 4] = ["gmail.com", "yahoo.com", "hotmail.com", "comcast.net"];
const WORDS: [&str; 16] = [
    "news", "sports", "weather", "travel", "garden", "finance", "cooking", "music", "movies", "science", "health",
    "tech", "auto", "books", "games", "photo",
];

#[derive(Clone, Copy, PartialEq)]
enum Special {
    None,
    Insider(usize),
    HeavyUsb,
    NightAdmin,
    JobBrowser,
    BenignDeparture,
}

struct Person {
    id: String,
    role: usize,
    pc: String,
    start: i32,
    last_day: Option<i32>,
    special: Special,
    scenario_start: i32,
    arrive: u32,
    work_secs: u32,
    after_hours_rate: f32,
    usb_rate: f32,
    files_per_connect: f32,
    other_pc_rate: f32,
    personal_email_rate: f32,
    job_rate: f32,
    cloud_rate: f32,
    emails_per_day: f32,
    sites: Vec<String>,
    vacation: (i32, i32),
}

struct Out {
    logon: BufWriter<File>,
    device: BufWriter<File>,
    file: BufWriter<File>,
    email: BufWriter<File>,
    http: BufWriter<File>,
}

/// One activity row before sorting: (file index, second of day, text after id and date).
type Row = (u8, u32, String);

/// Writes `logon.csv`, `device.csv`, `file.csv`, `email.csv`, `http.csv`, `psychometric.csv`,
/// `LDAP/YYYY-MM.csv` and `answers.csv` into `dir`.
pub fn generate(config: &GeneratorConfig, dir: &Path) -> Result<GeneratorSummary, RiskError> {
    let specials =
        SCENARIOS.len() * config.insiders_per_scenario + 3 * config.hard_negatives_per_kind + config.benign_departures;
    if config.users > 10_000 || config.users < specials + 10 {
        return Err(RiskError::Config(format!(
            "users must be between {} (labelled people + 10) and 10000, found {}",
            specials + 10,
            config.users
        )));
    }
    if config.days < 120 {
        return Err(RiskError::Config(format!(
            "days must be at least 120 so baselines can form, found {}",
            config.days
        )));
    }
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| RiskError::Io {
            path: path.clone(),
            source,
        }
    };
    std::fs::create_dir_all(dir.join("LDAP")).map_err(io(dir))?;
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let end = config.start_day + config.days as i32 - 1;
    let people = make_people(config, &mut rng, end);
    let open = |name: &str| -> Result<BufWriter<File>, RiskError> {
        let path = dir.join(name);
        let f = File::create(&path).map_err(io(&path))?;
        Ok(BufWriter::with_capacity(1 << 16, f))
    };
    let mut out = Out {
        logon: open("logon.csv")?,
        device: open("device.csv")?,
        file: open("file.csv")?,
        email: open("email.csv")?,
        http: open("http.csv")?,
    };
    let w = |e| RiskError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    writeln!(out.logon, "id,date,user,pc,activity").map_err(w)?;
    writeln!(out.device, "id,date,user,pc,activity").map_err(w)?;
    writeln!(out.file, "id,date,user,pc,filename,content").map_err(w)?;
    writeln!(out.email, "id,date,user,pc,to,cc,bcc,from,size,attachments,content").map_err(w)?;
    writeln!(out.http, "id,date,user,pc,url,content").map_err(w)?;
    let mut events = 0u64;
    let mut rows: Vec<Row> = Vec::new();
    for day in config.start_day..=end {
        rows.clear();
        for (i, p) in people.iter().enumerate() {
            day_rows(p, i, &people, day, config, &mut rng, &mut rows);
        }
        rows.sort_by_key(|r| (r.0, r.1));
        for (kind, second, rest) in &rows {
            let id = row_id(&mut rng);
            let date = cert_datetime(day, (*second).min(86_399));
            let target = match kind {
                0 => &mut out.logon,
                1 => &mut out.device,
                2 => &mut out.file,
                3 => &mut out.email,
                _ => &mut out.http,
            };
            writeln!(target, "{id},{date},{rest}").map_err(w)?;
            events += 1;
        }
        // LDAP snapshot at each month's end lists everyone employed then.
        let (y, m, _) = civil_from_days(day);
        let (ny, nm, _) = civil_from_days(day + 1);
        if (ny, nm) != (y, m) || day == end {
            write_ldap(dir, &people, day, y, m)?;
        }
    }
    for f in [
        &mut out.logon,
        &mut out.device,
        &mut out.file,
        &mut out.email,
        &mut out.http,
    ] {
        f.flush().map_err(w)?;
    }
    let mut psych = open("psychometric.csv")?;
    writeln!(psych, "employee_name,user_id,O,C,E,A,N").map_err(w)?;
    for p in &people {
        let traits: Vec<String> = (0..5).map(|_| rng.u32(10..50).to_string()).collect();
        writeln!(psych, "Person {},{},{}", p.id, p.id, traits.join(",")).map_err(w)?;
    }
    psych.flush().map_err(w)?;
    let answers = Answers {
        rows: people
            .iter()
            .filter_map(|p| {
                let (kind, scenario) = match p.special {
                    Special::None => return None,
                    Special::Insider(s) => ("insider", SCENARIOS.get(s).copied().unwrap_or("")),
                    Special::HeavyUsb => ("heavy_usb", "hard negative"),
                    Special::NightAdmin => ("night_admin", "hard negative"),
                    Special::JobBrowser => ("job_browser", "hard negative"),
                    Special::BenignDeparture => ("benign_departure", "takes nothing"),
                };
                Some(AnswerRow {
                    user: p.id.clone(),
                    kind: kind.to_string(),
                    scenario: scenario.to_string(),
                    start: matches!(p.special, Special::Insider(_)).then_some(p.scenario_start),
                    last_day: p.last_day,
                })
            })
            .collect(),
    };
    let path = dir.join("answers.csv");
    answers.write(File::create(&path).map_err(io(&path))?)?;
    Ok(GeneratorSummary { events, answers })
}

fn write_ldap(dir: &Path, people: &[Person], day: i32, y: i32, m: u32) -> Result<(), RiskError> {
    let path = dir.join("LDAP").join(format!("{y:04}-{m:02}.csv"));
    let err = |source| RiskError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = BufWriter::new(File::create(&path).map_err(err)?);
    writeln!(
        f,
        "employee_name,user_id,email,role,business_unit,functional_unit,department,team,supervisor"
    )
    .map_err(err)?;
    for p in people {
        let employed = p.start <= day && p.last_day.is_none_or(|l| l > day);
        if !employed {
            continue;
        }
        let (role, dept) = ROLES.get(p.role).copied().unwrap_or(("Staff", "General"));
        writeln!(
            f,
            "Person {id},{id},{id}@dtaa.com,{role},1,1 - Operations,1 - {dept},1 - {dept}Team,Boss",
            id = p.id
        )
        .map_err(err)?;
    }
    f.flush().map_err(err)
}

fn make_people(config: &GeneratorConfig, rng: &mut fastrand::Rng, end: i32) -> Vec<Person> {
    let mut people: Vec<Person> = (0..config.users)
        .map(|i| {
            let letters: String = (0..3).map(|_| rng.uppercase()).collect();
            let role = if rng.f32() < 0.03 {
                ROLES.len() - 1
            } else {
                rng.usize(0..ROLES.len() - 1)
            };
            let new_hire = rng.f32() < 0.05;
            let usb = rng.f32() < 0.25;
            let vacation_start = config.start_day + rng.i32(0..config.days as i32);
            Person {
                id: format!("{letters}{i:04}"),
                role,
                pc: format!("PC-{i:04}"),
                start: if new_hire {
                    config.start_day + rng.i32(0..config.days as i32 / 3)
                } else {
                    config.start_day
                },
                last_day: None,
                special: Special::None,
                scenario_start: 0,
                arrive: rng.u32(7 * 3600..9 * 3600 + 1800),
                work_secs: rng.u32(8 * 3600..9 * 3600 + 1800),
                after_hours_rate: if rng.f32() < 0.15 { rng.f32() * 0.3 } else { 0.0 },
                usb_rate: if usb { 0.3 + rng.f32() * 2.0 } else { 0.0 },
                files_per_connect: 1.0 + rng.f32() * 4.0,
                other_pc_rate: if rng.f32() < 0.1 { rng.f32() * 0.05 } else { 0.0 },
                personal_email_rate: if rng.f32() < 0.25 { rng.f32() * 0.05 } else { 0.0 },
                job_rate: if rng.f32() < 0.15 { rng.f32() * 0.02 } else { 0.0 },
                cloud_rate: if rng.f32() < 0.15 { rng.f32() * 0.01 } else { 0.0 },
                emails_per_day: 2.0 + rng.f32() * 8.0,
                sites: (0..20)
                    .map(|_| {
                        let a = WORDS.get(rng.usize(0..WORDS.len())).copied().unwrap_or("x");
                        format!("www.{a}{}.com", rng.u32(1..500))
                    })
                    .collect(),
                vacation: (vacation_start, vacation_start + rng.i32(3..12)),
            }
        })
        .collect();
    // Labelled people are drawn from those present from the start.
    let mut pool: Vec<usize> = (0..people.len())
        .filter(|&i| people.get(i).is_some_and(|p| p.start == config.start_day))
        .collect();
    rng.shuffle(&mut pool);
    let mut take = || pool.pop();
    let latest_leave = end - 3;
    let earliest_leave = config.start_day + 110;
    for scenario in 0..SCENARIOS.len() {
        for _ in 0..config.insiders_per_scenario {
            let Some(i) = take() else { continue };
            let Some(p) = people.get_mut(i) else { continue };
            let last = rng.i32(earliest_leave..=latest_leave.max(earliest_leave));
            p.special = Special::Insider(scenario);
            p.last_day = Some(last);
            p.vacation = (0, 0);
            p.scenario_start = last
                - match scenario {
                    0 => rng.i32(14..22),
                    1 => rng.i32(45..60),
                    2 => 12,
                    3 => rng.i32(35..45),
                    _ => rng.i32(21..28),
                };
            match scenario {
                0 => {
                    p.usb_rate = 0.0;
                    p.after_hours_rate = 0.0;
                }
                // Half of the job hunters never used a thumb drive before.
                1 if rng.bool() => p.usb_rate = 0.0,
                2 => {
                    p.role = ROLES.len() - 1;
                    // The two sabotage days fall on working days.
                    while weekday(p.scenario_start) >= 4 {
                        p.scenario_start -= 1;
                    }
                }
                _ => {}
            }
        }
    }
    for kind in [Special::HeavyUsb, Special::NightAdmin, Special::JobBrowser] {
        for _ in 0..config.hard_negatives_per_kind {
            let Some(p) = take().and_then(|i| people.get_mut(i)) else {
                continue;
            };
            p.special = kind;
            match kind {
                Special::HeavyUsb => {
                    p.usb_rate = 3.0 + rng.f32() * 3.0;
                    p.files_per_connect = 5.0 + rng.f32() * 8.0;
                }
                Special::NightAdmin => {
                    p.role = ROLES.len() - 1;
                    p.arrive = rng.u32(21 * 3600..23 * 3600);
                    p.other_pc_rate = 0.5;
                }
                _ => {
                    p.job_rate = 0.1 + rng.f32() * 0.1;
                    p.scenario_start = config.start_day + rng.i32(30..config.days as i32 - 60);
                }
            }
        }
    }
    for _ in 0..config.benign_departures {
        let Some(p) = take().and_then(|i| people.get_mut(i)) else {
            continue;
        };
        p.special = Special::BenignDeparture;
        p.last_day = Some(rng.i32(earliest_leave..=latest_leave.max(earliest_leave)));
    }
    people
}

fn poisson(rng: &mut fastrand::Rng, mean: f32) -> u32 {
    // Knuth's method for small means; normal approximation above 30.
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        let n = mean + mean.sqrt() * (rng.f32() + rng.f32() + rng.f32() - 1.5) * 2.0;
        return n.max(0.0).round() as u32;
    }
    let limit = (-mean).exp();
    let mut k = 0;
    let mut p = rng.f32();
    while p > limit {
        k += 1;
        p *= rng.f32();
    }
    k
}

fn row_id(rng: &mut fastrand::Rng) -> String {
    let mut s = String::with_capacity(24);
    s.push('{');
    for (i, n) in [4, 8, 8].iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        for _ in 0..*n {
            s.push(rng.alphanumeric().to_ascii_uppercase());
        }
    }
    s.push('}');
    s
}

#[allow(clippy::too_many_arguments)]
fn day_rows(
    p: &Person,
    index: usize,
    people: &[Person],
    day: i32,
    config: &GeneratorConfig,
    rng: &mut fastrand::Rng,
    rows: &mut Vec<Row>,
) {
    if day < p.start || p.last_day.is_some_and(|l| day > l) {
        return;
    }
    if day >= p.vacation.0 && day < p.vacation.1 {
        return;
    }
    let weekend = weekday(day) >= 5;
    if weekend && rng.f32() > 0.05 {
        return;
    }
    let in_scenario = day >= p.scenario_start;
    let insider = match p.special {
        Special::Insider(s) if in_scenario => Some(s),
        _ => None,
    };
    let user = &p.id;
    let pc = &p.pc;
    let arrive = (p.arrive + rng.u32(0..1800)).min(86_000);
    let leave = (arrive + p.work_secs + rng.u32(0..1800)).min(86_399);
    let span = leave.saturating_sub(arrive).max(60);
    let at = |rng: &mut fastrand::Rng| arrive + rng.u32(0..span);
    rows.push((0, arrive, format!("{user},{pc},Logon")));
    rows.push((0, leave, format!("{user},{pc},Logoff")));
    if rng.f32() < 0.3 {
        rows.push((0, at(rng), format!("{user},{pc},Logon")));
    }
    // Logons on someone else's dedicated machine.
    if rng.f32() < p.other_pc_rate {
        let other = people
            .get(rng.usize(0..people.len()))
            .map_or("PC-0000", |o| o.pc.as_str());
        rows.push((0, at(rng), format!("{user},{other},Logon")));
    }
    // Occasional evening session.
    let mut evening: Option<u32> = None;
    if rng.f32() < p.after_hours_rate {
        evening = Some(rng.u32(20 * 3600..23 * 3600));
    }
    // USB use.
    let mut connects = poisson(rng, p.usb_rate);
    let mut files_extra = 0u32;
    match insider {
        Some(0) if rng.f32() < 0.7 => {
            evening = Some(rng.u32(20 * 3600..23 * 3600));
            connects += 1;
            files_extra += rng.u32(5..25);
        }
        Some(1) if day >= p.last_day.unwrap_or(day) - 25 && rng.f32() < 0.8 => {
            connects += rng.u32(1..4);
            let usual = (p.usb_rate * p.files_per_connect).max(2.0);
            files_extra += (usual * (4.0 + rng.f32() * 8.0)) as u32;
        }
        Some(2) if day == p.scenario_start => {
            connects += 1;
            files_extra += 1;
        }
        Some(4) if rng.f32() < 0.5 => evening = Some(rng.u32(20 * 3600..23 * 3600)),
        _ => {}
    }
    if let Some(t) = evening {
        rows.push((0, t, format!("{user},{pc},Logon")));
        rows.push((0, (t + 3600).min(86_399), format!("{user},{pc},Logoff")));
    }
    let session = |rng: &mut fastrand::Rng| match evening {
        Some(t) => t + rng.u32(0..3000),
        None => at(rng),
    };
    for c in 0..connects {
        let t = if insider.is_some() && c == 0 {
            session(rng)
        } else {
            at(rng)
        };
        rows.push((1, t, format!("{user},{pc},Connect")));
        let files = poisson(rng, p.files_per_connect) + if c == 0 { files_extra } else { 0 };
        for _ in 0..files {
            let ext = ["doc", "pdf", "xls", "zip", "txt"]
                .get(rng.usize(0..5))
                .copied()
                .unwrap_or("doc");
            rows.push((
                2,
                t + rng.u32(1..600),
                format!(
                    "{user},{pc},C:\\{}\\{}.{ext},D0-CF-11-E0 {}",
                    rng.u32(100..999),
                    rng.u32(1000..9999),
                    WORDS.get(rng.usize(0..WORDS.len())).copied().unwrap_or("x")
                ),
            ));
        }
        rows.push((1, t + 700, format!("{user},{pc},Disconnect")));
    }
    // Email.
    let mut sends: Vec<(u32, String, u32)> = Vec::new();
    for _ in 0..poisson(rng, p.emails_per_day) {
        let n = rng.u32(1..4);
        let to: Vec<String> = (0..n)
            .map(|_| {
                let other = people.get(rng.usize(0..people.len())).map_or("X", |o| o.id.as_str());
                if rng.f32() < 0.1 {
                    format!("{other}@partner{}.com", rng.u32(1..40))
                } else {
                    format!("{other}@dtaa.com")
                }
            })
            .collect();
        let attachments = if rng.f32() < 0.2 { rng.u32(1..3) } else { 0 };
        sends.push((at(rng), to.join(";"), attachments));
    }
    if rng.f32() < p.personal_email_rate * p.emails_per_day {
        let mail = WEBMAIL.get(rng.usize(0..WEBMAIL.len())).copied().unwrap_or("gmail.com");
        sends.push((at(rng), format!("{user}.home@{mail}"), rng.u32(0..2)));
    }
    match insider {
        Some(1) if rng.f32() < 0.2 => {
            sends.push((at(rng), format!("recruiting@competitor{}.com", index % 7), 1));
        }
        Some(2) if day == p.scenario_start + 1 => {
            let all: Vec<String> = people.iter().take(60).map(|o| format!("{}@dtaa.com", o.id)).collect();
            sends.push((session(rng), all.join(";"), 0));
        }
        Some(3) if rng.f32() < 0.7 => {
            let mail = WEBMAIL.get(index % WEBMAIL.len()).copied().unwrap_or("gmail.com");
            for _ in 0..rng.u32(1..4) {
                sends.push((at(rng), format!("{user}.private@{mail}"), rng.u32(1..5)));
            }
        }
        _ => {}
    }
    for (t, to, attachments) in sends {
        rows.push((
            3,
            t,
            format!(
                "{user},{pc},{to},,,{user}@dtaa.com,{},{attachments},{}",
                rng.u32(2000..60_000),
                WORDS.get(rng.usize(0..WORDS.len())).copied().unwrap_or("x")
            ),
        ));
    }
    // Web.
    let job_rate = match (p.special, insider) {
        (_, Some(1)) => 0.08 + 0.1 * rng.f32(),
        (Special::JobBrowser, _) if in_scenario && day < p.scenario_start + 60 => p.job_rate,
        (Special::JobBrowser, _) => 0.0,
        _ => p.job_rate,
    };
    let visits = poisson(rng, config.http_per_day as f32) + 2;
    for _ in 0..visits {
        let r = rng.f32();
        let host = if r < job_rate {
            JOB_SITES
                .get(rng.usize(0..JOB_SITES.len()))
                .copied()
                .unwrap_or("x")
                .to_string()
        } else if r < job_rate + p.cloud_rate {
            CLOUD_SITES
                .get(rng.usize(0..CLOUD_SITES.len()))
                .copied()
                .unwrap_or("x")
                .to_string()
        } else if rng.f32() < 0.7 {
            p.sites.get(rng.usize(0..p.sites.len())).cloned().unwrap_or_default()
        } else {
            let w = WORDS.get(rng.usize(0..WORDS.len())).copied().unwrap_or("x");
            format!("www.{w}{}.com", rng.u32(1..3000))
        };
        let w = WORDS.get(rng.usize(0..WORDS.len())).copied().unwrap_or("x");
        rows.push((
            4,
            at(rng),
            format!("{user},{pc},http://{host}/{w}/{}.html,{w}", rng.u32(1..99)),
        ));
    }
    let uploads = match insider {
        Some(0) if evening.is_some() => rng.u32(1..4),
        Some(4) if evening.is_some() => rng.u32(2..7),
        Some(2) if day == p.scenario_start => {
            rows.push((
                4,
                at(rng),
                format!("{user},{pc},http://www.keyloggers.net/free/download.html,keylogger"),
            ));
            0
        }
        _ => 0,
    };
    for _ in 0..uploads {
        let host = match insider {
            Some(0) => "wikileaks.org",
            _ => CLOUD_SITES.get(rng.usize(0..CLOUD_SITES.len())).copied().unwrap_or("x"),
        };
        rows.push((
            4,
            session(rng),
            format!("{user},{pc},http://{host}/upload/{}.html,upload", rng.u32(1..99)),
        ));
    }
    // Sabotage: log on to the supervisor's machine the next evening.
    if insider == Some(2) && day == p.scenario_start + 1 {
        let boss = people
            .get((index + 1) % people.len())
            .map_or("PC-0000", |o| o.pc.as_str());
        rows.push((0, rng.u32(20 * 3600..22 * 3600), format!("{user},{boss},Logon")));
    }
}
