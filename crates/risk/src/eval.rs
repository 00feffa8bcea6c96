//! `scores_csv` output, the answers file and quality evaluation.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use crate::error::RiskError;
use crate::score::{iso_or_empty, UserScore};
use crate::time::{iso_date, parse_iso_date};

/// Writes `user,score,first_alert,reasons`, one row per user; reasons are joined with `; `
/// and always CSV-quoted (written by hand: the csv crate cannot quote a single column).
pub fn write_scores_csv<W: Write>(scores: &[UserScore], mut out: W) -> Result<(), RiskError> {
    let io = |source| RiskError::Io {
        path: "scores_csv".to_string(),
        source,
    };
    writeln!(out, "user,score,first_alert,reasons").map_err(io)?;
    for s in scores {
        let user = if s.user.contains([',', '"', '\n', '\r']) {
            quote(&s.user)
        } else {
            s.user.clone()
        };
        writeln!(
            out,
            "{user},{:.1},{},{}",
            s.score,
            iso_or_empty(s.first_alert),
            quote(&s.reasons.join("; "))
        )
        .map_err(io)?;
    }
    out.flush().map_err(io)
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Returns `scores_csv` as a string.
pub fn scores_csv(scores: &[UserScore]) -> Result<String, RiskError> {
    let mut buf = Vec::new();
    write_scores_csv(scores, &mut buf)?;
    String::from_utf8(buf).map_err(|e| RiskError::Csv {
        path: "scores_csv".to_string(),
        reason: e.to_string(),
    })
}

/// Ground truth of one labelled person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRow {
    /// User id.
    pub user: String,
    /// `insider`, `benign_departure` or a hard-negative kind (`heavy_usb`, …).
    pub kind: String,
    /// Scenario name (insiders) or description.
    pub scenario: String,
    /// First day of the scenario.
    pub start: Option<i32>,
    /// Last working day for people who leave.
    pub last_day: Option<i32>,
}

impl AnswerRow {
    /// Whether this person is a malicious insider.
    pub fn is_insider(&self) -> bool {
        self.kind == "insider"
    }
}

/// Ground truth: `answers.csv` with header `user,kind,scenario,start,last_day`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// Labelled people; everyone else is benign.
    pub rows: Vec<AnswerRow>,
}

impl Answers {
    /// Parses an answers file.
    pub fn read<R: BufRead>(reader: R) -> Result<Self, RiskError> {
        let mut rows = Vec::new();
        let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        for (i, rec) in r.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| RiskError::BadAnswers {
                line,
                reason: e.to_string(),
            })?;
            let get = |k: usize| rec.get(k).unwrap_or("").trim().to_string();
            let user = get(0);
            if user.is_empty() {
                return Err(RiskError::BadAnswers {
                    line,
                    reason: "user is empty".to_string(),
                });
            }
            let date = |k: usize| -> Result<Option<i32>, RiskError> {
                let text = get(k);
                if text.is_empty() {
                    return Ok(None);
                }
                parse_iso_date(&text).map(Some).ok_or_else(|| RiskError::BadAnswers {
                    line,
                    reason: format!("date {text:?} is not YYYY-MM-DD"),
                })
            };
            rows.push(AnswerRow {
                kind: get(1),
                scenario: get(2),
                start: date(3)?,
                last_day: date(4)?,
                user,
            });
        }
        Ok(Self { rows })
    }

    /// Writes the answers file.
    pub fn write<W: Write>(&self, out: W) -> Result<(), RiskError> {
        let io = |e: csv::Error| RiskError::Csv {
            path: "answers.csv".to_string(),
            reason: e.to_string(),
        };
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["user", "kind", "scenario", "start", "last_day"])
            .map_err(io)?;
        for a in &self.rows {
            let start = a.start.map(iso_date).unwrap_or_default();
            let last = a.last_day.map(iso_date).unwrap_or_default();
            w.write_record([&a.user, &a.kind, &a.scenario, &start, &last])
                .map_err(io)?;
        }
        w.flush().map_err(|source| RiskError::Io {
            path: "answers.csv".to_string(),
            source,
        })
    }
}

/// Detection quality against the answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// People scored.
    pub users: usize,
    /// Insiders among them.
    pub insiders: usize,
    /// Per-user ROC AUC (ties count half).
    pub auc: f64,
    /// Average precision (ties grouped, as scikit-learn does).
    pub average_precision: f64,
    /// (k, recall among the k highest scores) for k = 10, 20, 50 and the insider count.
    pub recall_at_k: Vec<(usize, f64)>,
    /// Departing insiders: (user, days between first alert and last day; None if never
    /// alerted or alerted after leaving).
    pub departing_lead_days: Vec<(String, Option<i32>)>,
    /// Departing insiders alerted at least 7 days before their last day.
    pub departing_alerted_7d: usize,
    /// Departing insiders: (user, days between the first day they were on the daily risk
    /// list ([`UserScore::top_days`]) on or after the scenario start, and their last day;
    /// None if never on it before leaving).
    pub departing_top_lead_days: Vec<(String, Option<i32>)>,
    /// Departing insiders on the daily risk list at least 7 days before their last day:
    /// ranked among the top k of everyone on that date, not merely alerted.
    pub departing_top_7d: usize,
    /// Benign people who left.
    pub benign_departing: usize,
    /// Of them, how many were alerted.
    pub benign_departing_alerted: usize,
}

impl Evaluation {
    /// Fraction of benign departing people alerted (0 when there are none).
    pub fn benign_departing_alert_rate(&self) -> f64 {
        if self.benign_departing == 0 {
            0.0
        } else {
            self.benign_departing_alerted as f64 / self.benign_departing as f64
        }
    }

    /// Recall at `k`, when computed.
    pub fn recall_at(&self, k: usize) -> Option<f64> {
        self.recall_at_k.iter().find(|(kk, _)| *kk == k).map(|(_, r)| *r)
    }
}

/// Compares scores with the answers. People missing from `scores` count as score 0.
pub fn evaluate(scores: &[UserScore], answers: &Answers) -> Evaluation {
    let truth: HashMap<&str, &AnswerRow> = answers.rows.iter().map(|a| (a.user.as_str(), a)).collect();
    let mut labelled: Vec<(f64, bool)> = scores
        .iter()
        .map(|s| {
            let insider = truth.get(s.user.as_str()).is_some_and(|a| a.is_insider());
            (f64::from(s.score), insider)
        })
        .collect();
    let scored: HashMap<&str, &UserScore> = scores.iter().map(|s| (s.user.as_str(), s)).collect();
    for a in answers.rows.iter().filter(|a| a.is_insider()) {
        if !scored.contains_key(a.user.as_str()) {
            labelled.push((0.0, true));
        }
    }
    let insiders = labelled.iter().filter(|(_, p)| *p).count();
    let mut recall_at_k = Vec::new();
    let mut ranked = labelled.clone();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    for k in [10, 20, 50, insiders] {
        if k == 0 || recall_at_k.iter().any(|(kk, _)| *kk == k) {
            continue;
        }
        let hits = ranked.iter().take(k).filter(|(_, p)| *p).count();
        let recall = if insiders == 0 {
            0.0
        } else {
            hits as f64 / insiders as f64
        };
        recall_at_k.push((k, recall));
    }
    let mut departing_lead_days = Vec::new();
    let mut departing_alerted_7d = 0;
    let mut departing_top_lead_days = Vec::new();
    let mut departing_top_7d = 0;
    let mut benign_departing = 0;
    let mut benign_departing_alerted = 0;
    for a in &answers.rows {
        let Some(last) = a.last_day else { continue };
        let s = scored.get(a.user.as_str());
        let first_alert = s.and_then(|s| s.first_alert);
        if a.is_insider() {
            let lead = first_alert.map(|f| last - f).filter(|d| *d >= 0);
            if lead.is_some_and(|d| d >= 7) {
                departing_alerted_7d += 1;
            }
            departing_lead_days.push((a.user.clone(), lead));
            // A place on the list before the theft began found something else.
            let from = a.start.unwrap_or(i32::MIN);
            let top = s
                .and_then(|s| s.top_days.iter().find(|&&d| d >= from && d <= last))
                .map(|d| last - d);
            if top.is_some_and(|d| d >= 7) {
                departing_top_7d += 1;
            }
            departing_top_lead_days.push((a.user.clone(), top));
        } else if a.kind == "benign_departure" {
            benign_departing += 1;
            if first_alert.is_some() {
                benign_departing_alerted += 1;
            }
        }
    }
    Evaluation {
        users: labelled.len(),
        insiders,
        auc: roc_auc(&labelled),
        average_precision: average_precision(&labelled),
        recall_at_k,
        departing_lead_days,
        departing_alerted_7d,
        departing_top_lead_days,
        departing_top_7d,
        benign_departing,
        benign_departing_alerted,
    }
}

/// ROC AUC by the rank-sum statistic with average ranks for ties; 0.5 when a class is empty.
pub fn roc_auc(labelled: &[(f64, bool)]) -> f64 {
    let positives = labelled.iter().filter(|(_, p)| *p).count();
    let negatives = labelled.len() - positives;
    if positives == 0 || negatives == 0 {
        return 0.5;
    }
    let mut sorted: Vec<(f64, bool)> = labelled.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while sorted
            .get(j + 1)
            .is_some_and(|n| n.0 == sorted.get(i).map_or(f64::NAN, |c| c.0))
        {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their average.
        let avg = (i + j) as f64 / 2.0 + 1.0;
        let tied_pos = sorted.get(i..=j).map_or(0, |s| s.iter().filter(|(_, p)| *p).count());
        rank_sum += avg * tied_pos as f64;
        i = j + 1;
    }
    let p = positives as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64)
}

/// Average precision: Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct score thresholds, highest first.
pub fn average_precision(labelled: &[(f64, bool)]) -> f64 {
    let positives = labelled.iter().filter(|(_, p)| *p).count();
    if positives == 0 {
        return 0.0;
    }
    let mut sorted: Vec<(f64, bool)> = labelled.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut seen, mut ap, mut prev_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < sorted.len() {
        let threshold = sorted.get(i).map_or(f64::NAN, |c| c.0);
        while let Some(&(score, positive)) = sorted.get(i) {
            if score != threshold {
                break;
            }
            seen += 1;
            if positive {
                tp += 1;
            }
            i += 1;
        }
        let recall = tp as f64 / positives as f64;
        let precision = tp as f64 / seen as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    ap
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn check(labelled: &[(f64, bool)], auc: f64, ap: f64) {
        let got_auc = roc_auc(labelled);
        let got_ap = average_precision(labelled);
        assert!((got_auc - auc).abs() < 1e-9, "auc {got_auc} != {auc} for {labelled:?}");
        assert!((got_ap - ap).abs() < 1e-9, "ap {got_ap} != {ap} for {labelled:?}");
    }

    #[test]
    fn metrics_on_hand_checkable_inputs() {
        // Perfect ranking.
        check(&[(0.9, true), (0.8, true), (0.1, false), (0.2, false)], 1.0, 1.0);
        // Worst ranking: positives last. AP = 1/3·(1/3)... ranks 3,4 of 4 → P=1/3, 2/4.
        check(
            &[(0.1, true), (0.2, true), (0.8, false), (0.9, false)],
            0.0,
            0.5 * (1.0 / 3.0) + 0.5 * 0.5,
        );
        // One inversion out of four pairs: AUC 3/4; AP = 0.5·1 + 0.5·(2/3).
        check(
            &[(0.9, true), (0.5, true), (0.7, false), (0.1, false)],
            0.75,
            0.5 + 0.5 * 2.0 / 3.0,
        );
        // All tied: AUC 0.5, AP = base rate.
        check(&[(1.0, true), (1.0, false), (1.0, false), (1.0, false)], 0.5, 0.25);
        // Empty class.
        check(&[(1.0, false)], 0.5, 0.0);
    }

    fn user(name: &str, score: f32, first_alert: Option<i32>) -> UserScore {
        UserScore {
            user: name.to_string(),
            score,
            peak_day: None,
            first_alert,
            reasons: vec!["copied 3 files, \"odd\"".to_string()],
            departed: false,
            last_day: None,
            watchlist_since: None,
            top_days: Vec::new(),
        }
    }

    #[test]
    fn evaluation_counts_lead_days_and_benign_departures() {
        let answers = Answers::read(
            "user,kind,scenario,start,last_day\n\
             A,insider,usb,2010-03-01,2010-03-20\n\
             B,insider,webmail,2010-02-01,2010-03-20\n\
             C,benign_departure,takes nothing,,2010-04-01\n\
             D,benign_departure,takes nothing,,2010-04-01\n"
                .as_bytes(),
        )
        .unwrap();
        let day = |s: &str| parse_iso_date(s).unwrap();
        let scores = vec![
            user("A", 90.0, Some(day("2010-03-05"))),
            user("B", 70.0, Some(day("2010-03-18"))),
            user("C", 80.0, Some(day("2010-03-01"))),
            user("D", 10.0, None),
            user("E", 5.0, None),
        ];
        let e = evaluate(&scores, &answers);
        assert_eq!(e.insiders, 2);
        assert_eq!(
            e.departing_lead_days,
            vec![("A".to_string(), Some(15)), ("B".to_string(), Some(2))]
        );
        assert_eq!(e.departing_alerted_7d, 1);
        assert_eq!((e.benign_departing, e.benign_departing_alerted), (2, 1));
        assert!((e.benign_departing_alert_rate() - 0.5).abs() < 1e-9);
        // A > C > B > D > E: one of two negatives-above-B pairs inverted → AUC 5/6.
        assert!((e.auc - 5.0 / 6.0).abs() < 1e-9, "{}", e.auc);
        assert_eq!(e.recall_at(2), Some(0.5));
        assert_eq!(e.recall_at(10), Some(1.0));
    }

    #[test]
    fn early_means_on_the_daily_list_after_the_theft_began() {
        let answers = Answers::read(
            "user,kind,scenario,start,last_day\n\
             A,insider,usb,2010-03-01,2010-03-20\n\
             B,insider,usb,2010-03-01,2010-03-20\n\
             C,insider,usb,2010-03-01,2010-03-20\n\
             D,insider,usb,2010-03-01,2010-03-20\n"
                .as_bytes(),
        )
        .unwrap();
        let day = |s: &str| parse_iso_date(s).unwrap();
        let alerted = Some(day("2010-03-05"));
        let on_list = |name: &str, days: &[&str]| UserScore {
            top_days: days.iter().map(|d| day(d)).collect(),
            ..user(name, 90.0, alerted)
        };
        let scores = vec![
            // Alerted 15 days early but never ranked among the top k: not early.
            on_list("A", &[]),
            // On the list only before the theft began, and on the last day.
            on_list("B", &["2010-02-10", "2010-03-20"]),
            // On the list 8 days before leaving.
            on_list("C", &["2010-02-10", "2010-03-12", "2010-03-13"]),
            // On the list only after leaving.
            on_list("D", &["2010-03-21"]),
        ];
        let e = evaluate(&scores, &answers);
        assert_eq!(e.departing_alerted_7d, 4);
        assert_eq!(
            e.departing_top_lead_days,
            vec![
                ("A".to_string(), None),
                ("B".to_string(), Some(0)),
                ("C".to_string(), Some(8)),
                ("D".to_string(), None)
            ]
        );
        assert_eq!(e.departing_top_7d, 1);
    }

    #[test]
    fn scores_csv_quotes_reasons() {
        let text = scores_csv(&[user("A", 42.04, Some(parse_iso_date("2010-03-05").unwrap()))]).unwrap();
        assert_eq!(
            text,
            "user,score,first_alert,reasons\nA,42.0,2010-03-05,\"copied 3 files, \"\"odd\"\"\"\n"
        );
        let empty = scores_csv(&[user("B", 0.0, None)]).unwrap();
        assert!(empty.ends_with("B,0.0,,\"copied 3 files, \"\"odd\"\"\"\n"), "{empty}");
    }

    #[test]
    fn answers_reject_bad_dates_with_line() {
        let err = Answers::read("user,kind,scenario,start,last_day\nA,insider,x,03/01/2010,\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
