-- Accounts and their credentials: ordinary tables, never events (personal data stays out of
-- the immutable log; events carry the account id as the customer id only).
CREATE TABLE accounts (
    account_id uuid PRIMARY KEY,
    -- Lower-cased and trimmed.
    email text NOT NULL UNIQUE,
    -- Argon2id, in the PHC string format.
    password_hash text NOT NULL,
    display_name text NOT NULL,
    phone text,
    roles text[] NOT NULL DEFAULT '{customer}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens, by the SHA-256 of the token (the token itself is never stored). Each is
-- used once: refreshing marks it used and issues the next; presenting a used one again
-- revokes every token of the account (it was stolen, or replayed).
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_by_account ON refresh_tokens (account_id);

CREATE TABLE favorites (
    account_id uuid NOT NULL REFERENCES accounts ON DELETE CASCADE,
    movie_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, movie_id)
);
