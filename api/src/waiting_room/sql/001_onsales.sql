-- The virtual waiting room: on-sales staff mark as high-demand, and the people in line for
-- each. Ordinary tables, not events: a line of people is not a fact about seats (the shows'
-- streams record when they were put under a queue and when it was lifted, and every hold
-- made under one carries its admission).

CREATE TABLE onsales (
    onsale_id uuid PRIMARY KEY,
    title text NOT NULL,
    -- The movie whose opening it is, when it was marked for one.
    movie_id uuid,
    -- The shows a hold needs an admission for.
    show_ids uuid[] NOT NULL,
    opens_at timestamptz NOT NULL,
    -- People admitted per minute; with an automatic rate, NULL until the opening sets it
    -- from the writers' measured capacity.
    rate_per_minute integer CHECK (rate_per_minute > 0),
    automatic_rate boolean NOT NULL DEFAULT false,
    -- How long an admission lets its customer hold.
    admission_seconds integer NOT NULL CHECK (admission_seconds > 0),
    -- How long someone who stops asking about their place keeps it.
    grace_seconds integer NOT NULL CHECK (grace_seconds > 0),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    -- Every show was put under the queue (until then the admitter keeps asking them).
    shows_queued boolean NOT NULL DEFAULT false,
    -- When the pre-queue was shuffled (at opening), and how many were in it.
    shuffled_at timestamptz,
    pre_queue integer,
    -- Admissions so far: the next admission's number; and the place of the last one
    -- admitted or given up (the line is let in in place order).
    admitted integer NOT NULL DEFAULT 0,
    admitted_through bigint NOT NULL DEFAULT 0,
    -- When the next admission is due (set at the opening; each admission moves it on by
    -- a minute over the rate).
    next_due_at timestamptz,
    ended_at timestamptz,
    ended_by text,
    -- Every show's queue was lifted after the end.
    shows_lifted boolean NOT NULL DEFAULT false
);

-- Which on-sale a show is under (and the check for overlaps when one is set up).
CREATE INDEX onsales_shows ON onsales USING gin (show_ids) WHERE ended_at IS NULL;

CREATE SEQUENCE onsale_arrivals;

CREATE TABLE onsale_queue (
    onsale_id uuid NOT NULL REFERENCES onsales,
    ticket_id uuid NOT NULL,
    customer_id text NOT NULL,
    arrived_at timestamptz NOT NULL,
    -- Arrival order (a new one when someone who left comes back).
    arrival bigint NOT NULL,
    -- Arrived before opening: placed by the shuffle at opening.
    early boolean NOT NULL,
    -- The order of the line: the shuffle's rank (1..pre_queue) for early arrivals, then
    -- 2^40 + arrival for everyone after. NULL for early arrivals until the shuffle.
    place bigint,
    last_seen_at timestamptz NOT NULL,
    -- The admission's number (0, 1, ...), when, and by which server process.
    admission integer,
    admitted_at timestamptz,
    admitted_by text,
    -- Stopped asking for longer than the grace: the place was given up.
    left_at timestamptz,
    PRIMARY KEY (onsale_id, ticket_id),
    UNIQUE (onsale_id, admission)
);

-- One place in line per account (and so per API key, whose identity is its own); someone
-- whose place was given up, or whose admission ran out, may line up again at the back.
CREATE UNIQUE INDEX onsale_queue_one_place ON onsale_queue (onsale_id, customer_id)
    WHERE admission IS NULL AND left_at IS NULL;

CREATE INDEX onsale_queue_waiting ON onsale_queue (onsale_id, place)
    WHERE admission IS NULL AND left_at IS NULL;
CREATE INDEX onsale_queue_line ON onsale_queue (onsale_id, place) WHERE left_at IS NULL;
