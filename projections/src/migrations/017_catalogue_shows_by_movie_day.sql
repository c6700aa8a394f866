-- A search's page lists the first shows of each movie it hit on the day searched: this index
-- gives them in order, fifty per movie, where the whole day's shows of those movies were read
-- and sorted before (8,000 of them for a word like "the" nationwide).
CREATE INDEX catalogue_shows_by_movie_day ON catalogue_shows (movie_id, local_date, starts_at)
    WHERE NOT cancelled;
