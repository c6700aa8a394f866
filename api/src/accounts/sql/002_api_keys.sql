-- API keys of partner ticket clients, by the SHA-256 of the key (the key is shown once, when
-- it is made). Each acts as its own identity (`partner:{key_id}`) with its roles, within a
-- request quota per minute.
CREATE TABLE api_keys (
    key_id uuid PRIMARY KEY,
    key_hash bytea NOT NULL UNIQUE,
    name text NOT NULL,
    quota_per_minute integer NOT NULL CHECK (quota_per_minute > 0),
    roles text[] NOT NULL DEFAULT '{customer}',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
