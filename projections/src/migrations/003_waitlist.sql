-- waitlist projector: one row per waiting-list entry, with its offer.
CREATE TABLE waitlist_entries (
    entry_id uuid PRIMARY KEY,
    show_id uuid NOT NULL,
    customer_id text NOT NULL,
    count integer NOT NULL,
    category text,
    status text NOT NULL CHECK (status IN ('waiting', 'offered', 'left', 'fulfilled',
        'offer_expired', 'offer_declined', 'timed_out', 'cannot_be_met')),
    -- The stream version of the WaitlistJoined event: the order of the queue.
    joined_version bigint NOT NULL,
    joined_at timestamptz NOT NULL,
    waits_until timestamptz NOT NULL,
    hold_id uuid,
    seats text[],
    total_minor bigint,
    currency text,
    offer_expires_at timestamptz,
    updated_at timestamptz NOT NULL,
    -- Bumped on every change of the entry, for clients that long-poll it.
    version integer NOT NULL
);
CREATE INDEX waitlist_waiting_in_order ON waitlist_entries (show_id, joined_version)
    WHERE status = 'waiting';
CREATE INDEX waitlist_waiting_until ON waitlist_entries (waits_until) WHERE status = 'waiting';
