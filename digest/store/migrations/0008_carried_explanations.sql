-- An explanation carried forward from an earlier version of the same return.
--
-- When a corrected file raises the same query (same rule, cell and figure) as the version before,
-- that version's explanation still answers it: it is stored again with the version it came from,
-- so the app can show it as "carried forward – confirm". A changed figure is asked about afresh.

alter table query_explanations add column carried_from integer;  -- the version it came from
