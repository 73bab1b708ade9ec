-- The figures of the current (latest) version of every return, one row each: what indicators read.
-- The latest versions are found first, by id, so that only their figures are unnested.
create view current_figures as
with latest as (
    select s.id
    from submissions as s
    qualify row_number() over (partition by s.agency, s.area, s.period order by s.version desc) = 1
)
select
    s.id as submission_id, s.agency, s.area, s.period, s.period_index, s.version,
    unnest(s.figures, recursive := true)
from submissions as s
where s.id in (select l.id from latest as l);
