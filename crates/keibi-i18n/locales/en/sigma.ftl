# Sigma rules' texts. A rule's wording lives in its own file (keibi.title and
# keibi.title_ja ...: docs/rules.md); the finding carries both renderings of its
# templates, and each language shows its own. A rule without Japanese gives its
# English as `ja` too.
rule-text = { $en }
# A finding of a database rule that holds only statements the server refused
# (permission denied): the rule's own title and texts, marked refused.
refused-title = Refused: { $title }
refused-error = The server refused it: "{ $error }". The attempt was made with this account and did not run; a success by the same user raises this finding to the rule's full severity.
refused-remediation = The statement did not run, but whoever holds this account tried it: find out who, and treat the account as compromised if it was not a person who meant to.
