//! The HTML reports: one self-contained file each (no network: the style and
//! the filter script are inline), readable in any browser and attachable to
//! a CI run.
//!
//! - [`render`]: a run (`run --html`, `merge --html`): a summary per protocol
//!   and per level, every scenario with its requirement, expected, got and
//!   transcript, filters by verdict, level, protocol, tag and text, and the
//!   requirement coverage of the run when it is given.
//! - [`render_compare`]: `conform compare --html`: scenarios × targets,
//!   differences first.
//!
//! Filters live in the address's fragment (`#verdict=failed,warning&level=MUST
//! &tag=rfc5321&q=DATA&diff=1`), so a filtered view can be linked to, and
//! the report reads it when it opens.

use std::fmt::Write as _;

use super::compare::Matrix;
use super::{Counts, Outcome, RunReport, ScenarioResult};

/// Every verdict, in the order problems are listed.
pub const VERDICTS: [Outcome; 8] = [
    Outcome::Failed,
    Outcome::Error,
    Outcome::Fixed,
    Outcome::Warning,
    Outcome::Deviation,
    Outcome::Info,
    Outcome::Skipped,
    Outcome::Passed,
];

/// The verdict's name in JSON, JUnit and the filters: `failed`, `warning`…
pub fn key(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Warning => "warning",
        Outcome::Info => "info",
        Outcome::Error => "error",
        Outcome::Skipped => "skipped",
        Outcome::Deviation => "deviation",
        Outcome::Fixed => "fixed",
    }
}

fn rank(o: Outcome) -> usize {
    VERDICTS
        .iter()
        .position(|v| *v == o)
        .unwrap_or(VERDICTS.len())
}

/// Escapes text for HTML element content and attribute values: the XML
/// escaping of the JUnit report, which HTML reads the same way.
pub fn esc(s: &str) -> String {
    super::junit::attr(s)
}

const STYLE: &str = r#"
:root { --fail:#b3261e; --err:#8e24aa; --warn:#b26a00; --info:#1565c0; --pass:#2e7d32;
        --skip:#6d6d6d; --dev:#5d4037; --fixed:#00838f; --line:#ddd; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 1em 4em; color:#222; }
h1 { font-size: 1.5em; margin: .8em 0 .2em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
.context { color:#555; margin: 0; } nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid var(--line); padding: .2em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; } td.zero { color: #bbb; }
.badge { display:inline-block; min-width: 3.6em; text-align:center; font-weight:600; font-size:.8em;
         border-radius: 3px; padding: 0 .3em; color:#fff; }
.v-failed{background:var(--fail)} .v-error{background:var(--err)} .v-warning{background:var(--warn)}
.v-info{background:var(--info)} .v-passed{background:var(--pass)} .v-skipped{background:var(--skip)}
.v-deviation{background:var(--dev)} .v-fixed{background:var(--fixed)} .v-none{background:#eee;color:#999}
#filters { position: sticky; top: 0; background: #fafafa; border: 1px solid var(--line); padding: .5em; z-index: 2; }
#filters fieldset { display:inline-block; border: 0; margin: 0 1em 0 0; padding: 0; }
#filters legend { font-weight: 600; float: left; margin-right: .4em; }
#filters label { margin-right: .5em; white-space: nowrap; }
details.sc { border-bottom: 1px solid var(--line); padding: .2em 0; }
details.sc > summary { cursor: pointer; list-style-position: outside; }
details.sc .where { color:#777; font-size:.85em; margin-left:.5em; }
details.sc .req { color:#555; font-size:.85em; margin-left:.5em; }
dl { display:grid; grid-template-columns: 8em 1fr; margin: .4em 0 .6em 1.5em; }
dt { color:#666; } dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
pre { background:#f6f6f6; border:1px solid var(--line); padding:.5em; overflow-x:auto; font-size: 12px; margin: .3em 0 .6em 1.5em; }
.matrix td { text-align: center; } .matrix td.name { text-align: left; max-width: 40em; }
.matrix tr.same td.name { color:#555; } .matrix th { position: sticky; top: 2.6em; background:#fafafa; }
.hint { color:#666; font-size:.9em; }
ul.reqs { margin:.2em 0; padding-left:1.4em; font-size:.9em; }
table.targets td:nth-child(-n+3) { text-align: left; }
"#;

/// The filter script: reads the checkboxes, the text fields and the
/// address's fragment, hides what does not match, and counts what is shown.
const SCRIPT: &str = r#"
(function () {
  var form = document.getElementById('filters');
  if (!form) return;
  var items = Array.prototype.slice.call(document.querySelectorAll('[data-verdict]'));
  function boxes(name) { return Array.prototype.slice.call(form.querySelectorAll('input[name=' + name + ']')); }
  function fromHash() {
    var h = {}; location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      var i = kv.indexOf('='); if (i > 0) h[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1));
    });
    ['verdict', 'level', 'protocol'].forEach(function (n) {
      if (h[n] !== undefined) { var on = h[n].split(','); boxes(n).forEach(function (b) { b.checked = on.indexOf(b.value) >= 0; }); }
    });
    if (h.tag !== undefined && form.tag) form.tag.value = h.tag;
    if (h.q !== undefined && form.q) form.q.value = h.q;
    if (h.diff !== undefined && form.diff) form.diff.checked = h.diff === '1';
  }
  function apply(write) {
    var sel = {};
    ['verdict', 'level', 'protocol'].forEach(function (n) {
      sel[n] = boxes(n).filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    });
    var tag = form.tag ? form.tag.value.trim().replace(/^@/, '').toLowerCase() : '';
    var q = form.q ? form.q.value.trim().toLowerCase() : '';
    var diff = form.diff ? form.diff.checked : false;
    var shown = 0;
    items.forEach(function (el) {
      var vs = el.getAttribute('data-verdict').split(' ');
      var ok = vs.some(function (v) { return sel.verdict.indexOf(v) >= 0; })
        && (!boxes('level').length || sel.level.indexOf(el.getAttribute('data-level')) >= 0)
        && (!boxes('protocol').length || sel.protocol.indexOf(el.getAttribute('data-protocol')) >= 0)
        && (!tag || (' ' + el.getAttribute('data-tags') + ' ').indexOf(' ' + tag) >= 0)
        && (!q || el.getAttribute('data-text').indexOf(q) >= 0)
        && (!diff || el.getAttribute('data-differs') === '1');
      if (ok) { el.removeAttribute('hidden'); shown++; } else { el.setAttribute('hidden', ''); }
    });
    var out = document.getElementById('shown');
    out.textContent = 'showing ' + shown + ' of ' + items.length;
    out.setAttribute('data-shown', String(shown));
    if (write && history.replaceState) {
      var parts = ['verdict=' + sel.verdict.join(',')];
      if (boxes('level').length) parts.push('level=' + sel.level.join(','));
      if (boxes('protocol').length) parts.push('protocol=' + sel.protocol.join(','));
      if (tag) parts.push('tag=' + encodeURIComponent(tag));
      if (q) parts.push('q=' + encodeURIComponent(q));
      if (form.diff) parts.push('diff=' + (diff ? '1' : '0'));
      history.replaceState(null, '', '#' + parts.join('&'));
    }
  }
  form.addEventListener('input', function () { apply(true); });
  form.addEventListener('change', function () { apply(true); });
  window.addEventListener('hashchange', function () { fromHash(); apply(false); });
  fromHash(); apply(false);
})();
"#;

/// A whole page.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        esc(title)
    )
}

fn badge(o: Option<Outcome>) -> String {
    match o {
        Some(o) => format!("<span class=\"badge v-{}\">{}</span>", key(o), o.label()),
        None => "<span class=\"badge v-none\" title=\"not run against this target\">—</span>"
            .to_string(),
    }
}

fn level(r: &ScenarioResult) -> &str {
    if r.level.is_empty() {
        "MUST"
    } else {
        &r.level
    }
}

/// The requirement with a link per RFC section: `MUST · RFC 5321 §4.1.1.4`.
fn requirement_html(r: &ScenarioResult) -> String {
    let mut parts = vec![esc(level(r))];
    let mut linked = std::collections::BTreeSet::new();
    for rfc in &r.rfc {
        let head = format!("RFC {rfc} ");
        let secs: Vec<String> = r
            .section
            .iter()
            .zip(&r.links)
            .filter(|(s, _)| s.starts_with(&head))
            .map(|(s, l)| {
                linked.insert(s.clone());
                format!("<a href=\"{}\">{}</a>", esc(l), esc(s))
            })
            .collect();
        if secs.is_empty() {
            parts.push(format!(
                "<a href=\"https://www.rfc-editor.org/rfc/rfc{0}\">RFC {0}</a>",
                esc(rfc)
            ));
        } else {
            parts.push(secs.join(", "));
        }
    }
    let mut course: Vec<&str> = Vec::new();
    for t in r.tags.iter().filter_map(|t| t.strip_prefix("course-")) {
        if !course.contains(&t) {
            course.push(t);
            parts.push(format!("course notes {}", esc(t)));
        }
    }
    parts.join(" · ")
}

fn counts_row(out: &mut String, head: &str, c: &Counts) {
    let cell = |n: usize| {
        if n == 0 {
            "<td class=\"zero\">0</td>".to_string()
        } else {
            format!("<td>{n}</td>")
        }
    };
    let _ = writeln!(
        out,
        "<tr><td>{}</td>{}{}{}{}{}{}{}{}<td>{}</td></tr>",
        esc(head),
        cell(c.passed),
        cell(c.failed),
        cell(c.errors),
        cell(c.warnings),
        cell(c.info),
        cell(c.skipped),
        cell(c.deviations),
        cell(c.fixed),
        c.total()
    );
}

const COUNTS_HEAD: &str = "<th>passed</th><th>failed</th><th>errors</th><th>warnings</th><th>info</th><th>skipped</th><th>deviations</th><th>fixed</th><th>total</th>";

fn checkboxes(out: &mut String, name: &str, legend: &str, values: &[(String, usize)]) {
    let _ = write!(out, "<fieldset><legend>{legend}</legend>");
    for (v, n) in values {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" name=\"{name}\" value=\"{0}\" checked> {0} ({n})</label>",
            esc(v)
        );
    }
    let _ = writeln!(out, "</fieldset>");
}

/// The text the search box looks in: id, name, file, requirement, failure.
fn search_text(r: &ScenarioResult) -> String {
    let mut t = format!(
        "{} {} {} {} {}",
        r.id,
        r.name,
        r.file,
        super::console::requirement(r),
        r.tags.join(" ")
    );
    if let Some(f) = &r.failure {
        t.push(' ');
        t.push_str(&f.message);
    }
    t.to_lowercase()
}

fn scenario(out: &mut String, r: &ScenarioResult) {
    let open = if matches!(r.outcome, Outcome::Failed | Outcome::Error) {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details class=\"sc\" id=\"{}\" data-verdict=\"{}\" data-level=\"{}\" data-protocol=\"{}\" data-tags=\"{}\" data-text=\"{}\"{open}>",
        esc(&format!("s-{}", r.id)),
        key(r.outcome),
        esc(level(r)),
        esc(&r.protocol),
        esc(&r.tags.join(" ").to_lowercase()),
        esc(&search_text(r)),
    );
    let _ = writeln!(
        out,
        "<summary>{} {}<span class=\"where\">{}:{}</span><span class=\"req\">{}</span></summary>",
        badge(Some(r.outcome)),
        esc(&r.name),
        esc(&r.file),
        r.line,
        requirement_html(r)
    );
    let _ = writeln!(out, "<dl>");
    let row = |out: &mut String, k: &str, v: &str| {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", esc(v));
    };
    row(out, "id", &r.id);
    let _ = writeln!(
        out,
        "<dt>requirement</dt><dd>{} — {}</dd>",
        requirement_html(r),
        esc(&r.name)
    );
    row(
        out,
        "tags",
        &r.tags
            .iter()
            .map(|t| format!("@{t}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    if let Some(d) = &r.deviation {
        row(out, "declared", d);
    }
    if let Some(s) = &r.step {
        row(out, "step", s);
    }
    if let Some(f) = &r.failure {
        row(out, "problem", &f.message);
        if let Some(e) = &f.expected {
            row(out, "expected", e);
        }
        if let Some(g) = &f.got {
            row(out, "got", g);
        }
    }
    if let (Some(p), Some(e)) = (r.points, r.earned) {
        row(out, "points", &format!("{e} of {p}"));
    }
    row(out, "time", &format!("{:.0} ms", r.seconds * 1000.0));
    let _ = writeln!(out, "</dl>");
    if !r.transcript_text.is_empty() {
        let _ = writeln!(
            out,
            "<pre class=\"transcript\">{}</pre>",
            esc(&r.transcript_text)
        );
    }
    let _ = writeln!(out, "</details>");
}

fn header(out: &mut String, title: &str, report: &RunReport) {
    let _ = writeln!(out, "<header><h1>{}</h1>", esc(title));
    let _ = writeln!(
        out,
        "<p class=\"context\">{}</p>",
        esc(&report.context.line())
    );
    let _ = writeln!(
        out,
        "<p class=\"context\">target {} · {} scenarios in {:.2} s{}{} · <b>{}</b></p></header>",
        esc(&report.target),
        report.scenarios.len(),
        report.seconds,
        if report.strict { " · --strict" } else { "" },
        if report.ratchet { " · --ratchet" } else { "" },
        esc(&format!("conform: {}", report.counts()))
    );
}

/// The report of a run; `coverage`, an HTML fragment (the coverage page)
/// placed after the scenarios.
pub fn render(report: &RunReport, coverage: Option<&str>) -> String {
    let mut out = String::new();
    header(&mut out, "conform report", report);
    let _ = writeln!(
        out,
        "<nav><a href=\"#summary\">Summary</a><a href=\"#scenarios\">Scenarios</a>{}</nav>",
        if coverage.is_some() {
            "<a href=\"#coverage\">Coverage</a>"
        } else {
            ""
        }
    );

    // Summary per protocol and per level.
    let _ = writeln!(out, "<section id=\"summary\"><h2>Summary</h2>");
    let _ = writeln!(out, "<table><tr><th>protocol</th>{COUNTS_HEAD}</tr>");
    let mut protocols: Vec<&str> = Vec::new();
    for s in &report.scenarios {
        if !protocols.contains(&s.protocol.as_str()) {
            protocols.push(&s.protocol);
        }
    }
    for p in &protocols {
        counts_row(
            &mut out,
            p,
            &Counts::of(report.scenarios.iter().filter(|s| s.protocol == *p)),
        );
    }
    counts_row(&mut out, "all", &report.counts());
    let _ = writeln!(out, "</table>");
    let _ = writeln!(out, "<table><tr><th>level</th>{COUNTS_HEAD}</tr>");
    let levels = ["MUST", "SHOULD", "MAY"];
    for l in levels {
        let c = Counts::of(report.scenarios.iter().filter(|s| level(s) == l));
        if c.total() > 0 {
            counts_row(&mut out, l, &c);
        }
    }
    let _ = writeln!(
        out,
        "</table><p class=\"hint\">A failed MUST fails the run; a SHOULD that does not hold is a warning (a failure with --strict); a MAY is information.</p></section>"
    );

    // Filters and scenarios, problems first.
    let _ = writeln!(out, "<section id=\"scenarios\"><h2>Scenarios</h2>");
    let _ = writeln!(out, "<form id=\"filters\" onsubmit=\"return false\">");
    let verdicts: Vec<(String, usize)> = VERDICTS
        .iter()
        .map(|v| (key(*v).to_string(), report.count(*v)))
        .filter(|(_, n)| *n > 0)
        .collect();
    checkboxes(&mut out, "verdict", "verdict", &verdicts);
    let lv: Vec<(String, usize)> = levels
        .iter()
        .map(|l| {
            (
                l.to_string(),
                report.scenarios.iter().filter(|s| level(s) == *l).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    checkboxes(&mut out, "level", "level", &lv);
    if protocols.len() > 1 {
        let pv: Vec<(String, usize)> = protocols
            .iter()
            .map(|p| {
                (
                    p.to_string(),
                    report.scenarios.iter().filter(|s| s.protocol == *p).count(),
                )
            })
            .collect();
        checkboxes(&mut out, "protocol", "protocol", &pv);
    }
    let _ = writeln!(
        out,
        "<label>tag <input name=\"tag\" size=\"14\" placeholder=\"rfc5321\"></label> <label>text <input name=\"q\" size=\"18\" placeholder=\"DATA\"></label> <span id=\"shown\"></span></form>"
    );
    let mut order: Vec<&ScenarioResult> = report.scenarios.iter().collect();
    order.sort_by_key(|s| rank(s.outcome));
    let _ = writeln!(out, "<div id=\"list\">");
    for r in order {
        scenario(&mut out, r);
    }
    let _ = writeln!(out, "</div></section>");
    if let Some(c) = coverage {
        let _ = writeln!(out, "<section id=\"coverage\">{c}</section>");
    }
    page(&format!("conform report — {}", report.target), &out)
}

/// `conform coverage --html`: the coverage page alone.
pub fn render_coverage(c: &super::coverage::Coverage) -> String {
    page(
        "conform requirement coverage",
        &format!(
            "<header><h1>conform requirement coverage</h1></header>\n{}",
            super::coverage::render_html(c)
        ),
    )
}

/// `conform compare --html`: the matrix, differences first.
pub fn render_compare(m: &Matrix) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<header><h1>conform comparison</h1>");
    let _ = writeln!(out, "<table class=\"targets\"><tr><th>target</th><th>report</th><th>context</th>{COUNTS_HEAD}</tr>");
    for t in &m.targets {
        let _ = write!(
            out,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td>",
            esc(&t.name),
            esc(&t.file),
            esc(&t.context)
        );
        let mut row = String::new();
        counts_row(&mut row, "", &t.counts);
        // The counts without their empty first cell.
        let cells = row
            .trim_start_matches("<tr><td></td>")
            .trim_end()
            .trim_end_matches("</tr>");
        let _ = writeln!(out, "{cells}</tr>");
    }
    let _ = writeln!(out, "</table>");
    let differ = m.rows.iter().filter(|r| r.differs).count();
    let _ = writeln!(
        out,
        "<p class=\"context\">{} scenarios, {differ} with different verdicts.</p></header>",
        m.rows.len()
    );
    let _ = writeln!(out, "<form id=\"filters\" onsubmit=\"return false\">");
    let _ = writeln!(
        out,
        "<label><input type=\"checkbox\" name=\"diff\"> only differences</label>"
    );
    let mut present: Vec<(String, usize)> = Vec::new();
    for v in VERDICTS {
        let n = m
            .rows
            .iter()
            .filter(|r| r.cells.iter().any(|c| *c == Some(v)))
            .count();
        if n > 0 {
            present.push((key(v).to_string(), n));
        }
    }
    checkboxes(&mut out, "verdict", "any target", &present);
    let _ = writeln!(
        out,
        "<label>tag <input name=\"tag\" size=\"14\"></label> <label>text <input name=\"q\" size=\"18\"></label> <span id=\"shown\"></span></form>"
    );
    let _ = write!(
        out,
        "<table class=\"matrix\"><thead><tr><th>scenario</th><th>level</th>"
    );
    for t in &m.targets {
        let _ = write!(out, "<th>{}</th>", esc(&t.name));
    }
    let _ = writeln!(out, "</tr></thead><tbody>");
    for r in &m.rows {
        let verdicts: Vec<&str> = r.cells.iter().flatten().map(|o| key(*o)).collect();
        let _ = write!(
            out,
            "<tr class=\"{}\" data-verdict=\"{}\" data-differs=\"{}\" data-tags=\"{}\" data-text=\"{}\"><td class=\"name\">{}<br><span class=\"hint\">{} · {}</span></td><td>{}</td>",
            if r.differs { "differs" } else { "same" },
            verdicts.join(" "),
            if r.differs { "1" } else { "0" },
            esc(&r.tags.join(" ").to_lowercase()),
            esc(&format!("{} {} {}", r.id, r.name, r.requirement).to_lowercase()),
            esc(&r.name),
            esc(&r.id),
            esc(&r.requirement),
            esc(&r.level)
        );
        for (c, why) in r.cells.iter().zip(&r.why) {
            match why {
                Some(w) => {
                    let _ = write!(out, "<td title=\"{}\">{}</td>", esc(w), badge(*c));
                }
                None => {
                    let _ = write!(out, "<td>{}</td>", badge(*c));
                }
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
    page("conform comparison", &out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::ScenarioMeta;

    fn scenario(name: &str, outcome: Outcome) -> ScenarioResult {
        let meta = ScenarioMeta {
            id: format!("smtp/x/{name}"),
            protocol: "smtp".into(),
            file: "smtp/x.feature".into(),
            line: 3,
            name: name.into(),
            title: name.into(),
            tags: vec!["smtp".into(), "MUST".into()],
            rfc: vec!["5321".into()],
            sections: vec![],
            level: "MUST".into(),
            points: None,
        };
        ScenarioResult::of(meta, "f", outcome)
    }

    #[test]
    fn escapes_what_the_server_sent() {
        let mut r = scenario("<script>alert(1)</script>", Outcome::Failed);
        r.transcript_text = "S: <b>&\"'</b>\u{1}".into();
        let report = RunReport {
            context: Default::default(),
            target: "t".into(),
            protocols: vec!["smtp".into()],
            strict: false,
            ratchet: false,
            seconds: 1.0,
            scenarios: vec![r, scenario("ok", Outcome::Passed)],
        };
        let html = render(&report, None);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;b&gt;&amp;&quot;'&lt;/b&gt;?"), "{html}");
        assert!(html.contains("data-verdict=\"failed\""));
        assert!(
            !html.contains("http://") && !html.contains("src="),
            "self-contained"
        );
    }
}
