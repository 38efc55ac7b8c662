# Sigma rules' texts. A rule's wording lives in its own file (keibi.title and
# keibi.title_ja ...: docs/rules.md); the finding carries both renderings of its
# templates, and each language shows its own. A rule without Japanese gives its
# English as `ja` too.
rule-text = { $en }
