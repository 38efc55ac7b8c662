# Sigma ルールの文言はルールのファイルにある（keibi.title_ja など: docs/rules.md）。
rule-text = { $ja }
