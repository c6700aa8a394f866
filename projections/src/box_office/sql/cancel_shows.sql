-- A batch's cancelled shows (their refunds follow as refunds).
UPDATE report_shows SET cancelled = true WHERE show_id = ANY($1)
