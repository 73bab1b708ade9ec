-- Returns, their versions and figures, query explanations and the audit log.
--
-- Rows are only ever added. A version never changes once written: its figures, each with the sheet
-- and cell it came from, and the findings of the validation that accepted it are part of its row.
-- A corrected return is a new version; which version is current (the latest) is derived, never
-- updated in place. Timestamps are UTC (shown in UK time by the app).

create sequence submission_ids start 1;

create table submissions (
    id               bigint primary key default nextval('submission_ids'),
    agency           varchar not null,
    area             varchar not null,
    period           varchar not null,          -- '2025-26 Q2'
    period_index     integer not null,          -- quarters since year 0, for ordering
    version          integer not null check (version >= 1),
    sha256           varchar not null,
    file_name        varchar not null,          -- display name only; the file is never stored
    file_size        bigint not null,
    template_version integer not null,
    dataset_version  integer not null,
    ruleset_version  varchar not null,
    submitted_by     varchar not null,
    submitted_at     timestamp not null,
    -- status is ok (value holds the count) or c, x, z (value is null): never a zero for a status
    figures          struct(code varchar, value double, status varchar, sheet varchar,
                            cell varchar)[] not null,
    findings         struct(severity varchar, rule varchar, sheet varchar, cell varchar,
                            code varchar, message varchar)[] not null,
    unique (agency, area, period, version)
);

-- Every version with its status: the latest version of a return is current, earlier ones superseded.
create view submission_versions as
select
    s.* exclude (figures, findings),
    case when s.version = max(s.version) over (partition by s.agency, s.area, s.period)
         then 'current' else 'superseded' end as status
from submissions as s;

-- Every figure of every version, one row each.
create view submission_values as
select
    s.id as submission_id, s.agency, s.area, s.period, s.version,
    unnest(s.figures, recursive := true)
from submissions as s;

create table query_explanations (
    submission_id bigint not null references submissions (id),
    code          varchar not null,                -- a measure code, or RETURN
    text          varchar not null,
    explained_by  varchar not null,
    explained_at  timestamp not null,
    primary key (submission_id, code)
);

create sequence audit_ids start 1;

create table audit_log (
    id              bigint primary key default nextval('audit_ids'),
    happened_at     timestamp not null,
    actor           varchar not null,
    action          varchar not null,
    outcome         varchar not null,
    agency          varchar,
    area            varchar,
    period          varchar,
    submission_id   bigint,
    sha256          varchar,
    ruleset_version varchar,
    detail          varchar                         -- JSON; never cell values or child data
);
