//! The embedded catalogs and the one place that formats through Fluent.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use unic_langid::LanguageIdentifier;

use crate::Lang;

/// The catalog files of each language, in the binary: no file is read at run time.
const EN: &[(&str, &str)] = &[
    ("activity.ftl", include_str!("../locales/en/activity.ftl")),
    ("sigma.ftl", include_str!("../locales/en/sigma.ftl")),
    ("common.ftl", include_str!("../locales/en/common.ftl")),
    ("output.ftl", include_str!("../locales/en/output.ftl")),
    ("login.ftl", include_str!("../locales/en/login.ftl")),
    ("global.ftl", include_str!("../locales/en/global.ftl")),
    ("baseline.ftl", include_str!("../locales/en/baseline.ftl")),
    (
        "cloudtrail.ftl",
        include_str!("../locales/en/cloudtrail.ftl"),
    ),
    (
        "baseline-principal.ftl",
        include_str!("../locales/en/baseline-principal.ftl"),
    ),
    (
        "cloudtrail-data.ftl",
        include_str!("../locales/en/cloudtrail-data.ftl"),
    ),
    ("cli.ftl", include_str!("../locales/en/cli.ftl")),
    ("actions.ftl", include_str!("../locales/en/actions.ftl")),
    ("run.ftl", include_str!("../locales/en/run.ftl")),
    ("notify.ftl", include_str!("../locales/en/notify.ftl")),
    (
        "posture-aws.ftl",
        include_str!("../locales/en/posture-aws.ftl"),
    ),
    (
        "posture-db.ftl",
        include_str!("../locales/en/posture-db.ftl"),
    ),
    ("audit.ftl", include_str!("../locales/en/audit.ftl")),
    ("dashboard.ftl", include_str!("../locales/en/dashboard.ftl")),
    (
        "dashboard-login.ftl",
        include_str!("../locales/en/dashboard-login.ftl"),
    ),
    ("users.ftl", include_str!("../locales/en/users.ftl")),
    ("timeline.ftl", include_str!("../locales/en/timeline.ftl")),
];
const JA: &[(&str, &str)] = &[
    ("activity.ftl", include_str!("../locales/ja/activity.ftl")),
    ("sigma.ftl", include_str!("../locales/ja/sigma.ftl")),
    ("common.ftl", include_str!("../locales/ja/common.ftl")),
    ("output.ftl", include_str!("../locales/ja/output.ftl")),
    ("login.ftl", include_str!("../locales/ja/login.ftl")),
    ("global.ftl", include_str!("../locales/ja/global.ftl")),
    ("baseline.ftl", include_str!("../locales/ja/baseline.ftl")),
    (
        "cloudtrail.ftl",
        include_str!("../locales/ja/cloudtrail.ftl"),
    ),
    (
        "baseline-principal.ftl",
        include_str!("../locales/ja/baseline-principal.ftl"),
    ),
    (
        "cloudtrail-data.ftl",
        include_str!("../locales/ja/cloudtrail-data.ftl"),
    ),
    ("cli.ftl", include_str!("../locales/ja/cli.ftl")),
    ("actions.ftl", include_str!("../locales/ja/actions.ftl")),
    ("run.ftl", include_str!("../locales/ja/run.ftl")),
    ("notify.ftl", include_str!("../locales/ja/notify.ftl")),
    (
        "posture-aws.ftl",
        include_str!("../locales/ja/posture-aws.ftl"),
    ),
    (
        "posture-db.ftl",
        include_str!("../locales/ja/posture-db.ftl"),
    ),
    ("audit.ftl", include_str!("../locales/ja/audit.ftl")),
    ("dashboard.ftl", include_str!("../locales/ja/dashboard.ftl")),
    (
        "dashboard-login.ftl",
        include_str!("../locales/ja/dashboard-login.ftl"),
    ),
    ("users.ftl", include_str!("../locales/ja/users.ftl")),
    ("timeline.ftl", include_str!("../locales/ja/timeline.ftl")),
];

pub(crate) fn files(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => EN,
        Lang::Ja => JA,
    }
}

struct Catalog {
    bundle: FluentBundle<FluentResource>,
    resources: Vec<FluentResource>,
}

static CATALOGS: LazyLock<[Catalog; 2]> = LazyLock::new(|| [load(Lang::En), load(Lang::Ja)]);

/// Builds one language's bundle. A syntax error or a duplicate id (caught by the
/// tests) loses that message only, never the catalog.
fn load(lang: Lang) -> Catalog {
    let id: LanguageIdentifier = lang
        .code()
        .parse()
        .unwrap_or_else(|_| LanguageIdentifier::default());
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Unicode isolation marks around variables would change the English bytes and
    // show as garbage on terminals; keibi escapes every variable instead.
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(number));
    // NUMBER($n, useGrouping: "false"): a count the English contract always wrote
    // without separators (`1532 statements`), which Japanese still groups.
    let _ = bundle.add_builtins();
    let mut resources = Vec::new();
    for (_, source) in files(lang) {
        let parse = || FluentResource::try_new((*source).to_string()).unwrap_or_else(|(r, _)| r);
        // The bundle takes its resource; a second parse keeps the AST for `ids`.
        let _ = bundle.add_resource(parse());
        resources.push(parse());
    }
    Catalog { bundle, resources }
}

/// Numbers as keibi writes them: whole numbers with thousands separators (unless the
/// message asks `NUMBER($n, useGrouping: "false")`).
fn number<M>(v: &FluentValue<'_>, _: &M) -> Option<String> {
    match v {
        FluentValue::Number(n) if !n.options.use_grouping => None,
        FluentValue::Number(n) if n.value.fract() == 0.0 && n.value >= 0.0 => {
            Some(crate::thousands(n.value as u64))
        }
        _ => None,
    }
}

fn catalog(lang: Lang) -> &'static Catalog {
    &CATALOGS[match lang {
        Lang::En => 0,
        Lang::Ja => 1,
    }]
}

/// Formats message `id` in `lang`, falling back to English, then to the id itself.
pub(crate) fn format(lang: Lang, id: &str, args: &FluentArgs<'_>) -> String {
    for l in [lang, Lang::En] {
        let c = catalog(l);
        if let Some(pattern) = c.bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return c
                .bundle
                .format_pattern(pattern, Some(args), &mut errors)
                .into_owned();
        }
    }
    id.to_string()
}

/// Every message id of `lang` with the variables its value uses (sorted, once each).
pub(crate) fn ids(lang: Lang) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for res in &catalog(lang).resources {
        for entry in res.entries() {
            if let ast::Entry::Message(m) = entry {
                let mut vars = Vec::new();
                if let Some(p) = &m.value {
                    pattern_vars(p, &mut vars);
                }
                vars.sort();
                vars.dedup();
                out.push((m.id.name.to_string(), vars));
            }
        }
    }
    out
}

fn pattern_vars(p: &ast::Pattern<&str>, out: &mut Vec<String>) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            expression_vars(expression, out);
        }
    }
}

fn expression_vars(e: &ast::Expression<&str>, out: &mut Vec<String>) {
    match e {
        ast::Expression::Inline(i) => inline_vars(i, out),
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, out);
            for v in variants {
                pattern_vars(&v.value, out);
            }
        }
    }
}

fn inline_vars(i: &ast::InlineExpression<&str>, out: &mut Vec<String>) {
    match i {
        ast::InlineExpression::VariableReference { id } => out.push(id.name.to_string()),
        ast::InlineExpression::Placeable { expression } => expression_vars(expression, out),
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_vars(a, out);
            }
        }
        _ => {}
    }
}

/// Syntax errors of each embedded file, as `file: error` (for the tests).
#[cfg(test)]
pub(crate) fn syntax_errors(lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    for (name, source) in files(lang) {
        if let Err((_, errs)) = FluentResource::try_new((*source).to_string()) {
            for e in errs {
                out.push(format!("{name}: {e:?}"));
            }
        }
    }
    out
}
