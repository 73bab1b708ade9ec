-- Returns, their versions and values, query explanations and the audit log.
-- Timestamps are UTC (shown in Europe/London by the app). Rows are only ever added: a corrected
-- return is a new version, and which version is current is derived, never updated in place.

create sequence submission_ids start 1;

create table submissions (
    id               bigint primary key default nextval('submission_ids'),
    agency           varchar not null,
    area             varchar not null,
    period           varchar not null,          -- '2025-26 Q2'
    period_index     integer not null,          -- quarters since 0000-01 Q1, for ordering
    version          integer not null check (version >= 1),
    sha256           varchar not null,
    file_name        varchar not null,          -- display name only; the file is never stored
    file_size        bigint not null,
    template_version integer not null,
    dataset_version  integer not null,
    ruleset_version  varchar not null,
    submitted_by     varchar not null,
    submitted_at     timestamp not null,
    unique (agency, area, period, version)
);

-- Every version with its status: the latest version of a return is current, earlier ones superseded.
create view submission_versions as
select
    s.*,
    case when s.version = max(s.version) over (partition by s.agency, s.area, s.period)
         then 'current' else 'superseded' end as status
from submissions as s;

create table submission_values (
    submission_id bigint not null references submissions (id),
    code          varchar not null,
    value         double,
    status        varchar not null check (status in ('ok', 'c', 'x', 'z')),
    sheet         varchar not null,
    cell          varchar not null,
    primary key (submission_id, code),
    check ((status = 'ok') = (value is not null))
);

create table submission_findings (
    submission_id bigint not null references submissions (id),
    severity      varchar not null check (severity in ('error', 'query', 'info')),
    rule          varchar not null,
    sheet         varchar,
    cell          varchar,
    code          varchar,
    message       varchar not null
);

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
