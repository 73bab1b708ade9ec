-- Published statistics: DfE (Explore Education Statistics and LAIT) and ONS figures, populations,
-- statistical-neighbour models and the LAIT data dictionary, as published.
--
-- Every row comes from one imported file, an *edition* of a *source*. Importing a file again
-- replaces that source and edition's rows in one transaction; a different file (a newer
-- publication) is a new edition beside the old, and queries prefer the edition reaching the latest
-- year, then the latest imported. A statistical-neighbour model is replaced whole by a new file of
-- the same model. Timestamps are UTC.

create table published_editions (
    source      varchar not null,           -- DfE | LAIT | ONS
    edition     varchar not null,           -- '<file stem>:<last year>:<sha256 prefix>'
    family      varchar not null,           -- ees | lait | lait_dictionary | population | neighbours
    file_name   varchar not null,           -- display name only; the file is never stored
    sha256      varchar not null,
    rows        bigint not null,
    first_year  integer,
    last_year   integer,
    imported_at timestamp not null,
    primary key (source, edition)
);

create table published_figures (
    source      varchar not null,
    edition     varchar not null,
    file_name   varchar not null,
    measure     varchar not null,           -- the column (or LAIT code) as published
    area_code   varchar not null,           -- ONS code
    area_level  varchar not null check (area_level in ('la', 'region', 'country')),
    year        integer not null,           -- the year the period ends in (EES time_period)
    period      varchar not null,           -- the period as published: '2025', '2016-17 (OT)'
    value       double,
    -- ok (value holds the figure), a published symbol c x z u k low (value is null), or invalid
    -- (the published cell is not a figure of the measure, such as a sum of regional rates)
    status      varchar not null,
    imported_at timestamp not null,
    check ((status = 'ok') = (value is not null))
);

create table populations (
    area_code varchar not null,
    year      integer not null,                 -- mid-year
    age_group varchar not null,                 -- '0-17'
    value     double,
    status    varchar not null,                 -- ok, or the published symbol (value is null)
    source    varchar not null,
    edition   varchar not null,
    check ((status = 'ok') = (value is not null))
);

create table statistical_neighbours (
    model          varchar not null,            -- '2021' | '2025'
    area_code      varchar not null,            -- ONS code
    rank           integer not null check (rank between 1 and 10),
    neighbour_code varchar not null,            -- ONS code
    closeness      varchar,                     -- as published: 'Very close', ...
    source         varchar not null,
    edition        varchar not null
);

create table published_measures (
    source      varchar not null,
    edition     varchar not null,
    measure     varchar not null,
    title       varchar,
    description varchar,
    unit        varchar,
    polarity    varchar check (polarity in ('high', 'low', 'neutral')),
    year_type   varchar,                        -- LAIT: Financial Year, Academic Year, ...
    methodology varchar,
    link        varchar
);
