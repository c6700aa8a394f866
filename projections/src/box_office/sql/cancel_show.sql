-- A cancelled show (its refunds follow as refunds).
UPDATE report_shows SET cancelled = true WHERE show_id = $1
