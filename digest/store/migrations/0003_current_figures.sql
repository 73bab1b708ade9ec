-- The figures of the current (latest) version of every return, one row each: what indicators read.
create view current_figures as
with ranked as (
    select
        s.*,
        row_number() over (partition by s.agency, s.area, s.period order by s.version desc) as rank
    from submissions as s
)
select
    r.id as submission_id, r.agency, r.area, r.period, r.period_index, r.version,
    unnest(r.figures, recursive := true)
from ranked as r
where r.rank = 1;
