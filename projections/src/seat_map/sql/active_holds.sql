-- How many holds are active now.
SELECT count(*) AS active FROM seat_map_holds WHERE status = 'active'
