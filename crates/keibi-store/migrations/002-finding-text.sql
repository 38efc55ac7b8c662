-- A finding's texts as catalog messages (keibi_model::FindingText as JSON), so
-- `keibi findings list --lang ja` renders stored findings in another language or
-- display zone (docs/i18n.md). NULL for findings whose texts are English only.
ALTER TABLE findings ADD COLUMN text TEXT;
