-- The challenge log: the chair's and members' challenges to an agency about a flagged indicator,
-- and what happened to each.
--
-- Rows are only ever added. A challenge's row says what was asked, of which agency, about which
-- indicator and quarter, by whom and by when; every later step (the agency's answer, the chair
-- closing it or escalating it) is a row of challenge_events. A challenge's state is its latest
-- event's kind (no event: open), derived, never updated in place. Each challenge's events are
-- numbered, so two people acting on one challenge at the same moment cannot both succeed.
-- Timestamps are UTC; the due date is a calendar date.

create sequence challenge_ids start 1;

create table challenges (
    id           integer primary key default nextval('challenge_ids'),
    area         varchar not null,
    period       varchar not null,          -- the quarter the flag was raised for: '2025-26 Q2'
    period_index integer not null,          -- quarters since year 0, for ordering
    indicator    varchar not null,          -- the indicator's id: 'cpp_repeat'
    agency       varchar not null,          -- the agency owning the indicator: 'CSC'
    asked        varchar not null check (length(trim(asked)) between 1 and 2000),
    raised_by    varchar not null,
    raised_at    timestamp not null,
    due          date not null              -- the agency's answer is due by this day
);

create table challenge_events (
    challenge_id integer not null references challenges (id),
    step         integer not null check (step >= 1),   -- 1 for the first event, and so on
    kind         varchar not null check (kind in ('answered', 'closed', 'escalated')),
    text         varchar not null check (length(text) <= 2000),
    made_by      varchar not null,
    made_at      timestamp not null,
    primary key (challenge_id, step)
);
