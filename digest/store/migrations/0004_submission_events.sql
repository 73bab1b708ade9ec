-- A stored version is its own audit event.
--
-- The audit log was one table written beside every new version, in the same transaction. Now a
-- version's acceptance is read from its row, so the two can never be apart and storing a return
-- writes a single row. audit_events keeps every other event (rejections, dry runs, repeats,
-- and later logins and sign-offs), append-only as before; the audit_log view shows both, in
-- the order they happened. Acceptances recorded as rows before this migration stay as written
-- and are not derived a second time.

alter table audit_log rename to audit_events;

create view audit_log as
select happened_at, actor, action, outcome, agency, area, period, submission_id, sha256,
       ruleset_version, detail
from audit_events
union all
select s.submitted_at, s.submitted_by, 'submission', 'accepted', s.agency, s.area, s.period, s.id,
       s.sha256, s.ruleset_version,
       to_json(struct_pack(
           file_name := s.file_name,
           queries := len(list_filter(s.findings, lambda f: f.severity = 'query')),
           superseded := nullif(s.version - 1, 0),
           version := s.version
       ))::varchar
from submissions as s
where s.id not in (
    select submission_id from audit_events
    where action = 'submission' and submission_id is not null
);
