-- Accounts and their roles.
--
-- A user is known by a username (an e-mail address or a login name), stored lower-cased and
-- trimmed so that 'Jo@Example.org ' and 'jo@example.org' are one account. The role says what the
-- user may do: an admin manages accounts, the chair and members read the digest, and a data lead
-- submits the returns of their agencies (and only a data lead has agencies). Only an argon2id hash
-- of the password is kept. Nobody is ever deleted, so that the audit log always names a real
-- account: a user who leaves is disabled. Every change is an audit event written in the same
-- transaction (digest/store/users.py). Timestamps are UTC.

create table users (
    username      varchar primary key
                  check (username = lower(trim(username)) and username <> ''),
    display_name  varchar not null check (trim(display_name) <> ''),
    role          varchar not null check (role in ('admin', 'chair', 'member', 'data_lead')),
    agencies      varchar[] not null default [],   -- agency codes: 'CSC', 'POLICE'
    password_hash varchar not null check (password_hash like '$argon2id$%'),
    disabled      boolean not null default false,
    created_at    timestamp not null,
    changed_at    timestamp not null,
    check ((role = 'data_lead') = (len(agencies) > 0))
);
