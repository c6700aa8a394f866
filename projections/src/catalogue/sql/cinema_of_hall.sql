-- The cinema a hall belongs to.
SELECT cinema_id FROM catalogue_halls WHERE hall_id = $1
