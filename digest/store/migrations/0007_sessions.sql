-- Signed-in sessions, so that signing out ends a session on the server too: the browser's
-- cookie names a session, and a session that has ended is refused even if its cookie is
-- replayed. A session's row is added at sign-in and marked ended at sign-out.

create table sessions (
    sid         varchar primary key,     -- a random token; the cookie holds it, signed
    username    varchar not null,
    started_at  timestamp not null,
    ended_at    timestamp
);
