//! CERT r4.2 reader: layouts, malformed rows with file and line, dirty data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use risk::{categorize_url, read_cert_dir, Aggregator, CertOptions, CertReport, Feature, WebCategory};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

fn read(dir: &Path) -> (CertReport, Aggregator) {
    let mut agg = Aggregator::new(0);
    let report = read_cert_dir(dir, &CertOptions::default(), &mut agg).unwrap();
    (report, agg)
}

const LDAP_HEADER: &str = "employee_name,user_id,email,role,business_unit,functional_unit,department,team,supervisor\n";

#[test]
fn malformed_rows_are_reported_with_file_and_line_then_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "logon.csv",
        "id,date,user,pc,activity\n\
         {A},01/04/2010 08:00:00,AAA0001,PC-1,Logon\n\
         {B},yesterday 08:00,AAA0001,PC-1,Logon\n\
         {C},01/04/2010 17:00:00,AAA0001\n\
         {D},01/04/2010 17:00:00,AAA0001,PC-1,Reboot\n\
         {E},01/04/2010 17:00:00,AAA0001,PC-1,Logoff\n",
    );
    let (report, agg) = read(dir.path());
    let got: Vec<(String, u64)> = report.malformed.iter().map(|m| (m.file.clone(), m.line)).collect();
    assert_eq!(
        got,
        vec![
            ("logon.csv".to_string(), 3),
            ("logon.csv".to_string(), 4),
            ("logon.csv".to_string(), 5)
        ]
    );
    assert!(report.malformed[0].reason.contains("MM/DD/YYYY"));
    assert!(report.malformed[1]
        .reason
        .contains("expected at least 5 fields, found 3"));
    assert!(report.malformed[2].reason.contains("Reboot"));
    assert_eq!(report.malformed_count, 3);
    assert_eq!(report.events, 2);
    assert_eq!(agg.event_count(), 2);
}

#[test]
fn headerless_files_duplicates_out_of_order_and_unknown_users() {
    let dir = tempfile::tempdir().unwrap();
    // r1-style http.csv without a header row.
    write(
        dir.path(),
        "http.csv",
        "{1},01/05/2010 09:00:00,AAA0001,PC-1,http://www.monster.com/jobs/x.html,job\n\
         {2},01/05/2010 08:00:00,AAA0001,PC-1,http://wikileaks.org/upload.html,leak\n\
         {2},01/05/2010 08:00:00,AAA0001,PC-1,http://wikileaks.org/upload.html,leak\n\
         {3},01/05/2010 10:00:00,ZZZ9999,PC-9,http://news.example.com/a.html,news\n",
    );
    write(
        dir.path(),
        "LDAP/2010-01.csv",
        &format!("{LDAP_HEADER}Ann,AAA0001,AAA0001@dtaa.com,Salesman,1,5 - Sales,2 - Sales,3 - R,Bob\n"),
    );
    let (report, agg) = read(dir.path());
    assert_eq!(report.malformed_count, 0, "{:?}", report.malformed);
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.out_of_order, 1);
    assert_eq!(report.unknown_users, 1);
    assert_eq!(report.events, 3);
    assert_eq!(agg.user_count(), 2);
}

#[test]
fn ldap_snapshots_give_departures_and_missing_months() {
    let dir = tempfile::tempdir().unwrap();
    let ann = "Ann,AAA0001,AAA0001@dtaa.com,Salesman,1,5 - Sales,2 - Sales,3 - R,Bob\n";
    let ben = "Ben,BBB0002,BBB0002@dtaa.com,Engineer,1,2 - RnD,3 - Eng,4 - E,Bob\n";
    write(dir.path(), "LDAP/2010-01.csv", &format!("{LDAP_HEADER}{ann}{ben}"));
    write(dir.path(), "LDAP/2010-02.csv", &format!("{LDAP_HEADER}{ann}{ben}"));
    // 2010-03 missing; Ben gone by 2010-04.
    write(dir.path(), "LDAP/2010-04.csv", &format!("{LDAP_HEADER}{ann}"));
    write(
        dir.path(),
        "logon.csv",
        "id,date,user,pc,activity\n\
         {1},03/10/2010 08:00:00,BBB0002,PC-2,Logon\n\
         {2},04/10/2010 08:00:00,AAA0001,PC-1,Logon\n",
    );
    let (report, agg) = read(dir.path());
    assert_eq!(report.ldap_months, vec!["2010-01", "2010-02", "2010-04"]);
    assert_eq!(report.missing_ldap_months, vec!["2010-03"]);
    assert_eq!(report.departed_users, 1);
    let scores = agg.score(&risk::ScoringConfig::default());
    let ben = scores.users.iter().find(|u| u.user == "BBB0002").unwrap();
    assert!(ben.departed);
    // Last day refined from activity: the last logon, 10 Mar 2010.
    assert_eq!(ben.last_day, risk::time::parse_iso_date("2010-03-10"));
    assert!(
        ben.reasons.iter().any(|r| r == "left on 10 Mar 2010"),
        "{:?}",
        ben.reasons
    );
    let ann = scores.users.iter().find(|u| u.user == "AAA0001").unwrap();
    assert!(!ann.departed);
}

#[test]
fn email_recipients_are_classified_by_domain() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "email.csv",
        "id,date,user,pc,to,cc,bcc,from,size,attachments,content\n\
         {1},01/05/2010 09:00:00,AAA0001,PC-1,x@dtaa.com;y@gmail.com,,,AAA0001@dtaa.com,100,2,a\n\
         {2},01/05/2010 09:10:00,AAA0001,PC-1,x@dtaa.com,,,AAA0001@dtaa.com,100,notanumber.doc(12);b.pdf(3),a\n\
         {3},01/05/2010 09:20:00,AAA0001,PC-1,x@dtaa.com\n",
    );
    let (report, agg) = read(dir.path());
    assert_eq!(report.events, 2);
    assert_eq!(report.malformed.len(), 1);
    assert_eq!(report.malformed[0].line, 4);
    assert_eq!(agg.event_count(), 2);
    let day = risk::time::parse_iso_date("2010-01-05").unwrap();
    let f = agg.day_features("AAA0001", day).unwrap();
    assert_eq!(f[Feature::EmailsSent.index()], 2.0);
    assert_eq!(f[Feature::PersonalAttachmentEmails.index()], 1.0);
    assert_eq!(f[Feature::ExternalAttachmentEmails.index()], 0.0);
}

#[test]
fn no_activity_files_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut agg = Aggregator::new(0);
    let err = read_cert_dir(dir.path(), &CertOptions::default(), &mut agg).unwrap_err();
    assert!(err.to_string().contains("logon.csv"), "{err}");
}

fn check(url: &str, competitors: &[&str], want: WebCategory) {
    let competitors: Vec<String> = competitors.iter().map(|c| c.to_string()).collect();
    assert_eq!(categorize_url(url.as_bytes(), &competitors), want, "{url}");
}

#[test]
fn urls_are_categorized_by_host() {
    check("http://www.careerbuilder.com/find/x.jsp", &[], WebCategory::JobSite);
    check("https://www.linkedin.com/in/someone", &[], WebCategory::JobSite);
    check("http://wikileaks.org/submit/a.html", &[], WebCategory::CloudStorage);
    check("http://www.dropbox.com/upload", &[], WebCategory::CloudStorage);
    check("http://mail.yahoo.com/inbox", &[], WebCategory::Webmail);
    check(
        "http://www.rivalcorp.com/about",
        &["rivalcorp"],
        WebCategory::Competitor,
    );
    // The path does not count, only the host.
    check("http://news.example.com/jobs/report.html", &[], WebCategory::Other);
    check("not a url", &[], WebCategory::Other);
}

#[test]
fn look_alike_hosts_are_not_cloud_storage() {
    check("http://www.xbox.com/games", &[], WebCategory::Other);
    check("http://www.omega.com/watches", &[], WebCategory::Other);
    check("https://app.box.com/folder/1", &[], WebCategory::CloudStorage);
}

#[test]
fn r6_style_columns_are_understood() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "email.csv",
        "id,date,user,pc,to,cc,bcc,from,activity,size,attachments,content\n\
         {1},01/05/2010 09:00:00,AAA0001,PC-1,me@gmail.com,,,AAA0001@dtaa.com,Send,10,a.doc(5);b.pdf(7),x\n\
         {2},01/05/2010 09:05:00,AAA0001,PC-1,AAA0001@dtaa.com,,,me@gmail.com,View,10,a.doc(5),x\n",
    );
    write(
        dir.path(),
        "file.csv",
        "id,date,user,pc,filename,activity,to_removable_media,from_removable_media,content\n\
         {1},01/05/2010 09:00:00,AAA0001,PC-1,a.doc,File Copy,True,False,x\n\
         {2},01/05/2010 09:01:00,AAA0001,PC-1,b.doc,File Open,False,False,x\n\
         {3},01/05/2010 09:02:00,AAA0001,PC-1,c.doc,File Copy,False,True,x\n\
         {4},01/05/2010 09:03:00,AAA0001,PC-1,d.doc,File Delete,False,False,x\n",
    );
    write(
        dir.path(),
        "http.csv",
        "id,date,user,pc,url,activity,content\n\
         {1},01/05/2010 22:00:00,AAA0001,PC-1,http://www.dropbox.com/x,WWW Upload,x\n\
         {2},01/05/2010 22:01:00,AAA0001,PC-1,http://www.dropbox.com/y,WWW Visit,x\n",
    );
    let (report, agg) = read(dir.path());
    assert_eq!(report.malformed_count, 0, "{:?}", report.malformed);
    assert_eq!(report.events, 8);
    let day = risk::time::parse_iso_date("2010-01-05").unwrap();
    let f = agg.day_features("AAA0001", day).unwrap();
    let get = |feature: Feature| f[feature.index()];
    for (feature, want) in [
        (Feature::EmailsSent, 1.0),
        (Feature::PersonalAttachmentEmails, 1.0),
        (Feature::FilesToRemovable, 1.0),
        (Feature::FilesFromRemovable, 1.0),
        (Feature::FilesDeleted, 1.0),
        (Feature::CloudUploads, 1.0),
        (Feature::AfterHoursExfil, 1.0),
        (Feature::AfterHoursActivity, 1.0),
    ] {
        assert_eq!(get(feature), want, "{feature:?}");
    }
}
