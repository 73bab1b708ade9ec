-- The chair signs off each return's version for the quarter.
--
-- A signed-off version is the live one: what the indicators read and the app shows as current.
-- A revision uploaded after sign-off is stored as the next version, awaiting sign-off, and the
-- signed-off one stays live until the chair signs off the revision. Before any sign-off the
-- latest version is live. Sign-offs, like versions, are only ever added.

create table sign_offs (
    submission_id bigint primary key references submissions (id),
    signed_by     varchar not null,
    signed_at     timestamp not null
);

-- The live version of each return: the latest signed off, or the latest if none is.
create view live_versions as
select
    s.agency, s.area, s.period,
    coalesce(max(s.version) filter (where o.submission_id is not null), max(s.version)) as version
from submissions as s
left join sign_offs as o on o.submission_id = s.id
group by s.agency, s.area, s.period;

create or replace view current_figures as
select
    s.id as submission_id, s.agency, s.area, s.period, s.period_index, s.version,
    unnest(s.figures, recursive := true)
from submissions as s
semi join live_versions as l
    on s.agency = l.agency and s.area = l.area and s.period = l.period and s.version = l.version;

-- Every version with its status: current (live), superseded (before the live one), or awaiting
-- sign-off (a revision after the live, signed-off one); and its sign-off, if it has one.
create or replace view submission_versions as
select
    s.* exclude (figures, findings),
    case
        when s.version = l.version then 'current'
        when s.version < l.version then 'superseded'
        else 'awaiting sign-off'
    end as status,
    o.signed_by,
    o.signed_at
from submissions as s
join live_versions as l using (agency, area, period)
left join sign_offs as o on o.submission_id = s.id;
